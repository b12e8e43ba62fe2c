"""Every container the Dagger runner builds, validated against the engine's GraphQL schema (no engine needed).

DAGGER_SCHEMA_FILE names the schema (.ci/run sets it to ../shared/dagger/schema-v0.21.8.graphqls); without it these
tests skip with that reason.
"""

from __future__ import annotations

from typing import Any

import dagger
import graphql
import pytest
from dagger import dag

from jessy_ci import config
from jessy_ci.runners.dagger import DaggerRunner
from jessy_ci.steps import Step
from jessy_ci.verbs.plan import plan_lint, plan_test
from tests.support.dagger_schema import validate


@pytest.fixture(scope="module")
def runner() -> DaggerRunner:
    token = dag.set_secret("registry-token", "not-a-real-token")
    return DaggerRunner(dag.host().directory("."), secrets={"registry-token": token}, run_id="schema-test")


def all_steps(project: config.Project) -> list[Step]:
    components = project.select([])
    return plan_lint(project, components) + plan_test(project, components)


def test_every_lint_and_test_container_is_valid(
    schema: graphql.GraphQLSchema, runner: DaggerRunner, project: config.Project
) -> None:
    steps = all_steps(project)
    assert len(steps) >= 13
    failures = {step.name: errors for step in steps if (errors := validate(runner.container(step), schema, step.name))}
    assert failures == {}


def test_service_containers_and_secrets_are_valid(schema: graphql.GraphQLSchema, runner: DaggerRunner) -> None:
    step = Step(
        name="x:secret",
        component="x",
        kind="unit",
        toolchain="go",
        image="golang:1.26-bookworm",
        workdir=".",
        command=("go", "env"),
        sources=(".",),
        secrets={"REGISTRY_TOKEN": "registry-token"},
    )
    assert validate(runner.container(step), schema) == []


def test_the_validator_rejects_what_the_engine_would_reject(schema: graphql.GraphQLSchema) -> None:
    ctr = dag.container().from_("alpine:3.20")
    bad_field: Any = dagger.Container(ctr._ctx.select("Container", "withExecutable", []))  # pyright: ignore[reportPrivateUsage]
    assert any("withExecutable" in e for e in validate(bad_field, schema))
    ctx = ctr._ctx.select("Container", "withExposedPort", [])  # pyright: ignore[reportPrivateUsage]
    assert any("port" in e for e in validate(dagger.Container(ctx), schema))
    nested_bad = dagger.CacheVolume(dag.cache_volume("x")._ctx.select("CacheVolume", "bogus", []))  # pyright: ignore[reportPrivateUsage]
    assert any("bogus" in e for e in validate(ctr.with_mounted_cache("/c", nested_bad), schema, "nested"))
