"""Last of the engine tier: every function `dagger functions` lists was called by a test of this tier."""

from __future__ import annotations

import re
from pathlib import Path

from tests.engine.test_engine_checks import FUNCTIONS

HERE = Path(__file__).resolve().parent


def called_functions() -> set[str]:
    """Function names the tier's tests pass to `dagger call` (the word after "call", or after its module flags)."""
    called: set[str] = set()
    for test in HERE.glob("test_engine_*.py"):
        text = test.read_text()
        called |= set(re.findall(r'"call",\s*(?:\*\w+,\s*)?"([a-z][a-z-]+)"', text))
        called |= set(re.findall(r'"call",\s*"--source",\s*str\(\w+\),\s*"([a-z][a-z-]+)"', text))
        called |= set(re.findall(r'"check", "([a-z-]+)"', text))
        if re.search(r'\.dagger\("check"(?:, cwd=\w+)?\)', text):
            called |= {"lint", "test", "coverage", "bench-regression", "build", "scan", "publish-dry-run"}
        called |= set(re.findall(r'\(\s*"call",\s*"([a-z][a-z-]+)"', text))
    return called


def test_every_function_is_called_by_the_engine_tier() -> None:
    assert FUNCTIONS - called_functions() == set()
