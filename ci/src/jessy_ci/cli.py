"""jessy-ci: the command line. It renders what the verbs return; it holds no pipeline logic.

Exit codes: 0 everything passed, 1 a check or gate failed, 2 bad input or config. Heavy modules (the Dagger SDK,
the runners, anyio) are imported only when a command runs, so `jessy-ci --help` stays fast and never imports
dagger.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jessy_ci.errors import ChecksFailed, UsageError

if TYPE_CHECKING:
    from jessy_ci.changes import Selection
    from jessy_ci.config import Project
    from jessy_ci.report import Report
    from jessy_ci.runners import Runner

RUNNERS = ("dagger", "host")

app = typer.Typer(
    name="jessy-ci",
    help="Pipeline-as-code CI for the Jessy services: the same steps on a Dagger engine or on the host.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

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
ComponentOption = Annotated[
    list[str] | None,
    typer.Option(
        "--component", "-c", metavar="NAME", help="Only this component (repeatable). Default: every component."
    ),
]
ReportsOption = Annotated[
    Path,
    typer.Option("--reports", metavar="DIR", help="Folder for JUnit, logs and summary.md (kept after failures)."),
]
ChangedSinceOption = Annotated[
    str | None,
    typer.Option(
        "--changed-since",
        metavar="REF",
        help="Only the components with files changed since the merge base of REF (and those whose tests run "
        "against them); changes to ci/, jessy-ci.toml, dockerfiles/ or features/ select everything.",
        show_default=False,
    ),
]


ThresholdOption = Annotated[
    str | None,
    typer.Option(
        "--threshold",
        metavar="PCT",
        help="Minimum line coverage in percent, per component and in total (0-100). "
        "Default: [thresholds] coverage of jessy-ci.toml.",
        show_default=False,
    ),
]


def _notice(message: str) -> None:
    typer.echo(f"jessy-ci: {message}", err=True)


def choose_runner(requested: str | None) -> str:
    if requested is not None:
        if requested not in RUNNERS:
            raise UsageError(f"--runner {requested!r}: unknown runner; expected one of: {', '.join(RUNNERS)}")
        return requested
    if os.environ.get("DAGGER_SESSION_PORT") or shutil.which("dagger"):
        return "dagger"
    _notice("no Dagger session or dagger CLI found; using the host runner (--runner host)")
    return "host"


def write_reports(folder: Path, report: Report) -> None:
    for relative, data in report.files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _root() -> Path:
    from jessy_ci.config import find_root

    return find_root(Path.cwd())


def _run_verb(
    runner_name: str | None,
    reports: Path,
    verb: Callable[[Project, Runner], Awaitable[Report]],
    inputs: dict[str, Path] | None = None,
) -> None:
    """Load the config, pick the runner, run the verb, write the reports, print the summary, raise on failure.
    ``inputs``: folders handed to the runner by name (a prepared Trivy DB)."""
    import anyio

    from jessy_ci.config import load

    root = _root()
    project = load(root)
    kind = choose_runner(runner_name)

    async def main() -> Report:
        if kind == "host":
            from jessy_ci.runners.host import HostRunner

            return await verb(project, HostRunner(root, inputs=inputs))
        from jessy_ci.runners.dagger import connected_runner

        async with connected_runner(root, inputs or {}) as runner:
            return await verb(project, runner)

    report = anyio.run(main)
    typer.echo("")
    _show(report, reports)


def _selection(changed_since: str | None, component: list[str] | None) -> Selection | None:
    """The changed-only selection (git runs here, before any step); None without --changed-since."""
    if changed_since is None:
        return None
    from jessy_ci.changes import select_changed
    from jessy_ci.config import load
    from jessy_ci.git import changed_paths

    root = _root()
    project = load(root)
    requested = [c.name for c in project.select(list(component or []))] if component else []
    return select_changed(project, changed_paths(root, changed_since, "--changed-since"), changed_since, requested)


SelectedVerb = Callable[["Project", "Runner", list[str]], Awaitable["Report"]]


def _run_selected(
    name: str,
    runner_name: str | None,
    reports: Path,
    component: list[str] | None,
    changed_since: str | None,
    verb: SelectedVerb,
) -> None:
    """_run_verb on the named components, or on what --changed-since selects (the summary says why)."""
    from jessy_ci.verbs.selected import run_selected

    selection = _selection(changed_since, component)
    _run_verb(
        runner_name,
        reports,
        lambda p, r: run_selected(name, selection, list(component or []), lambda cs: verb(p, r, cs)),
    )


@app.command()
def lint(
    runner: RunnerOption = None,
    component: ComponentOption = None,
    reports: ReportsOption = Path("reports"),
    changed_since: ChangedSinceOption = None,
) -> None:
    """cargo fmt/clippy, gofmt/go vet, ruff, hadolint and the secret scan on every selected component."""
    from jessy_ci.verbs.lint import run_lint

    _run_selected("lint", runner, reports, component, changed_since, lambda p, r, cs: run_lint(p, r, cs, _notice))


@app.command()
def test(
    runner: RunnerOption = None,
    component: ComponentOption = None,
    reports: ReportsOption = Path("reports"),
    changed_since: ChangedSinceOption = None,
) -> None:
    """Unit, integration (with services) and BDD tests; JUnit per component and kind."""
    from jessy_ci.verbs.test import run_tests

    _run_selected("test", runner, reports, component, changed_since, lambda p, r, cs: run_tests(p, r, cs, _notice))


@app.command()
def ci(
    runner: RunnerOption = None,
    component: ComponentOption = None,
    reports: ReportsOption = Path("reports"),
    changed_since: ChangedSinceOption = None,
    threshold: ThresholdOption = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            help="A benchmark baseline (jessy-ci bench --save): adds the benchmark regression gate.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Every check at once: lint, test, the coverage gate (and the benchmark gate with --baseline), concurrently."""
    from jessy_ci.cli_bench import read_baseline
    from jessy_ci.gates.coverage import validate_threshold
    from jessy_ci.verbs.ci import run_ci

    limit = None if threshold is None else validate_threshold(threshold)
    loaded = None if baseline is None else read_baseline(baseline)
    _run_selected(
        "ci",
        runner,
        reports,
        component,
        changed_since,
        lambda p, r, cs: run_ci(p, r, cs, _notice, threshold=limit, baseline=loaded),
    )


SeverityOption = Annotated[
    str | None,
    typer.Option(
        "--severity",
        metavar="LIST",
        help="Severities that fail the scan gate, e.g. CRITICAL,HIGH. Default: thresholds.severity of jessy-ci.toml.",
        show_default=False,
    ),
]
IgnoreUnfixedOption = Annotated[
    bool, typer.Option("--ignore-unfixed", help="Vulnerabilities without a fixed version do not fail the gate.")
]
IgnoreFileOption = Annotated[
    Path | None,
    typer.Option("--ignore-file", metavar="FILE", help="Trivy ignore file. Default: .trivyignore of the repository."),
]
PlatformOption = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        metavar="OS/ARCH",
        help="Platform of the images, e.g. linux/amd64 (repeatable). Default: [images] platforms of jessy-ci.toml.",
        show_default=False,
    ),
]
TrivyDbOption = Annotated[
    Path | None,
    typer.Option(
        "--trivy-db",
        metavar="DIR",
        help="A prepared Trivy cache folder (db/trivy.db, db/metadata.json): every scanner runs on it, nothing is "
        "downloaded (air-gapped; on the host it adds the vulnerability scanner).",
        show_default=False,
    ),
]


def _show(report: Report, reports: Path) -> None:
    from jessy_ci.gates.summary import render

    write_reports(reports if reports.is_absolute() else Path.cwd() / reports, report)
    typer.echo(render(report))
    typer.echo(f"reports: {reports}/")
    if not report.passed:
        raise ChecksFailed("\n".join(report.failures()))


@app.command()
def build(
    runner: RunnerOption = None,
    component: ComponentOption = None,
    reports: ReportsOption = Path("reports"),
    platform: PlatformOption = None,
) -> None:
    """Production images (linux/amd64, linux/arm64) and their size budgets on Dagger; release binaries on the host."""
    from jessy_ci.cli_release import images_of
    from jessy_ci.git import head_commit
    from jessy_ci.imagerefs import requested_platforms
    from jessy_ci.verbs.build import run_build

    commit = head_commit(_root())
    chosen = requested_platforms(platform)

    def verb(p: Project, r: Runner) -> Awaitable[Report]:
        images = images_of(r, p, version="dev", commit=commit, platforms=chosen)
        return run_build(p, r, list(component or []), _notice, images=images)

    _run_verb(runner, reports, verb)


@app.command()
def scan(
    runner: RunnerOption = None,
    component: ComponentOption = None,
    reports: ReportsOption = Path("reports"),
    severity: SeverityOption = None,
    ignore_unfixed: IgnoreUnfixedOption = False,
    ignore_file: IgnoreFileOption = None,
    trivy_db: TrivyDbOption = None,
    platform: PlatformOption = None,
    from_report: Annotated[
        list[Path] | None,
        typer.Option(
            "--from-report", metavar="FILE", help="Gate existing Trivy JSON reports instead of scanning (repeatable)."
        ),
    ] = None,
) -> None:
    """Trivy: the repository (trivy fs), every image and its SBOM (Dagger); the severity gate over the findings."""
    from jessy_ci.cli_release import images_of, options, prepared_db, read_reports
    from jessy_ci.config import load
    from jessy_ci.git import head_commit
    from jessy_ci.imagerefs import requested_platforms
    from jessy_ci.verbs.scan import run_scan, run_scan_reports

    root = _root()
    inputs = prepared_db(trivy_db)
    chosen = requested_platforms(platform)
    gate = options(load(root), root, severity, ignore_unfixed, ignore_file, bool(inputs))
    if from_report:
        _show(run_scan_reports(read_reports(from_report), gate), reports)
        return
    commit = head_commit(root)

    def verb(p: Project, r: Runner) -> Awaitable[Report]:
        images = images_of(r, p, version="dev", commit=commit, platforms=chosen)
        return run_scan(p, r, list(component or []), _notice, images=images, options=gate)

    _run_verb(runner, reports, verb, inputs)


@app.command()
def publish(
    tag: Annotated[str, typer.Option("--tag", metavar="TAG", help="vMAJOR.MINOR[.PATCH][-PRERELEASE], e.g. v1.2.")],
    registry: Annotated[
        str | None,
        typer.Option("--registry", metavar="ADDRESS", help="e.g. ghcr.io/OWNER. Default: [registry] address."),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", metavar="USER", help="Default: [registry] username.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", metavar="SECRET", help="A secret reference: env://VAR or file://PATH."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Everything but the push.")] = False,
    runner: RunnerOption = None,
    reports: ReportsOption = Path("reports"),
    severity: SeverityOption = None,
    ignore_unfixed: IgnoreUnfixedOption = False,
    ignore_file: IgnoreFileOption = None,
    trivy_db: TrivyDbOption = None,
    platform: PlatformOption = None,
) -> None:
    """Build every image, test, size gates, scans, then push every image with all its tags (Dagger runner only)."""
    from jessy_ci.cli_release import images_of, options, prepared_db, secret_reference
    from jessy_ci.config import load
    from jessy_ci.git import head_commit
    from jessy_ci.imagerefs import requested_platforms
    from jessy_ci.verbs.publish import check_credentials, prepare, run_publish

    root = _root()
    project = load(root)
    plan = prepare(project, tag, head_commit(root), registry)
    inputs = prepared_db(trivy_db)
    chosen = requested_platforms(platform)
    gate = options(project, root, severity, ignore_unfixed, ignore_file, bool(inputs))
    secret = secret_reference(password)
    user = username or project.registry.username
    check_credentials(user, secret is not None)
    if choose_runner(runner) != "dagger":
        raise UsageError("publish needs a Dagger engine, not the host runner; expected --runner dagger with an engine")

    def verb(p: Project, r: Runner) -> Awaitable[Report]:
        version = plan.tag.version
        images = images_of(
            r,
            p,
            version=version,
            commit=plan.commit,
            registry=plan.registry,
            username=user,
            password=secret,
            platforms=chosen,
        )
        if images is None:
            raise UsageError("publish needs a Dagger engine; expected --runner dagger")
        return run_publish(p, r, _notice, images=images, plan=plan, options=gate, dry_run=dry_run)

    _run_verb("dagger", reports, verb, inputs)


EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        metavar="NAME",
        help="An environment of environments/NAME.toml (ports, URLs, limits).",
        show_default=False,
    ),
]


@app.command()
def smoke(
    url: Annotated[
        str | None, typer.Option("--url", metavar="URL", help="The api's base URL.", show_default=False)
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS", help="Retry until then.")] = 60.0,
    env: EnvOption = None,
    core_url: Annotated[
        str | None,
        typer.Option(
            "--core-url", metavar="URL", help="The core's URL, to delete the scratch layer.", show_default=False
        ),
    ] = None,
    reports: ReportsOption = Path("reports"),
) -> None:
    """Is a deployment alive? api health, core health through the api, a layer write/read round trip."""
    import anyio

    from jessy_ci.verbs.smoke import SmokeTarget, run_smoke, validate_timeout, validate_url

    if url is None and env is not None:
        from jessy_ci.config import load, load_environment

        root = _root()
        environment = load_environment(root, env, load(root))
        url = environment.urls.get("jessy-api")
        core_url = core_url or environment.urls.get("jessy-core")
    if url is None:
        raise UsageError("--url: missing; expected the api's URL (or --env NAME with urls.jessy-api)")
    target = SmokeTarget(
        validate_url(url), validate_timeout(timeout), validate_url(core_url, "--core-url") if core_url else None
    )
    _show(anyio.run(run_smoke, target, _notice), reports)


@app.command()
def serve(
    runner: Annotated[
        str | None,
        typer.Option(
            "--runner",
            metavar="RUNNER",
            help="'host' (the default): processes on 127.0.0.1. "
            "On Dagger: dagger call serve up --ports 8080:8080,3000:3000.",
            show_default=False,
        ),
    ] = None,
    env: EnvOption = None,
    core_port: Annotated[
        int | None,
        typer.Option(
            "--core-port",
            metavar="N",
            help="jessy-core's port (0: any free port). Default: --env, else 8080.",
            show_default=False,
        ),
    ] = None,
    api_port: Annotated[
        int | None,
        typer.Option(
            "--api-port",
            metavar="N",
            help="jessy-api's port (0: any free port). Default: --env, else 3000.",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            metavar="DIR",
            help="Keep the layer volume in DIR (default: a fresh temporary one, removed on exit).",
            show_default=False,
        ),
    ] = None,
    reports: ReportsOption = Path("reports"),
) -> None:
    """The dev environment: jessy-core and jessy-api on a fresh layer volume, on 127.0.0.1, until Ctrl-C."""
    import anyio

    from jessy_ci.config import load, load_environment
    from jessy_ci.runners import ServiceFailed
    from jessy_ci.runners.host import HostRunner
    from jessy_ci.verbs.plan import serve_specs
    from jessy_ci.verbs.serve import ServeRequest, check_data_dir, check_ports_free, run_serve, serve_ports

    if runner not in (None, "host"):
        choose_runner(runner)  # an unknown name: the usual error
        raise UsageError(
            "--runner dagger: serve runs on the host here; expected --runner host "
            "(on Dagger: dagger call serve up --ports 8080:8080,3000:3000)"
        )
    root = _root()
    project = load(root)
    environment = load_environment(root, env, project) if env is not None else None
    specs = serve_specs(project, environment.service_env if environment else None)
    ports = serve_ports(specs, environment, {"jessy-core": core_port, "jessy-api": api_port})
    request = ServeRequest(specs, ports, check_data_dir(data) if data is not None else None)
    check_ports_free(ports)
    folder = reports if reports.is_absolute() else Path.cwd() / reports
    try:
        anyio.run(run_serve, HostRunner(root), request, folder, _notice, typer.echo)
    except ServiceFailed as e:
        raise ChecksFailed(str(e)) from None


@app.command()
def coverage(
    runner: RunnerOption = None,
    component: ComponentOption = None,
    reports: ReportsOption = Path("reports"),
    threshold: ThresholdOption = None,
    changed_since: ChangedSinceOption = None,
) -> None:
    """Line coverage of Rust and Go components (unit + integration tests): lcov, Cobertura, HTML; threshold gate."""
    from jessy_ci.gates.coverage import validate_threshold
    from jessy_ci.report import Report
    from jessy_ci.verbs.coverage import measurable, run_coverage

    limit = None if threshold is None else validate_threshold(threshold)

    async def verb(p: Project, r: Runner, cs: list[str]) -> Report:
        if changed_since is not None and cs:  # a changed-only selection may hold components without coverage
            measured = measurable(p, cs)
            if measured is None:
                return Report(verb="coverage", notes=["coverage: no Rust or Go component selected"])
            cs = measured
        return await run_coverage(p, r, cs, _notice, limit)

    _run_selected("coverage", runner, reports, component, changed_since, verb)


@app.command()
def bench(
    runner: RunnerOption = None,
    component: ComponentOption = None,
    reports: ReportsOption = Path("reports"),
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", metavar="FILE", help="Compare with this baseline file.", show_default=False),
    ] = None,
    baseline_ref: Annotated[
        str | None,
        typer.Option(
            "--baseline-ref",
            metavar="REF",
            help="Measure the baseline in this run at REF (e.g. the merge base), in a git worktree, right before "
            "the current tree, on the same machine.",
            show_default=False,
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option("--save", metavar="FILE", help="Write this run's samples as a baseline file.", show_default=False),
    ] = None,
    max_regression: Annotated[
        str | None,
        typer.Option(
            "--max-regression",
            metavar="PCT",
            help="Fail when a benchmark is significantly slower by more than PCT percent. "
            "Default: [thresholds] max_regression of jessy-ci.toml.",
            show_default=False,
        ),
    ] = None,
    count: Annotated[
        int, typer.Option("--count", metavar="N", help="Samples per benchmark (Go -count; criterion at least 10).")
    ] = 10,
    seconds: Annotated[float, typer.Option("--time", metavar="SECONDS", help="Measurement time per benchmark.")] = 2.0,
    bench_filter: Annotated[
        str,
        typer.Option("--filter", metavar="REGEX", help="Only benchmarks whose name matches.", show_default=False),
    ] = "",
) -> None:
    """criterion and go test -bench samples; with a baseline, a verdict per benchmark and the regression gate."""
    from jessy_ci.cli_bench import BenchRequest
    from jessy_ci.gates.bench import validate_max_regression
    from jessy_ci.toolchains import BenchSettings

    request = BenchRequest.checked(
        _root(),
        components=list(component or []),
        settings=BenchSettings(count=count, seconds=seconds, filter=bench_filter),
        max_regression=None if max_regression is None else validate_max_regression(max_regression),
        baseline=baseline,
        baseline_ref=baseline_ref,
        save=save,
        notify=_notice,
    )
    _run_verb(runner, reports, request.run)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and exit 2 for bad input; 1 when checks fail."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args or ["--help"], standalone_mode=False, prog_name="jessy-ci")
    except typer.Exit as e:
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        _notice("interrupted")
        return 130
    except typer.TyperException as e:  # click's usage errors (unknown option, missing value): exit 2
        message = e.format_message().strip()
        if message:
            _notice(f"error: {message.splitlines()[0]}")
        return 2 if e.exit_code == 2 or message else 0
    except UsageError as e:
        _notice(f"error: {e}")
        return 2
    except ChecksFailed as e:
        _notice("failed:\n" + str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
