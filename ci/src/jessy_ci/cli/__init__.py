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
from typing import TYPE_CHECKING

from jessy_ci import collector, options
from jessy_ci.cli.grammar import PATH, Flag, Group, flag
from jessy_ci.errors import ChecksFailed, UsageError

if TYPE_CHECKING:
    from jessy_ci.config import Project
    from jessy_ci.report import Report
    from jessy_ci.runners import Runner
    from jessy_ci.runners.images import ImageBackend
    from jessy_ci.session import Session

RUNNERS = ("dagger", "host")

app = Group("jessy-ci", "Pipeline-as-code CI for the Jessy services: the same steps on a Dagger engine or on the host.")

RUNNER = Flag(
    ("--runner",),
    "Where steps run: 'dagger' (containers on a Dagger engine) or 'host' (local cargo, go, python). "
    "Default: dagger when a Dagger session or the dagger CLI is available, else host.",
    "RUNNER",
)
COMPONENT = flag(options.COMPONENT, "-c", repeat=True)
VERBOSE = Flag(
    ("--verbose", "-v"),
    "Stream every line of every step (default: one line per package and per failing test; all of it is in "
    "reports/logs/ anyway).",
    switch=True,
)
REPORTS = Flag(("--reports",), "Folder for JUnit, logs and summary.md (kept after failures).", "DIR", convert=PATH)


def echo(text: str) -> None:
    """A line of output (the summary, a URL): on stdout."""
    print(text, flush=True)


def say(message: str) -> None:
    """One line for a person, on stderr (stdout holds the summary)."""
    print(f"jessy-ci: {message}", file=sys.stderr, flush=True)


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
            collector.resume()  # loaded: the steps' own garbage is collected as usual
            return await verb(Session(loaded, host, say, images(host, loaded) if images else None))
        from jessy_ci.runners.dagger import connected_runner

        collector.resume()
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
    echo("")
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
    echo(report.files["summary.md"].decode())
    echo(f"reports: {reports}/")
    if not report.passed:
        raise ChecksFailed("\n".join(report.failures()))


def main(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and exit 2 for bad input; 1 when checks fail."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app.run(args or ["--help"], prog="jessy-ci")
    except KeyboardInterrupt:
        say("interrupted")
        return 130
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
