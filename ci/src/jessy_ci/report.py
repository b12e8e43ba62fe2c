"""What a verb returns: the outcome of every step, gate verdicts, and the report files (path → bytes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from jessy_ci.gates.junit import TestCounts

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class StepResult:
    name: str
    component: str
    kind: str
    status: Status
    seconds: float
    detail: str = ""
    tests: TestCounts | None = None
    metrics: tuple[tuple[str, str], ...] = ()


@dataclass
class Report:
    verb: str
    steps: list[StepResult] = field(default_factory=list[StepResult])
    gate_failures: list[str] = field(default_factory=list[str])
    notes: list[str] = field(default_factory=list[str])
    files: dict[str, bytes] = field(default_factory=dict[str, bytes])

    @property
    def passed(self) -> bool:
        return not self.gate_failures and all(s.status == "passed" for s in self.steps)

    def failures(self) -> list[str]:
        """Every failure, one line each: failed steps, their failing tests, and failed gates."""
        lines: list[str] = []
        for s in self.steps:
            if s.status != "passed":
                lines.append(f"{s.name}: {s.status}" + (f" ({s.detail})" if s.detail else ""))
                if s.tests is not None:
                    lines.extend(f"  failing test: {name}" for name in s.tests.failures)
        lines.extend(self.gate_failures)
        return lines
