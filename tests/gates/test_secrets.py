"""The secret scan: committed .env files, private keys and token formats. Fake secrets are built at run time so
that this file itself never looks like it holds one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jessy_ci.gates.secrets import Finding, scan, scan_file
from jessy_ci.secretscan import tracked_files
from tests.support.preconditions import needs_git

ALNUM36 = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3gH5"  # 36 letters and digits, not a real token
HEADER = "-----BEGIN " + "{}PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (HEADER.format("RSA "), "private key"),
        (HEADER.format("OPENSSH "), "private key"),
        (HEADER.format(""), "private key"),
        (HEADER.format("PGP ").replace("KEY-----", "KEY BLOCK-----"), "private key"),
        ("token = '" + "ghp_" + ALNUM36 + "'", "GitHub token"),
        ("GH=" + "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnop", "GitHub token"),
        ("aws_access_key_id=" + "AKIA" + "ABCDEFGHIJKLMNOP", "AWS access key id"),
        ("SLACK=" + "xoxb-" + "1234567890-abcdefghij", "Slack token"),
    ],
)
def test_token_formats_are_found_with_file_and_line(line: str, kind: str) -> None:
    findings = scan_file("config/app.yaml", f"first line\n{line}\n".encode())
    assert findings == [Finding("config/app.yaml", 2, kind)]
    assert findings[0].describe() == f"config/app.yaml:2: looks like a committed {kind}"
    assert line.split("=")[-1].strip("'") not in findings[0].describe()


@pytest.mark.parametrize(
    "line",
    [
        "ghp_short",
        "the word PRIVATE KEY in prose",
        "AKIA lowercase akiaabcdefghijklmnop",
        "secret = os.environ['TOKEN']",
        "-----BEGIN PUBLIC KEY-----",
    ],
)
def test_ordinary_text_is_not_flagged(line: str) -> None:
    assert scan_file("a.py", line.encode()) == []


@pytest.mark.parametrize(
    ("path", "flagged"),
    [(".env", True), ("services/x/.env.local", True), (".env.production", True), (".env.example", False)],
)
def test_env_files_are_flagged_but_the_example(path: str, flagged: bool) -> None:
    assert bool(scan_file(path, b"JESSY_API_PORT=3000\n")) == flagged


def test_binary_files_are_skipped_and_every_finding_is_listed() -> None:
    key = HEADER.format("EC ").encode()
    files = [("img.png", b"\x89PNG\0" + key), ("a.pem", key), (".env", b"")]
    assert [f.path for f in scan(files)] == ["a.pem", ".env"]


@needs_git
def test_the_step_module_scans_tracked_files_and_exits_1_on_a_finding(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "ok.txt").write_text("nothing here\n")
    (tmp_path / "id_rsa").write_text(HEADER.format("RSA ") + "\n")
    git("add", "ok.txt")
    assert tracked_files(tmp_path) == ["ok.txt"]
    run = [sys.executable, "-m", "jessy_ci.secretscan"]
    clean = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert clean.returncode == 0 and "1 files, 0 findings" in clean.stdout
    git("add", "id_rsa")
    found = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert found.returncode == 1
    assert "id_rsa:1: looks like a committed private key" in found.stdout


def test_without_git_every_file_but_local_environments_is_scanned(tmp_path: Path) -> None:
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x").write_text("")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("")
    assert tracked_files(tmp_path) == ["src/a.py"]


def test_the_repository_itself_is_clean() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "jessy_ci.secretscan"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
