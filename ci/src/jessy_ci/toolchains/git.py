"""git command lines: the files changed since a ref (changed-only runs) and the tracked files (secret scan).

These run on the host, before any step, from the synchronous part of the CLI: an unknown ref is a UsageError.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from jessy_ci.errors import UsageError
from jessy_ci.steps import Argv


def verify_ref(ref: str) -> Argv:
    return ("git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def diff_names(ref: str) -> Argv:
    """Tracked files that differ between the merge base of REF and HEAD, and the working tree."""
    return ("git", "diff", "--name-only", "--no-renames", "--merge-base", ref)


UNTRACKED: Argv = ("git", "ls-files", "--others", "--exclude-standard")
TRACKED: Argv = ("git", "ls-files", "-z")


def _git(root: Path, argv: Argv) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("--changed-since: git not found on PATH; expected git to compare with a ref") from None


def changed_paths(root: Path, ref: str) -> list[str]:
    """Every file changed since ``ref`` (committed, uncommitted and untracked)."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"--changed-since {ref!r}: expected a git ref (branch, tag or commit)")
    if _git(root, verify_ref(ref)).returncode != 0:
        raise UsageError(f"--changed-since {ref!r}: unknown git ref; expected a branch, tag or commit of {root}")
    diff = _git(root, diff_names(ref))
    if diff.returncode != 0:
        first = (diff.stderr.strip().splitlines() or ["git diff failed"])[0]
        raise UsageError(f"--changed-since {ref!r}: {first}")
    untracked = _git(root, UNTRACKED)
    return sorted({*diff.stdout.split("\n"), *untracked.stdout.split("\n")} - {""})


HEAD_COMMIT: Argv = ("git", "rev-parse", "HEAD")


def head_commit(root: Path) -> str:
    """The commit checked out at ``root`` (the release's ``revision`` label and ``sha-`` tag)."""
    done = _git(root, HEAD_COMMIT)
    if done.returncode != 0:
        raise UsageError(f"{root}: not a git checkout with a commit; expected a repository (git rev-parse HEAD)")
    return done.stdout.strip()


def worktree_add(path: str, commit: str) -> Argv:
    """A detached worktree of ``commit`` at ``path`` (``bench --baseline-ref``)."""
    return ("git", "worktree", "add", "--detach", path, commit)


def worktree_remove(path: str) -> Argv:
    return ("git", "worktree", "remove", "--force", path)
