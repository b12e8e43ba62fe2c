"""coverage and bench plans are pure data: one Rust coverage tool, tool caches, services, criterion, Go flags."""

from __future__ import annotations

import shlex

from jessy_ci import config
from jessy_ci.steps import Cache, JunitSource, Step
from jessy_ci.toolchains import BenchSettings
from jessy_ci.verbs.plan import plan_bench, plan_coverage

TOOLS = Cache("cargo-tools-rust-1.95", "/cache/cargo-tools", "CARGO_INSTALL_ROOT")


def by_name(steps: list[Step]) -> dict[str, Step]:
    return {s.name: s for s in steps}


def script(step: Step) -> list[str]:
    """The words of a `sh -c` step's script."""
    assert step.command[:2] == ("sh", "-c")
    return shlex.split(step.command[2])


def test_coverage_covers_rust_go_and_python_components_with_tests(project: config.Project) -> None:
    steps = plan_coverage(project, project.select([]))
    assert [s.name for s in steps] == [
        "jessy-core:coverage",
        "jessy-api:coverage",
        "features:coverage",
        "jessy-ci:coverage",
    ]
    assert all(s.kind == "coverage" for s in steps)
    assert [s.toolchain for s in steps] == ["rust", "go", "python", "python"]


def test_rust_coverage_installs_tarpaulin_into_the_tools_cache_on_every_runner(project: config.Project) -> None:
    step = by_name(plan_coverage(project, project.select(["jessy-core"])))["jessy-core:coverage"]
    install = ("cargo", "install", "cargo-tarpaulin", "--version", "0.37.5", "--locked")
    assert step.setup[0][: len(install)] == install
    assert step.setup[0][-2:] == ("--target-dir", "${CARGO_INSTALL_ROOT}/build")  # never locks the shared target
    assert len(step.setup) == 1
    assert TOOLS in step.caches
    assert step.env["PATH"] == "${CARGO_INSTALL_ROOT}/bin:${PATH}"
    assert step.command[:5] == ("cargo", "tarpaulin", "--locked", "--engine", "llvm")  # no llvm-tools component
    assert "--out" in step.command and "Lcov" in step.command
    assert step.command[step.command.index("--output-dir") + 1] == "{reports}"
    assert "--lib" not in step.command  # unit and integration tests: tarpaulin's default targets
    assert step.junit is JunitSource.CARGO_TEST
    assert step.env["JESSY_MAX_LAYER_BYTES"] == "1048576"


def test_rust_coverage_needs_no_llvm_tools_component(project: config.Project) -> None:
    """Neither this machine nor the engine's stand-in rust image has llvm-tools, and rustup cannot add it there."""
    step = by_name(plan_coverage(project, project.select(["jessy-core"])))["jessy-core:coverage"]
    assert not any("llvm-tools" in " ".join(argv) for argv in step.setup)
    assert step.image == "rust:1.95-bookworm"


def test_rust_coverage_of_a_component_without_integration_tests_runs_unit_targets(project: config.Project) -> None:
    unit_only = config.Component("core", "rust", "services/jessy-core", ("unit",))
    step = plan_coverage(project, [unit_only])[0]
    assert step.command[-2:] == ("--lib", "--bins")


def test_go_coverage_counts_unit_and_integration_tests_with_the_core_bound(project: config.Project) -> None:
    step = by_name(plan_coverage(project, project.select(["jessy-api"])))["jessy-api:coverage"]
    words = script(step)
    assert words[:5] == ["go", "list", "-m", ">", "{reports}/go-module"]
    go_test = words[words.index("exec") + 1 :]
    assert go_test == [
        "go",
        "test",
        "-count=1",
        "-json",
        "-tags",
        "integration",
        "-coverpkg=./...",
        "-coverprofile={reports}/coverage.out",
        "./...",
    ]
    assert [s.name for s in step.services] == ["jessy-core"]
    assert step.data_env == "JESSY_DATA_DIR"
    assert step.junit is JunitSource.GO_TEST_JSON


def test_go_bench_runs_count_runs_sharing_the_time_and_no_tests(project: config.Project) -> None:
    settings = BenchSettings(count=6, seconds=3.0, filter="Health")
    step = by_name(plan_bench(project, project.select([]), settings))["jessy-api:bench"]
    words = script(step)
    assert words[:4] == ["go", "version", ">", "{reports}/toolchain-version"]
    go_test = words[words.index("exec") + 1 :]
    assert go_test == [
        "go",
        "test",
        "-run",
        "^$",
        "-bench",
        "Health",
        "-benchmem",
        "-count=6",
        "-benchtime=0.5s",
        "./...",
    ]
    default = by_name(plan_bench(project, project.select(["jessy-api"]), BenchSettings()))["jessy-api:bench"]
    assert "-bench ." in default.command[2] and "-count=10" in default.command[2]


def test_rust_bench_runs_every_criterion_target_into_the_reports(project: config.Project) -> None:
    step = by_name(plan_bench(project, project.select(["jessy-core"]), BenchSettings(count=5, seconds=1.0)))[
        "jessy-core:bench"
    ]
    assert step.env["CRITERION_HOME"] == "{reports}/criterion"
    words = script(step)
    assert words[:4] == ["rustc", "--version", ">", "{reports}/toolchain-version"]
    assert words[5:9] == ["cargo", "clean", "--release", "--workspace"]  # never another tree's build
    cargo = words[words.index("exec") + 1 :]
    assert cargo[:6] == ["cargo", "bench", "--locked", "--bench", "*", "--"]
    flags = cargo[6:]
    assert flags == ["--warm-up-time", "0.5", "--measurement-time", "1", "--sample-size", "10"]


def test_bench_filter_reaches_criterion_and_python_components_have_no_bench(project: config.Project) -> None:
    steps = plan_bench(project, project.select([]), BenchSettings(filter="layer_read"))
    assert [s.name for s in steps] == ["jessy-core:bench", "jessy-api:bench"]
    assert script(steps[0])[-1] == "layer_read"
    assert plan_bench(project, project.select(["features"]), BenchSettings()) == []
