"""What a verb returns: the outcome of every step, gate verdicts, and the report files (path → bytes).

The Report owns its shape: test counts, metrics and merging live here, so every verb adds a metric and combines
reports the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Status = Literal["passed", "failed", "error"]
EDGE_FILES = ("summary.md", "verdict.json", "index.html")  # rendered from the whole Report, never merged from a part


@dataclass(frozen=True)
class TestCounts:
    """Test outcomes of one step; ``failures`` names each failing test as ``suite::name``."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped


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

    @property
    def passed(self) -> bool:
        return self.status == "passed"


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

    def add_metric(self, step: str, key: str, value: str) -> None:
        """A figure shown beside the named step (``size: 9.5 MB``, ``coverage: 83.2%``)."""
        self.steps = [replace(s, metrics=(*s.metrics, (key, value))) if s.name == step else s for s in self.steps]

    def absorb(self, part: Report) -> None:
        """Take in another verb's report: its steps, gate failures, new notes and files (not its summary)."""
        self.steps.extend(part.steps)
        self.gate_failures.extend(part.gate_failures)
        self.notes.extend(n for n in part.notes if n not in self.notes)
        self.files.update({path: data for path, data in part.files.items() if path not in EDGE_FILES})
