"""bench: samples per benchmark into bench/<component>.json, a baseline file or a baseline tree compared, verdicts per
benchmark in bench/compare.md, and a gate that fails only on significant regressions over the maximum (fake runners;
the real benchmarks run in tests/e2e/test_coverage_bench.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from jessy_ci import config
from jessy_ci.errors import UsageError
from jessy_ci.gates.bench import Baseline, Benchmark, load_baseline
from jessy_ci.gates.summary import render as render_summary
from jessy_ci.runners import RunResult
from jessy_ci.session import Session
from jessy_ci.steps import Step
from jessy_ci.toolchains import BenchSettings
from jessy_ci.verbs.bench import RUN_ENV, BenchRun, run_bench, toolchain_version

CRITERION = Path(__file__).parent.parent / "gates" / "samples" / "criterion"
FAST = BenchSettings(count=6, seconds=0.1)


def criterion_files() -> dict[str, bytes]:
    return {f"criterion/{p.relative_to(CRITERION).as_posix()}": p.read_bytes() for p in CRITERION.rglob("*.json")}


def go_output(ns: list[float]) -> str:
    lines = ["goos: linux", "pkg: github.com/jessy-ci/jessy-api/internal/api"]
    lines += [f"BenchmarkHealth-2   \t     100\t {v:.0f} ns/op\t  13571 B/op\t     107 allocs/op" for v in ns]
    return "\n".join([*lines, "PASS", ""])


class FakeRunner:
    """Go prints ``go_ns`` samples of BenchmarkHealth; criterion leaves the sample files. Records the order of the
    steps across runners (``log``) and how many ran at once."""

    def __init__(self, name: str, log: list[str], go_ns: list[float] | None = None) -> None:
        self.name = name
        self.log = log
        self.go_ns = [100.0, 101, 99, 100, 102, 98] if go_ns is None else go_ns
        self.exit_codes: dict[str, int] = {}
        self.steps: list[Step] = []
        self.active = 0
        self.most_active = 0

    async def run(self, step: Step) -> RunResult:
        self.steps.append(step)
        self.log.append(f"{self.name} {step.name}")
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        await anyio.lowlevel.checkpoint()
        self.active -= 1
        if step.toolchain == "go":
            files = {"toolchain-version": b"go version go1.26.8 linux/amd64\n"}
            return RunResult(self.exit_codes.get(step.name, 0), go_output(self.go_ns), "", 0.1, files)
        files = {**criterion_files(), "toolchain-version": b"rustc 1.95.0 (59807616e 2026-04-14)\n"}
        return RunResult(self.exit_codes.get(step.name, 0), "", "", 0.1, files)


def bench(project: config.Project, runner: FakeRunner, *components: str, **options: object) -> BenchRun:
    async def main() -> BenchRun:
        return await run_bench(Session(project, runner), list(components), **options)  # type: ignore[arg-type]

    return anyio.run(main)


def health(samples: list[float]) -> Benchmark:
    return Benchmark("jessy-api", "BenchmarkHealth", "ns/op", tuple(samples))


def test_samples_per_component_in_the_baseline_format(project: config.Project) -> None:
    runner = FakeRunner("host", [])
    run = bench(project, runner, settings=FAST, commit="abc123")
    report = run.report
    assert report.passed, report.failures()
    api = load_baseline(report.files["bench/jessy-api.json"].decode(), "api")
    assert api.commit == "abc123"
    assert api.toolchains == {"go": "go1.26.8", "rust": "1.95.0"}
    assert [(b.name, b.unit, len(b.samples)) for b in api.benchmarks] == [
        ("BenchmarkHealth", "ns/op", 6),
        ("BenchmarkHealth (B/op)", "B/op", 6),
        ("BenchmarkHealth (allocs/op)", "allocs/op", 6),
    ]
    core = load_baseline(report.files["bench/jessy-core.json"].decode(), "core")
    assert [b.name for b in core.benchmarks] == ["layer_read/1MiB", "layer_write/4KiB"]  # base/ is ignored
    assert {s.name: dict(s.metrics) for s in report.steps} == {
        "jessy-core:bench": {"benchmarks": "2"},
        "jessy-api:bench": {"benchmarks": "3"},
    }
    assert "bench/compare.md" not in report.files
    assert run.complete and len(run.current.benchmarks) == 5 and run.current.commit == "abc123"
    assert "| jessy-api:bench | jessy-api | ✅ passed |" in render_summary(report)


def test_benchmarks_run_one_at_a_time_and_never_from_a_cache(project: config.Project) -> None:
    runner = FakeRunner("host", [])
    bench(project, runner, settings=FAST)
    assert runner.most_active == 1
    first = {s.env[RUN_ENV] for s in runner.steps}
    bench(project, runner, settings=FAST)
    assert len(first) == 1 and runner.steps[-1].env[RUN_ENV] not in first


def test_a_significant_regression_over_the_maximum_fails_naming_the_benchmark(project: config.Project) -> None:
    baseline = Baseline("base1", {}, (health([100, 101, 99, 100, 102, 98]),))
    runner = FakeRunner("host", [], go_ns=[150, 151, 149, 152, 150, 148])
    report = bench(project, runner, "jessy-api", settings=FAST, baseline=baseline).report
    assert not report.passed
    assert len(report.gate_failures) == 1
    failure = report.gate_failures[0]
    assert failure.startswith("bench jessy-api BenchmarkHealth: +50.0% slower")
    assert failure.endswith("> max regression 10%")
    compare = report.files["bench/compare.md"].decode()
    assert "### Benchmarks against baseline `base1`" in compare
    assert "| ❌ | jessy-api | BenchmarkHealth | ns/op | 100 ns | 150 ns | +50.0% |" in compare
    assert "**New (not in the baseline):**" in compare  # B/op and allocs/op: listed, not failed
    assert dict(report.steps[0].metrics)["verdicts"] == "1 slower (1 failed)"


def test_slower_within_the_maximum_or_not_significant_passes(project: config.Project) -> None:
    baseline = Baseline("base1", {}, (health([100, 101, 99, 100, 102, 98]),))
    tolerated = FakeRunner("host", [], go_ns=[105, 106, 104, 105, 107, 103])
    assert bench(project, tolerated, "jessy-api", settings=FAST, baseline=baseline).report.passed
    noisy = FakeRunner("host", [], go_ns=[60, 200, 100, 90, 250, 99])
    report = bench(project, noisy, "jessy-api", settings=FAST, baseline=baseline, max_regression=1).report
    assert report.passed, report.failures()
    assert "no significant change" in report.files["bench/compare.md"].decode()


def test_the_baseline_is_limited_to_the_selected_components(project: config.Project) -> None:
    baseline = Baseline("b", {}, (health([100.0] * 6), Benchmark("jessy-core", "layer_read/1MiB", "ns/op", (1.0,) * 6)))
    report = bench(project, FakeRunner("host", []), "jessy-api", settings=FAST, baseline=baseline).report
    compare = report.files["bench/compare.md"].decode()
    assert "layer_read" not in compare
    assert "1 compared, 0 only in the baseline, 2 new" in render_summary(report)


def test_a_baseline_tree_is_measured_right_before_the_current_one(project: config.Project) -> None:
    log: list[str] = []
    base = FakeRunner("base", log, go_ns=[100, 101, 99, 100, 102, 98])
    now = FakeRunner("now", log, go_ns=[100, 102, 98, 101, 100, 99])
    run = bench(project, now, settings=FAST, baseline_runner=base, baseline_commit="c0ffee", commit="beef")
    assert log == [
        "base jessy-core:bench-baseline",
        "now jessy-core:bench",
        "base jessy-api:bench-baseline",
        "now jessy-api:bench",
    ]
    report = run.report
    assert report.passed, report.failures()
    assert [s.name for s in report.steps] == [
        "jessy-core:bench-baseline",
        "jessy-core:bench",
        "jessy-api:bench-baseline",
        "jessy-api:bench",
    ]
    assert load_baseline(report.files["bench/baseline/jessy-api.json"].decode(), "b").commit == "c0ffee"
    assert load_baseline(report.files["bench/jessy-api.json"].decode(), "n").commit == "beef"
    compare = report.files["bench/compare.md"].decode()
    assert "against baseline `c0ffee`" in compare and "| jessy-core | layer_write/4KiB |" in compare
    assert dict(report.steps[1].metrics)["verdicts"] == "2 no significant change"


def test_a_failed_benchmark_step_makes_the_run_incomplete(project: config.Project) -> None:
    runner = FakeRunner("host", [])
    runner.exit_codes["jessy-api:bench"] = 1
    run = bench(project, runner, settings=FAST)
    assert not run.complete and not run.report.passed


def test_no_benchmark_at_all_fails_unless_a_filter_chose_none(project: config.Project) -> None:
    runner = FakeRunner("host", [], go_ns=[])
    report = bench(project, runner, "jessy-api", settings=FAST).report
    assert report.gate_failures == ["bench jessy-api:bench: no benchmark ran"]
    filtered = bench(project, runner, "jessy-api", settings=replace(FAST, filter="Nothing")).report
    assert filtered.passed and "jessy-api:bench: no benchmark matches the filter" in filtered.notes


def test_a_baseline_file_and_a_baseline_tree_together_are_a_usage_error(project: config.Project) -> None:
    runner = FakeRunner("host", [])
    with pytest.raises(UsageError, match="expected one of them, not both"):
        bench(project, runner, baseline=Baseline("x"), baseline_runner=FakeRunner("base", []))
    with pytest.raises(UsageError, match="--component features: no benchmarks for these"):
        bench(project, runner, "features")
    assert runner.steps == []


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("rustc 1.95.0 (59807616e 2026-04-14)\n", "1.95.0"),
        ("go version go1.26.8 linux/amd64\n", "go1.26.8"),
        ("mystery\n", "mystery"),
    ],
)
def test_toolchain_versions(line: str, version: str) -> None:
    assert toolchain_version(line) == version
