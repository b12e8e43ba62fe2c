"""A runner of the same kind rooted at a second source tree (``bench --baseline-ref``: a git worktree of the ref,
made by ``jessy_ci.git.worktree``)."""

from __future__ import annotations

from pathlib import Path

from jessy_ci.runners import Runner


def runner_at(runner: Runner, root: Path, tree: Path) -> Runner:
    """A runner of the same kind as ``runner`` with ``tree`` as its sources. The host runner keeps the caches of
    ``root``; the Dagger runner uploads the tree (call it inside the Dagger session)."""
    if runner.name == "host":
        from jessy_ci.runners.host import HostRunner, user_caches

        return HostRunner(tree, cache_dir=root / ".jessy-ci" / "cache", user_cache_dir=user_caches())
    from dagger import dag

    from jessy_ci.ignored import PATTERNS
    from jessy_ci.runners.dagger import DaggerRunner

    return DaggerRunner(dag.host().directory(str(tree), exclude=list(PATTERNS)))
