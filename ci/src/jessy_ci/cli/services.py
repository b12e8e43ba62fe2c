"""The services for a person: serve (the dev environment, replacing docker-compose up) and smoke (is a deployment
alive?)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jessy_ci import collector, options
from jessy_ci.cli import REPORTS, app, choose_runner, echo, root, say, show
from jessy_ci.cli.grammar import NUMBER, PATH, WHOLE, Flag, flag
from jessy_ci.errors import ChecksFailed, UsageError

if TYPE_CHECKING:
    from jessy_ci.steps import ResourceLimits

ENV = Flag(
    ("--env",),
    "An environment of environments/NAME.toml (ports, URLs, limits: its cpus and memory_mb are applied to every "
    "service the host runner starts, through cgroups).",
    "NAME",
)


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


@app.command(flag(options.URL), flag(options.TIMEOUT, convert=NUMBER), ENV, flag(options.CORE_URL), REPORTS)
def smoke(
    url: str | None = None,
    timeout: float = 60.0,
    env: str | None = None,
    core_url: str | None = None,
    reports: Path = Path("reports"),
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
    collector.resume()
    show(anyio.run(run_smoke, target, say), reports)


@app.command(
    Flag(
        ("--runner",),
        "'host' (the default): processes on 127.0.0.1. On Dagger: dagger call serve up --ports 8080:8080,3000:3000.",
        "RUNNER",
    ),
    ENV,
    Flag(("--core-port",), "jessy-core's port (0: any free port). Default: --env, else 8080.", "N", convert=WHOLE),
    Flag(("--api-port",), "jessy-api's port (0: any free port). Default: --env, else 3000.", "N", convert=WHOLE),
    Flag(
        ("--data",),
        "Keep the layer volume in DIR (default: a fresh temporary one, removed on exit).",
        "DIR",
        convert=PATH,
    ),
    REPORTS,
)
def serve(
    runner: str | None = None,
    env: str | None = None,
    core_port: int | None = None,
    api_port: int | None = None,
    data: Path | None = None,
    reports: Path = Path("reports"),
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
    collector.resume()  # serve runs until Ctrl-C: its garbage is collected
    try:
        anyio.run(run_serve, HostRunner(here), request, folder, say, echo)
    except ServiceFailed as e:
        raise ChecksFailed(str(e)) from None
