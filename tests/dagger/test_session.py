"""Client mode (`jessy-ci … --runner dagger`): an engine that cannot be reached is bad input said in one line, before
any session starts (the dagger CLI would otherwise retry for minutes)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from jessy_ci.errors import UsageError
from jessy_ci.runners.dagger import check_engine
from tests.cli.test_cli import jessy_ci


def test_a_unix_socket_nothing_listens_on_names_the_setting(tmp_path: Path) -> None:
    host = f"unix://{tmp_path / 'engine.sock'}"
    with pytest.raises(UsageError, match=r"^_EXPERIMENTAL_DAGGER_RUNNER_HOST=unix://.*: no Dagger engine answers"):
        check_engine({"_EXPERIMENTAL_DAGGER_RUNNER_HOST": host})


def test_a_tcp_port_nothing_listens_on_names_the_setting() -> None:
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UsageError, match=r"no Dagger engine answers there .*; expected a dagger CLI on PATH"):
        check_engine({"_EXPERIMENTAL_DAGGER_RUNNER_HOST": f"tcp://127.0.0.1:{port}"})


def test_a_listening_engine_a_session_or_a_driver_scheme_passes(tmp_path: Path) -> None:
    path = tmp_path / "e.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen(1)
        check_engine({"_EXPERIMENTAL_DAGGER_RUNNER_HOST": f"unix://{path}"})
    check_engine({"DAGGER_SESSION_PORT": "1234", "_EXPERIMENTAL_DAGGER_RUNNER_HOST": "unix:///nowhere"})
    check_engine({"_EXPERIMENTAL_DAGGER_RUNNER_HOST": "kube-pod://dagger-0?namespace=dagger"})
    check_engine({})


def test_the_cli_exits_2_with_one_line_and_runs_nothing(tmp_path: Path) -> None:
    env = {"_EXPERIMENTAL_DAGGER_RUNNER_HOST": f"unix://{tmp_path / 'none.sock'}"}
    done = jessy_ci("test", "--runner", "dagger", "--reports", str(tmp_path / "r"), env=env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no Dagger engine answers there" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "r").exists()
