"""Image references: parsing as docker does, [images] of jessy-ci.toml (mirror, replace, platforms), Dockerfile base
images as build arguments, and every planned step pulling through the configured mirror."""

from __future__ import annotations

import pytest

from jessy_ci import config
from jessy_ci.errors import UsageError
from jessy_ci.imagerefs import Images, dockerfile_images, normalize
from jessy_ci.verbs.plan import plan_lint, plan_source_scan, plan_test, serve_specs
from tests.conftest import ROOT
from tests.test_config import MINIMAL, parse


@pytest.mark.parametrize(
    ("ref", "normalized"),
    [
        ("rust:1.95-bookworm", "docker.io/library/rust:1.95-bookworm"),
        ("aquasec/trivy:0.76.0", "docker.io/aquasec/trivy:0.76.0"),
        ("gcr.io/distroless/cc-debian12:nonroot", "gcr.io/distroless/cc-debian12:nonroot"),
        (
            "localhost:5000/docker.io/library/debian:bookworm-slim",
            "localhost:5000/docker.io/library/debian:bookworm-slim",
        ),
        ("busybox", "docker.io/library/busybox:latest"),
        (f"ghcr.io/o/r@sha256:{'a' * 64}", f"ghcr.io/o/r@sha256:{'a' * 64}"),
    ],
)
def test_references_are_normalised_like_docker_pull(ref: str, normalized: str) -> None:
    assert normalize(ref) == normalized


@pytest.mark.parametrize(
    "ref", ["", "Rust:1", "rust::1", "host:5000/a:b:c", "rust:1 ", "-x/y", "ghcr.io/o/r@sha256:12"]
)
def test_malformed_references_name_the_input(ref: str) -> None:
    with pytest.raises(UsageError, match=r"^images.replace: .* is not an image reference; expected \[REGISTRY/\]NAME"):
        normalize(ref, "images.replace")


def test_replace_wins_over_the_mirror_and_the_mirror_keeps_the_registry_in_the_path() -> None:
    images = Images(mirror="mirror.internal:5000/cache", replace={"docker.io/aquasec/trivy:0.76.0": "my/trivy:1"})
    assert images.resolve("aquasec/trivy:0.76.0") == "my/trivy:1"
    assert images.resolve("rust:1.95-bookworm") == "mirror.internal:5000/cache/docker.io/library/rust:1.95-bookworm"
    assert images.resolve("gcr.io/distroless/static-debian12:nonroot") == (
        "mirror.internal:5000/cache/gcr.io/distroless/static-debian12:nonroot"
    )
    assert Images().resolve("rust:1.95-bookworm") == "rust:1.95-bookworm"


def test_images_table_of_jessy_ci_toml() -> None:
    text = (
        MINIMAL + '\n[images]\nmirror = "localhost:5000/"\nplatforms = ["linux/amd64"]\n'
        '[images.replace]\n"rust:1.95-bookworm" = "registry.internal/rust:1.95"\n'
    )
    images = parse(text).images
    assert images.mirror == "localhost:5000"
    assert images.platforms == ("linux/amd64",)
    assert images.replace == {"docker.io/library/rust:1.95-bookworm": "registry.internal/rust:1.95"}
    assert parse(MINIMAL).images == Images()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('mirror = "https://mirror"', r"images.mirror: 'https://mirror' is not a registry prefix"),
        ("mirror = 5", r"images.mirror: expected a registry prefix"),
        ('platforms = ["windows/amd64"]', r"images.platforms: 'windows/amd64' is not a platform"),
        ("platforms = []", r"images.platforms: expected at least one platform"),
        ('[images.replace]\n"rust:1" = "Not A Ref"', r"images.replace.'rust:1': 'Not A Ref' is not an image"),
        ('[images.replace]\n"rust:1" = 3', r"images.replace.'rust:1': expected an image reference string"),
        ('[images.replace]\n"::" = "rust:1"', r"images.replace key: '::' is not an image reference"),
        ('registry = "x"', r"images.registry: unknown key; expected one of: mirror, platforms, replace"),
    ],
)
def test_bad_images_tables_exit_2_naming_the_key(table: str, message: str) -> None:
    with pytest.raises(UsageError, match=r"^jessy-ci.toml: " + message):
        parse(MINIMAL + "\n[images]\n" + table + "\n")


def test_every_planned_step_and_service_pulls_through_the_mirror(project: config.Project) -> None:
    from dataclasses import replace

    mirrored = replace(project, images=Images(mirror="localhost:5000"))
    steps = [
        *plan_lint(mirrored, mirrored.select([])),
        *plan_test(mirrored, mirrored.select([])),
        *plan_source_scan(mirrored, False),
    ]
    images = {s.image for s in steps} | {spec.image for step in steps for spec in step.services}
    images |= {s.image for s in serve_specs(mirrored)}
    assert images and all(i.startswith("localhost:5000/docker.io/") for i in images), images


def test_dockerfile_base_images_are_build_arguments() -> None:
    core = dockerfile_images((ROOT / "dockerfiles" / "core.Dockerfile").read_text())
    assert core.args == {"RUST_IMAGE": "rust:1.95-bookworm", "RUNTIME_IMAGE": "gcr.io/distroless/cc-debian12:nonroot"}
    assert core.literal == ()
    api = dockerfile_images((ROOT / "dockerfiles" / "api.Dockerfile").read_text())
    assert set(api.refs) == {"golang:1.26-bookworm", "gcr.io/distroless/static-debian12:nonroot"}
    assert core.build_args(Images()) == {}
    assert core.build_args(Images(replace={"docker.io/library/rust:1.95-bookworm": "r/rust:1"})) == {
        "RUST_IMAGE": "r/rust:1"
    }


def test_dockerfile_images_skip_stage_names_and_scratch() -> None:
    text = "FROM golang:1.26 AS builder\nFROM builder AS dev\nFROM scratch\nARG LATE=x:1\nFROM ${LATE}\n"
    found = dockerfile_images(text)
    assert found.literal == ("golang:1.26",) and found.args == {}


def test_the_serve_proxy_and_the_smoke_container_pull_through_the_mirror(project: config.Project) -> None:
    from dataclasses import replace

    from jessy_ci.verbs.plan import plan_smoke, serve_proxy

    mirrored = replace(project, images=Images(mirror="localhost:5000"))
    specs = serve_specs(mirrored)
    assert serve_proxy(mirrored, specs, {}).image == "localhost:5000/docker.io/library/debian:bookworm-slim"
    smoke = plan_smoke(mirrored, "http://x:1", 5, "", "run", ())
    assert smoke.image == "localhost:5000/docker.io/library/python:3.11-slim-bookworm"
