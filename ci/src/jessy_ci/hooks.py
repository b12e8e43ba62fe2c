"""The pre-push hook (`jessy-ci hooks install`): its text, where it goes and the rules for writing and removing it.

The hook is a POSIX sh script that runs ``jessy-ci ci --changed-since <the commit the remote has>`` (lint and tests of
what changed) with the interpreter that installed it, and refuses the push when that fails. A marker line says the
file is jessy-ci's: install rewrites only its own hook (or any hook with ``force``), uninstall removes only its own.

Pure but for the hook file itself; git is asked through ``jessy_ci.git``.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from jessy_ci import git
from jessy_ci.errors import UsageError

HOOK = "pre-push"
MARKER = "# managed-by: jessy-ci hooks install"
_MODE = 0o755


@dataclass(frozen=True)
class HookSpec:
    """What the hook runs: ``python -m jessy_ci ci`` (an absolute path, recorded at install) on ``runner`` (checked at
    the edge), from the project folder ``project`` (relative to the work tree root, where git runs hooks; "." at the
    root)."""

    python: Path
    runner: str = "host"
    project: str = "."

    def __post_init__(self) -> None:
        if not self.python.is_absolute():
            raise UsageError(f"{self.python}: expected the absolute path of a Python interpreter")
        if Path(self.project).is_absolute() or ".." in Path(self.project).parts:
            raise UsageError(f"{self.project}: expected the project folder relative to the work tree root")


class Installed(Enum):
    """What ``install`` did, as a line naming the hook file."""

    NEW = "pre-push hook installed: {path}"
    UNCHANGED = "pre-push hook already installed (unchanged): {path}"
    UPDATED = "pre-push hook updated: {path}"
    REPLACED = "pre-push hook installed, replacing one jessy-ci did not write (--force): {path}"

    def line(self, path: Path) -> str:
        return self.value.format(path=path)


class Removed(Enum):
    """What ``uninstall`` did, as a line naming the hook file."""

    REMOVED = "pre-push hook removed: {path}"
    ABSENT = "no pre-push hook to remove: {path} does not exist"
    FOREIGN = "{path}: a pre-push hook jessy-ci did not write; left in place"

    def line(self, path: Path) -> str:
        return self.value.format(path=path)


_SCRIPT = r"""#!/bin/sh
# jessy-ci pre-push hook: before each push, lint and tests of what changed, and no push when they fail.
{marker}
# Written by `jessy-ci hooks install`, removed by `jessy-ci hooks uninstall` (the line above marks it as theirs).
# Skip it once: git push --no-verify.
#
# git runs it as `pre-push <remote> <url>`, one line per pushed ref on stdin:
#   <local ref> <local sha> <remote ref> <remote sha>
# Each pushed ref is checked with `jessy-ci ci --changed-since <base>`: the base is the commit the remote has; for a
# new branch, its merge base with the branch's upstream or with <remote>/HEAD; without one, everything is checked.
# The checks run on the work tree (HEAD, with uncommitted changes), as `jessy-ci ci` does.

remote=$1
python={python}

say() {{
	printf 'jessy-ci pre-push: %s\n' "$*" >&2
}}

jessy_ci() {{
	"$python" -m jessy_ci ci --runner {runner} "$@" </dev/null
}}

# The merge base of a new branch ($1: its ref, $2: its commit) with its upstream or with <remote>/HEAD.
new_branch_base() {{
	for ref in "${{1#refs/heads/}}@{{upstream}}" "refs/remotes/$remote/HEAD"; do
		tip=$(git rev-parse --verify --quiet "$ref^{{commit}}" 2>/dev/null) || continue
		if base=$(git merge-base "$2" "$tip" 2>/dev/null); then
			printf '%s\n' "$base"
			return 0
		fi
	done
	return 1
}}

if [ ! -x "$python" ]; then
	say "$python: not found; reinstall the hook (jessy-ci hooks install) or remove it (jessy-ci hooks uninstall)"
	exit 1
fi
{cd}
head=$(git rev-parse --verify --quiet HEAD)
checked=' '
status=0
while read -r local_ref local_sha remote_ref remote_sha; do
	case $local_sha in
	*[!0]*) ;;
	*) continue ;; # a deletion: nothing to check
	esac
	since=
	case $remote_sha in
	*[!0]*) git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null && since=$remote_sha ;;
	esac
	if [ -z "$since" ]; then
		since=$(new_branch_base "$local_ref" "$local_sha") || since=
	fi
	case $checked in
	*" ${{since:-everything}} "*) continue ;; # the same check already ran for another ref
	esac
	checked="$checked${{since:-everything}} "
	if [ "$local_sha" != "$head" ]; then
		say "note: $local_ref is not checked out; checking the work tree (HEAD) instead"
	fi
	if [ -n "$since" ]; then
		say "$remote_ref: checking what changed since $since"
		jessy_ci --changed-since "$since" || status=1
	else
		say "$remote_ref: no base known on $remote; checking everything"
		jessy_ci || status=1
	fi
done
if [ "$status" -ne 0 ]; then
	say "checks failed: push refused (fix them, or skip the hook once with git push --no-verify)"
fi
exit "$status"
"""


_CD = r"""# The project is in a subfolder. In a linked worktree git sets GIT_DIR, and then takes the current
# folder for the top of the work tree: keep it where git started the hook.
if [ -n "${{GIT_DIR:-}}" ] && [ -z "${{GIT_WORK_TREE:-}}" ]; then
	GIT_WORK_TREE=$PWD
	export GIT_WORK_TREE
fi
cd -- {project} || exit 1
"""


def render(spec: HookSpec) -> str:
    """The hook's text for ``spec``: a POSIX sh script, every recorded value shell-quoted."""
    cd = "" if spec.project in ("", ".") else _CD.format(project=shlex.quote(spec.project))
    return _SCRIPT.format(marker=MARKER, python=shlex.quote(str(spec.python)), runner=shlex.quote(spec.runner), cd=cd)


def is_ours(text: str) -> bool:
    """Whether a hook's text is one jessy-ci wrote (it holds the marker line)."""
    return MARKER in text.splitlines()


def locate(root: Path) -> Path:
    """The pre-push hook file of the repository holding ``root`` (``core.hooksPath`` honoured)."""
    return git.hooks_dir(root, "hooks") / HOOK


def project_folder(root: Path) -> str:
    """The project folder ``root`` relative to its work tree root ("." at the root), as the hook changes into it."""
    top = git.work_tree(root, "hooks").resolve()
    try:
        return root.resolve().relative_to(top).as_posix()
    except ValueError:
        raise UsageError(f"hooks: {root} is not inside the git work tree {top}") from None


def _read(path: Path) -> str | None:
    if path.is_dir():
        raise UsageError(f"{path}: a folder, not a hook file; expected a file or nothing there")
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return path.read_text(errors="replace")
    except OSError:  # a dangling symlink, an unreadable file: not ours
        return ""


def _write(path: Path, text: str) -> None:
    """Write the hook atomically (a symlink at ``path`` is replaced, never written through), executable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{HOOK}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        Path(temporary).chmod(_MODE)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def install(path: Path, text: str, *, force: bool = False) -> Installed:
    """Write the hook ``text`` at ``path``: over jessy-ci's own hook, or over another one only with ``force``
    (UsageError naming the file otherwise). Installing the same text twice changes nothing."""
    current = _read(path)
    if current is None:
        _write(path, text)
        return Installed.NEW
    if not is_ours(current):
        if not force:
            raise UsageError(f"{path}: a pre-push hook jessy-ci did not write is there; pass --force to replace it")
        _write(path, text)
        return Installed.REPLACED
    if current == text and os.access(path, os.X_OK):
        return Installed.UNCHANGED
    _write(path, text)
    return Installed.UPDATED


def uninstall(path: Path) -> Removed:
    """Remove the hook at ``path`` when jessy-ci wrote it; any other hook stays."""
    current = _read(path)
    if current is None:
        return Removed.ABSENT
    if not is_ours(current):
        return Removed.FOREIGN
    path.unlink()
    return Removed.REMOVED
