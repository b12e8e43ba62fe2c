"""The release verbs on the host runner: `scan` runs trivy fs (secret + misconfig scanners, offline) and fails
plainly without trivy; `build` builds the release binaries natively and prints their sizes."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import anyio
import pytest

from jessy_ci import config
from jessy_ci.runners.host import HostRunner
from jessy_ci.session import Session
from jessy_ci.toolchains import trivy
from jessy_ci.verbs.build import HOST_NOTE, run_build
from jessy_ci.verbs.scan import ScanOptions, run_scan
from tests.conftest import ROOT

OPTIONS = ScanOptions(("CRITICAL",), ignore_unfixed=False)


def test_the_dev_environment_pins_the_same_trivy_as_the_toolchain() -> None:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert trivy.HOST_PACKAGE in dev
    assert trivy.IMAGE.endswith(f":{trivy.TRIVY_VERSION}")


def test_scan_without_trivy_fails_saying_trivy_not_found(
    project: config.Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host runner puts the interpreter's folder (the venv, which has trivy) first on PATH: move it away.
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    runner = HostRunner(ROOT, echo=lambda _: None, cache_dir=tmp_path / "cache")
    report = anyio.run(lambda: run_scan(Session(project, runner), [], OPTIONS))
    assert not report.passed
    (step,) = report.steps
    assert step.status == "failed" and "trivy not found" in step.detail


@pytest.mark.slow
def test_host_scan_writes_json_and_sarif_and_gates(project: config.Project, tmp_path: Path) -> None:
    runner = HostRunner(ROOT, echo=lambda _: None, cache_dir=tmp_path / "cache")
    report = anyio.run(lambda: run_scan(Session(project, runner), [], OPTIONS))
    assert report.passed, report.failures()
    assert {"scan/source.json", "scan/source.sarif", "scan/summary.md"} <= set(report.files)
    assert b'"SchemaVersion"' in report.files["scan/source.json"]
    assert any("secret and misconfiguration scanners only" in n for n in report.notes)
    assert any("need a Dagger engine" in n for n in report.notes)


@pytest.mark.slow
def test_host_build_builds_release_binaries_and_prints_their_sizes(project: config.Project) -> None:
    lines: list[str] = []
    runner = HostRunner(ROOT, echo=lambda _: None)
    report = anyio.run(lambda: run_build(Session(project, runner, lines.append), []))
    assert report.passed, report.failures()
    assert [s.name for s in report.steps] == ["jessy-core:release", "jessy-api:release"]
    for step in report.steps:
        assert dict(step.metrics)["binary"].endswith(("MB", "kB"))
    assert HOST_NOTE in report.notes
    assert any("jessy-api:release: release binary" in line for line in lines)
