"""git hooks for a person: `jessy-ci hooks install` writes a pre-push hook that runs `jessy-ci ci --changed-since
<the remote's commit>` and refuses the push when it fails; `jessy-ci hooks uninstall` removes it again."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from jessy_ci.cli import app, choose_runner, root, say

hooks_app = typer.Typer(
    name="hooks",
    help="The git pre-push hook: lint and tests of what changed before each push.",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(hooks_app)


@hooks_app.callback()
def hooks_help(ctx: typer.Context) -> None:
    """`jessy-ci hooks` alone shows its help (install, uninstall)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


HookRunnerOption = Annotated[
    str | None,
    typer.Option(
        "--runner",
        help="Where the hook's steps run: 'host' (local cargo, go, python; the default) or 'dagger'.",
        show_default=False,
        metavar="RUNNER",
    ),
]


@hooks_app.command()
def install(
    runner: HookRunnerOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a pre-push hook that jessy-ci did not write.")
    ] = False,
) -> None:
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
