"""OpenTelemetry spans for jessy-ci's own run: one per command and one per step, the convention Dagger uses.

Nothing is imported, recorded or exported unless OpenTelemetry is configured by its standard variables
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, and not ``OTEL_SDK_DISABLED=true``).
Inside a Dagger function the engine sets those (and ``TRACEPARENT``) and the Dagger SDK installs the exporter, so the
spans appear inside Dagger's own trace; the CLI installs the same exporter through the same SDK code (``setup``).
Spans go through the OpenTelemetry API's global tracer provider: whatever installed it receives them.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from jessy_ci.report import StepResult

TRACER = "jessy-ci"
SERVICE_NAME = "jessy-ci"
TRACES_EXPORTER = "otlp_proto_http"  # the OTLP/HTTP protobuf exporter Dagger's Python SDK depends on (no gRPC)
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

Attribute = str | int | float | bool


class Span(Protocol):
    """What jessy-ci does with a span (the OpenTelemetry API's Span has these, and the no-op below)."""

    def set_attribute(self, key: str, value: Attribute) -> None: ...

    def update_name(self, name: str) -> None: ...

    def set_status(self, status: Any, description: str | None = None) -> None: ...  # an OpenTelemetry StatusCode


class _Unrecorded:
    def set_attribute(self, key: str, value: Attribute) -> None:
        pass

    def update_name(self, name: str) -> None:
        pass

    def set_status(self, status: Any, description: str | None = None) -> None:
        pass


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether spans are recorded: an OTLP endpoint is configured and the SDK is not disabled."""
    values = os.environ if env is None else env
    if values.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(values.get(name, "").strip() for name in ENDPOINTS)


def setup() -> None:
    """The CLI's start: install the OTLP exporter from the standard variables (the Dagger SDK's configurator, the
    one Dagger functions get), naming the service ``jessy-ci`` and exporting OTLP over HTTP (protobuf) unless
    OTEL_SERVICE_NAME / OTEL_TRACES_EXPORTER say otherwise."""
    if not enabled():
        return
    os.environ.setdefault("OTEL_SERVICE_NAME", SERVICE_NAME)
    os.environ.setdefault("OTEL_TRACES_EXPORTER", TRACES_EXPORTER)
    from dagger import telemetry

    telemetry.initialize()


def flush() -> None:
    """The CLI's end: export what is left (no-op without a configured exporter)."""
    if not enabled():
        return
    from dagger import telemetry

    telemetry.shutdown()


@contextmanager
def span(name: str, attributes: Mapping[str, Attribute] | None = None) -> Generator[Span]:
    """A span around the block (the current span's child); an exception marks it failed and goes on."""
    if not enabled():
        yield _Unrecorded()
        return
    from opentelemetry import trace

    with trace.get_tracer(TRACER).start_as_current_span(name, attributes=dict(attributes or {})) as current:
        yield current


def record_step(current: Span, result: StepResult, runner: str) -> None:
    """A step's outcome on its span (started with its component and kind): runner, status, duration and test
    counts."""
    if isinstance(current, _Unrecorded):
        return
    current.set_attribute("jessy_ci.runner", runner)
    current.set_attribute("jessy_ci.status", result.status)
    current.set_attribute("jessy_ci.duration_seconds", round(result.seconds, 3))
    if result.detail:
        current.set_attribute("jessy_ci.detail", result.detail)
    if result.tests is not None:
        for key, value in (
            ("passed", result.tests.passed),
            ("failed", result.tests.failed),
            ("skipped", result.tests.skipped),
            ("total", result.tests.total),
        ):
            current.set_attribute(f"jessy_ci.tests.{key}", value)
    if result.status != "passed":
        from opentelemetry.trace import StatusCode

        current.set_status(
            StatusCode.ERROR, f"{result.name}: {result.status}" + (f" ({result.detail})" if result.detail else "")
        )
