"""smoke against a fake api (healthy, degraded, silent), bad input, and the Dagger container's schema."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import graphql
import pytest
from dagger import dag

from jessy_ci.gates.summary import render as render_summary
from jessy_ci.runners.dagger import DaggerRunner
from jessy_ci.toolchains import repo
from jessy_ci.verbs.smoke import SmokeTarget, run_smoke
from tests.cli.test_cli import jessy_ci
from tests.support.dagger_schema import validate


class FakeApi(BaseHTTPRequestHandler):
    layers: dict[str, bytes] = {}  # noqa: RUF012
    core_status = "ok"
    deleted: list[str] = []  # noqa: RUF012

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/health":
            ok = self.core_status == "ok"
            body = {"status": "ok" if ok else "degraded", "core": {"status": self.core_status}}
            self._send(200 if ok else 503, json.dumps(body).encode())
        elif self.path.startswith("/api/layers/") and self.path[12:] in self.layers:
            self._send(200, self.layers[self.path[12:]])
        else:
            self._send(404, b"{}")

    def do_PUT(self) -> None:
        self.layers[self.path[12:]] = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(201, b"{}")

    def do_DELETE(self) -> None:
        self.deleted.append(self.path)
        self._send(204, b"")


@pytest.fixture
def api() -> Iterator[str]:
    FakeApi.layers, FakeApi.deleted, FakeApi.core_status = {}, [], "ok"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_healthy_deployment_passes_every_check_and_the_scratch_layer_is_deleted(api: str) -> None:
    report = anyio.run(run_smoke, SmokeTarget(api, 5, core_url=api), lambda _: None)
    assert report.passed, report.failures()
    assert [s.kind for s in report.steps] == ["api-health", "core-health", "layer-round-trip"]
    assert len(FakeApi.deleted) == 1 and FakeApi.deleted[0].startswith("/layers/smoke-")
    assert any("deleted" in n for n in report.notes)


def test_a_degraded_core_fails_with_what_was_seen(api: str) -> None:
    FakeApi.core_status = "unreachable"
    report = anyio.run(run_smoke, SmokeTarget(api, 0.6), lambda _: None)
    assert not report.passed
    failed = report.steps[-1]
    assert failed.kind == "api-health" and failed.status == "failed"
    assert "not passing within 0.6s: GET /api/health answered 503" in failed.detail
    assert "smoke:api-health: failed" in render_summary(report)


def test_nothing_listening_exits_1_with_a_clear_report(tmp_path: object) -> None:
    done = jessy_ci("smoke", "--url", "http://127.0.0.1:9", "--timeout", "0.5", "--reports", str(tmp_path))
    assert done.returncode == 1
    assert "smoke:api-health" in done.stdout and "ConnectError" in done.stdout
    assert "## jessy-ci smoke: failed" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "localhost:3000"], "--url 'localhost:3000': expected an http(s) URL"),
        (["--url", "http://x", "--timeout", "-1"], "--timeout -1: expected seconds, more than 0"),
        (["--url", "http://x", "--timeout", "soon"], "--timeout 'soon': expected a number"),
        ([], "--url: missing; expected the api's URL"),
        (["--env", "qa"], "--env 'qa': unknown environment; expected one of: development, production, staging"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    done = jessy_ci("smoke", *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_dagger_smoke_container_is_valid(schema: graphql.GraphQLSchema) -> None:
    runner = DaggerRunner(dag.host().directory("."), run_id="schema-test")
    step = repo.smoke("https://staging.jessy.example", 30, "", runner.run_id)
    assert validate(runner.container(step), schema) == []
    bound = DaggerRunner(dag.host().directory("."), services={"jessy-api": dag.host().service([])}, run_id="t")
    api_step = repo.smoke("http://jessy-api:3000", 30, "", bound.run_id, bound=("jessy-api",))
    chain = [s.name for s in bound.container(api_step)._ctx.selections]  # pyright: ignore[reportPrivateUsage]
    assert "withServiceBinding" in chain
    assert validate(bound.container(api_step), schema) == []


# What the smoke container has: httpx and anyio (toolchains/repo.py), not the HTML report's libraries.
WITHOUT_THE_PAGES_LIBRARIES = """
import runpy, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"jinja2", "markupsafe", "pygal"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Absent())
sys.argv = ["smoke", *sys.argv[1:]]
runpy.run_module("jessy_ci.verbs.smoke", run_name="__main__")
"""


def test_the_smoke_container_prints_its_summary_without_the_html_reports_libraries(api: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_PAGES_LIBRARIES, api, "10", ""],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "## jessy-ci smoke: passed" in done.stdout
    assert "ModuleNotFoundError" not in done.stdout + done.stderr
