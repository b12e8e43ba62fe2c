"""The command line as a user sees it: help, exit codes, and one clear line for every bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def jessy_ci(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jessy_ci", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_help_lists_every_command_and_does_not_import_dagger() -> None:
    code = "import sys; from jessy_ci.cli import main; rc = main(['--help']); print('dagger' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "lint" in done.stdout and "test" in done.stdout
    assert done.stdout.strip().endswith("False")


@pytest.mark.parametrize("command", ["lint", "test"])
def test_every_command_has_help(command: str) -> None:
    done = jessy_ci(command, "--help")
    assert done.returncode == 0
    for option in ("--runner", "--component", "--reports"):
        assert option in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["test", "--runner", "kubernetes"],
            "error: --runner 'kubernetes': unknown runner; expected one of: dagger, host",
        ),
        (["lint", "--runner", "host", "-c", "nope"], "error: --component 'nope': unknown component; expected one of:"),
        (["test", "--no-such-flag"], "error: No such option: --no-such-flag"),
        (["deploy"], "error: No such command 'deploy'"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    done = jessy_ci(*args)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert done.stdout == ""


def test_broken_config_exits_2_naming_file_key_and_expectation(tmp_path: Path) -> None:
    (tmp_path / "jessy-ci.toml").write_text('[components.x]\nlanguage = "cobol"\npath = "."\n')
    done = jessy_ci("test", "--runner", "host", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "jessy-ci: error: jessy-ci.toml: components.x.language: expected one of rust, go, python, got 'cobol'"
    )
    assert not (tmp_path / "reports").exists(), "nothing is done on bad input"


def test_no_config_anywhere_exits_2(tmp_path: Path) -> None:
    done = jessy_ci("lint", "--runner", "host", cwd=tmp_path)
    assert done.returncode == 2
    assert "jessy-ci.toml: not found" in done.stderr


def test_default_runner_falls_back_to_host_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "jessy-ci.toml").write_text(
        '[components.x]\nlanguage = "python"\npath = "."\ntests = []\nlint_paths = []\n'
    )
    env = {"PATH": str(Path(sys.executable).parent), "DAGGER_SESSION_PORT": ""}
    done = jessy_ci("test", cwd=tmp_path, env=env)
    assert done.returncode == 0, done
    assert "no Dagger session or dagger CLI found; using the host runner" in done.stderr
    assert (tmp_path / "reports" / "summary.md").is_file()
