"""Run a verb on the components a changed-only Selection picked, with the selection's reasons in the summary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jessy_ci.changes import Selection
from jessy_ci.report import Report

RunOn = Callable[[list[str]], Awaitable[Report]]


async def run_selected(verb: str, selection: Selection | None, components: list[str], run: RunOn) -> Report:
    """``run`` on ``components`` (all when empty) or, with a selection, on what it selected; nothing selected is a
    passing run that says so."""
    if selection is None:
        return await run(components)
    if not selection.components:
        return Report(verb=verb, notes=selection.notes())
    report = await run(list(selection.components))
    report.notes[:0] = selection.notes()
    return report
