"""The Markdown summary: one table of every step, fit for $GITHUB_STEP_SUMMARY and a PR comment."""

from __future__ import annotations

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
