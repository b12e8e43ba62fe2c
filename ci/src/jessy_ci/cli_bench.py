"""The host side of `jessy-ci bench`: the baseline file read, the baseline ref resolved (both before any work, exit 2
on bad input), the ref's worktree and its runner around the run, and `--save FILE` written after it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio

from jessy_ci.config import Project
from jessy_ci.errors import UsageError
from jessy_ci.gates.bench import Baseline, dump_baseline, load_baseline
from jessy_ci.git import head_commit, resolve_commit, worktree
from jessy_ci.report import Report
from jessy_ci.runners import Runner
from jessy_ci.runners.worktree import runner_at
from jessy_ci.toolchains import BenchSettings
from jessy_ci.verbs.bench import check_settings, run_bench
from jessy_ci.verbs.execute import Notify, finish


def read_baseline(path: Path) -> Baseline:
    """The baseline file; UsageError (one line) when it cannot be read or is not a baseline."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise UsageError(f"--baseline {path}: cannot read ({reason}); expected a file from bench --save") from None
    return load_baseline(text, f"--baseline {path}")


@dataclass(frozen=True)
class BenchRequest:
    """Everything `jessy-ci bench` was asked, checked: a baseline file or a ref's commit (or neither)."""

    root: Path
    components: list[str]
    settings: BenchSettings
    max_regression: float | None
    baseline: Baseline | None
    baseline_ref: str | None
    baseline_commit: str
    commit: str
    save: Path | None
    notify: Notify

    @classmethod
    def checked(
        cls,
        root: Path,
        *,
        components: list[str],
        settings: BenchSettings,
        max_regression: float | None,
        baseline: Path | None,
        baseline_ref: str | None,
        save: Path | None,
        notify: Notify,
    ) -> BenchRequest:
        if baseline is not None and baseline_ref is not None:
            raise UsageError("--baseline and --baseline-ref: expected one of them, not both")
        check_settings(settings)
        loaded = read_baseline(baseline) if baseline is not None else None
        base_commit = resolve_commit(root, baseline_ref, "--baseline-ref") if baseline_ref is not None else ""
        try:
            commit = head_commit(root)
        except UsageError:  # not a git checkout: the samples are still worth saving
            commit = ""
        return cls(root, components, settings, max_regression, loaded, baseline_ref, base_commit, commit, save, notify)

    async def run(self, project: Project, runner: Runner) -> Report:
        if self.baseline_ref is None:
            return await self._run(project, runner, None)
        async with worktree(self.root, self.baseline_commit) as tree:
            self.notify(f"baseline: {self.baseline_ref} ({self.baseline_commit[:12]}) checked out in {tree}")
            return await self._run(project, runner, runner_at(runner, self.root, tree))

    async def _run(self, project: Project, runner: Runner, baseline_runner: Runner | None) -> Report:
        run = await run_bench(
            project,
            runner,
            self.components,
            self.notify,
            settings=self.settings,
            commit=self.commit,
            baseline=self.baseline,
            baseline_runner=baseline_runner,
            baseline_commit=self.baseline_commit,
            max_regression=self.max_regression,
        )
        if self.save is not None:
            if run.complete:
                await anyio.Path(self.save).parent.mkdir(parents=True, exist_ok=True)
                await anyio.Path(self.save).write_text(dump_baseline(run.current), encoding="utf-8")
                run.report.notes.append(f"baseline saved to {self.save}")
            else:
                run.report.gate_failures.append(f"--save {self.save}: not written, a benchmark step failed")
        return finish(run.report)
