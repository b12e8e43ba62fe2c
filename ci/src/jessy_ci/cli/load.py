"""load: a load test of the services the run itself starts (vegeta at a constant rate over N instances of jessy-api
sharing one jessy-core), gated on latency, errors and throughput."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jessy_ci import options
from jessy_ci.cli import REPORTS, RUNNER, VERBOSE, app, choose_runner, root, run
from jessy_ci.cli.grammar import flag
from jessy_ci.cli.services import ENV, check_limits

if TYPE_CHECKING:
    from jessy_ci.report import Report
    from jessy_ci.session import Session


@app.command(
    RUNNER,
    *(
        flag(o)
        for o in (
            options.INSTANCES,
            options.RATE,
            options.DURATION,
            options.CONCURRENCY,
            options.P95_MS,
            options.P99_MS,
            options.MAX_ERROR_RATE,
            options.MIN_RPS,
        )
    ),
    REPORTS,
    ENV,
    VERBOSE,
)
def load(
    runner: str | None = None,
    instances: str | None = None,
    rate: str | None = None,
    duration: str | None = None,
    concurrency: str | None = None,
    p95_ms: str | None = None,
    p99_ms: str | None = None,
    max_error_rate: str | None = None,
    min_rps: str | None = None,
    reports: Path = Path("reports"),
    env: str | None = None,
    verbose: bool = False,
) -> None:
    """Load test: N instances of jessy-api (one jessy-core, a fresh volume) driven by vegeta; gate on p95/p99,
    errors, throughput."""
    from jessy_ci.config import load as load_project
    from jessy_ci.config import load_environment
    from jessy_ci.verbs.load import LoadRequest, run_load

    here = root()
    project = load_project(here)
    environment = load_environment(here, env, project) if env is not None else None
    settings = options.load_settings(
        project, environment, instances=instances, rate=rate, duration=duration, concurrency=concurrency
    )
    gate = options.load_gate(
        project, environment, settings, p95_ms=p95_ms, p99_ms=p99_ms, max_error_rate=max_error_rate, min_rps=min_rps
    )
    service_env = environment.service_env if environment is not None else None
    limits = environment.resource_limits if environment is not None else None
    request = LoadRequest(settings, gate, service_env, limits)
    kind = choose_runner(runner)
    if environment is not None and kind == "host":  # on Dagger the report says they were not applied
        check_limits(environment.name, limits)

    async def verb(session: Session) -> Report:
        return await run_load(session, request)

    run(verb, runner=kind, reports=reports, project=project, verbose=verbose)
