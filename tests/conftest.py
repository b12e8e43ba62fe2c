"""Shared fixtures: the repository root, the real project config, and the samples folders."""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

from jessy_ci import config
from tests.support.dagger_schema import SCHEMA_ENV, schema_from_env

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def project() -> config.Project:
    return config.load(ROOT)


@pytest.fixture(scope="session")
def schema() -> graphql.GraphQLSchema:
    """The engine's GraphQL schema (DAGGER_SCHEMA_FILE); tests that need it skip, saying why, without it."""
    loaded = schema_from_env()
    if loaded is None:
        pytest.skip(f"{SCHEMA_ENV} not set: no engine schema to validate the Dagger queries against")
    return loaded
