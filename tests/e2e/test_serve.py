"""End to end: `jessy-ci serve --runner host` with the real services, `jessy-ci smoke` against it, Ctrl-C (SIGINT)
stops everything cleanly, and every serve run starts on a fresh volume."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_host import jessy_ci

pytestmark = pytest.mark.slow

_URL_LINE = re.compile(r"^(jessy-core|jessy-api): (http://127\.0\.0\.1:\d+)$")
_VOLUME_LINE = re.compile(r"^volume: (\S+) \(temporary, removed on exit\)$")


@dataclass
class Served:
    process: subprocess.Popen[str]
    urls: dict[str, str]
    volume: Path
    output: list[str]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def _layers(core: str) -> list[str]:
    status, body = _get(f"{core}/layers")
    assert status == 200
    return [layer["name"] for layer in json.loads(body)["layers"]]


def _put(url: str, data: bytes) -> int:
    request = urllib.request.Request(url, data=data, method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _port_closed(url: str) -> bool:
    """Nothing accepts a connection on the URL's port any more."""
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return True
    return False


@contextmanager
def serving(reports: Path) -> Iterator[Served]:
    """`jessy-ci serve --runner host --core-port 0 --api-port 0`, read until both URLs are printed."""
    ports = ("--core-port", "0", "--api-port", "0")
    process = subprocess.Popen(
        [sys.executable, "-m", "jessy_ci", "serve", "--runner", "host", *ports, "--reports", str(reports)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    urls: dict[str, str] = {}
    volume: Path | None = None
    try:
        for line in process.stdout:  # ends when the process does: a failed start ends the loop
            output.append(line.rstrip("\n"))
            if m := _VOLUME_LINE.match(output[-1]):
                volume = Path(m.group(1))
            if m := _URL_LINE.match(output[-1]):
                urls[m.group(1)] = m.group(2)
            if len(urls) == 2:
                break
        assert len(urls) == 2 and volume is not None, "\n".join(output[-40:])
        yield Served(process, urls, volume, output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stop(served: Served) -> int:
    """SIGINT, as Ctrl-C does; the rest of the output is collected."""
    served.process.send_signal(signal.SIGINT)
    rest, _ = served.process.communicate(timeout=60)
    served.output += rest.splitlines()
    return served.process.returncode


def test_serve_runs_both_services_smoke_passes_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    with serving(tmp_path / "serve-reports") as served:
        core, api = served.urls["jessy-core"], served.urls["jessy-api"]
        assert served.volume.is_dir() and (served.volume / "VERSION").read_text().strip() == "1", "init-volume ran"
        assert _get(f"{core}/health")[0] == 200
        status, body = _get(f"{api}/api/health")
        assert status == 200 and json.loads(body)["core"]["status"] == "ok"

        smoke = jessy_ci(
            "smoke", "--url", api, "--core-url", core, "--timeout", "30", "--reports", str(tmp_path / "smoke"), cwd=ROOT
        )
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr
        assert "scratch layer smoke-" in smoke.stdout and "deleted (core answered 204)" in smoke.stdout
        assert _layers(core) == [], "the smoke scratch layer is cleaned up"

        assert _put(f"{api}/api/layers/kept", b"layer bytes") in (200, 201, 204)
        assert _layers(core) == ["kept"]
        assert _get(f"{api}/api/layers/kept") == (200, b"layer bytes")

        code = stop(served)
        text = "\n".join(served.output)
        assert code == 0, text[-3000:]
        assert "SIGINT received: stopping the services" in text
        assert "[jessy-api] stopped" in text and "[jessy-core] stopped" in text
        assert _port_closed(core) and _port_closed(api), "both service processes are gone"
        assert not served.volume.exists(), "the temporary volume is removed"
        assert (tmp_path / "serve-reports" / "services" / "jessy-core.log").is_file()


def test_two_serve_runs_in_a_row_do_not_share_layers(tmp_path: Path) -> None:
    with serving(tmp_path / "first") as first:
        api = first.urls["jessy-api"]
        assert _put(f"{api}/api/layers/from-the-first-run", b"first") in (200, 201, 204)
        assert _layers(first.urls["jessy-core"]) == ["from-the-first-run"]
        assert stop(first) == 0
    with serving(tmp_path / "second") as second:
        assert second.volume != first.volume
        assert _layers(second.urls["jessy-core"]) == []
        status = 0
        try:
            status = _get(f"{second.urls['jessy-api']}/api/layers/from-the-first-run")[0]
        except urllib.error.HTTPError as e:
            status = e.code
        assert status == 404
        assert stop(second) == 0
