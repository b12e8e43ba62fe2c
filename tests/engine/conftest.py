"""The engine tier: every jessy-ci Dagger function run on a real Dagger engine, as a user runs it (`dagger call …`,
`dagger check`, `jessy-ci … --runner dagger`).

Where the engine comes from, in this order:
- ``JESSY_DAGGER_ENGINE`` names the engine harness (``../shared/dagger-engine/engine``, what `.ci/run` sets): the
  session runs ``engine up``, ``engine images`` for the harness's part of ``tests/engine/images.txt``, builds the
  stand-ins no harness KIND fits (``standins.py``) and runs ``engine down`` at the end;
- else a ``dagger`` CLI on PATH (a machine with Docker): its engine and the upstream images;
- else every test here skips, saying so in one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.engine.standins import harness_spec, read_spec
from tests.support.trivy_db import prepare_trivy_db

HARNESS = "JESSY_DAGGER_ENGINE"
SPEC = Path(__file__).resolve().parent / "images.txt"
STANDINS = Path(__file__).resolve().parent / "standins.py"
GIT_IDENTITY = ("-c", "user.name=jessy-ci tests", "-c", "user.email=tests@jessy-ci.invalid")
# Advisories of the prepared Trivy DBs (Debian 12 source packages of the distroless images' libraries).
CRITICAL_ADVISORY = {
    "id": "CVE-2099-0001",
    "os": "debian 12",
    "package": "glibc",
    "fixed_version": "99.0",
    "severity": "CRITICAL",
    "title": "jessy-ci engine test: glibc",
}
HIGH_UNFIXED = {
    "id": "CVE-2099-0002",
    "os": "debian 12",
    "package": "openssl",
    "fixed_version": "",
    "severity": "HIGH",
    "title": "jessy-ci engine test: openssl, unfixed",
}


@dataclass(frozen=True)
class Engine:
    """How to reach the engine: the env for `dagger` and the SDK, and the local registry (harness only)."""

    env: dict[str, str]
    registry: str | None  # the harness's registry as this machine sees it (127.0.0.1:5000)
    harness: bool

    @property
    def cli(self) -> str:
        return self.env.get("DAGGER_CLI") or shutil.which("dagger", path=self.env.get("PATH")) or "dagger"

    def dagger(self, *args: str, cwd: Path = ROOT, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        """`dagger ARGS` as a user types it, from ``cwd``; output captured (plain progress on stderr)."""
        return subprocess.run(
            [self.cli, "--progress=plain", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def jessy_ci(self, *args: str, cwd: Path = ROOT, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jessy_ci", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 3600) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def _env_list(path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key:
            env[key] = value
    state = Path(env["DAGGER_ENGINE_STATE"])
    env["PATH"] = f"{state / 'path'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    harness = os.environ.get(HARNESS)
    if harness:
        script = Path(harness)
        env_file = _run([str(script), "up"]).strip().splitlines()[-1]
        try:
            with tempfile.NamedTemporaryFile("w", suffix=".spec", delete=False) as spec:
                spec.write(harness_spec(read_spec(SPEC)))
            _run([str(script), "images", spec.name])
            env = _env_list(Path(env_file + ".list"))
            _run([sys.executable, str(STANDINS), str(SPEC)], env=env)
            yield Engine(env, env.get("DAGGER_ENGINE_REGISTRY", "127.0.0.1:5000"), harness=True)
        finally:
            _run([str(script), "down"])
        return
    if shutil.which("dagger") is None:
        pytest.skip(
            f"no Dagger engine: set {HARNESS} to the harness (../shared/dagger-engine/engine) or put dagger on PATH"
        )
    yield Engine(dict(os.environ), None, harness=False)


@pytest.fixture(scope="session")
def harness(engine: Engine) -> Engine:
    """Tests that need the harness itself: its local registry, or its stand-ins' known limits."""
    if not engine.harness:
        pytest.skip(f"needs the engine harness ({HARNESS}): its local registry and stand-in images")
    return engine


@pytest.fixture(scope="session")
def trivy_db_critical(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared Trivy DB: a CRITICAL fixed advisory for glibc (jessy-core's image) and a HIGH unfixed one."""
    return prepare_trivy_db(tmp_path_factory.mktemp("trivy-critical"), [CRITICAL_ADVISORY, HIGH_UNFIXED])


@pytest.fixture(scope="session")
def trivy_db_clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared Trivy DB whose only advisory (HIGH, unfixed) passes the default CRITICAL gate."""
    return prepare_trivy_db(tmp_path_factory.mktemp("trivy-clean"), [HIGH_UNFIXED])


def git_copy(dest: Path) -> Path:
    """A copy of the repository's tracked files, committed in a fresh git repository (the module's GitRepository
    arguments need one)."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    commit(dest, "copy of jessy-ci")
    return dest


def commit(repo: Path, message: str) -> None:
    if not (repo / ".git").exists():
        _run(["git", "init", "-q", str(repo)])
    _run(["git", "-C", str(repo), "add", "-A"])
    _run(["git", "-C", str(repo), *GIT_IDENTITY, "commit", "-q", "--allow-empty", "-m", message])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="session")
def broken_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository with one Rust and one Go unit test broken on purpose."""
    repo = git_copy(tmp_path_factory.mktemp("broken") / "repo")
    edit(
        repo / "services/jessy-core/src/config.rs",
        "assert_eq!(c.port, 8080);",
        'assert_eq!(c.port, 8081, "broken on purpose");',
    )
    edit(
        repo / "services/jessy-api/internal/api/api_test.go",
        "func TestHealthOK(t *testing.T) {",
        'func TestHealthOK(t *testing.T) {\n\tt.Errorf("broken on purpose")',
    )
    commit(repo, "break a Rust and a Go unit test")
    return repo
