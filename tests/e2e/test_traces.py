"""End to end: one request through jessy-api yields a span in each service, in one trace (W3C traceparent passed
api → core), exported over OTLP/HTTP to a receiver this test starts on 127.0.0.1; and the request logs carry it."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import anyio
import pytest

from jessy_ci import config
from jessy_ci.runners.host import HostRunner
from jessy_ci.verbs.plan import serve_specs
from tests.conftest import ROOT
from tests.support.otlp import ReceivedSpan, otlp_receiver

pytestmark = pytest.mark.slow

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def put_layer(api: str) -> int:
    """PUT a small layer through the api as a traced caller would (its traceparent header)."""
    put = urllib.request.Request(
        f"{api}/api/layers/traced",
        data=b"x" * 64,
        method="PUT",
        headers={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
    )
    with urllib.request.urlopen(put, timeout=30) as answer:
        return answer.status


def test_a_request_through_the_api_is_one_trace_across_both_services(project: config.Project, tmp_path: Path) -> None:
    with otlp_receiver() as receiver:
        # both services export to the receiver, quickly (no 5 s batch delay)
        # (the traces endpoint too: one inherited from the environment would win over the generic one)
        otel = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{receiver.endpoint}/v1/traces",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        specs = serve_specs(project, otel)
        specs = tuple(s for s in specs if s.name in {"jessy-core", "jessy-api"})
        (tmp_path / "data").mkdir()

        async def request_through_the_api() -> None:
            async with HostRunner(ROOT).services(specs, tmp_path / "data", tmp_path / "reports") as urls:
                status = await anyio.to_thread.run_sync(put_layer, urls["jessy-api"])
                assert status == 201

                def both(spans: list[ReceivedSpan]) -> bool:
                    services = {s.service for s in spans if s.trace_id == TRACE_ID}
                    return {"jessy-api", "jessy-core"} <= services

                await anyio.to_thread.run_sync(receiver.wait_for, both)

        anyio.run(request_through_the_api)
    traced = [s for s in receiver.spans if s.trace_id == TRACE_ID]
    api_server = [s for s in traced if s.service == "jessy-api" and s.name == "PUT /api/layers/{name}"]
    api_client = [s for s in traced if s.service == "jessy-api" and s.name == "PUT /layers/{name}"]
    core_server = [s for s in traced if s.service == "jessy-core" and s.name == "PUT /layers/{name}"]
    assert len(api_server) == 1 and len(api_client) == 1 and len(core_server) == 1, traced
    assert api_server[0].parent_span_id == CALLER_SPAN  # the caller's traceparent
    assert api_client[0].parent_span_id == api_server[0].span_id
    assert core_server[0].parent_span_id == api_client[0].span_id  # the traceparent api sent to core
    assert core_server[0].attributes.get("http.route") == "/layers/{name}"
    # the request logs of both services carry the trace id
    for name in ("jessy-api", "jessy-core"):
        lines = (tmp_path / "reports" / "services" / f"{name}.log").read_text().splitlines()
        logged = [json.loads(line) for line in lines if line.startswith("{") and '"PUT"' in line]
        assert any(entry.get("trace_id") == TRACE_ID for entry in logged), (name, lines[-5:])
