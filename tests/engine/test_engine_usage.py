"""On a real engine: `serve up` with smoke tests against it, client mode from the CLI, and the module used on
another repository, as daggerverse modules are."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.engine.conftest import Engine, commit

pytestmark = pytest.mark.engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return int(answer.status)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def test_serve_up_answers_smoke_tests_from_the_host_and_from_the_engine(engine: Engine, tmp_path: Path) -> None:
    core, api = free_port(), free_port()
    served = subprocess.Popen(
        [engine.cli, "call", "serve", "up", "--ports", f"{core}:8080,{api}:3000"],
        cwd=ROOT,
        env=engine.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{api}/api/health", 900) == 200
        smoke = engine.jessy_ci(
            "smoke",
            "--url",
            f"http://127.0.0.1:{api}",
            "--core-url",
            f"http://127.0.0.1:{core}",
            "--timeout",
            "60",
            "--reports",
            str(tmp_path / "smoke"),
        )
        assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
        assert "wrote and read back 64 bytes" in smoke.stdout and "deleted (core answered 204)" in smoke.stdout
        through = engine.dagger("call", "smoke", "--api", f"tcp://localhost:{api}", "--timeout", "60")
        assert through.returncode == 0, through.stdout[-3000:] + through.stderr[-3000:]
        assert "## jessy-ci smoke: passed" in through.stdout
    finally:
        served.send_signal(signal.SIGINT)
        try:
            served.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            served.kill()
            served.communicate()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{api}/api/health", timeout=5)


def test_client_mode_runs_the_same_steps_and_writes_the_reports_on_the_host(engine: Engine, tmp_path: Path) -> None:
    done = engine.jessy_ci("test", "--runner", "dagger", "--component", "jessy-api", "--reports", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for kind in ("unit", "integration"):
        root = ET.parse(tmp_path / "junit" / f"jessy-api-{kind}.xml").getroot()
        assert int(root.get("tests", "0")) > 0 and root.get("failures") == "0"
    assert json.loads((tmp_path / "verdict.json").read_text())["passed"] is True


OTHER_RUST = """pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(2, 3), 5);
    }
}
"""
OTHER_GO = """package greet

// Hello greets name.
func Hello(name string) string { return "hello " + name }
"""
OTHER_GO_TEST = """package greet

import "testing"

func TestHello(t *testing.T) {
\tif got := Hello("jessy"); got != "hello jessy" {
\t\tt.Fatalf("got %q", got)
\t}
}
"""
OTHER_CONFIG = """[components.calc]
language = "rust"
path = "calc"
tests = ["unit"]

[components.greet]
language = "go"
path = "greet"
tests = ["unit"]
"""


def test_the_module_runs_the_pipeline_of_another_repository(engine: Engine, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "calc" / "src").mkdir(parents=True)
    (other / "calc" / "Cargo.toml").write_text('[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n')
    (other / "calc" / "src" / "lib.rs").write_text(OTHER_RUST)
    subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=other / "calc", check=True, capture_output=True)
    (other / "greet").mkdir()
    (other / "greet" / "go.mod").write_text("module example.com/greet\n\ngo 1.26\n")
    (other / "greet" / "greet.go").write_text(OTHER_GO)
    (other / "greet" / "greet_test.go").write_text(OTHER_GO_TEST)
    (other / "jessy-ci.toml").write_text(OTHER_CONFIG)
    commit(other, "a small Rust + Go repository")
    done = engine.dagger("-m", str(ROOT), "call", "--source", str(other), "test", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| calc:unit | calc | ✅ passed |" in done.stdout and "1 passed, 0 failed" in done.stdout
    assert "| greet:unit | greet | ✅ passed |" in done.stdout
    assert "jessy-core" not in done.stdout, "the pipeline is the other repository's, from its jessy-ci.toml"
