"""What some tests need of the machine beyond the repository's files: jessy-ci runs its own fast tier in a python
container too (the jessy-ci component on the Dagger runner), which gets the files only, and whose upstream image
(python:3.11-slim) has no git. Such tests skip there, saying why, instead of failing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git on PATH")
needs_checkout = pytest.mark.skipif(
    not (ROOT / ".git").exists(), reason="needs a git checkout of the repository, not a copy of its files"
)
