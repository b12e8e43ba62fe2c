"""Every container the coverage and bench verbs build on the Dagger runner, validated against the engine's GraphQL
schema (no engine needed; DAGGER_SCHEMA_FILE names the schema, the tests skip with that reason without it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import anyio
import graphql
from dagger import dag

from jessy_ci import config
from jessy_ci.main import JessyCi
from jessy_ci.runners.dagger import DaggerRunner
from jessy_ci.toolchains import BenchSettings
from jessy_ci.verbs.bench import RUN_ENV
from jessy_ci.verbs.plan import plan_bench, plan_coverage, plan_test
from tests.support.dagger_schema import validate


def chain(obj: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(s.name, dict(s.args)) for s in obj._ctx.selections]


def test_every_coverage_container_is_valid(schema: graphql.GraphQLSchema, project: config.Project) -> None:
    runner = DaggerRunner(dag.host().directory("."), run_id="schema-test")
    steps = plan_coverage(project, project.select([]))
    assert [s.name for s in steps] == [
        "jessy-core:coverage",
        "jessy-api:coverage",
        "features:coverage",
        "jessy-ci:coverage",
    ]
    for step in steps:
        ctr = runner.container(step)
        assert validate(ctr, schema, step.name) == []
    core = chain(runner.container(steps[0]))
    assert ("withEnvVariable", {"name": "PATH", "value": "${CARGO_INSTALL_ROOT}/bin:${PATH}", "expand": True}) in core
    execs = [args["args"] for name, args in core if name == "withExec"]
    # the command runs after the sources are touched (a shared target dir must never look fresh to cargo)
    assert execs[-1][:2] == ["sh", "-c"] and execs[-1][2].startswith("find /src -exec touch -c {} + ")
    assert "exec cargo tarpaulin --locked" in execs[-1][2] and "--output-dir /jessy-reports" in execs[-1][2]
    api = chain(runner.container(steps[1]))
    assert any(name == "withServiceBinding" and args["alias"] == "jessy-core" for name, args in api)


def test_every_bench_container_is_valid_for_both_trees(schema: graphql.GraphQLSchema, project: config.Project) -> None:
    current = DaggerRunner(dag.host().directory("."), run_id="schema-test")
    baseline = DaggerRunner(dag.git("https://github.com/jessy-ci/jessy-ci").head().tree(), run_id="schema-base")
    for step in plan_bench(project, project.select([]), BenchSettings(count=6, seconds=1.0, filter="x$")):
        step = replace(step, env={**step.env, RUN_ENV: "0123456789ab"})
        for runner in (current, baseline):
            ctr = runner.container(step)
            assert validate(ctr, schema, f"{runner.run_id} {step.name}") == []
            env = [args for name, args in chain(ctr) if name == "withEnvVariable"]
            assert {"name": RUN_ENV, "value": "0123456789ab", "expand": True} in env  # never a cached measurement


def test_the_regression_check_without_a_baseline_passes_and_runs_nothing() -> None:
    module = JessyCi(source=dag.directory())
    text = anyio.run(module.bench_regression)  # no engine here: anything that ran a container would raise
    assert text.startswith("No baseline given (baseline or baseline-source): no benchmark ran")


def test_python_containers_get_a_fresh_environment_and_the_uv_cache(
    schema: graphql.GraphQLSchema, project: config.Project
) -> None:
    """The component's environment is the container's own folder (no volume: nothing stale survives), uv's cache is a
    volume, uv is installed before the sources arrive, and the test run (environment, then pytest) is the command."""
    runner = DaggerRunner(dag.host().directory("."), run_id="schema-test")
    steps = [*plan_test(project, project.select(["jessy-ci", "features"])), *plan_coverage(project, project.select([]))]
    for step in (s for s in steps if s.toolchain == "python"):
        ctr = runner.container(step)
        assert validate(ctr, schema, step.name) == []
        calls = chain(ctr)
        mounts = [args["path"] for name, args in calls if name == "withMountedCache"]
        assert "/root/.cache/uv" in mounts and "/opt/python-env" not in mounts, step.name
        env = {args["name"]: args["value"] for name, args in calls if name == "withEnvVariable"}
        assert env["VIRTUAL_ENV"] == "/opt/python-env" and env["UV_CACHE_DIR"] == "/root/.cache/uv"
        execs = [args["args"] for name, args in calls if name == "withExec"]
        assert execs[0][-1] == "uv==0.13.9"  # the setup, before the sources
        assert "uv sync --quiet --frozen --inexact" in execs[-1][2] and "exec python -m pytest" in execs[-1][2]
        assert "/jessy-reports/junit.xml" in execs[-1][2]
