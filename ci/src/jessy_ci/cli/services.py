"""The services for a person: serve (the dev environment, replacing docker-compose up) and smoke (is a deployment
alive?)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jessy_ci import options
from jessy_ci.cli import ReportsOption, app, choose_runner, flag, root, say, show
from jessy_ci.errors import ChecksFailed, UsageError

if TYPE_CHECKING:
    from jessy_ci.steps import ResourceLimits

EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        metavar="NAME",
        help="An environment of environments/NAME.toml (ports, URLs, limits: its cpus and memory_mb are applied to "
        "every service the host runner starts, through cgroups).",
        show_default=False,
    ),
]


def check_limits(env: str, limits: ResourceLimits | None) -> None:
    """The environment's cpus and memory_mb can be applied to host services on this machine (cgroups), checked
    before anything starts; else bad input (exit 2), one line naming the limit and why."""
    if limits is None:
        return
    from jessy_ci.runners.limits import LimitsUnavailable, Machine

    try:
        Machine().locate(limits)
    except LimitsUnavailable as e:
        raise UsageError(f"--env {env}: {e}") from None


@app.command()
def smoke(
    url: Annotated[str | None, flag(options.URL)] = None,
    timeout: Annotated[float, flag(options.TIMEOUT)] = 60.0,
    env: EnvOption = None,
    core_url: Annotated[str | None, flag(options.CORE_URL)] = None,
    reports: ReportsOption = Path("reports"),
) -> None:
    """Is a deployment alive? api health, core health through the api, a layer write/read round trip."""
    import anyio

    from jessy_ci.verbs.smoke import SmokeTarget, run_smoke

    if url is None and env is not None:
        from jessy_ci.config import load, load_environment

        here = root()
        environment = load_environment(here, env, load(here))
        url = environment.urls.get("jessy-api")
        core_url = core_url or environment.urls.get("jessy-core")
    if url is None:
        raise UsageError("--url: missing; expected the api's URL (or --env NAME with urls.jessy-api)")
    target = SmokeTarget(options.URL(url), options.TIMEOUT(timeout), options.CORE_URL(core_url))
    show(anyio.run(run_smoke, target, say), reports)


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
    here = root()
    project = load(here)
    environment = load_environment(here, env, project) if env is not None else None
    limits = environment.resource_limits if environment is not None else None
    specs = serve_specs(project, environment.service_env if environment else None, limits)
    ports = serve_ports(specs, environment, {"jessy-core": core_port, "jessy-api": api_port})
    request = ServeRequest(specs, ports, check_data_dir(data) if data is not None else None)
    check_ports_free(ports)
    if environment is not None:
        check_limits(environment.name, limits)
    folder = reports if reports.is_absolute() else Path.cwd() / reports
    try:
        anyio.run(run_serve, HostRunner(here), request, folder, say, typer.echo)
    except ServiceFailed as e:
        raise ChecksFailed(str(e)) from None
