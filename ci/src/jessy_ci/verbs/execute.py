"""Run planned Steps concurrently and turn what they left into StepResults and report files.

One failure never hides the others: every step runs to its end, and every failure is listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio

from jessy_ci import tracing
from jessy_ci.gates import findings, junit, summary
from jessy_ci.report import Report, Status, StepResult
from jessy_ci.runners import Runner, RunResult
from jessy_ci.session import Say
from jessy_ci.steps import CUCUMBER_FILE, JunitSource, Step


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else ""


def _cases(step: Step, result: RunResult) -> list[junit.TestCase] | None:
    match step.junit:
        case JunitSource.NONE:
            return None
        case JunitSource.CARGO_TEST:
            return junit.from_cargo_test(result.stdout, result.stderr)
        case JunitSource.GO_TEST_JSON:
            return junit.from_go_test_json(result.stdout)
        case JunitSource.FILE:
            data = result.files.get("junit.xml")
            return junit.from_junit_xml(data) if data is not None else []


def outcome(step: Step, result: RunResult) -> tuple[StepResult, dict[str, bytes]]:
    """The verdict of one step and the report files it contributes (JUnit, logs, service logs)."""
    files: dict[str, bytes] = {}
    log = "\n".join(part for part in (result.stdout, result.stderr, result.error or "") if part)
    files[f"logs/{step.name.replace(':', '-')}.log"] = log.encode()
    for path, data in result.files.items():
        if path.startswith("services/"):
            files[f"logs/{step.name.replace(':', '-')}/{path.removeprefix('services/')}"] = data
    if (cucumber := result.files.get(CUCUMBER_FILE)) is not None:
        files[f"bdd/{step.component}-{step.kind}.cucumber.json"] = cucumber
    cases = _cases(step, result)
    counts = None
    if cases is not None:
        files[f"junit/{step.component}-{step.kind}.xml"] = junit.to_junit_xml(step.name, cases)
        counts = junit.counts(cases)
    status: Status = "passed"
    detail = ""
    if result.error is not None:
        status, detail = "error", result.error.splitlines()[0]
    elif result.exit_code != 0:
        status = "failed"
        detail = f"exit code {result.exit_code}"
        if counts is not None and counts.failed:
            detail += f", {counts.failed} failing test{'s' if counts.failed > 1 else ''}"
        elif (
            said := findings.first_finding(result.stdout + "\n" + result.stderr)
            or _last_line(result.stderr)
            or _last_line(result.stdout)
        ):
            detail += f": {said}"
    elif step.fail_on_output and result.stdout.strip():
        status, detail = "failed", f"`{' '.join(step.command)}` listed: {', '.join(result.stdout.split())}"
    elif counts is not None and counts.failed:
        status, detail = "failed", f"{counts.failed} failing tests"
    elif counts is not None and counts.total == 0:
        status, detail = "failed", "no test ran"
    step_result = StepResult(
        name=step.name,
        component=step.component,
        kind=step.kind,
        status=status,
        seconds=result.seconds,
        detail=detail,
        tests=counts,
    )
    return step_result, files


async def run_steps(
    verb: str,
    steps: list[Step],
    runner: Runner,
    say: Say,
    on_result: Callable[[Step, RunResult], None] | None = None,
) -> Report:
    """Every step concurrently; the Report lists them in plan order. ``on_result`` sees each step's raw result
    (the files it left in ``{reports}``) for verbs that read more than JUnit and logs."""
    results: dict[int, tuple[StepResult, dict[str, bytes]]] = {}

    async def one(index: int, step: Step) -> None:
        say(f"▶ {step.name}")
        started = time.monotonic()
        with tracing.span(step.name, {"jessy_ci.component": step.component, "jessy_ci.kind": step.kind}) as span:
            try:
                result = await runner.run(step)
            except Exception as e:  # an infrastructure failure is this step's failure, not the whole run's
                result = RunResult(1, "", "", time.monotonic() - started, error=f"{type(e).__name__}: {e}")
            results[index] = outcome(step, result)
            tracing.record_step(span, results[index][0], runner.name)
        if on_result is not None:
            on_result(step, result)
        r = results[index][0]
        say(f"{'✔' if r.status == 'passed' else '✘'} {step.name}: {r.status} in {r.seconds:.1f}s {r.detail}")

    started_at: dict[str, float] = {}

    async def tick() -> None:
        while True:
            await anyio.sleep(TICK_SECONDS)
            running = [(name, time.monotonic() - t) for name, t in started_at.items()]
            if running:
                say("… still running: " + ", ".join(f"{name} ({seconds:.0f}s)" for name, seconds in running))

    async def timed(index: int, step: Step) -> None:
        started_at[step.name] = time.monotonic()
        try:
            await one(index, step)
        finally:
            started_at.pop(step.name, None)

    with tracing.span(verb, {"jessy_ci.verb": verb, "jessy_ci.runner": runner.name, "jessy_ci.steps": len(steps)}):
        async with anyio.create_task_group() as outer:
            outer.start_soon(tick)
            outer.start_soon(_preload_page)
            async with anyio.create_task_group() as tg:
                for index, step in enumerate(steps):
                    tg.start_soon(timed, index, step)
            outer.cancel_scope.cancel()
    report = Report(verb=verb)
    for index in range(len(steps)):
        step_result, files = results[index]
        report.steps.append(step_result)
        report.files.update(files)
    return report


read_verdict = summary.read_verdict
console_line = findings.console_line  # how the console shows a step's output line (gotestsum-style)
TICK_SECONDS = 30.0  # how often a run says which steps are still running
PRELOAD_AFTER_SECONDS = 1.0  # the steps' tools start first (their setup and first command), then the page's libraries
VERDICT_FILE = summary.VERDICT_FILE


async def _preload_page() -> None:
    """The HTML report's libraries and template, loaded in a worker thread while the steps run (not at the end), once
    the steps have started their tools: loading them holds the interpreter's lock for about 0.1 s, which would
    otherwise delay every step's start (a run shorter than that loads them at its end)."""
    await anyio.sleep(PRELOAD_AFTER_SECONDS)

    def preload() -> None:
        try:
            from jessy_ci.gates import run_page

            run_page.preload()
        except Exception:  # a broken install fails where the page is written, naming it; not in the middle of a run
            pass

    await anyio.to_thread.run_sync(preload)


def finish(report: Report) -> Report:
    """Add summary.md, verdict.json and index.html (the HTML report), rendered from the whole Report: only the edges
    call this (the CLI before it writes the reports, the Dagger functions before they return), so a verb made of
    other verbs renders once."""
    report.files["summary.md"] = summary.render(report).encode()
    report.files[summary.VERDICT_FILE] = summary.verdict_json(report)
    from jessy_ci.gates import run_page, run_view

    report.files[run_page.PAGE] = run_page.render(run_view.view(report)).encode()
    return report
