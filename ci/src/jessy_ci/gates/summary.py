"""The Markdown summary: one table of every step, fit for $GITHUB_STEP_SUMMARY and a PR comment."""

from __future__ import annotations

import json
from typing import cast

from jessy_ci.errors import UsageError
from jessy_ci.report import Report, StepResult

_ICON = {"passed": "✅ passed", "failed": "❌ failed", "error": "⚠️ error"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _tests(step: StepResult) -> str:
    t = step.tests
    if t is None:
        return ""
    text = f"{t.passed} passed, {t.failed} failed"
    return text + (f", {t.skipped} skipped" if t.skipped else "")


def render(report: Report) -> str:
    verdict = "passed" if report.passed else "failed"
    lines = [
        f"## jessy-ci {report.verb}: {verdict}",
        "",
        "| step | component | status | duration | tests | details |",
        "|---|---|---|---|---|---|",
    ]
    for s in report.steps:
        details = "; ".join([*(f"{k}: {v}" for k, v in s.metrics), *([s.detail] if s.detail else [])])
        lines.append(
            f"| {_cell(s.name)} | {_cell(s.component)} | {_ICON[s.status]} | {s.seconds:.1f}s "
            f"| {_tests(s)} | {_cell(details)} |"
        )
    if report.notes:
        lines += ["", *(f"- {_cell(n)}" for n in report.notes)]
    failures = report.failures()
    if failures:
        lines += ["", "### Failures", "", *(f"- `{_cell(f.strip())}`" for f in failures)]
    return "\n".join(lines) + "\n"


VERDICT_FILE = "verdict.json"


def verdict_json(report: Report) -> bytes:
    """The machine-readable verdict beside summary.md: what `verdict --reports DIR` reads back."""
    data = {"verb": report.verb, "passed": report.passed, "failures": report.failures()}
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def read_verdict(data: bytes, source: str) -> tuple[bool, list[str]]:
    """``(passed, failures)`` of a verdict.json; anything else is bad input."""
    try:
        loaded: object = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        loaded = None
    if not isinstance(loaded, dict):
        raise UsageError(f"{source}: not a jessy-ci verdict; expected the verdict.json of a reports folder")
    fields = cast(dict[str, object], loaded)
    passed, failures = fields.get("passed"), fields.get("failures")
    if not isinstance(passed, bool) or not isinstance(failures, list):
        raise UsageError(f"{source}: not a jessy-ci verdict; expected the verdict.json of a reports folder")
    return passed, [str(f) for f in cast(list[object], failures)]
