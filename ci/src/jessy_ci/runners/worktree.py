"""A second source tree on the host for ``bench --baseline-ref``: the ref resolved to a commit (before any work, from
the synchronous part of the CLI), checked out in a detached git worktree in a temporary folder, and a runner of the
same kind rooted there. The worktree is always removed, also on failure and Ctrl-C."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from jessy_ci.errors import UsageError
from jessy_ci.runners import Runner
from jessy_ci.toolchains import git


def resolve_commit(root: Path, ref: str) -> str:
    """The commit ``ref`` names in the repository at ``root``; UsageError when it names none. Synchronous: call it
    before any work starts."""
    done = None
    if ref.strip() and not ref.startswith("-"):
        try:
            done = subprocess.run(git.verify_ref(ref), cwd=root, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise UsageError("--baseline-ref: git not found on PATH; expected git to compare with a ref") from None
    if done is None or done.returncode != 0 or not done.stdout.strip():
        raise UsageError(f"--baseline-ref {ref!r}: not a commit of this repository; expected a branch, tag or commit")
    return done.stdout.strip()


@asynccontextmanager
async def worktree(root: Path, commit: str) -> AsyncGenerator[Path, None]:
    """A detached worktree of ``commit`` in a temporary folder, removed afterwards."""
    folder = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp, None, "jessy-baseline-"))
    tree = folder / "tree"
    try:
        done = await anyio.run_process(list(git.worktree_add(str(tree), commit)), cwd=root, check=False)
        if done.returncode != 0:
            last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
            raise RuntimeError(f"git worktree add {commit} failed: {last}")
        yield tree
    finally:
        with anyio.CancelScope(shield=True):
            if tree.exists():
                await anyio.run_process(list(git.worktree_remove(str(tree))), cwd=root, check=False)
            await anyio.to_thread.run_sync(shutil.rmtree, folder, True)


def runner_at(runner: Runner, root: Path, tree: Path) -> Runner:
    """A runner of the same kind as ``runner`` with ``tree`` as its sources. The host runner keeps the caches of
    ``root``; the Dagger runner uploads the tree (call it inside the Dagger session)."""
    if runner.name == "host":
        from jessy_ci.runners.host import HostRunner

        return HostRunner(tree, cache_dir=root / ".jessy-ci" / "cache")
    from dagger import dag

    from jessy_ci.runners.dagger import SOURCE_IGNORE, DaggerRunner

    return DaggerRunner(dag.host().directory(str(tree), exclude=SOURCE_IGNORE))
