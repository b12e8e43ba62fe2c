"""The engine's own code quality gates, in the test suite: pyright strict over ci/, ruff check and ruff format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent
PYTHON_PATHS = ["ci", "tests", "features", "scripts"]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    "argv",
    [
        ("ruff", "check", *PYTHON_PATHS),
        ("ruff", "format", "--check", *PYTHON_PATHS),
        ("pyright",),
    ],
    ids=["ruff-check", "ruff-format", "pyright-strict"],
)
def test_python_code_is_clean(argv: tuple[str, ...]) -> None:
    done = run(str(BIN / argv[0]), *argv[1:])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
