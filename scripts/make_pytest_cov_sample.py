"""Regenerate tests/samples/pytest-cov.lcov: the real lcov report of coverage.py (through pytest-cov, with branches)
over a small Python project this script writes into a temporary folder.

Usage: .venv/bin/python scripts/make_pytest_cov_sample.py [--out FILE]

Needs uv (the dev environment has the pinned one). The project's environment gets the pinned pytest and pytest-cov of
toolchains/python.py (from PyPI, or uv's cache). The report holds what jessy-ci's coverage step for a Python
component asks for: ``--cov --cov-branch --cov-report=lcov:…``, run in the component's folder, so paths are
relative to it (``src/calc/__init__.py``, ``tests/test_calc.py``): line records (``DA``), function records and
branch records (``BRDA``, ``-`` for the branches of a line that never ran).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ci" / "src"))

from jessy_ci.toolchains.python import PYTEST, PYTEST_COV  # noqa: E402

OUT = ROOT / "tests" / "samples" / "pytest-cov.lcov"
PYPROJECT = """[project]
name = "calc"
version = "0.1.0"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""
PACKAGE = '''"""A tiny package: one function half tested, one never called."""


def classify(n: int) -> str:
    if n < 0:
        return "negative"
    if n == 0:
        return "zero"
    return "positive"


def first_above_three(x: int) -> int:
    for i in range(x):
        if i > 3:
            return i
    return -1
'''
TESTS = """from calc import classify


def test_positive() -> None:
    assert classify(3) == "positive"


def test_zero() -> None:
    assert classify(0) == "zero"
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        print("uv not found: install the dev environment (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "calc"
        (project / "src" / "calc").mkdir(parents=True)
        (project / "tests").mkdir()
        (project / "pyproject.toml").write_text(PYPROJECT)
        (project / "src" / "calc" / "__init__.py").write_text(PACKAGE)
        (project / "tests" / "test_calc.py").write_text(TESTS)
        venv = Path(folder) / "env"
        subprocess.run([uv, "venv", "--quiet", str(venv)], check=True)
        env = {**os.environ, "VIRTUAL_ENV": str(venv), "UV_SYSTEM_CERTS": "1"}
        subprocess.run(
            [uv, "pip", "install", "--quiet", "-e", ".", PYTEST, PYTEST_COV], cwd=project, check=True, env=env
        )
        lcov = Path(folder) / "lcov.info"
        pytest = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        cov = ["--cov", "--cov-branch", f"--cov-report=lcov:{lcov}"]
        subprocess.run([*pytest, *cov], cwd=project, check=True, env=env)
        args.out.write_text(lcov.read_text())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
