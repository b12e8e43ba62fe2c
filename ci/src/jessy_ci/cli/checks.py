"""The everyday commands: lint, test, coverage, bench and ci (all of them at once)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jessy_ci import options
from jessy_ci.cli import COMPONENT, REPORTS, RUNNER, VERBOSE, app, root, run, say, show
from jessy_ci.cli.grammar import NUMBER, PATH, WHOLE, Flag, flag
from jessy_ci.errors import UsageError

if TYPE_CHECKING:
    from jessy_ci.changes import Selection
    from jessy_ci.config import Project
    from jessy_ci.report import Report
    from jessy_ci.runners import Runner
    from jessy_ci.session import Session

SelectedVerb = Callable[["Session", list[str]], Awaitable["Report"]]

CHANGED_SINCE = Flag(
    ("--changed-since",),
    "Only the components with files changed since the merge base of REF (and those whose tests run against them); "
    "changes to ci/, jessy-ci.toml, dockerfiles/ or features/ select everything.",
    "REF",
)
THRESHOLD = flag(options.THRESHOLD)
BASELINE = Flag(
    ("--baseline",),
    "A benchmark baseline (jessy-ci bench --save): compare with it (in ci: adds the benchmark gate).",
    "FILE",
    convert=PATH,
)
SELECTED = (RUNNER, COMPONENT, REPORTS, CHANGED_SINCE, VERBOSE)


def _run_selected(
    name: str,
    runner: str | None,
    reports: Path,
    component: list[str] | None,
    changed_since: str | None,
    verb: SelectedVerb,
    verbose: bool = False,
) -> None:
    """The verb on the named components, or on what --changed-since selects (git runs here, before any step; the
    summary says why)."""
    from jessy_ci.config import load
    from jessy_ci.verbs.selected import run_selected

    project = load(root())
    names = options.COMPONENT(component)
    options.components(project, names)
    selection = _selection(project, changed_since, names)
    if selection is not None and not selection.components:  # nothing changed that has steps: no runner to start
        from jessy_ci.report import Report

        show(Report(verb=name, notes=selection.notes()), reports)
        return
    run(
        lambda session: run_selected(name, selection, names, lambda chosen: verb(session, chosen)),
        runner=runner,
        reports=reports,
        project=project,
        verbose=verbose,
    )


def _selection(project: Project, changed_since: str | None, names: list[str]) -> Selection | None:
    if changed_since is None:
        return None
    from jessy_ci.changes import select_changed
    from jessy_ci.git import changed_paths

    return select_changed(project, changed_paths(root(), changed_since, "--changed-since"), changed_since, names)


def _selected_command(name: str, summary: str, import_verb: Callable[[], SelectedVerb]) -> None:
    """A command that runs its verb on the selected components and takes nothing else (lint, test)."""

    def command(
        runner: str | None = None,
        component: list[str] | None = None,
        reports: Path = Path("reports"),
        changed_since: str | None = None,
        verbose: bool = False,
    ) -> None:
        _run_selected(name, runner, reports, component, changed_since, import_verb(), verbose)

    command.__doc__ = summary
    app.command(*SELECTED, name=name)(command)


def _lint_verb() -> SelectedVerb:
    from jessy_ci.verbs.lint import run_lint

    return run_lint


def _test_verb() -> SelectedVerb:
    from jessy_ci.verbs.test import run_tests

    return run_tests


_selected_command(
    "lint",
    "cargo fmt/clippy, gofmt/go vet, ruff, hadolint and the secret scan on every selected component.",
    _lint_verb,
)
_selected_command("test", "Unit, integration (with services) and BDD tests; JUnit per component and kind.", _test_verb)


@app.command(*SELECTED, THRESHOLD)
def coverage(
    runner: str | None = None,
    component: list[str] | None = None,
    reports: Path = Path("reports"),
    threshold: str | None = None,
    changed_since: str | None = None,
    verbose: bool = False,
) -> None:
    """Line coverage of Rust, Go and Python components (unit + integration tests): lcov, Cobertura, HTML; gate."""
    from jessy_ci.report import Report
    from jessy_ci.verbs.coverage import NOTHING_MEASURED, measurable, run_coverage

    limit = options.THRESHOLD(threshold)

    async def verb(session: Session, chosen: list[str]) -> Report:
        if changed_since is not None and chosen:  # a changed-only selection may hold components without coverage
            measured = measurable(session.project, chosen)
            if measured is None:
                return Report(verb="coverage", notes=[NOTHING_MEASURED])
            chosen = measured
        return await run_coverage(session, chosen, limit)

    _run_selected("coverage", runner, reports, component, changed_since, verb, verbose)


@app.command(*SELECTED, THRESHOLD, BASELINE)
def ci(
    runner: str | None = None,
    component: list[str] | None = None,
    reports: Path = Path("reports"),
    changed_since: str | None = None,
    threshold: str | None = None,
    baseline: Path | None = None,
    verbose: bool = False,
) -> None:
    """Every check at once: lint, test, the coverage gate (and the benchmark gate with --baseline), concurrently."""
    from jessy_ci.verbs.ci import run_ci

    limit = options.THRESHOLD(threshold)
    loaded = None if baseline is None else options.baseline_file(baseline)
    _run_selected(
        "ci",
        runner,
        reports,
        component,
        changed_since,
        lambda session, chosen: run_ci(session, chosen, threshold=limit, baseline=loaded),
        verbose,
    )


@app.command(
    RUNNER,
    COMPONENT,
    REPORTS,
    BASELINE,
    Flag(
        ("--baseline-ref",),
        "Measure the baseline in this run at REF (e.g. the merge base), in a git worktree, right before the current "
        "tree, on the same machine.",
        "REF",
    ),
    Flag(("--save",), "Write this run's samples as a baseline file.", "FILE", convert=PATH),
    flag(options.MAX_REGRESSION),
    flag(options.COUNT, convert=WHOLE),
    flag(options.TIME, convert=NUMBER, parameter="seconds"),
    flag(options.FILTER, parameter="bench_filter"),
    VERBOSE,
)
def bench(
    runner: str | None = None,
    component: list[str] | None = None,
    reports: Path = Path("reports"),
    baseline: Path | None = None,
    baseline_ref: str | None = None,
    save: Path | None = None,
    max_regression: str | None = None,
    count: int = options.BENCH.count,
    seconds: float = options.BENCH.seconds,
    bench_filter: str = "",
    verbose: bool = False,
) -> None:
    """criterion and go test -bench samples; with a baseline, a verdict per benchmark and the regression gate."""
    from jessy_ci.git import head_commit, resolve_commit, worktree
    from jessy_ci.runners.worktree import runner_at
    from jessy_ci.verbs.bench import run_bench

    if baseline is not None and baseline_ref is not None:
        raise UsageError("--baseline and --baseline-ref: expected one of them, not both")
    here = root()
    settings = options.bench_settings(count, seconds, bench_filter)
    limit = options.MAX_REGRESSION(max_regression)
    loaded = None if baseline is None else options.baseline_file(baseline)
    base_commit = resolve_commit(here, baseline_ref, "--baseline-ref") if baseline_ref is not None else ""
    try:
        commit = head_commit(here)
    except UsageError:  # not a git checkout: the samples are still worth saving
        commit = ""
    names = options.COMPONENT(component)

    async def verb(session: Session) -> Report:
        async def measure(baseline_runner: Runner | None) -> Report:
            run = await run_bench(
                session,
                names,
                settings=settings,
                commit=commit,
                baseline=loaded,
                baseline_runner=baseline_runner,
                baseline_commit=base_commit,
                max_regression=limit,
                save=save,
            )
            return run.report

        if baseline_ref is None:
            return await measure(None)
        async with worktree(here, base_commit) as tree:
            say(f"baseline: {baseline_ref} ({base_commit[:12]}) checked out in {tree}")
            return await measure(runner_at(session.runner, here, tree))

    run(verb, runner=runner, reports=reports, verbose=verbose)
