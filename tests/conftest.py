"""Shared fixtures: the repository root, the real project config, and the samples folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from jessy_ci import config

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def project() -> config.Project:
    return config.load(ROOT)
