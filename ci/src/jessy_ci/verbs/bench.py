"""bench: criterion benchmarks of Rust components and ``go test -bench`` of Go components, raw samples per benchmark,
optionally compared with a baseline and gated on significant regressions.

- The baseline is a file (``--baseline``, the format of ``gates.bench``) or is measured in the same run from another
  source tree (``--baseline-ref``: a runner rooted at a worktree of the ref): then, per component, the baseline's
  benchmarks run right before the current ones, on the same machine.
- Benchmark steps run one at a time, never concurrently: they would measure each other.
- Every bench step carries a fresh run id in its env, so the Dagger engine never serves an earlier measurement from
  its cache.

Reports: ``bench/<component>.json`` (this run's samples, in the baseline format), ``bench/baseline/<component>.json``
(the samples measured at the baseline ref), ``bench/compare.md`` (the comparison, fit for a PR comment),
``bench/compare.json`` (the same with both sides' samples: what the HTML report charts).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import anyio

from jessy_ci.config import Project
from jessy_ci.errors import UsageError
from jessy_ci.gates import bench
from jessy_ci.gates.bench import Baseline, Benchmark, Row
from jessy_ci.report import Report
from jessy_ci.runners import Runner, RunResult
from jessy_ci.session import Say, Session
from jessy_ci.steps import Step
from jessy_ci.toolchains import VERSION_FILE, BenchSettings, rust
from jessy_ci.verbs.execute import run_steps
from jessy_ci.verbs.plan import has_benchmarks, plan_bench

RUN_ENV = "JESSY_CI_BENCH_RUN"
_ORDER = ("faster", "slower", "no significant change", "inconclusive")


@dataclass(frozen=True)
class BenchRun:
    """The Report, this run's benchmarks (what ``--save FILE`` writes), and whether every benchmark step passed
    (a baseline saved from a partial run would mislead)."""

    report: Report
    current: Baseline
    complete: bool


def read_benchmarks(step: Step, result: RunResult) -> list[Benchmark]:
    """Go's benchmarks from the output, criterion's from the files under ``{reports}/criterion``. Raises ValueError
    for malformed criterion files."""
    if step.toolchain == "go":
        return bench.parse_go_bench(result.stdout, step.component)
    return bench.parse_criterion(_criterion_files(result), step.component)


def _criterion_files(result: RunResult) -> dict[str, bytes]:
    """What a Rust bench step left under ``{reports}/criterion``, by path inside that folder."""
    prefix = f"{rust.CRITERION_DIR}/"
    return {path.removeprefix(prefix): data for path, data in result.files.items() if path.startswith(prefix)}


def toolchain_version(line: str) -> str:
    """``1.95.0`` from ``rustc 1.95.0 (59807616e 2026-04-14)``, ``go1.26.8`` from ``go version go1.26.8 linux/amd64``:
    the first word with a digit (the whole line when none has one)."""
    return next((word for word in line.split() if any(ch.isdigit() for ch in word)), line.strip())


def verdicts(rows: list[Row]) -> str:
    """``2 faster, 5 no significant change (1 failed)``: the rows' classifications, counted."""
    counts = Counter(r.verdict.classification for r in rows)
    text = ", ".join(f"{counts[c]} {c}" for c in _ORDER if counts[c])
    failed = sum(r.failed for r in rows)
    return text + (f" ({failed} failed)" if failed else "")


@dataclass
class _Side:
    """What one source tree's benchmark steps measured."""

    benchmarks: list[Benchmark]
    toolchains: dict[str, str]

    def baseline(self, commit: str, component: str | None = None) -> Baseline:
        chosen = tuple(b for b in self.benchmarks if component is None or b.component == component)
        return Baseline(commit, dict(self.toolchains), chosen)


async def _measure(
    step: Step, runner: Runner, say: Say, report: Report, side: _Side, filtered: bool, keep_html: bool = False
) -> int:
    """Run one bench step, add its result to the report and its benchmarks to ``side``; its index in the report.
    ``keep_html``: criterion's own files (its HTML report and plots) go to the report under
    ``bench/criterion/<component>/``."""
    results: dict[str, RunResult] = {}
    done = await run_steps(report.verb, [step], runner, say, lambda s, r: results.__setitem__(s.name, r))
    report.steps += done.steps
    report.files.update(done.files)
    index = len(report.steps) - 1
    result = results[step.name]
    if keep_html:
        for path, data in _criterion_files(result).items():
            report.files[f"bench/criterion/{step.component}/{path}"] = data
    version = result.files.get(VERSION_FILE)
    if version is not None:
        side.toolchains[step.toolchain] = toolchain_version(version.decode(errors="replace"))
    try:
        found = read_benchmarks(step, result)
    except ValueError as e:
        report.gate_failures.append(f"bench {step.name}: unreadable benchmark results: {e}")
        return index
    if not found and done.passed:
        if filtered:
            report.notes.append(f"{step.name}: no benchmark matches the filter")
        else:
            report.gate_failures.append(f"bench {step.name}: no benchmark ran")
    side.benchmarks += found
    report.add_metric(report.steps[index].name, "benchmarks", str(len(found)))
    return index


def benchable(project: Project, components: list[str]) -> list[str] | None:
    """The selected components that have benchmarks (Rust and Go), or None when there are none."""
    names = [c.name for c in project.select(components) if has_benchmarks(c)]
    return names or None


async def run_bench(
    session: Session,
    components: list[str],
    *,
    settings: BenchSettings | None = None,
    commit: str = "",
    baseline: Baseline | None = None,
    baseline_runner: Runner | None = None,
    baseline_commit: str = "",
    max_regression: float | None = None,
    save: Path | None = None,
) -> BenchRun:
    """Benchmarks of the selected components (default: every Rust and Go component), compared with ``baseline`` or
    with what ``baseline_runner`` (another source tree, at ``baseline_commit``) measures; a benchmark fails when it
    is significantly slower by more than ``max_regression`` percent (default: ``[thresholds] max_regression``)."""
    project, runner, say = session.project, session.runner, session.say
    limit = project.thresholds.max_regression if max_regression is None else max_regression
    settings = settings or BenchSettings()
    if baseline is not None and baseline_runner is not None:
        raise UsageError("--baseline and --baseline-ref: expected one of them, not both")
    selected = session.components(components)
    steps = plan_bench(project, selected, settings)
    if not steps:
        names = " ".join(components)
        raise UsageError(f"--component {names}: no benchmarks for these; expected a rust or go component")
    run_id = uuid.uuid4().hex[:12]
    steps = [replace(s, env={**s.env, RUN_ENV: run_id}) for s in steps]
    report = Report(verb="bench")
    now, before = _Side([], {}), _Side([], {})
    index: dict[str, int] = {}
    for step in steps:  # one at a time, the baseline's right before the current tree's
        if baseline_runner is not None:
            base_step = replace(step, name=f"{step.component}:bench-baseline", kind="bench-baseline")
            await _measure(base_step, baseline_runner, say, report, before, bool(settings.filter))
        index[step.component] = await _measure(step, runner, say, report, now, bool(settings.filter), True)
    for step in steps:
        name = step.component
        report.files[f"bench/{name}.json"] = bench.dump_baseline(now.baseline(commit, name)).encode()
        if baseline_runner is not None:
            report.files[f"bench/baseline/{name}.json"] = bench.dump_baseline(
                before.baseline(baseline_commit, name)
            ).encode()
    if baseline_runner is not None:
        baseline = before.baseline(baseline_commit)
    if baseline is not None:
        names = {c.name for c in selected}
        baseline = replace(baseline, benchmarks=tuple(b for b in baseline.benchmarks if b.component in names))
        comparison = bench.compare_benchmarks(baseline, now.benchmarks, max_regression_pct=limit)
        report.files["bench/compare.md"] = bench.to_markdown(comparison).encode()
        report.files["bench/compare.json"] = bench.comparison_json(comparison, baseline, now.benchmarks)
        report.gate_failures += comparison.failures
        for component, i in index.items():
            rows = [r for r in comparison.rows if r.component == component]
            report.add_metric(report.steps[i].name, "verdicts", verdicts(rows) or "none compared")
        report.notes.append(
            f"baseline {baseline.commit or 'unknown commit'}: {len(comparison.rows)} compared, "
            f"{len(comparison.only_in_baseline)} only in the baseline, {len(comparison.only_in_current)} new; "
            f"fails when significantly slower by more than {limit:g}% (bench/compare.md)"
        )
    complete = all(report.steps[i].status == "passed" for i in index.values())
    if save is not None:  # a baseline of a partial run would mislead
        if complete:
            await anyio.Path(save).parent.mkdir(parents=True, exist_ok=True)
            await anyio.Path(save).write_text(bench.dump_baseline(now.baseline(commit)), encoding="utf-8")
            report.notes.append(f"baseline saved to {save}")
        else:
            report.gate_failures.append(f"--save {save}: not written, a benchmark step failed")
    return BenchRun(report, now.baseline(commit), complete)
