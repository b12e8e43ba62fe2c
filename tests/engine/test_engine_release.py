"""On a real engine: production images (built, measured from their tarballs, read back, booted), Trivy scans on a
prepared DB, publish to the harness's local registry (digests pulled back), `dagger check`, ci and its verdict."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import urllib.request
import uuid
from pathlib import Path

import pytest

from jessy_ci import config
from tests.conftest import ROOT
from tests.engine.conftest import Engine, commit, edit, git_copy

pytestmark = pytest.mark.engine

AMD64 = ("--platform", "linux/amd64")  # the stand-in base images are linux/amd64 only
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def head_commit(repo: Path = ROOT) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def megabytes(summary: str, step: str) -> float:
    found = re.search(rf"\| {re.escape(step)} \|.*size: ([\d.]+) MB", summary)
    assert found, summary
    return float(found.group(1))


def registry_digest(registry: str, repository: str, tag: str) -> str | None:
    request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD")
    request.add_header("Accept", MANIFEST_TYPES)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.headers.get("Docker-Content-Digest")
    except OSError:
        return None


def summary_row(summary: str, step: str) -> str:
    return next((line for line in summary.splitlines() if line.startswith(f"| {step} |")), f"no row {step}")


def test_build_measures_every_production_image_against_its_budget_and_boots_it(
    engine: Engine, project: config.Project, tmp_path: Path
) -> None:
    done = engine.dagger("call", "build", *AMD64)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = done.stdout
    for name in ("jessy-core", "jessy-api"):
        budget = project.components[name].size_budget_mb
        assert budget is not None and 0 < megabytes(summary, f"{name}:image") <= budget
    assert "| jessy-core:boot | jessy-core | ✅ passed |" in summary and "GET /health → 200" in summary
    assert "| jessy-api:boot | jessy-api | ✅ passed |" in summary and "GET /api/health → 200" in summary
    # run as production runs them: read-only root filesystem, a write anywhere but the data volume refused while
    # the service keeps answering, and the api (another user) refused the layer volume it reads
    core = summary_row(summary, "jessy-core:readonly")
    assert "✅ passed" in core and "Read-only file system" in core and "/data writable" in core, core
    assert "health 200 before and after" in core
    api = summary_row(summary, "jessy-api:readonly")
    assert "✅ passed" in api and "/data read-only for it" in api and "health 200 before and after" in api, api
    # the size is the image tarball's: the same image exported weighs what the summary says
    tarball = tmp_path / "jessy-api.tar"
    image = ("call", "build-image", "--component", "jessy-api", *AMD64)
    exported = engine.dagger(*image, "export", "--path", str(tarball))
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert abs(tarball.stat().st_size / 1_000_000 - megabytes(summary, "jessy-api:image")) < 0.1
    with tarfile.open(tarball) as tar:
        assert "index.json" in tar.getnames()


@pytest.mark.parametrize(
    ("component", "health", "uid"),
    [("jessy-core", "--healthcheck", "65532:65532"), ("jessy-api", "-healthcheck", "65534:65534")],
)
def test_image_user_labels_and_healthcheck_read_back(engine: Engine, component: str, health: str, uid: str) -> None:
    image = ("call", "build-image", "--component", component, *AMD64)
    user = engine.dagger(*image, "user")
    assert user.returncode == 0, user.stderr[-3000:]
    assert user.stdout.strip() == uid  # non-root; the api is not the user that owns the layer volume
    revision = engine.dagger(*image, "label", "--name", "org.opencontainers.image.revision")
    assert revision.stdout.strip() == head_commit()
    source = engine.dagger(*image, "label", "--name", "org.opencontainers.image.source")
    assert source.stdout.strip() == "https://github.com/jessy-ci/jessy-ci"
    check = engine.dagger(*image, "docker-healthcheck", "args")
    assert check.returncode == 0, check.stderr[-3000:]
    assert health in check.stdout


def test_an_image_that_comes_out_for_another_platform_fails_the_build(harness: Engine) -> None:
    """The stand-in base images have no linux/arm64 variant: the builder falls back to amd64, and jessy-ci refuses
    to call that an arm64 image (it would otherwise be published as one)."""
    done = harness.dagger("call", "build", "--component", "jessy-api")
    assert done.returncode == 1
    assert (
        "image for linux/arm64 came out as linux/amd64: a base image has no linux/arm64 variant"
        in done.stdout + done.stderr
    )


def test_scan_with_a_prepared_trivy_db_gates_findings_and_writes_every_report(
    engine: Engine, trivy_db_critical: Path, tmp_path: Path
) -> None:
    done = engine.dagger("--trivy-db", str(trivy_db_critical), "call", "scan", *AMD64)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "scan jessy-core: vulnerability CVE-2099-0001 libc6" in output and "→ 99.0 CRITICAL" in output
    assert "CVE-2099-0002" not in re.sub(r"(?s).*### Failures", "", output), "HIGH does not fail a CRITICAL gate"
    exported = engine.dagger(
        "--trivy-db",
        str(trivy_db_critical),
        "call",
        "reports",
        "--verb",
        "scan",
        *AMD64,
        "--ignore-unfixed",
        "export",
        "--path",
        str(tmp_path),
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    for name in ("jessy-core", "jessy-api", "source"):
        assert json.loads((tmp_path / "scan" / f"{name}.json").read_text())["ArtifactName"]
        assert json.loads((tmp_path / "scan" / f"{name}.sarif").read_text())["version"] == "2.1.0"
    assert json.loads((tmp_path / "sbom" / "jessy-core.cdx.json").read_text())["bomFormat"] == "CycloneDX"
    core = json.loads((tmp_path / "scan" / "jessy-core.json").read_text())
    found = {v["VulnerabilityID"] for r in core["Results"] for v in r.get("Vulnerabilities") or []}
    assert found == {"CVE-2099-0001", "CVE-2099-0002"}


def test_scan_without_a_reachable_trivy_db_says_what_to_do(harness: Engine) -> None:
    done = harness.dagger("call", "scan", "--component", "jessy-api", *AMD64)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Trivy could not download its vulnerability DB from mirror.gcr.io/aquasec/trivy-db:2" in output
    assert "give it a prepared DB: --trivy-db DIR" in output


def test_publish_pushes_every_tag_and_the_registry_serves_the_same_digests(
    harness: Engine, trivy_db_clean: Path
) -> None:
    assert harness.registry is not None
    namespace = f"e2e-{uuid.uuid4().hex[:8]}"
    done = harness.dagger(
        "--trivy-db",
        str(trivy_db_clean),
        "call",
        "publish",
        "--tag",
        "v1.2",
        "--registry",
        f"localhost:5000/{namespace}",
        *AMD64,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    pushed = re.findall(rf"pushed localhost:5000/{namespace}/([\w-]+):([\w.-]+)@(sha256:[0-9a-f]{{64}})", done.stdout)
    short = head_commit()[:7]
    assert {(image, tag) for image, tag, _ in pushed} == {
        (image, tag) for image in ("jessy-core", "jessy-api") for tag in ("v1.2", "1.2", f"sha-{short}", "latest")
    }
    for image, tag, digest in pushed:
        assert registry_digest(harness.registry, f"{namespace}/{image}", tag) == digest, (image, tag)


def test_a_dry_run_a_bad_tag_and_a_failing_gate_push_nothing(
    harness: Engine, trivy_db_clean: Path, tmp_path: Path
) -> None:
    assert harness.registry is not None
    db = ("--trivy-db", str(trivy_db_clean))
    dry = f"dry-{uuid.uuid4().hex[:8]}"
    done = harness.dagger(
        *db, "call", "publish", "--tag", "v1.2", "--registry", f"localhost:5000/{dry}", "--dry-run", *AMD64
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "dry run: every gate passed; nothing was pushed" in done.stdout
    assert registry_digest(harness.registry, f"{dry}/jessy-api", "v1.2") is None

    bad = harness.dagger("call", "publish", "--tag", "1.2", "--registry", "localhost:5000/never", *AMD64)
    assert bad.returncode == 2
    assert "--tag '1.2': expected vMAJOR.MINOR[.PATCH][-PRERELEASE]" in bad.stderr
    assert "docker build" not in bad.stderr.lower() and "cargo" not in bad.stderr, "nothing was built"

    repo = git_copy(tmp_path / "tiny-budget")
    edit(repo / "jessy-ci.toml", "size_budget_mb = 50", "size_budget_mb = 1")
    commit(repo, "a size budget of 1 MB for jessy-api")
    gated = f"gated-{uuid.uuid4().hex[:8]}"
    failed = harness.dagger(
        *db, "call", "publish", "--tag", "v1.2", "--registry", f"localhost:5000/{gated}", *AMD64, cwd=repo
    )
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert re.search(r"image jessy-api: [\d.]+ MB > budget 1 MB", failed.stdout + failed.stderr)
    for image in ("jessy-core", "jessy-api"):
        assert registry_digest(harness.registry, f"{gated}/{image}", "v1.2") is None, "nothing is pushed"


def test_check_runs_every_check_and_exits_0_when_all_pass(
    harness: Engine, trivy_db_clean: Path, tmp_path: Path
) -> None:
    """`dagger check` from a copy whose .env gives the module its prepared Trivy DB (constructor argument
    trivy-db) and whose images are built for linux/amd64 only (the stand-ins have no arm64)."""
    repo = git_copy(tmp_path / "checked")
    edit(
        repo / "jessy-ci.toml",
        '[registry]\naddress = "ghcr.io/jessy-ci"',
        '[registry]\naddress = "ghcr.io/jessy-ci"\n\n[images]\nplatforms = ["linux/amd64"]',
    )
    commit(repo, "amd64 only")
    (repo / ".env").write_text(f"TRIVYDB={trivy_db_clean}\n")  # the argument trivyDb, lower-cased
    done = harness.dagger("check", cwd=repo)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    for name in ("lint", "test", "coverage", "bench-regression", "build", "scan", "publish-dry-run"):
        assert re.search(rf"jessy-ci:{name}\b.*(DONE|OK|passed)", done.stdout + done.stderr), name


def test_check_exits_1_listing_every_failing_check(engine: Engine, broken_copy: Path) -> None:
    done = engine.dagger("check", "test", "lint", cwd=broken_copy)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "failing test: unittests src/lib.rs::config::tests::defaults" in output
    assert "failing test: github.com/jessy-ci/jessy-api/internal/api::TestHealthOK" in output
    assert re.search(r"jessy-ci:lint\b.*(DONE|OK|passed)", output), "the other check still ran and passed"


def test_ci_once_then_the_verdict_from_its_reports(engine: Engine, trivy_db_clean: Path, tmp_path: Path) -> None:
    db = ("--trivy-db", str(trivy_db_clean))
    exported = engine.dagger(*db, "call", "reports", "--verb", "ci", *AMD64, "export", "--path", str(tmp_path))
    assert exported.returncode == 0, exported.stderr[-3000:]
    summary = (tmp_path / "summary.md").read_text()
    assert "## jessy-ci ci: passed" in summary
    for step in ("jessy-core:clippy", "features:bdd", "jessy-api:coverage", "jessy-core:image", "jessy-core:scan"):
        assert f"| {step} |" in summary
    verdict = engine.dagger("call", "verdict", "--reports", str(tmp_path))
    assert verdict.returncode == 0, verdict.stderr[-3000:]
    failed = json.loads((tmp_path / "verdict.json").read_text())
    (tmp_path / "verdict.json").write_text(json.dumps({**failed, "passed": False, "failures": ["x: failed"]}))
    refused = engine.dagger("call", "verdict", "--reports", str(tmp_path))
    assert refused.returncode == 1 and "x: failed" in refused.stdout + refused.stderr
    direct = engine.dagger(*db, "call", "ci", *AMD64, "--component", "jessy-api")
    assert direct.returncode == 0, direct.stdout[-3000:] + direct.stderr[-3000:]
