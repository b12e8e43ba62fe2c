"""Release path: publish orchestration over a fake image backend (nothing is pushed unless every gate passed),
size budgets, scans and the reports they always leave, `scan --from-report`, and the CLI's exit codes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest

from jessy_ci import config
from jessy_ci.config import Component
from jessy_ci.errors import UsageError
from jessy_ci.gates import trivy as trivy_gate
from jessy_ci.report import Report
from jessy_ci.runners import RunResult
from jessy_ci.session import Session
from jessy_ci.steps import JunitSource, Probe, ServiceSpec, Step
from jessy_ci.verbs.build import run_build
from jessy_ci.verbs.publish import Release, prepare, run_publish
from jessy_ci.verbs.scan import ScanOptions, run_scan_reports
from tests.cli.test_cli import jessy_ci
from tests.conftest import TRIVY_SAMPLES
from tests.support.preconditions import needs_checkout

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CLEAN = json.dumps({"SchemaVersion": 2, "Results": []}).encode()


def critical(package: str) -> bytes:
    vuln = {
        "VulnerabilityID": "CVE-2099-0001",
        "PkgName": package,
        "InstalledVersion": "1.0",
        "FixedVersion": "1.1",
        "Severity": "CRITICAL",
    }
    return json.dumps({"SchemaVersion": 2, "Results": [{"Target": "img", "Vulnerabilities": [vuln]}]}).encode()


@dataclass
class FakeImages:
    """The push boundary: records every push; sizes and scan results per image are set by the test."""

    sizes: dict[str, int] = field(default_factory=dict[str, int])
    scans: dict[str, bytes] = field(default_factory=dict[str, bytes])
    broken: set[str] = field(default_factory=set[str])
    pushed: list[str] = field(default_factory=list[str])
    calls: list[str] = field(default_factory=list[str])
    dead: set[str] = field(default_factory=set[str])
    writable: set[str] = field(default_factory=set[str])
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")

    async def build(self, component: Component) -> None:
        self.calls.append(f"build {component.name}")
        if component.name in self.broken:
            raise RuntimeError("docker build failed: exit code 101")

    async def size(self, component: Component) -> int:
        self.calls.append(f"size {component.name}")
        return self.sizes.get(component.name, 10_000_000)

    async def tarball_input(self, component: Component) -> str:
        self.calls.append(f"scan {component.name}")
        return f"image-{component.name}"

    async def boot(
        self, specs: tuple[ServiceSpec, ...], components: Mapping[str, Component], probe_image: str
    ) -> dict[str, int | None]:
        self.calls.append(f"boot {','.join(s.name for s in specs)} from {probe_image}")
        return {s.name: None if s.name in self.dead else s.health_status for s in specs}

    async def probe(
        self, specs: tuple[ServiceSpec, ...], components: Mapping[str, Component], probes: Mapping[str, Probe]
    ) -> dict[str, str]:
        """What the probe prints for an image run read-only: every directory refused, the data volume writable by
        its owner only (``writable`` names the services that can write outside it)."""
        self.calls.append(f"probe {','.join(s.name for s in specs)} with {probes[specs[0].name].image}")
        outputs: dict[str, str] = {}
        for s in specs:
            status = "none" if s.name in self.dead else str(s.health_status)
            lines = [
                f"health before {status}",
                "write / denied Permission denied",
                "write /etc denied Read-only file system",
            ]
            if s.name in self.writable:
                lines.append("write /tmp writable")
            if s.data_env:
                owner = bool(s.init_arguments())
                lines += ["data /data writable" if owner else "data /data denied Permission denied", "read /data ok"]
            outputs[s.name] = "\n".join([*lines, f"health after {status}"])
        return outputs

    async def push(self, component: Component, references: list[str]) -> list[str]:
        self.calls.append(f"push {component.name}")
        self.pushed += references
        return [f"{ref}@sha256:{'a' * 64}" for ref in references]


@dataclass
class FakeRunner:
    """Every test step passes (or fails, for the named steps), without running anything; a scan step leaves the
    Trivy report of ``scans`` (by component; clean when absent)."""

    failing: set[str] = field(default_factory=set[str])
    ran: list[str] = field(default_factory=list[str])
    scans: dict[str, bytes] = field(default_factory=dict[str, bytes])
    name: str = "fake"

    async def run(self, step: Step) -> RunResult:
        self.ran.append(step.name)
        if step.kind == "scan":
            assert step.inputs["JESSY_IMAGE_DIR"] == f"image-{step.component}"
            report = self.scans.get(step.component, CLEAN)
            files = {"scan.json": report, "scan.sarif": b'{"version": "2.1.0"}', "sbom.cdx.json": b'{"bomFormat": "x"}'}
            return RunResult(0, "", "", 0.1, files)
        ok = '{"Action":"pass","Test":"TestX","Package":"p"}\n' if step.name not in self.failing else ""
        out = "test x ... ok\n\ntest result: ok. 1 passed; 0 failed\n" if step.name not in self.failing else ""
        stdout = ok if step.toolchain == "go" else out
        junit = b'<testsuite name="s" tests="1"><testcase classname="c" name="t"/></testsuite>'
        files = {"junit.xml": junit} if step.junit is JunitSource.FILE else {}
        return RunResult(0 if step.name not in self.failing else 1, stdout, "", 0.1, files)


def options() -> ScanOptions:
    return ScanOptions(("CRITICAL",), ignore_unfixed=False)


def release(project: config.Project, tag: str = "v1.2.3") -> Release:
    return prepare(project, tag, COMMIT, "ghcr.io/acme")


def publish(project: config.Project, images: FakeImages, runner: FakeRunner, dry_run: bool = False) -> Report:
    runner.scans.update(images.scans)
    return anyio.run(lambda: run_publish(Session(project, runner, images=images), release(project), options(), dry_run))


# --- inputs -------------------------------------------------------------------------------------------------------


def test_tags_of_a_stable_and_of_a_pre_release(project: config.Project) -> None:
    assert release(project).tags == ("v1.2.3", "1.2.3", "sha-0123456", "latest")
    assert release(project, "v1.3.0-rc.1").references("jessy-api") == [
        "ghcr.io/acme/jessy-api:v1.3.0-rc.1",
        "ghcr.io/acme/jessy-api:1.3.0-rc.1",
        "ghcr.io/acme/jessy-api:sha-0123456",
    ]


@pytest.mark.parametrize(
    ("tag", "commit", "registry"),
    [
        ("1.2", COMMIT, "ghcr.io/acme"),
        ("v1", COMMIT, "ghcr.io/acme"),
        ("v1.2.3+build", COMMIT, "ghcr.io/acme"),
        ("v1.2", "HEAD", "ghcr.io/acme"),
        ("v1.2", COMMIT, "https://ghcr.io/acme"),
        ("v1.2", COMMIT, "ghcr.io/Acme:latest"),
    ],
)
def test_bad_release_inputs_are_usage_errors(project: config.Project, tag: str, commit: str, registry: str) -> None:
    with pytest.raises(UsageError):
        prepare(project, tag, commit, registry)


# --- orchestration ------------------------------------------------------------------------------------------------


def test_everything_passes_then_every_image_is_pushed_with_every_tag(project: config.Project) -> None:
    images, runner = FakeImages(), FakeRunner()
    report = publish(project, images, runner)
    assert report.passed, report.failures()
    assert len(images.pushed) == 8
    assert "ghcr.io/acme/jessy-core:latest" in images.pushed
    assert [c for c in images.calls if c.startswith("push")] == ["push jessy-core", "push jessy-api"]
    first_push = images.calls.index("push jessy-core")
    assert all(not c.startswith(("build", "size", "scan")) for c in images.calls[first_push:])
    assert runner.ran, "tests ran before the push"
    text = report.files["release.md"].decode()
    assert f"`sha256:{'a' * 64}`" in text and "ghcr.io/acme/jessy-api:v1.2.3" in text
    assert {"scan/jessy-core.json", "scan/jessy-api.sarif", "sbom/jessy-api.cdx.json"} <= set(report.files)


@pytest.mark.parametrize(
    "break_it",
    ["build", "test", "size", "scan", "boot", "readonly"],
)
def test_any_failure_pushes_nothing_and_is_listed(project: config.Project, break_it: str) -> None:
    images, runner = FakeImages(), FakeRunner()
    if break_it == "build":
        images.broken.add("jessy-api")
    elif break_it == "test":
        runner.failing.add("jessy-core:unit")
    elif break_it == "size":
        images.sizes["jessy-core"] = 150_000_000
    elif break_it == "boot":
        images.dead.add("jessy-api")
    elif break_it == "readonly":
        images.writable.add("jessy-core")
    else:
        images.scans["jessy-api"] = critical("openssl")
    report = publish(project, images, runner)
    assert not report.passed
    assert images.pushed == []
    assert not any(c.startswith("push") for c in images.calls)
    failures = "\n".join(report.failures())
    expected = {
        "build": "jessy-api:image: failed (docker build failed",
        "test": "jessy-core:unit: failed",
        "size": "image jessy-core: 150.0 MB > budget 100 MB",
        "scan": "scan jessy-api: vulnerability CVE-2099-0001 openssl 1.0 → 1.1 CRITICAL (img)",
        "boot": "jessy-api:boot: failed (GET /api/health → no answer, expected 200)",
        "readonly": "jessy-core:readonly: failed (writable outside the data volume: /tmp)",
    }[break_it]
    assert expected in failures
    assert "nothing was pushed" in " ".join(report.notes)
    assert "nothing was pushed" in report.files["release.md"].decode()


def test_every_failure_is_listed_not_only_the_first(project: config.Project) -> None:
    images = FakeImages(sizes={"jessy-api": 60_000_000}, scans={"jessy-core": critical("libc")})
    report = publish(project, images, FakeRunner())
    failures = report.failures()
    assert any("image jessy-api: 60.0 MB > budget 50 MB" in f for f in failures)
    assert any("CVE-2099-0001 libc" in f for f in failures)
    assert images.pushed == []


def test_dry_run_runs_every_gate_and_pushes_nothing(project: config.Project) -> None:
    images = FakeImages()
    report = publish(project, images, FakeRunner(), dry_run=True)
    assert report.passed
    assert images.pushed == []
    assert {"scan jessy-core", "scan jessy-api", "size jessy-core"} <= set(images.calls)
    assert "dry run" in " ".join(report.notes)


def test_build_boots_every_service_image_with_the_images_it_needs(project: config.Project) -> None:
    images = FakeImages()
    report = anyio.run(lambda: run_build(Session(project, FakeRunner(), images=images), []))
    assert "boot jessy-core,jessy-api from python:3.11-slim-bookworm" in images.calls
    boots = {s.name: s.detail for s in report.steps if s.kind == "boot"}
    assert boots == {"jessy-core:boot": "GET /health → 200", "jessy-api:boot": "GET /api/health → 200"}


def test_build_runs_every_service_image_read_only_and_only_the_volume_owner_writes_it(
    project: config.Project,
) -> None:
    images = FakeImages()
    report = anyio.run(lambda: run_build(Session(project, FakeRunner(), images=images), []))
    assert "probe jessy-core,jessy-api with busybox:1.37.0-musl" in images.calls
    probes = {s.name: (s.status, s.detail) for s in report.steps if s.kind == "readonly"}
    refused = "2 directories refused a write (Permission denied, Read-only file system)"
    assert probes == {
        "jessy-core:readonly": ("passed", f"{refused}; /data writable; health 200 before and after"),
        "jessy-api:readonly": ("passed", f"{refused}; /data read-only for it; health 200 before and after"),
    }


def test_build_of_an_image_without_the_image_it_needs_leaves_its_boot_out(project: config.Project) -> None:
    images = FakeImages()
    report = anyio.run(lambda: run_build(Session(project, FakeRunner(), images=images), ["jessy-api"]))
    assert not any(c.startswith("boot") for c in images.calls)
    assert "boot jessy-api: left out, it needs an image not built here" in report.notes
    assert report.passed


def test_build_gates_size_budgets(project: config.Project) -> None:
    images = FakeImages(sizes={"jessy-core": 100_000_000, "jessy-api": 50_000_001})
    report = anyio.run(lambda: run_build(Session(project, FakeRunner(), images=images), []))
    assert report.gate_failures == ["image jessy-api: 50.0 MB > budget 50 MB"]
    assert ("size", "100.0 MB") in next(s for s in report.steps if s.name == "jessy-core:image").metrics


# --- scan --from-report -------------------------------------------------------------------------------------------


def test_from_report_gates_vulnerabilities_misconfigurations_and_secrets() -> None:
    names = ("debian-critical.json", "dockerfile.json", "secrets.json")
    files = {Path(n).stem: (TRIVY_SAMPLES / n).read_bytes() for n in names}
    report = run_scan_reports(files, ScanOptions(("CRITICAL", "HIGH"), ignore_unfixed=False))
    kinds = {f.split()[2] for f in report.gate_failures}
    assert kinds == {"vulnerability", "misconfiguration", "secret"}
    assert "scan/summary.md" in report.files
    ignored = ScanOptions(
        ("CRITICAL",), ignore_unfixed=False, ignore=trivy_gate.parse_ignore_file("aws-access-key-id\n")
    )
    assert not any("aws-access-key-id" in f for f in run_scan_reports(files, ignored).gate_failures)


def test_from_report_rejects_a_file_that_is_not_a_trivy_report() -> None:
    with pytest.raises(UsageError, match="not-trivy"):
        run_scan_reports({"ok": CLEAN, "not-trivy": b"[1, 2]"}, options())


# --- CLI ----------------------------------------------------------------------------------------------------------


@needs_checkout
@pytest.mark.parametrize("tag", ["1.2", "v1.2.03", "latest", "v1.2.3+meta"])
def test_publish_with_a_bad_tag_exits_2_before_any_work(tag: str, tmp_path: Path) -> None:
    done = jessy_ci("publish", "--tag", tag, "--dry-run", "--runner", "dagger", "--reports", str(tmp_path))
    assert done.returncode == 2
    assert "--tag" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


@needs_checkout
def test_publish_on_the_host_runner_exits_2_saying_so(tmp_path: Path) -> None:
    done = jessy_ci("publish", "--tag", "v1.2", "--dry-run", "--runner", "host", "--reports", str(tmp_path))
    assert done.returncode == 2
    assert "publish needs a Dagger engine" in done.stderr


@needs_checkout
def test_a_password_given_in_clear_is_refused_and_never_echoed(tmp_path: Path) -> None:
    secret = "hunter2-not-a-reference"
    done = jessy_ci("publish", "--tag", "v1.2", "--username", "me", "--password", secret, "--runner", "dagger")
    assert done.returncode == 2
    assert secret not in done.stdout + done.stderr
    assert "env://" in done.stderr


def test_cli_from_report_exit_codes_and_reports(tmp_path: Path) -> None:
    done = jessy_ci("scan", "--from-report", str(TRIVY_SAMPLES / "secrets.json"), "--reports", str(tmp_path))
    assert done.returncode == 1
    assert "aws-access-key-id" in done.stderr
    assert (tmp_path / "scan" / "summary.md").is_file()
    clean = str(TRIVY_SAMPLES / "debian-clean.json")
    passing = jessy_ci("scan", "--from-report", clean, "--reports", str(tmp_path / "b"))
    assert passing.returncode == 0, passing.stderr
    bad = jessy_ci("scan", "--from-report", clean, "--severity", "SEVERE")
    assert bad.returncode == 2 and "--severity" in bad.stderr
