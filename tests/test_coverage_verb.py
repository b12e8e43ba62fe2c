"""coverage: what the tools leave becomes repo-relative lcov, Cobertura and HTML, a percentage per component and a
threshold gate that names every component under it (fake runner; the real tools run in test_e2e_coverage_bench)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import anyio
import pytest

from jessy_ci import config
from jessy_ci.errors import UsageError
from jessy_ci.gates.coverage import Coverage, parse_lcov
from jessy_ci.gates.summary import render as render_summary
from jessy_ci.report import Report
from jessy_ci.runners import RunResult
from jessy_ci.session import Session
from jessy_ci.steps import Step
from jessy_ci.verbs.coverage import repo_relative, run_coverage

SAMPLES = Path(__file__).parent / "gates" / "samples"
CARGO_OK = "running 1 test\ntest t ... ok\n\ntest result: ok. 1 passed; 0 failed\n"
GO_OK = '{"Action":"pass","Package":"p","Test":"TestX","Elapsed":0.1}\n'
# what cargo-tarpaulin writes on the host: absolute paths of this checkout
HOST_LCOV = """SF:/home/dev/jessy/services/jessy-core/src/lib.rs
DA:1,1
DA:2,1
DA:3,0
DA:4,1
end_of_record
"""
GO_PROFILE = """mode: set
github.com/jessy-ci/jessy-api/main.go:1.1,2.2 1 1
github.com/jessy-ci/jessy-api/internal/api/api.go:10.1,11.2 1 0
"""


class FakeRunner:
    """What the coverage tools leave in {reports}, per toolchain; ``exit_codes`` by step name."""

    def __init__(self, name: str = "host", files: dict[str, dict[str, bytes]] | None = None) -> None:
        self.name = name
        self.files = files or {
            "rust": {"lcov.info": HOST_LCOV.encode()},
            "go": {"coverage.out": GO_PROFILE.encode(), "go-module": b"github.com/jessy-ci/jessy-api\n"},
        }
        self.exit_codes: dict[str, int] = {}
        self.steps: list[Step] = []

    async def run(self, step: Step) -> RunResult:
        self.steps.append(step)
        stdout = CARGO_OK if step.toolchain == "rust" else GO_OK
        return RunResult(self.exit_codes.get(step.name, 0), stdout, "", 0.1, self.files.get(step.toolchain, {}))


def coverage(project: config.Project, runner: FakeRunner, threshold: float | None, *components: str) -> Report:
    return anyio.run(run_coverage, Session(project, runner), list(components), threshold)


def test_reports_are_merged_over_components_with_repo_relative_paths(project: config.Project) -> None:
    report = coverage(project, FakeRunner(), 50)
    assert report.passed, report.failures()
    total = parse_lcov(report.files["coverage/lcov.info"].decode())
    assert sorted(total.files) == [
        "services/jessy-api/internal/api/api.go",
        "services/jessy-api/main.go",
        "services/jessy-core/src/lib.rs",
    ]
    core = parse_lcov(report.files["coverage/jessy-core.lcov.info"].decode())
    assert list(core.files) == ["services/jessy-core/src/lib.rs"]
    assert list(parse_lcov(report.files["coverage/jessy-api.lcov.info"].decode()).files) == [
        "services/jessy-api/internal/api/api.go",
        "services/jessy-api/main.go",
    ]
    cobertura = ET.fromstring(report.files["coverage/cobertura.xml"])
    assert cobertura.get("lines-valid") == "8" and cobertura.get("lines-covered") == "5"
    assert {c.get("filename") for c in cobertura.iter("class")} == set(total.files)
    assert b"services/jessy-core/src/lib.rs" in report.files["coverage/html/index.html"]
    assert "coverage/html/jessy-api/index.html" in report.files
    assert "coverage/jessy-core.cobertura.xml" in report.files


def test_each_step_shows_its_component_percentage_and_the_summary_the_total(project: config.Project) -> None:
    report = coverage(project, FakeRunner(), None)
    metrics = {s.name: dict(s.metrics) for s in report.steps}
    assert metrics["jessy-core:coverage"]["coverage"] == "3/4 lines (75.0%)"
    assert metrics["jessy-api:coverage"]["coverage"] == "2/4 lines (50.0%)"
    summary = render_summary(report)
    assert "coverage: 3/4 lines (75.0%)" in summary
    assert "coverage total: 5/8 lines (62.5%); threshold 80% per component and in total" in summary
    assert report.steps[0].tests is not None and report.steps[0].tests.passed == 1


def test_the_threshold_fails_every_component_under_it_and_the_total(project: config.Project) -> None:
    report = coverage(project, FakeRunner(), None)  # jessy-ci.toml: 80
    assert report.gate_failures == [
        "coverage jessy-core: 75.0% < threshold 80%",
        "coverage jessy-api: 50.0% < threshold 80%",
        "coverage total: 62.5% < threshold 80%",
    ]
    assert coverage(project, FakeRunner(), 75, "jessy-core").passed
    assert coverage(project, FakeRunner(), 0).passed


def test_a_failing_tool_fails_its_step_and_its_component_has_no_data(project: config.Project) -> None:
    runner = FakeRunner(files={"go": {}, "rust": {"lcov.info": HOST_LCOV.encode()}})
    runner.exit_codes["jessy-api:coverage"] = 1
    report = coverage(project, runner, 0)
    failures = report.failures()
    assert any(f.startswith("jessy-api:coverage: failed") for f in failures)
    assert "coverage jessy-api: no coverage data (0 lines)" in failures
    assert "coverage/lcov.info" in report.files, "reports are written also when a step fails"


def test_a_malformed_report_is_a_failure_naming_the_component(project: config.Project) -> None:
    runner = FakeRunner(files={"rust": {"lcov.info": b"DA:1,1\n"}})
    report = coverage(project, runner, 0, "jessy-core")
    assert report.gate_failures[0].startswith("coverage jessy-core: unreadable coverage report: lcov line 1")


def test_the_dagger_runner_gets_the_same_rust_coverage_tool_as_the_host(project: config.Project) -> None:
    runner = FakeRunner("dagger")
    coverage(project, runner, 0, "jessy-core")
    assert runner.steps[0].command[:2] == ("cargo", "tarpaulin")


def test_selecting_only_components_without_coverage_is_a_usage_error(project: config.Project) -> None:
    with pytest.raises(UsageError, match="--component features: no coverage for these; expected a rust or go"):
        coverage(project, FakeRunner(), None, "features")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/home/dev/jessy/services/jessy-core/src/lib.rs", "services/jessy-core/src/lib.rs"),  # host checkout
        ("/src/services/jessy-core/src/lib.rs", "services/jessy-core/src/lib.rs"),  # container
        ("/tmp/x/services/jessy-core/tree/services/jessy-core/src/a.rs", "services/jessy-core/src/a.rs"),
        ("src/lib.rs", "services/jessy-core/src/lib.rs"),  # relative to the crate
        ("/usr/lib/rust/src/other.rs", "/usr/lib/rust/src/other.rs"),  # outside the repository: as written
    ],
)
def test_repo_relative_paths_from_any_checkout(path: str, expected: str) -> None:
    assert list(repo_relative(Coverage({path: {1: 1}}), "services/jessy-core").files) == [expected]
