"""BDD results: features → scenarios → steps from a cucumber JSON report (pytest-bdd's ``--cucumberjson``). Pure.

pytest-bdd marks every step after the failing one ``failed`` too, with an empty ``error_message``: those never ran,
so they are ``skipped`` here, and a scenario's message is its failing step's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, cast

StepStatus = Literal["passed", "failed", "skipped", "undefined"]


@dataclass(frozen=True)
class BddStep:
    keyword: str
    name: str
    status: StepStatus
    message: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    line: int
    steps: tuple[BddStep, ...]

    @property
    def status(self) -> StepStatus:
        statuses = {s.status for s in self.steps}
        for status in ("failed", "undefined", "skipped"):
            if status in statuses:
                return cast(StepStatus, status)
        return "passed"

    @property
    def failing_step(self) -> BddStep | None:
        return next((s for s in self.steps if s.status == "failed"), None)


@dataclass(frozen=True)
class Feature:
    name: str
    uri: str
    scenarios: tuple[Scenario, ...]

    @property
    def passed(self) -> bool:
        return all(s.status == "passed" for s in self.scenarios)


def _objects(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        return []
    return [cast(dict[str, object], v) for v in cast(list[object], value) if isinstance(v, dict)]


def _text(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _steps(raw: list[dict[str, object]]) -> tuple[BddStep, ...]:
    steps: list[BddStep] = []
    failed_before = False
    for step in raw:
        result = step.get("result")
        outcome = cast(dict[str, object], result) if isinstance(result, dict) else {}
        status = _text(outcome, "status")
        message = _text(outcome, "error_message").strip()
        if status == "failed" and failed_before and not message:
            status = "skipped"  # pytest-bdd's steps after the failing one: never ran
        if status not in ("passed", "failed", "skipped", "undefined"):
            status = "skipped"
        failed_before = failed_before or status == "failed"
        steps.append(BddStep(_text(step, "keyword").strip(), _text(step, "name"), status, message))
    return tuple(steps)


def parse(data: bytes, source: str) -> list[Feature]:
    """Every feature of a cucumber JSON report, in report order. Raises ValueError naming ``source`` for anything
    that is not a cucumber JSON list of features."""
    try:
        raw: object = json.loads(data)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(
            f"{source}: not valid JSON ({str(e).splitlines()[0]}): expected a cucumber JSON report"
        ) from None
    if not isinstance(raw, list):
        raise ValueError(f"{source}: not a cucumber JSON report: expected a list of features")
    features: list[Feature] = []
    for feature in _objects(cast(list[object], raw)):
        scenarios = tuple(
            Scenario(
                _text(element, "name"),
                line if isinstance(line := element.get("line"), int) else 0,
                _steps(_objects(element.get("steps"))),
            )
            for element in _objects(feature.get("elements"))
            if _text(element, "type") != "background"
        )
        features.append(Feature(_text(feature, "name"), _text(feature, "uri"), scenarios))
    return features
