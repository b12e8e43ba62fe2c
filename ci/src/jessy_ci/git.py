"""Every git command jessy-ci runs on the host, in one place: the files changed since a ref (changed-only runs), the
commit checked out (image labels, tags), a ref resolved to a commit and its worktree (`bench --baseline-ref`), and
the tracked files (the secret scan), and where the repository keeps its hooks (`hooks install`). Synchronous calls
happen before any step, from the edges: a bad ref is a UsageError. Standard library only, but for the worktree (anyio,
imported there)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

from jessy_ci.errors import UsageError

Argv = tuple[str, ...]


def _git(root: Path, argv: Argv, what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(("git", *argv), cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError(f"{what}: git not found on PATH; expected git to compare with a ref") from None


def resolve_commit(root: Path, ref: str, what: str) -> str:
    """The commit ``ref`` names in the repository at ``root``; UsageError naming ``what`` when it names none."""
    done = None
    if ref.strip() and not ref.startswith("-"):
        done = _git(root, ("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"), what)
    if done is None or done.returncode != 0 or not done.stdout.strip():
        raise UsageError(f"{what} {ref!r}: not a commit of this repository; expected a branch, tag or commit")
    return done.stdout.strip()


def changed_paths(root: Path, ref: str, what: str = "changed since") -> list[str]:
    """Every file changed since the merge base of ``ref`` and HEAD (committed, uncommitted and untracked)."""
    resolve_commit(root, ref, what)
    diff = _git(root, ("diff", "--name-only", "--no-renames", "--merge-base", ref), what)
    if diff.returncode != 0:
        first = (diff.stderr.strip().splitlines() or ["git diff failed"])[0]
        raise UsageError(f"{what} {ref!r}: {first}")
    untracked = _git(root, ("ls-files", "--others", "--exclude-standard"), what)
    return sorted({*diff.stdout.split("\n"), *untracked.stdout.split("\n")} - {""})


def head_commit(root: Path) -> str:
    """The commit checked out at ``root`` (the release's ``revision`` label and ``sha-`` tag)."""
    done = _git(root, ("rev-parse", "HEAD"), str(root))
    if done.returncode != 0:
        raise UsageError(f"{root}: not a git checkout with a commit; expected a repository (git rev-parse HEAD)")
    return done.stdout.strip()


def work_tree(root: Path, what: str) -> Path:
    """The top folder of the work tree holding ``root``; UsageError naming ``what`` outside a git work tree."""
    done = _git(root, ("rev-parse", "--show-toplevel"), what)
    if done.returncode != 0 or not done.stdout.strip():
        raise UsageError(f"{what}: {root} is not in a git work tree; expected a git repository (git init)")
    return Path(done.stdout.strip())


def hooks_dir(root: Path, what: str) -> Path:
    """The folder git runs the hooks of the repository at ``root`` from: ``core.hooksPath`` when set (relative to the
    work tree root, ``~`` expanded, as git reads it), else the common git dir's ``hooks`` (shared by worktrees)."""
    top = work_tree(root, what)
    done = _git(top, ("rev-parse", "--git-path", "hooks"), what)
    if done.returncode != 0 or not done.stdout.strip():
        first = (done.stderr.strip().splitlines() or ["git rev-parse --git-path hooks failed"])[0]
        raise UsageError(f"{what}: {first}")
    return top / done.stdout.strip()  # git answers relative to the folder it ran in (here: the work tree root)


def tracked_files(root: Path) -> list[str] | None:
    """The files git tracks at ``root``; None without a git checkout (or git)."""
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(("git", "ls-files", "-z"), cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        return None
    return [p for p in done.stdout.decode().split("\0") if p] if done.returncode == 0 else None


@asynccontextmanager
async def worktree(root: Path, commit: str) -> AsyncGenerator[Path, None]:
    """A detached worktree of ``commit`` in a temporary folder, always removed afterwards (also on Ctrl-C)."""
    import anyio

    folder = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp, None, "jessy-baseline-"))
    tree = folder / "tree"
    try:
        done = await anyio.run_process(["git", "worktree", "add", "--detach", str(tree), commit], cwd=root, check=False)
        if done.returncode != 0:
            last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
            raise RuntimeError(f"git worktree add {commit} failed: {last}")
        yield tree
    finally:
        with anyio.CancelScope(shield=True):
            if tree.exists():
                await anyio.run_process(["git", "worktree", "remove", "--force", str(tree)], cwd=root, check=False)
            await anyio.to_thread.run_sync(shutil.rmtree, folder, True)
