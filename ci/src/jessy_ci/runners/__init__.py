"""Runners turn Steps into executions: `host` (local toolchains as subprocesses) and `dagger` (containers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from jessy_ci.steps import Step


@dataclass(frozen=True)
class RunResult:
    """What a step left behind. ``error`` is set when the step could not run at all (a service never became
    healthy, a tool is missing); ``files`` are the report files, relative to the step's reports folder."""

    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    files: Mapping[str, bytes] = field(default_factory=dict[str, bytes])
    error: str | None = None


class Runner(Protocol):
    name: str

    async def run(self, step: Step) -> RunResult: ...
