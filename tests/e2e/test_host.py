"""End to end on the host runner with the real services: the commands a user runs, and what they leave behind."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def jessy_ci(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jessy_ci", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def failures_in(junit_file: Path) -> list[str]:
    root = ET.parse(junit_file).getroot()
    return [tc.get("name", "") for tc in root.iter("testcase") if tc.find("failure") is not None]


def test_lint_passes_on_the_repository(tmp_path: Path) -> None:
    done = jessy_ci("lint", "--runner", "host", "--reports", str(tmp_path), cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = (tmp_path / "summary.md").read_text()
    assert "## jessy-ci lint: passed" in summary
    for step in ("jessy-core:clippy", "jessy-api:vet", "jessy-api:gofmt", "jessy-ci:ruff-check", "jessy-core:hadolint"):
        assert f"| {step} |" in summary


def test_test_passes_with_per_test_junit_for_every_component_and_kind(tmp_path: Path) -> None:
    done = jessy_ci("test", "--runner", "host", "--reports", str(tmp_path), cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    expected = [
        "jessy-core-unit",
        "jessy-core-integration",
        "jessy-api-unit",
        "jessy-api-integration",
        "features-bdd",
        "jessy-ci-unit",  # jessy-ci tests itself: its fast tier, in its own environment (the slow tier is this one)
    ]
    for name in expected:
        root = ET.parse(tmp_path / "junit" / f"{name}.xml").getroot()
        assert int(root.get("tests", "0")) > 0, name
        assert root.get("failures") == "0", name
    # step output is streamed with the step name as prefix (one line per package, never raw go test -json), and
    # services are stopped afterwards
    assert "[jessy-api:integration] ok   github.com/jessy-ci/jessy-api/internal/api" in done.stdout
    assert '{"Time"' not in done.stdout and '"Action"' not in done.stdout
    assert "[jessy-core] stopped" in done.stdout
    summary = (tmp_path / "summary.md").read_text()
    assert "| features:bdd | features | ✅ passed |" in summary
    assert "| jessy-ci:unit | jessy-ci | ✅ passed |" in summary
    dogfood = {
        tc.get("classname") for tc in ET.parse(tmp_path / "junit" / "jessy-ci-unit.xml").getroot().iter("testcase")
    }
    assert "tests.verbs.test_plan_python" in dogfood and not any(c.startswith("tests.e2e.") for c in dogfood if c)


def _copy_repo(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    # Warm caches, copied: a cargo target dir must never be shared by two checkouts of the same crate (cargo's
    # freshness check would take one checkout's test binary for the other's).
    if (ROOT / ".jessy-ci").is_dir():
        shutil.copytree(ROOT / ".jessy-ci", dest / ".jessy-ci", symlinks=True)


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


def test_broken_rust_and_go_tests_fail_the_run_and_are_all_named(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _copy_repo(repo)
    _break(
        repo / "services/jessy-core/src/config.rs",
        "assert_eq!(c.port, 8080);",
        'assert_eq!(c.port, 8081, "broken on purpose");',
    )
    _break(
        repo / "services/jessy-api/internal/api/api_test.go",
        "func TestHealthOK(t *testing.T) {",
        'func TestHealthOK(t *testing.T) {\n\tt.Errorf("broken on purpose")',
    )
    reports = tmp_path / "reports"
    done = jessy_ci(
        "test", "--runner", "host", "-c", "jessy-core", "-c", "jessy-api", "--reports", str(reports), cwd=repo
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "failing test: unittests src/lib.rs::config::tests::defaults" in done.stderr
    assert "failing test: github.com/jessy-ci/jessy-api/internal/api::TestHealthOK" in done.stderr
    # one failure never hides the others: the integration steps still ran and passed
    summary = (reports / "summary.md").read_text()
    assert "| jessy-core:integration | jessy-core | ✅ passed |" in summary
    assert "| jessy-api:integration | jessy-api | ✅ passed |" in summary
    assert failures_in(reports / "junit/jessy-core-unit.xml") == ["config::tests::defaults"]
    assert failures_in(reports / "junit/jessy-api-unit.xml") == ["TestHealthOK"]
    rust_failure = ET.parse(reports / "junit/jessy-core-unit.xml").getroot().find(".//failure")
    assert rust_failure is not None and "broken on purpose" in (rust_failure.text or "")
