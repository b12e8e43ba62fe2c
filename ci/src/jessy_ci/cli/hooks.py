"""git hooks for a person: `jessy-ci hooks install` writes a pre-push hook that runs `jessy-ci ci --changed-since
<the remote's commit>` and refuses the push when it fails; `jessy-ci hooks uninstall` removes it again."""

from __future__ import annotations

import sys
from pathlib import Path

from jessy_ci.cli import app, choose_runner, root, say
from jessy_ci.cli.grammar import Flag

hooks_app = app.group("hooks", "The git pre-push hook: lint and tests of what changed before each push.")

HOOK_RUNNER = Flag(
    ("--runner",), "Where the hook's steps run: 'host' (local cargo, go, python; the default) or 'dagger'.", "RUNNER"
)


@hooks_app.command(HOOK_RUNNER, Flag(("--force",), "Replace a pre-push hook that jessy-ci did not write.", switch=True))
def install(runner: str | None = None, force: bool = False) -> None:
    """Write .git/hooks/pre-push (or under core.hooksPath): `jessy-ci ci --changed-since <remote commit>` before each
    push, with this Python; a failure refuses the push."""
    from jessy_ci import hooks

    here = root()
    spec = hooks.HookSpec(
        python=Path(sys.executable).absolute(),  # not resolved: a virtualenv's python is a symlink out of it
        runner="host" if runner is None else choose_runner(runner),
        project=hooks.project_folder(here),
    )
    path = hooks.locate(here)
    done = hooks.install(path, hooks.render(spec), force=force)
    say(done.line(path))
    if done is not hooks.Installed.UNCHANGED:
        say(f"before each push: jessy-ci ci --runner {spec.runner} --changed-since <the remote's commit>")


@hooks_app.command()
def uninstall() -> None:
    """Remove the pre-push hook `jessy-ci hooks install` wrote (any other hook stays)."""
    from jessy_ci import hooks

    path = hooks.locate(root())
    say(hooks.uninstall(path).line(path))
