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
from jessy_ci.runners.dagger_images import read_only_root, with_probe
from jessy_ci.steps import ServiceSpec, Step
from jessy_ci.toolchains import readonly
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


def test_a_production_image_run_read_only_with_its_probe_is_valid(schema: graphql.GraphQLSchema) -> None:
    image = dag.container().from_("gcr.io/distroless/cc-debian12:nonroot")
    ctr = read_only_root(image, ["etc/", "tmp/", "usr/", "data/", "bin"], "/data")
    ctr = ctr.with_mounted_cache("/data", dag.cache_volume("data"), owner="65532")
    probe = readonly.probe(
        ServiceSpec("jessy-core", "jessy-core", "", ".", (), ("jessy-core",), 8080, "PORT", "/health", "URL")
    )
    assert (
        validate(with_probe(ctr, probe, [*probe.argv, "/data", "/", "/tmp", "--", "/usr/local/bin/jessy-core"]), schema)
        == []
    )


def test_the_validator_rejects_what_the_engine_would_reject(schema: graphql.GraphQLSchema) -> None:
    ctr = dag.container().from_("alpine:3.20")
    bad_field: Any = dagger.Container(ctr._ctx.select("Container", "withExecutable", []))  # pyright: ignore[reportPrivateUsage]
    assert any("withExecutable" in e for e in validate(bad_field, schema))
    ctx = ctr._ctx.select("Container", "withExposedPort", [])  # pyright: ignore[reportPrivateUsage]
    assert any("port" in e for e in validate(dagger.Container(ctx), schema))
    nested_bad = dagger.CacheVolume(dag.cache_volume("x")._ctx.select("CacheVolume", "bogus", []))  # pyright: ignore[reportPrivateUsage]
    assert any("bogus" in e for e in validate(ctr.with_mounted_cache("/c", nested_bad), schema, "nested"))
