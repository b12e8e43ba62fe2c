"""Python as a first-class language, end to end on the host runner: another repository with a Python project that
has a runtime dependency of its own (six) and a test-only one in its `test` extra (pytest-timeout, used through its
marker under --strict-markers), run by `jessy-ci test` and `jessy-ci coverage`; its environment from pyproject.toml,
from a uv.lock, or from a requirements file; a broken test named; a dependency that cannot be resolved named by uv's
own first error line. Packages come from PyPI (or uv's cache, ~/.cache/jessy-ci/uv)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.test_host import failures_in, jessy_ci
from tests.support.python_project import make_project

pytestmark = pytest.mark.slow


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout[-4000:] + done.stderr[-4000:]


def test_a_python_project_with_its_own_dependencies_passes_test_and_coverage(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    tested = jessy_ci("test", "--runner", "host", "--reports", str(tmp_path / "test"), cwd=repo)
    assert tested.returncode == 0, output(tested)
    junit = ET.parse(tmp_path / "test" / "junit" / "calc-unit.xml").getroot()
    assert (junit.get("tests"), junit.get("failures")) == ("2", "0")
    assert (repo / ".jessy-ci" / "cache" / "python-env-calc" / "bin" / "python").exists(), "its own environment"

    reports = tmp_path / "coverage"
    covered = jessy_ci("coverage", "--runner", "host", "--threshold", "50", "--reports", str(reports), cwd=repo)
    assert covered.returncode == 0, output(covered)
    lcov = (reports / "coverage" / "lcov.info").read_text()
    assert "SF:calc/src/calc/__init__.py" in lcov and "SF:calc/tests/test_calc.py" in lcov  # repo-relative
    assert re.search(r"^BRDA:\d+,0,jump to line \d+,1$", lcov, re.MULTILINE), "coverage.py's branches"
    cobertura = ET.parse(reports / "coverage" / "cobertura.xml").getroot()
    assert int(cobertura.get("branches-valid", "0")) > 0 and int(cobertura.get("lines-valid", "0")) > 0
    assert (reports / "coverage" / "html" / "calc" / "index.html").is_file()
    summary = (reports / "summary.md").read_text()
    row = next(line for line in summary.splitlines() if line.startswith("| calc:coverage |"))
    assert re.search(r"coverage: \d+/\d+ lines \(\d+\.\d%\), \d+/\d+ branches", row) and "✅ passed" in row, row
    assert not list((repo / "calc").glob(".coverage*")), "coverage.py's data never lands in the checkout"

    gated = jessy_ci("coverage", "--runner", "host", "--threshold", "99", "--reports", str(tmp_path / "g"), cwd=repo)
    assert gated.returncode == 1, output(gated)
    assert re.search(r"coverage calc: \d+\.\d% < threshold 99%", gated.stderr), gated.stderr


def test_a_uv_lock_is_honoured(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo", dependencies='"six"')
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv is not None
    # pyproject.toml takes any six; the lock holds 1.16.0 (PyPI's newest is 1.17.0): what is installed is the lock's
    subprocess.run([uv, "lock", "--quiet", "--upgrade-package", "six==1.16.0"], cwd=repo / "calc", check=True)
    assert 'name = "six"\nversion = "1.16.0"' in (repo / "calc" / "uv.lock").read_text()
    tested = jessy_ci("test", "--runner", "host", "--reports", str(tmp_path / "r"), cwd=repo)
    assert tested.returncode == 0, output(tested)
    env = repo / ".jessy-ci" / "cache" / "python-env-calc"
    assert [p.name for p in env.glob("lib/python*/site-packages/six-*.dist-info")] == ["six-1.16.0.dist-info"]


def test_a_requirements_file_builds_the_environment(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo", keys='requirements = "requirements-dev.txt"')
    (repo / "calc" / "requirements-dev.txt").write_text("-e .\npytest-timeout==2.4.0\n")
    tested = jessy_ci("test", "--runner", "host", "--reports", str(tmp_path / "r"), cwd=repo)
    assert tested.returncode == 0, output(tested)


def test_a_broken_test_is_named(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    tests = repo / "calc" / "tests" / "test_calc.py"
    tests.write_text(
        tests.read_text().replace('describe(0) == "zero"', 'describe(0) == "nothing", "broken on purpose"')
    )
    done = jessy_ci("test", "--runner", "host", "--reports", str(tmp_path / "r"), cwd=repo)
    assert done.returncode == 1, output(done)
    assert "failing test: tests.test_calc::test_zero" in done.stderr, done.stderr
    assert failures_in(tmp_path / "r" / "junit" / "calc-unit.xml") == ["test_zero"]


def test_a_dependency_that_cannot_be_resolved_is_named_by_uv(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo", dependencies='"six==1.17.0", "no-such-package-jessy-xyz==1"')
    done = jessy_ci("test", "--runner", "host", "--reports", str(tmp_path / "r"), cwd=repo)
    assert done.returncode == 1, output(done)
    line = next((ln for ln in done.stderr.splitlines() if ln.startswith("calc:unit: failed")), "")
    assert line.startswith(
        "calc:unit: failed (exit code 1: No solution found when resolving dependencies: Because "
        "no-such-package-jessy-xyz was not found in the package registry"
    ), done.stderr
