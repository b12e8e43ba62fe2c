"""coverage and bench end to end on the host runner with the real services (cargo-tarpaulin, go test -cover, criterion,
go test -bench). The first coverage run installs cargo-tarpaulin into .jessy-ci/cache (minutes); later runs reuse it.

Benchmarks of the same tree on a shared machine differ by noise only: these tests allow a wide regression so that they
check the mechanics (files, verdict table, worktree) and never flake; the gate's arithmetic is tested with fakes in
tests/verbs/test_bench.py."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_host import jessy_ci

pytestmark = pytest.mark.slow

QUICK = ("--count", "5", "--time", "0.3", "--filter", "4KiB", "--max-regression", "500")


def is_checked_out_commit(sha: str) -> bool:
    """A full commit id of this repository that HEAD contains (others may commit while a test runs)."""
    done = subprocess.run(["git", "merge-base", "--is-ancestor", sha, "HEAD"], cwd=ROOT, check=False)
    return re.fullmatch(r"[0-9a-f]{40}", sha) is not None and done.returncode == 0


def test_coverage_writes_lcov_cobertura_and_html_with_repo_relative_paths(tmp_path: Path) -> None:
    done = jessy_ci("coverage", "--runner", "host", "--threshold", "0", "--reports", str(tmp_path), cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    coverage = tmp_path / "coverage"
    folders = {"jessy-core": "services/", "jessy-api": "services/", "features": "features/", "jessy-ci": "ci/src/"}
    for name, folder in folders.items():
        paths = re.findall(r"^SF:(.*)$", (coverage / f"{name}.lcov.info").read_text(), re.MULTILINE)
        assert paths and all(p.startswith(folder) and (ROOT / p).is_file() for p in paths), (name, paths)
    lcov = (coverage / "lcov.info").read_text()
    assert "SF:services/jessy-core/src/main.rs" in lcov  # the binary the integration tests start is counted
    assert "SF:services/jessy-api/internal/api/api.go" in lcov
    # jessy-ci measures itself (its fast tier, `python -m jessy_ci` subprocesses included), with branches
    assert "SF:ci/src/jessy_ci/config.py" in lcov and "SF:features/bdd_support.py" in lcov
    assert re.search(r"^BRDA:\d+,0,jump to line \d+,[1-9]", lcov, re.MULTILINE)
    cobertura = ET.parse(coverage / "cobertura.xml").getroot()
    assert int(cobertura.get("lines-valid", "0")) > 0
    assert (coverage / "html" / "index.html").is_file() and (coverage / "html" / "jessy-core" / "index.html").is_file()
    summary = (tmp_path / "summary.md").read_text()
    for component in ("jessy-core", "jessy-api", "features", "jessy-ci"):
        row = next(line for line in summary.splitlines() if line.startswith(f"| {component}:coverage |"))
        assert re.search(r"coverage: \d+/\d+ lines \(\d+\.\d%\)", row), row
        assert "✅ passed" in row
    assert "coverage total:" in summary
    junit = ET.parse(tmp_path / "junit" / "jessy-api-coverage.xml").getroot()
    assert any(tc.get("name", "").startswith("TestIntegration") for tc in junit.iter("testcase"))


def test_coverage_under_the_threshold_fails_naming_each_component(tmp_path: Path) -> None:
    only = ("-c", "jessy-core", "-c", "jessy-api")
    done = jessy_ci("coverage", "--runner", "host", *only, "--threshold", "100", "--reports", str(tmp_path), cwd=ROOT)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    for name in ("jessy-core", "jessy-api", "total"):
        assert re.search(rf"coverage {name}: \d+\.\d% < threshold 100%", done.stderr), done.stderr
    assert (tmp_path / "coverage" / "lcov.info").is_file(), "reports survive a failed gate"


def test_bench_save_then_compare_with_the_saved_baseline(tmp_path: Path) -> None:
    saved = tmp_path / "baseline.json"
    first = jessy_ci(
        "bench", "--runner", "host", *QUICK, "--save", str(saved), "--reports", str(tmp_path / "a"), cwd=ROOT
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    baseline = json.loads(saved.read_text())
    assert baseline["version"] == 1 and is_checked_out_commit(baseline["commit"])
    assert set(baseline["toolchains"]) == {"rust", "go"}
    names = {(b["component"], b["name"]) for b in baseline["benchmarks"]}
    assert {("jessy-core", "layer_write/4KiB"), ("jessy-api", "BenchmarkGetLayer4KiB")} <= names
    assert ("jessy-api", "BenchmarkHealth") not in names  # the filter
    core = next(b for b in baseline["benchmarks"] if b["name"] == "layer_write/4KiB")
    assert len(core["samples"]) == 10 and all(s > 0 for s in core["samples"])  # criterion: at least 10 samples
    assert json.loads((tmp_path / "a" / "bench" / "jessy-api.json").read_text())["version"] == 1

    second = jessy_ci(
        "bench", "--runner", "host", *QUICK, "--baseline", str(saved), "--reports", str(tmp_path / "b"), cwd=ROOT
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    compare = (tmp_path / "b" / "bench" / "compare.md").read_text()
    assert f"against baseline `{baseline['commit']}`" in compare
    assert "| jessy-core | layer_write/4KiB | ns/op |" in compare
    assert "| jessy-api | BenchmarkGetLayer4KiB (allocs/op) | allocs/op |" in compare
    assert "verdicts:" in (tmp_path / "b" / "summary.md").read_text()


def test_bench_baseline_ref_measures_both_trees_side_by_side(tmp_path: Path) -> None:
    done = jessy_ci("bench", "--runner", "host", *QUICK, "--baseline-ref", "HEAD", "--reports", str(tmp_path), cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    base = json.loads((tmp_path / "bench" / "baseline" / "jessy-core.json").read_text())
    assert is_checked_out_commit(base["commit"]) and base["benchmarks"]
    summary = (tmp_path / "summary.md").read_text()
    order = [line.split(" | ")[0].removeprefix("| ") for line in summary.splitlines() if ":bench" in line]
    assert order == ["jessy-core:bench-baseline", "jessy-core:bench", "jessy-api:bench-baseline", "jessy-api:bench"]
    assert "| jessy-api | BenchmarkPutLayer4KiB | ns/op |" in (tmp_path / "bench" / "compare.md").read_text()
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "jessy-baseline-" not in worktrees.stdout, "the worktree is removed afterwards"
