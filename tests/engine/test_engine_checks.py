"""On a real engine: the functions a developer runs every day — functions, lint, test, coverage, bench — and their
reports, compared with the host runner's."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.engine.conftest import Engine

pytestmark = pytest.mark.engine

# Every function of the module (`dagger functions`); tests/engine/test_z_every_function_ran.py checks each ran.
FUNCTIONS = {
    "bench",
    "bench-regression",
    "build",
    "build-image",
    "ci",
    "coverage",
    "lint",
    "load",
    "publish",
    "publish-dry-run",
    "reports",
    "scan",
    "serve",
    "smoke",
    "test",
    "verdict",
}

ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours of the plain progress output


def junit_cases(junit: Path) -> dict[str, bool]:
    """Test name → passed, from a JUnit file."""
    return {
        f"{case.get('classname')}::{case.get('name')}": case.find("failure") is None
        for case in ET.parse(junit).getroot().iter("testcase")
    }


def test_functions_lists_every_function_with_its_documentation(engine: Engine) -> None:
    done = engine.dagger("functions")
    assert done.returncode == 0, done.stderr[-3000:]
    listed = {line.split()[0]: line for line in done.stdout.splitlines() if re.match(r"^[a-z][a-z-]+\s+\S", line)}
    assert set(listed) == FUNCTIONS
    assert "cargo fmt and clippy" in listed["lint"]
    assert "Unit, integration (services bound) and BDD tests" in listed["test"]
    check = engine.dagger("check", "-l")
    assert check.returncode == 0, check.stderr[-3000:]
    for name in ("lint", "test", "coverage", "bench-regression", "build", "scan", "publish-dry-run"):
        assert f"jessy-ci:{name}" in check.stdout


def test_lint_passes_and_its_reports_export(engine: Engine, tmp_path: Path) -> None:
    done = engine.dagger("call", "lint")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "## jessy-ci lint: passed" in done.stdout
    # the verb and every step are spans inside Dagger's own trace (plain progress: `N : ┆ name DONE [time]`)
    progress = ANSI.sub("", done.stderr)
    for span in ("lint", "jessy-api:vet", "jessy-core:clippy", "jessy-ci:ruff-check"):
        assert re.search(rf"^\d+\s+: ┆ {re.escape(span)} DONE \[", progress, re.MULTILINE), span
    exported = engine.dagger("call", "reports", "--verb", "lint", "export", "--path", str(tmp_path))
    assert exported.returncode == 0, exported.stderr[-3000:]
    summary = (tmp_path / "summary.md").read_text()
    for step in (
        "jessy-core:clippy",
        "jessy-api:vet",
        "jessy-ci:ruff-check",
        "jessy-core:hadolint",
        "jessy-ci:actionlint",
    ):
        assert f"| {step} |" in summary
    assert json.loads((tmp_path / "verdict.json").read_text())["passed"] is True


def test_test_passes_with_the_same_junit_files_names_and_counts_as_the_host_runner(
    engine: Engine, tmp_path: Path
) -> None:
    done = engine.dagger("call", "test")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    on_engine, on_host = tmp_path / "dagger", tmp_path / "host"
    exported = engine.dagger("call", "reports", "--verb", "test", "export", "--path", str(on_engine))
    assert exported.returncode == 0, exported.stderr[-3000:]
    host = engine.jessy_ci("test", "--runner", "host", "--reports", str(on_host))
    assert host.returncode == 0, host.stdout[-3000:] + host.stderr[-3000:]
    files = sorted(p.name for p in (on_engine / "junit").iterdir())
    assert files == sorted(p.name for p in (on_host / "junit").iterdir())
    # the HTML report and the BDD features → scenarios → steps it shows come back from the engine too
    page = (on_engine / "index.html").read_text()
    assert "<title>jessy-ci test: passed</title>" in page and "Metrics of jessy-core and jessy-api" in page
    cucumber = json.loads((on_engine / "bdd" / "features-bdd.cucumber.json").read_text())
    assert {feature["name"] for feature in cucumber} >= {"Metrics of jessy-core and jessy-api"}
    assert files == [
        "features-bdd.xml",
        "jessy-api-integration.xml",
        "jessy-api-unit.xml",
        "jessy-ci-unit.xml",  # jessy-ci's own fast tier, in a python container
        "jessy-core-integration.xml",
        "jessy-core-unit.xml",
    ]
    for name in files:
        dagger_tests, host_tests = junit_cases(on_engine / "junit" / name), junit_cases(on_host / "junit" / name)
        assert dagger_tests == host_tests, name
        assert dagger_tests and all(dagger_tests.values()), name


def test_broken_tests_fail_the_run_naming_both_and_the_reports_still_export(
    engine: Engine, broken_copy: Path, tmp_path: Path
) -> None:
    done = engine.dagger("call", "test", "--component", "jessy-core", "--component", "jessy-api", cwd=broken_copy)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "failing test: unittests src/lib.rs::config::tests::defaults" in output
    assert "failing test: github.com/jessy-ci/jessy-api/internal/api::TestHealthOK" in output
    exported = engine.dagger(
        "call",
        "reports",
        "--verb",
        "test",
        "--component",
        "jessy-core",
        "--component",
        "jessy-api",
        "export",
        "--path",
        str(tmp_path),
        cwd=broken_copy,
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    core = junit_cases(tmp_path / "junit" / "jessy-core-unit.xml")
    api = junit_cases(tmp_path / "junit" / "jessy-api-unit.xml")
    assert [name for name, ok in core.items() if not ok] == ["unittests src/lib.rs::config::tests::defaults"]
    assert [name for name, ok in api.items() if not ok] == ["github.com/jessy-ci/jessy-api/internal/api::TestHealthOK"]
    summary = (tmp_path / "summary.md").read_text()
    assert "| jessy-core:integration | jessy-core | ✅ passed |" in summary  # one failure hides nothing


def test_coverage_gate_and_its_lcov_cobertura_and_html(engine: Engine, tmp_path: Path) -> None:
    done = engine.dagger("call", "coverage", "--threshold", "80")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    exported = engine.dagger(
        "call", "reports", "--verb", "coverage", "--threshold", "80", "export", "--path", str(tmp_path)
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    coverage = tmp_path / "coverage"
    lcov = (coverage / "lcov.info").read_text()
    assert "SF:services/jessy-core/src/storage.rs" in lcov and "SF:services/jessy-api/internal/api/api.go" in lcov
    cobertura = ET.parse(coverage / "cobertura.xml").getroot()
    assert float(cobertura.get("line-rate", "0")) >= 0.8
    assert (coverage / "html" / "index.html").is_file() and (coverage / "html" / "jessy-core" / "index.html").is_file()
    summary = (tmp_path / "summary.md").read_text()
    assert re.search(r"\| jessy-core:coverage \| jessy-core \| ✅ passed .*coverage: \d+/\d+ lines", summary)
    too_high = engine.dagger("call", "coverage", "--threshold", "99.9", "--component", "jessy-api")
    assert too_high.returncode == 1
    assert re.search(r"coverage jessy-api: [\d.]+% < threshold 99.9%", too_high.stdout + too_high.stderr)


def test_bench_samples_and_a_comparison_with_a_baseline_file(engine: Engine, tmp_path: Path) -> None:
    quick = ("--count", "5", "--time", "0.2")
    done = engine.dagger("call", "bench", *quick)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    first = tmp_path / "first"
    exported = engine.dagger(
        "call", "reports", "--verb", "bench", *quick, "--component", "jessy-api", "export", "--path", str(first)
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    baseline = json.loads((first / "bench" / "jessy-api.json").read_text())
    assert {b["name"] for b in baseline["benchmarks"]} >= {"BenchmarkHealth", "BenchmarkHealth (allocs/op)"}
    assert all(len(b["samples"]) == 5 for b in baseline["benchmarks"])
    second = tmp_path / "second"
    compared = engine.dagger(
        "call",
        "reports",
        "--verb",
        "bench",
        *quick,
        "--component",
        "jessy-api",
        "--baseline",
        str(first / "bench" / "jessy-api.json"),
        "--max-regression",
        "1000",
        "export",
        "--path",
        str(second),
    )
    assert compared.returncode == 0, compared.stderr[-3000:]
    table = (second / "bench" / "compare.md").read_text()
    assert "| jessy-api | BenchmarkHealth | ns/op |" in table
    assert json.loads((second / "verdict.json").read_text())["passed"] is True
