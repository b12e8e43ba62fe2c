"""jessy-ci: the command line. Option declarations (from ``jessy_ci.options``) and rendering only: each command
checks its options into typed values, builds one Session (the project parsed once, the runner, the image backend)
and hands it to a verb; the verb's Report is written to the reports folder and summarised on the console.

Exit codes: 0 everything passed, 1 a check or gate failed, 2 bad input or config. Heavy modules (the Dagger SDK, the
runners, anyio) are imported only when a command runs, so `jessy-ci --help` stays fast and never imports dagger.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jessy_ci import options
from jessy_ci.errors import ChecksFailed, UsageError

if TYPE_CHECKING:
    from jessy_ci.config import Project
    from jessy_ci.report import Report
    from jessy_ci.runners import Runner
    from jessy_ci.runners.images import ImageBackend
    from jessy_ci.session import Session

RUNNERS = ("dagger", "host")

app = typer.Typer(
    name="jessy-ci",
    help="Pipeline-as-code CI for the Jessy services: the same steps on a Dagger engine or on the host.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def flag(option: options.Option[Any], *short: str) -> Any:
    """The typer declaration of a shared option: its flag, help and placeholder come from ``jessy_ci.options``."""
    return typer.Option(option.flag, *short, help=option.help, metavar=option.metavar or None, show_default=False)


RunnerOption = Annotated[
    str | None,
    typer.Option(
        "--runner",
        help="Where steps run: 'dagger' (containers on a Dagger engine) or 'host' (local cargo, go, python). "
        "Default: dagger when a Dagger session or the dagger CLI is available, else host.",
        show_default=False,
        metavar="RUNNER",
    ),
]
ComponentOption = Annotated[list[str] | None, flag(options.COMPONENT, "-c")]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Stream every line of every step (default: one line per package and per failing test; all of it is "
        "in reports/logs/ anyway).",
    ),
]
ReportsOption = Annotated[
    Path,
    typer.Option("--reports", metavar="DIR", help="Folder for JUnit, logs and summary.md (kept after failures)."),
]


def say(message: str) -> None:
    """One line for a person, on stderr (stdout holds the summary)."""
    typer.echo(f"jessy-ci: {message}", err=True)


def choose_runner(requested: str | None) -> str:
    if requested is not None:
        if requested not in RUNNERS:
            raise UsageError(f"--runner {requested!r}: unknown runner; expected one of: {', '.join(RUNNERS)}")
        return requested
    if os.environ.get("DAGGER_SESSION_PORT") or shutil.which("dagger"):
        return "dagger"
    say("no Dagger session or dagger CLI found; using the host runner (--runner host)")
    return "host"


def root() -> Path:
    from jessy_ci.config import find_root

    return find_root(Path.cwd())


Verb = Callable[["Session"], Awaitable["Report"]]
Images = Callable[["Runner", "Project"], "ImageBackend | None"]


def run(
    verb: Verb,
    *,
    runner: str | None,
    reports: Path,
    inputs: dict[str, Path] | None = None,
    images: Images | None = None,
    project: Project | None = None,
    verbose: bool = False,
) -> None:
    """Load the project (unless given), pick the runner, build the Session, run the verb, write the reports, print
    the summary, raise on failure. ``inputs``: folders handed to the runner by name (a prepared Trivy DB);
    ``images``: how to make the image backend of the runner (None on the host)."""
    import anyio

    from jessy_ci.config import load
    from jessy_ci.session import Session

    here = root()
    loaded = project or load(here)
    kind = choose_runner(runner)

    async def main() -> Report:
        if kind == "host":
            from jessy_ci.runners.host import HostRunner
            from jessy_ci.verbs.execute import console_line

            host = HostRunner(here, inputs=inputs, readable=None if verbose else console_line)
            return await verb(Session(loaded, host, say, images(host, loaded) if images else None))
        from jessy_ci.runners.dagger import connected_runner

        async with connected_runner(here, inputs or {}) as engine:
            return await verb(Session(loaded, engine, say, images(engine, loaded) if images else None))

    from jessy_ci import tracing

    async def traced() -> Report:
        with tracing.span("jessy-ci", {"jessy_ci.runner": kind}) as span:
            report = await main()
            span.update_name(f"jessy-ci {report.verb}")
            span.set_attribute("jessy_ci.passed", report.passed)
            return report

    tracing.setup()
    try:
        report = anyio.run(traced)
    finally:
        tracing.flush()
    typer.echo("")
    show(report, reports)


def write_reports(folder: Path, report: Report) -> None:
    for relative, data in report.files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def show(report: Report, reports: Path) -> None:
    """Render the summary, write the reports, print the summary, and raise ChecksFailed listing every failure."""
    from jessy_ci.verbs.execute import finish

    finish(report)
    write_reports(reports if reports.is_absolute() else Path.cwd() / reports, report)
    typer.echo(report.files["summary.md"].decode())
    typer.echo(f"reports: {reports}/")
    if not report.passed:
        raise ChecksFailed("\n".join(report.failures()))


def main(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and exit 2 for bad input; 1 when checks fail."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args or ["--help"], standalone_mode=False, prog_name="jessy-ci")
    except typer.Exit as e:
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        say("interrupted")
        return 130
    except typer.TyperException as e:  # click's usage errors (unknown option, missing value): exit 2
        message = e.format_message().strip()
        if message:
            say(f"error: {message.splitlines()[0]}")
        return 2 if e.exit_code == 2 or message else 0
    except UsageError as e:
        say(f"error: {e}")
        return 2
    except ChecksFailed as e:
        say("failed:\n" + str(e))
        return 1
    return 0


# The commands register themselves on ``app``.
from jessy_ci.cli import checks, hooks, load, release, services  # noqa: E402

COMMANDS = (checks, hooks, release, services, load)
