"""jessy-ci's own spans: one per command, verb and step, with the step's outcome; nothing without OTLP settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from jessy_ci import config, tracing
from jessy_ci.session import Session
from jessy_ci.verbs.ci import run_ci
from tests.conftest import ROOT
from tests.support.otlp import ReceivedSpan, otlp_receiver
from tests.verbs.test_ci import FakeRunner

EXPORTER = InMemorySpanExporter()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans recorded in memory (the global provider is set once per process)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),  # a name alone exports nothing
    ],
)
def test_spans_are_recorded_only_with_an_otlp_endpoint(env: dict[str, str], expected: bool) -> None:
    assert tracing.enabled(env) is expected


def test_without_an_endpoint_a_run_records_nothing(project: config.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in tracing.ENDPOINTS:
        monkeypatch.delenv(name, raising=False)
    EXPORTER.clear()
    anyio.run(run_ci, Session(project, FakeRunner(set())), ["jessy-api"])
    assert EXPORTER.get_finished_spans() == ()


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans}


def test_every_step_is_a_span_under_its_verb_with_its_outcome(
    project: config.Project, recorded: InMemorySpanExporter
) -> None:
    anyio.run(run_ci, Session(project, FakeRunner({"jessy-api:unit"})), ["jessy-api"])
    spans = by_name(recorded.get_finished_spans())
    unit, vet, test = spans["jessy-api:unit"], spans["jessy-api:vet"], spans["test"]
    assert unit.parent is not None and test.context is not None and unit.parent.span_id == test.context.span_id
    assert vet.parent is not None and spans["lint"].context is not None
    assert vet.parent.span_id == spans["lint"].context.span_id
    assert dict(unit.attributes or {}) == {
        "jessy_ci.component": "jessy-api",
        "jessy_ci.kind": "unit",
        "jessy_ci.runner": "fake",
        "jessy_ci.status": "failed",
        "jessy_ci.duration_seconds": 0.5,
        "jessy_ci.detail": "exit code 1: boom",
        "jessy_ci.tests.passed": 1,
        "jessy_ci.tests.failed": 0,
        "jessy_ci.tests.skipped": 0,
        "jessy_ci.tests.total": 1,
    }
    assert (
        unit.status.status_code is StatusCode.ERROR
        and unit.status.description == "jessy-api:unit: failed (exit code 1: boom)"
    )
    assert vet.status.status_code is StatusCode.UNSET and (vet.attributes or {})["jessy_ci.status"] == "passed"
    assert (test.attributes or {})["jessy_ci.runner"] == "fake"


@pytest.mark.slow
def test_the_cli_exports_its_spans_over_otlp_to_a_local_receiver(tmp_path: Path) -> None:
    """A real run of the host runner with OTEL_EXPORTER_OTLP_ENDPOINT: the command, the verb and each step arrive
    at an OTLP/HTTP receiver on 127.0.0.1, in one trace, named jessy-ci."""
    with otlp_receiver() as receiver:
        env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        for inherited in ("OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):  # they would win over ours
            env.pop(inherited, None)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "jessy_ci",
                "lint",
                "-c",
                "jessy-api",
                "--runner",
                "host",
                "--reports",
                str(tmp_path),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

        def complete(spans: list[ReceivedSpan]) -> bool:
            return any(s.name == "jessy-ci lint" for s in spans)

        spans = receiver.wait_for(complete)
    names = {s.name for s in spans}
    assert {"jessy-ci lint", "lint", "jessy-api:vet", "jessy-api:gofmt"} <= names, names
    assert {s.service for s in spans} == {"jessy-ci"}
    assert len({s.trace_id for s in spans}) == 1
    root = next(s for s in spans if s.name == "jessy-ci lint")
    verb = next(s for s in spans if s.name == "lint")
    vet = next(s for s in spans if s.name == "jessy-api:vet")
    assert verb.parent_span_id == root.span_id and vet.parent_span_id == verb.span_id
    assert vet.attributes["jessy_ci.runner"] == "host" and vet.attributes["jessy_ci.status"] == "passed"
