"""Another repository with one Python component (calc/: a src-layout project with a runtime dependency of its own,
six, and a test-only one in its `test` extra, pytest-timeout, used through its marker under --strict-markers): what
the end-to-end tests of Python components run jessy-ci on, on the host (tests/e2e/test_python.py) and on an engine
(tests/engine/test_engine_python.py)."""

from __future__ import annotations

from pathlib import Path

CONFIG = """[components.calc]
language = "python"
path = "calc"
tests = ["unit"]
{keys}
"""
PYPROJECT = """[project]
name = "calc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [{dependencies}]

[project.optional-dependencies]
test = ["pytest-timeout==2.4.0"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.pytest.ini_options]
addopts = "--strict-markers"
"""
PACKAGE = '''"""Sums, with a runtime dependency of its own."""

import six


def describe(n: int) -> str:
    if n < 0:
        return six.ensure_str("negative")
    if n == 0:
        return "zero"
    return "positive"


def unused(n: int) -> int:
    return n * 2
'''
TESTS = """import pytest

from calc import describe


@pytest.mark.timeout(60)  # pytest-timeout's marker: an unknown marker under --strict-markers without the extra
def test_positive() -> None:
    assert describe(3) == "positive"


def test_zero() -> None:
    assert describe(0) == "zero"
"""


def make_project(root: Path, *, dependencies: str = '"six==1.17.0"', keys: str = 'test_extra = "test"') -> Path:
    """Another repository: jessy-ci.toml and one Python component in calc/ (src layout, tests beside)."""
    calc = root / "calc"
    (calc / "src" / "calc").mkdir(parents=True)
    (calc / "tests").mkdir()
    (root / "jessy-ci.toml").write_text(CONFIG.format(keys=keys))
    (calc / "pyproject.toml").write_text(PYPROJECT.format(dependencies=dependencies))
    (calc / "src" / "calc" / "__init__.py").write_text(PACKAGE)
    (calc / "tests" / "test_calc.py").write_text(TESTS)
    return root
