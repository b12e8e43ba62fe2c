"""load: a load test of the services the run itself starts (vegeta at a constant rate over N instances of jessy-api
sharing one jessy-core), gated on latency, errors and throughput."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from jessy_ci import options
from jessy_ci.cli import ReportsOption, RunnerOption, VerboseOption, app, choose_runner, flag, root, run
from jessy_ci.cli.services import EnvOption, check_limits

if TYPE_CHECKING:
    from jessy_ci.report import Report
    from jessy_ci.session import Session


@app.command()
def load(
    runner: RunnerOption = None,
    instances: Annotated[str | None, flag(options.INSTANCES)] = None,
    rate: Annotated[str | None, flag(options.RATE)] = None,
    duration: Annotated[str | None, flag(options.DURATION)] = None,
    concurrency: Annotated[str | None, flag(options.CONCURRENCY)] = None,
    p95_ms: Annotated[str | None, flag(options.P95_MS)] = None,
    p99_ms: Annotated[str | None, flag(options.P99_MS)] = None,
    max_error_rate: Annotated[str | None, flag(options.MAX_ERROR_RATE)] = None,
    min_rps: Annotated[str | None, flag(options.MIN_RPS)] = None,
    reports: ReportsOption = Path("reports"),
    env: EnvOption = None,
    verbose: VerboseOption = False,
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
