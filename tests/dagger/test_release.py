"""Every container the release path builds, validated against the engine's schema (no engine): the production image
(docker_build per platform + OCI labels), the Trivy scan step over the image tarball (DB cache LOCKED), the
registry auth + publish chain with platform variants; and the registry password never in plaintext in a query."""

from __future__ import annotations

import dagger
import graphql
from dagger import dag
from dagger.client._core import Arg

from jessy_ci import config
from jessy_ci.runners.dagger import DaggerRunner
from jessy_ci.runners.dagger_images import (
    DaggerImages,
    RegistryAuth,
    oci_labels,
    production_image,
    publisher,
)
from jessy_ci.toolchains import trivy
from jessy_ci.verbs.plan import image_components, plan_image_scan, plan_source_scan
from tests.support.dagger_schema import validate

PASSWORD = "s3cr3t-registry-token-value"


def labels() -> dict[str, str]:
    return oci_labels("https://example.com/repo", "0123456789abcdef", "1.2.3", "2026-01-01T00:00:00Z")


def images(auth: RegistryAuth | None = None) -> DaggerImages:
    return DaggerImages(DaggerRunner(dag.host().directory(".")), version="1.2.3", labels=labels(), auth=auth)


def test_production_images_of_every_component_and_platform(
    schema: graphql.GraphQLSchema, project: config.Project
) -> None:
    components = image_components(project.select([]))
    assert [c.name for c in components] == ["jessy-core", "jessy-api"]
    for c in components:
        for platform, image in zip(images().platforms, images().variants(c), strict=True):
            assert validate(image, schema, f"{c.name} {platform}") == []
            build = image._ctx.selections[-1 - len(labels())]  # pyright: ignore[reportPrivateUsage]
            assert build.name == "dockerBuild"
            assert build.args["target"] == "production" and build.args["dockerfile"] == c.dockerfile
            assert build.args["platform"] == platform


def test_labels_are_the_oci_ones() -> None:
    assert set(labels()) == {f"org.opencontainers.image.{k}" for k in ("source", "revision", "version", "created")}
    core = config.Component("x", "rust", "x", ("unit",), dockerfile="d.Dockerfile", image="x")
    ctr = production_image(dag.directory(), core, "linux/arm64", "1.2.3", labels())
    names = [s.args.get("name") for s in ctr._ctx.selections if s.name == "withLabel"]  # pyright: ignore[reportPrivateUsage]
    assert names == list(labels())


def test_the_image_scan_is_a_step_over_the_tarball_input_with_a_locked_db_cache(
    schema: graphql.GraphQLSchema, project: config.Project
) -> None:
    runner = DaggerRunner(dag.host().directory("."), run_id="schema-test")
    tarball = dag.directory().with_file("image.tar", images().variants(project.components["jessy-api"])[0].as_tarball())
    runner.inputs["image-jessy-api"] = tarball
    step = plan_image_scan(project, project.components["jessy-api"], "image-jessy-api", prepared_db=False)
    assert step.image == trivy.IMAGE and step.sources == () and step.inputs == {"JESSY_IMAGE_DIR": "image-jessy-api"}
    ctr = runner.container(step)
    assert validate(ctr, schema, "trivy") == []
    selections = ctr._ctx.selections  # pyright: ignore[reportPrivateUsage]
    mount = next(s for s in selections if s.name == "withMountedCache")
    assert mount.args["sharing"] == dagger.CacheSharingMode.LOCKED.value
    script = step.command[2]
    assert script.startswith("trivy image --input ${JESSY_IMAGE_DIR}/image.tar --scanners vuln,secret")
    assert "trivy convert --format sarif" in script and "--format cyclonedx" in script
    offline = plan_image_scan(project, project.components["jessy-api"], "image-jessy-api", prepared_db=True)
    assert offline.caches == () and offline.inputs["TRIVY_CACHE_DIR"] == "trivy-db"
    assert "--skip-db-update" in offline.command[2]


def test_source_scan_step_containers(schema: graphql.GraphQLSchema, project: config.Project) -> None:
    runner = DaggerRunner(dag.host().directory("."), run_id="schema-test")
    for offline in (False, True):
        (step,) = plan_source_scan(project, offline)
        ctr = runner.container(step)
        assert validate(ctr, schema, step.name) == []
        mount = next(s for s in ctr._ctx.selections if s.name == "withMountedCache")  # pyright: ignore[reportPrivateUsage]
        assert mount.args["sharing"] == dagger.CacheSharingMode.LOCKED.value
    assert "vuln" in " ".join(plan_source_scan(project, False)[0].command)
    assert "secret,misconfig" in " ".join(plan_source_scan(project, True)[0].command)


def test_registry_auth_and_multi_platform_publish(schema: graphql.GraphQLSchema, project: config.Project) -> None:
    secret = dag.set_secret("registry-password", PASSWORD)
    auth = RegistryAuth("ghcr.io/acme", "me", secret)
    backend = images(auth)
    variants = backend.variants(project.components["jessy-core"])
    ctr = publisher(auth)
    assert validate(ctr, schema, "auth") == []
    login = ctr._ctx.selections[-1]  # pyright: ignore[reportPrivateUsage]
    assert login.name == "withRegistryAuth" and login.args["address"] == "ghcr.io" and login.args["username"] == "me"
    # The push itself is an async leaf (Container.publish): the same selection, built as the SDK builds it.
    push = dagger.Container(
        ctr._ctx.select(  # pyright: ignore[reportPrivateUsage]
            "Container",
            "publish",
            [Arg("address", "ghcr.io/acme/jessy-core:v1.2.3"), Arg("platformVariants", variants, [])],
        )
    )
    assert validate(push, schema, "publish") == []


def test_the_password_is_a_secret_never_plaintext_in_the_chain(project: config.Project) -> None:
    secret = dag.set_secret("registry-password", PASSWORD)
    backend = images(RegistryAuth("ghcr.io/acme", "me", secret))
    chains = [publisher(backend.auth), *backend.variants(project.components["jessy-api"])]
    for chain in chains:
        for selection in chain._ctx.selections:  # pyright: ignore[reportPrivateUsage]
            for value in selection.args.values():
                if not isinstance(value, dagger.Secret):
                    assert PASSWORD not in repr(value)
    assert PASSWORD not in repr(labels())
