"""Runners turn Steps into executions: `host` (local toolchains as subprocesses) and `dagger` (containers)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from jessy_ci.steps import ServiceSpec, Step

LOOPBACK = "127.0.0.1"


class ServiceFailed(Exception):
    """A service did not become healthy; the message carries its last log lines."""


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


class ServiceRunner(Runner, Protocol):
    """A runner that keeps services running for a person (the host runner's ``serve``)."""

    def services(
        self,
        specs: tuple[ServiceSpec, ...],
        data_dir: Path,
        reports: Path,
        ports: Mapping[str, int] | None = None,
    ) -> AbstractAsyncContextManager[dict[str, str]]:
        """Build, start and health-check every service (dependencies first); yields name → URL; stops them all."""
        ...
