"""coverage: what the tools leave becomes repo-relative lcov, Cobertura and HTML, a percentage per component and a
threshold gate that names every component under it (fake runner; the real tools run in
tests/e2e/test_coverage_bench.py)."""

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

SAMPLES = Path(__file__).parent.parent / "gates" / "samples"
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


RUST_AND_GO = ("jessy-core", "jessy-api")


def test_reports_are_merged_over_components_with_repo_relative_paths(project: config.Project) -> None:
    report = coverage(project, FakeRunner(), 50, *RUST_AND_GO)
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
    report = coverage(project, FakeRunner(), None, *RUST_AND_GO)
    metrics = {s.name: dict(s.metrics) for s in report.steps}
    assert metrics["jessy-core:coverage"]["coverage"] == "3/4 lines (75.0%)"
    assert metrics["jessy-api:coverage"]["coverage"] == "2/4 lines (50.0%)"
    summary = render_summary(report)
    assert "coverage: 3/4 lines (75.0%)" in summary
    assert "coverage total: 5/8 lines (62.5%); threshold 80% per component and in total" in summary
    assert report.steps[0].tests is not None and report.steps[0].tests.passed == 1


def test_the_threshold_fails_every_component_under_it_and_the_total(project: config.Project) -> None:
    report = coverage(project, FakeRunner(), None, *RUST_AND_GO)  # jessy-ci.toml: 80
    assert report.gate_failures == [
        "coverage jessy-core: 75.0% < threshold 80%",
        "coverage jessy-api: 50.0% < threshold 80%",
        "coverage total: 62.5% < threshold 80%",
    ]
    assert coverage(project, FakeRunner(), 75, "jessy-core").passed
    assert coverage(project, FakeRunner(), 0, *RUST_AND_GO).passed


def test_a_failing_tool_fails_its_step_and_its_component_has_no_data(project: config.Project) -> None:
    runner = FakeRunner(files={"go": {}, "rust": {"lcov.info": HOST_LCOV.encode()}})
    runner.exit_codes["jessy-api:coverage"] = 1
    report = coverage(project, runner, 0, *RUST_AND_GO)
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


def test_selecting_only_components_without_coverage_is_a_usage_error() -> None:
    project = config.parse('[components.tool]\nlanguage = "python"\npath = "tool"\ntests = []\n', "jessy-ci.toml")
    expected = "--component tool: no coverage for these; expected a rust or go component, or a python component with"
    with pytest.raises(UsageError, match=expected):
        coverage(project, FakeRunner(), None, "tool")


# --- Python: coverage.py's lcov (a real pytest-cov report, scripts/make_pytest_cov_sample.py) -------------------

PYTEST_COV_LCOV = (Path(__file__).parent.parent / "samples" / "pytest-cov.lcov").read_bytes()
PYTHON_JUNIT = b'<testsuite><testcase classname="tests.test_calc" name="test_zero"/></testsuite>'
WITH_PYTHON = """
[components.jessy-core]
language = "rust"
path = "services/jessy-core"

[components.calc]
language = "python"
path = "tools/calc"
"""


def test_python_coverage_is_merged_with_the_others_branches_included() -> None:
    project = config.parse(WITH_PYTHON, "jessy-ci.toml")
    runner = FakeRunner(
        files={
            "rust": {"lcov.info": HOST_LCOV.encode()},
            "python": {"lcov.info": PYTEST_COV_LCOV, "junit.xml": PYTHON_JUNIT},
        }
    )
    report = coverage(project, runner, 60)
    assert report.passed, report.failures()
    total = parse_lcov(report.files["coverage/lcov.info"].decode())
    assert sorted(total.files) == [
        "services/jessy-core/src/lib.rs",
        "tools/calc/src/calc/__init__.py",  # coverage.py writes paths relative to where it ran: the component
        "tools/calc/tests/test_calc.py",
    ]
    assert (total.lines_total, total.lines_covered) == (4 + 16, 3 + 11)
    assert (total.branches_total, total.branches_covered) == (8, 3)
    metrics = {s.name: dict(s.metrics) for s in report.steps}
    assert metrics["calc:coverage"]["coverage"] == "11/16 lines (68.7%), 3/8 branches (37.5%)"
    assert metrics["jessy-core:coverage"]["coverage"] == "3/4 lines (75.0%)"
    lcov = report.files["coverage/lcov.info"].decode()
    assert "BRDA:5,0,jump to line 6,0\n" in lcov and "BRDA:13,0,jump to line 14,-\n" in lcov
    assert "BRF:8\nBRH:3\n" in lcov
    cobertura = ET.fromstring(report.files["coverage/cobertura.xml"])
    assert (cobertura.get("branches-valid"), cobertura.get("branches-covered")) == ("8", "3")
    assert cobertura.get("lines-valid") == "20"
    calc = next(c for c in cobertura.iter("class") if c.get("filename") == "tools/calc/src/calc/__init__.py")
    line5 = next(line for line in calc.iter("line") if line.get("number") == "5")
    assert (line5.get("branch"), line5.get("condition-coverage")) == ("true", "50% (1/2)")
    page = report.files["coverage/html/index.html"].decode()
    assert "<th>branches</th>" in page and "tools/calc/src/calc/__init__.py" in page
    assert "coverage/html/calc/index.html" in report.files and "coverage/calc.lcov.info" in report.files


def test_python_coverage_is_gated_like_the_others() -> None:
    project = config.parse(WITH_PYTHON, "jessy-ci.toml")
    runner = FakeRunner(files={"rust": {"lcov.info": HOST_LCOV.encode()}, "python": {"lcov.info": PYTEST_COV_LCOV}})
    report = coverage(project, runner, 70, "calc")
    assert report.gate_failures == ["coverage calc: 68.7% < threshold 70%", "coverage total: 68.7% < threshold 70%"]


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


def test_a_component_with_its_own_threshold_is_gated_on_it_unless_one_is_given() -> None:
    project = config.parse(WITH_PYTHON + "coverage_threshold = 65\n", "jessy-ci.toml")
    files = {"rust": {"lcov.info": HOST_LCOV.encode()}, "python": {"lcov.info": PYTEST_COV_LCOV}}
    report = coverage(project, FakeRunner(files=files), None, "calc")
    assert report.gate_failures == ["coverage total: 68.7% < threshold 80%"]  # calc meets its own 65%
    assert "threshold 80% per component, calc 65% and in total" in report.notes[-1]
    explicit = coverage(project, FakeRunner(files=files), 70, "calc")  # --threshold is for every component
    assert explicit.gate_failures[0] == "coverage calc: 68.7% < threshold 70%"
