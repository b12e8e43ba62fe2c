"""On a real engine: the module on another repository whose only component is a Python project with dependencies of
its own (tests/support/python_project.py), as `dagger -m <jessy-ci> call --source <repo> …`: test, coverage with
branches, the reports exported, and a dependency that cannot be resolved named by uv's own first error line. Packages
come from PyPI (the engine reaches it as the host does)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.engine.conftest import Engine, commit
from tests.support.python_project import make_project

pytestmark = pytest.mark.engine


def test_the_module_tests_and_measures_a_python_project_of_another_repository(engine: Engine, tmp_path: Path) -> None:
    other = make_project(tmp_path / "other")
    commit(other, "a Python project with its own dependencies")
    done = engine.dagger("-m", str(ROOT), "call", "--source", str(other), "test", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| calc:unit | calc | ✅ passed |" in done.stdout and "2 passed, 0 failed" in done.stdout

    covered = engine.dagger(
        "-m", str(ROOT), "call", "--source", str(other), "coverage", "--threshold", "50", cwd=tmp_path
    )
    assert covered.returncode == 0, covered.stdout[-3000:] + covered.stderr[-3000:]
    assert re.search(r"\| calc:coverage \| calc \| ✅ passed .*coverage: \d+/\d+ lines .*branches", covered.stdout)
    reports = tmp_path / "reports"
    exported = engine.dagger(
        "-m",
        str(ROOT),
        "call",
        "--source",
        str(other),
        "reports",
        "--verb",
        "coverage",
        "--threshold",
        "50",
        "export",
        "--path",
        str(reports),
        cwd=tmp_path,
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    lcov = (reports / "coverage" / "lcov.info").read_text()
    assert "SF:calc/src/calc/__init__.py" in lcov and re.search(r"^BRDA:\d+,0,jump to line \d+,1$", lcov, re.M)
    cobertura = ET.parse(reports / "coverage" / "cobertura.xml").getroot()
    assert int(cobertura.get("branches-valid", "0")) > 0
    junit = ET.parse(reports / "junit" / "calc-coverage.xml").getroot()
    assert junit.get("tests") == "2" and junit.get("failures") == "0"


def test_a_python_dependency_that_cannot_be_resolved_is_named_on_the_engine(engine: Engine, tmp_path: Path) -> None:
    other = make_project(tmp_path / "other", dependencies='"six==1.17.0", "no-such-package-jessy-xyz==1"')
    commit(other, "a Python project with a dependency nobody publishes")
    done = engine.dagger("-m", str(ROOT), "call", "--source", str(other), "test", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "calc:unit: failed (exit code 1: No solution found when resolving dependencies: Because " in output
    assert "no-such-package-jessy-xyz was not found in the package registry" in output
