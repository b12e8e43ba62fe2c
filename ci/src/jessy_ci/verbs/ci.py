"""ci: every check at once — lint, test, and whatever other verbs the caller composes in (coverage gate, benchmark
gate, build + scan on Dagger) — concurrently, merged into one Report with one summary.md. Every failure of every
part is listed; bad input (UsageError) still ends the run with exit 2."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio

from jessy_ci.errors import UsageError
from jessy_ci.gates.bench import Baseline
from jessy_ci.report import Report
from jessy_ci.session import Session
from jessy_ci.verbs.bench import benchable, run_bench
from jessy_ci.verbs.coverage import NOTHING_MEASURED, measurable, run_coverage
from jessy_ci.verbs.lint import run_lint
from jessy_ci.verbs.test import run_tests

Part = Callable[[list[str]], Awaitable[Report]]
"""One verb of the ci run, called with the selected components (empty: all)."""


def merge(verb: str, reports: Sequence[Report]) -> Report:
    """One Report of several: steps, gate failures, notes and files in order; one summary.md for them all."""
    merged = Report(verb=verb)
    for report in reports:
        merged.absorb(report)
    return merged


async def run_parts(verb: str, parts: Sequence[tuple[str, Part]], components: list[str]) -> Report:
    """Every part concurrently; a part that crashes is a gate failure of its own, never hiding the others."""
    results: dict[int, Report] = {}
    usage: list[UsageError] = []

    async def one(index: int, name: str, part: Part) -> None:
        try:
            results[index] = await part(components)
        except UsageError as e:
            usage.append(e)
        except Exception as e:  # an infrastructure failure fails this part only
            results[index] = Report(verb=name, gate_failures=[f"{name}: {type(e).__name__}: {e}"])

    async with anyio.create_task_group() as tg:
        for index, (name, part) in enumerate(parts):
            tg.start_soon(one, index, name, part)
    if usage:
        raise usage[0]
    return merge(verb, [results[i] for i in range(len(parts))])


def default_parts(
    session: Session, *, threshold: float | None = None, baseline: Baseline | None = None
) -> list[tuple[str, Part]]:
    """lint, test and the coverage gate; the benchmark gate when a baseline is given. Callers append the parts that
    need an engine (build, scan)."""

    async def coverage(components: list[str]) -> Report:
        measured = measurable(session.project, components)
        if measured is None:
            return Report(verb="coverage", notes=[NOTHING_MEASURED])
        return await run_coverage(session, measured, threshold)

    async def bench(components: list[str]) -> Report:
        measured = benchable(session.project, components)
        if measured is None:
            return Report(verb="bench", notes=["bench: no Rust or Go component selected"])
        return (await run_bench(session, measured, baseline=baseline)).report

    parts: list[tuple[str, Part]] = [
        ("lint", lambda components: run_lint(session, components)),
        ("test", lambda components: run_tests(session, components)),
        ("coverage", coverage),
    ]
    if baseline is not None:
        parts.append(("bench", bench))
    return parts


async def run_ci(
    session: Session,
    components: list[str],
    extra: Sequence[tuple[str, Part]] = (),
    *,
    threshold: float | None = None,
    baseline: Baseline | None = None,
) -> Report:
    session.components(components)  # an unknown component is bad input before anything runs
    parts = default_parts(session, threshold=threshold, baseline=baseline)
    return await run_parts("ci", [*parts, *extra], components)
