"""tests/engine/images.txt names every image the pipeline pulls, so that a new pin cannot silently miss the engine
tier's registry: the planned steps and services, the Trivy and serve-proxy images, the Dockerfiles' base images and the
module's own Python runtime."""

from __future__ import annotations

from jessy_ci import config
from jessy_ci.imagerefs import dockerfile_images, normalize
from jessy_ci.toolchains import BenchSettings, proxy, python, repo, trivy
from jessy_ci.verbs.plan import plan_bench, plan_coverage, plan_lint, plan_source_scan, plan_test, serve_specs
from tests.conftest import ROOT
from tests.engine.standins import HARNESS_KINDS, read_spec

SPEC = ROOT / "tests" / "engine" / "images.txt"


def pulled(project: config.Project) -> set[str]:
    everything = project.select([])
    steps = [
        *plan_lint(project, everything),
        *plan_test(project, everything),
        *plan_coverage(project, everything),
        *plan_bench(project, everything, BenchSettings()),
        *plan_source_scan(project, False),
        repo.smoke("http://x:1", 1, "", "run"),
    ]
    refs = {s.image for s in steps} | {spec.image for s in steps for spec in s.services}
    refs |= {s.image for s in serve_specs(project)} | {proxy.proxy(serve_specs(project)).image}
    refs |= {trivy.IMAGE, python.IMAGE}  # the image scan's container; the boot probe and the exit-2 reporter
    for c in everything:
        if c.dockerfile:
            refs |= set(dockerfile_images((ROOT / c.dockerfile).read_text()).refs)
    runtime = (ROOT / "ci" / ".python-version").read_text().strip()
    return refs | {f"python:{runtime}-slim"}


def test_every_pulled_image_is_in_the_engine_spec(project: config.Project) -> None:
    listed = {normalize(line.ref) for line in read_spec(SPEC)}
    missing = {ref for ref in pulled(project) if normalize(ref) not in listed}
    assert missing == set(), f"add these to {SPEC.relative_to(ROOT)}: {sorted(missing)}"


def test_the_spec_names_only_kinds_someone_builds() -> None:
    kinds = {line.kind for line in read_spec(SPEC)}
    assert kinds - HARNESS_KINDS == {"trivy"}  # built by tests/engine/standins.py
    assert len({normalize(line.ref) for line in read_spec(SPEC)}) == len(read_spec(SPEC)), "no duplicates"


def test_the_dockerfiles_build_from_the_toolchains_images() -> None:
    """The images that test the code also build it."""
    from jessy_ci.toolchains import go, rust

    core = dockerfile_images((ROOT / "dockerfiles" / "core.Dockerfile").read_text())
    api = dockerfile_images((ROOT / "dockerfiles" / "api.Dockerfile").read_text())
    assert core.args["RUST_IMAGE"] == rust.IMAGE
    assert api.args["GO_IMAGE"] == go.IMAGE
