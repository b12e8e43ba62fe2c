"""ci: lint and test (and composed parts) concurrently, one Report, every failure listed, one summary.md."""

from __future__ import annotations

import anyio
import pytest

from jessy_ci import config
from jessy_ci.errors import UsageError
from jessy_ci.gates.summary import render as render_summary
from jessy_ci.report import Report
from jessy_ci.runners import RunResult
from jessy_ci.session import Session
from jessy_ci.steps import Step
from jessy_ci.verbs.ci import run_ci

CARGO_OK = "running 1 test\ntest t ... ok\n\ntest result: ok. 1 passed; 0 failed\n"


class FakeRunner:
    """Every step passes (with one passing test where tests are parsed) except the named ones."""

    name = "fake"

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.ran: list[str] = []

    async def run(self, step: Step) -> RunResult:
        self.ran.append(step.name)
        files: dict[str, bytes] = {}
        stdout = ""
        if step.toolchain == "rust":
            stdout = CARGO_OK
        elif step.toolchain == "go":
            stdout = '{"Action":"pass","Package":"p","Test":"TestX","Elapsed":0.1}\n'
        elif step.toolchain == "python":
            files["junit.xml"] = b'<testsuite><testcase classname="c" name="t"/></testsuite>'
        code = 1 if step.name in self.failing else 0
        return RunResult(code, stdout, "boom" if code else "", 0.5, files)


def test_ci_runs_lint_and_test_and_lists_every_failure(project: config.Project) -> None:
    runner = FakeRunner({"jessy-core:clippy", "jessy-api:unit"})
    report = anyio.run(run_ci, Session(project, runner), [])
    assert report.verb == "ci"
    names = [s.name for s in report.steps]
    assert "jessy-core:clippy" in names and "jessy-api:integration" in names and "features:bdd" in names
    assert "jessy-core:coverage" in names and "jessy-api:coverage" in names  # the coverage gate is part of ci
    assert not any(n.endswith(":bench") for n in names)  # the benchmark gate only with a baseline
    assert set(runner.ran) == set(names)
    failures = "\n".join(report.failures())
    assert "jessy-core:clippy: failed" in failures and "jessy-api:unit: failed" in failures
    summary = render_summary(report)
    assert summary.startswith("## jessy-ci ci: failed")
    assert summary.count("## jessy-ci") == 1
    assert "junit/jessy-core-unit.xml" in report.files


def test_ci_composes_extra_parts_and_a_crashing_part_fails_alone(project: config.Project) -> None:
    async def gate(components: list[str]) -> Report:
        return Report(verb="bench", gate_failures=["bench: BenchmarkHealth 30% slower"], notes=["baseline: x"])

    async def crash(components: list[str]) -> Report:
        raise RuntimeError("engine went away")

    async def main() -> Report:
        extra = [("bench", gate), ("scan", crash)]
        return await run_ci(Session(project, FakeRunner(set())), ["jessy-api"], extra)

    report = anyio.run(main)
    composed = [f for f in report.gate_failures if not f.startswith("coverage ")]  # the fake leaves no coverage
    assert composed == ["bench: BenchmarkHealth 30% slower", "scan: RuntimeError: engine went away"]
    assert {s.component for s in report.steps} == {"jessy-api"}
    assert "- baseline: x" in render_summary(report)


def test_ci_bad_component_is_bad_input_before_anything_runs(project: config.Project) -> None:
    runner = FakeRunner(set())
    with pytest.raises(UsageError, match="--component 'nope'"):
        anyio.run(run_ci, Session(project, runner), ["nope"])
    assert runner.ran == []


def test_ci_with_a_baseline_adds_the_benchmark_gate(project: config.Project) -> None:
    from jessy_ci.gates.bench import Baseline

    runner = FakeRunner(set())
    baseline = Baseline(commit="abc", toolchains={}, benchmarks=())
    report = anyio.run(lambda: run_ci(Session(project, runner), ["jessy-api"], baseline=baseline))
    assert "jessy-api:bench" in [s.name for s in report.steps]


def test_ci_on_python_components_without_tests_skips_coverage_with_a_note() -> None:
    project = config.parse('[components.tool]\nlanguage = "python"\npath = "tool"\ntests = []\n', "jessy-ci.toml")
    report = anyio.run(run_ci, Session(project, FakeRunner(set())), ["tool"])
    assert not any(s.name.endswith(":coverage") for s in report.steps)
    assert "coverage: no Rust or Go component, nor Python component with tests, selected" in report.notes


def test_ci_measures_python_components_with_tests(project: config.Project) -> None:
    report = anyio.run(run_ci, Session(project, FakeRunner(set())), ["features"])
    assert "features:coverage" in [s.name for s in report.steps]
