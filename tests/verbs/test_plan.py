"""Plans are pure data: the right images, caches and their paths, env, commands and services for each step."""

from __future__ import annotations

from jessy_ci import config
from jessy_ci.steps import Cache, JunitSource, Step
from jessy_ci.verbs.plan import plan_lint, plan_test


def by_name(steps: list[Step]) -> dict[str, Step]:
    return {s.name: s for s in steps}


def test_lint_plan_covers_every_linter(project: config.Project) -> None:
    steps = by_name(plan_lint(project, project.select([])))
    assert set(steps) == {
        "jessy-core:fmt",
        "jessy-core:clippy",
        "jessy-core:hadolint",
        "jessy-api:gofmt",
        "jessy-api:vet",
        "jessy-api:hadolint",
        "jessy-ci:ruff-check",
        "jessy-ci:ruff-format",
        "jessy-ci:secrets",
        "jessy-ci:actionlint",
    }
    assert steps["jessy-core:clippy"].command == (
        "cargo",
        "clippy",
        "--locked",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    )
    assert steps["jessy-api:gofmt"].command == ("gofmt", "-l", ".") and steps["jessy-api:gofmt"].fail_on_output
    assert steps["jessy-api:vet"].command == ("go", "vet", "-tags", "integration", "./...")
    assert steps["jessy-ci:ruff-check"].command == ("ruff", "check", "ci", "tests", "features", "scripts")
    assert steps["jessy-ci:ruff-format"].command[:3] == ("ruff", "format", "--check")
    assert steps["jessy-core:hadolint"].command == ("hadolint", "dockerfiles/core.Dockerfile")


def test_rust_steps_use_the_official_image_paths_and_a_versioned_target_cache(project: config.Project) -> None:
    step = by_name(plan_test(project, project.select(["jessy-core"])))["jessy-core:unit"]
    assert step.image == "rust:1.95-bookworm"
    assert step.workdir == "services/jessy-core"
    assert step.caches == (
        Cache("cargo-home", "/cache/cargo-home", "CARGO_HOME", containers_only=True),
        Cache("cargo-target-rust-1.95", "/cache/cargo-target", "CARGO_TARGET_DIR", per_checkout=True),
    )
    # no manifests-only layer: cargo cannot even fetch without every declared target (a [[bench]]), and the
    # registry is a cache volume, so downloads happen once anyway
    assert step.manifests == ()
    assert step.setup == ()
    assert step.command == ("cargo", "test", "--locked", "--no-fail-fast", "--lib", "--bins")
    assert step.junit is JunitSource.CARGO_TEST
    assert step.services == ()
    assert step.env["JESSY_MAX_LAYER_BYTES"] == "1048576"  # project-wide env reaches every step


def test_go_steps_cache_modules_and_build_cache(project: config.Project) -> None:
    steps = by_name(plan_test(project, project.select(["jessy-api"])))
    unit, integration = steps["jessy-api:unit"], steps["jessy-api:integration"]
    assert unit.image == "golang:1.26-bookworm"
    assert {(c.path, c.env) for c in unit.caches} == {
        ("/go/pkg/mod", "GOMODCACHE"),
        ("/root/.cache/go-build", "GOCACHE"),
    }
    assert unit.command == ("go", "test", "-race", "-count=1", "-json", "./...")
    assert unit.services == ()
    assert "-tags" in integration.command and "integration" in integration.command
    assert [s.name for s in integration.services] == ["jessy-core"]
    assert integration.data_env == "JESSY_DATA_DIR"


def test_integration_services_are_built_from_the_sources_and_health_checked(project: config.Project) -> None:
    step = by_name(plan_test(project, project.select(["features"])))["features:bdd"]
    assert step.image.startswith("python:3.11")
    assert step.junit is JunitSource.FILE
    assert "'--junitxml={reports}/junit.xml'" in step.command[2]  # pytest in the component's environment
    core, api, orphan = step.services
    assert (core.name, core.port, core.health, core.url_env) == ("jessy-core", 8080, "/health", "JESSY_CORE_URL")
    assert core.setup == (("cargo", "build", "--locked", "--bin", "jessy-core"),)
    assert core.command == ("${CARGO_TARGET_DIR}/debug/jessy-core",)
    assert core.data_env == "JESSY_DATA_DIR" and core.bind_env == "JESSY_BIND_HOST"
    assert (api.name, api.needs, api.health_status) == ("jessy-api", ("jessy-core",), 200)
    assert (orphan.name, orphan.needs, orphan.health_status) == ("jessy-api-orphan", (), 503)
    assert orphan.env["JESSY_CORE_URL"] == "http://127.0.0.1:9"
    assert orphan.url_env == "JESSY_API_ORPHAN_URL"


def test_unit_tests_never_start_services(project: config.Project) -> None:
    for step in plan_test(project, project.select([])):
        if step.kind == "unit":
            assert step.services == (), step.name


def test_component_selection_limits_the_plan(project: config.Project) -> None:
    steps = plan_test(project, project.select(["jessy-api"]))
    assert {s.component for s in steps} == {"jessy-api"}
