"""What the CLI's release commands (build, scan, publish) prepare on the host before any work: the commit, the
scan gate's options, the registry password as a Dagger secret reference, and the image backend of the runner."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from jessy_ci.config import Project
from jessy_ci.errors import UsageError
from jessy_ci.runners import Runner
from jessy_ci.runners.images import ImageBackend
from jessy_ci.toolchains import trivy
from jessy_ci.verbs.scan import ScanOptions, scan_options

# The secret providers `dagger call` accepts for a Secret argument (REFERENCE §5).
_SECRET_REF = re.compile(r"(env|file|cmd|op|vault|gcp|aws\+sm)://.+")


def options(
    project: Project,
    root: Path,
    severity: str | None,
    ignore_unfixed: bool,
    ignore_file: Path | None,
    prepared_db: bool = False,
) -> ScanOptions:
    """The gate's options; the ignore file is ``--ignore-file`` or the repository's ``.trivyignore`` when present."""
    path = ignore_file if ignore_file is not None else root / trivy.IGNORE_FILE
    text: str | None = None
    if ignore_file is not None or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"--ignore-file {path}: cannot read: {e.strerror}; expected a .trivyignore file") from None
    return scan_options(project, severity, ignore_unfixed, text, str(path), prepared_db)


def prepared_db(folder: Path | None) -> dict[str, Path]:
    """``--trivy-db DIR`` as the runner input ``trivy-db``; a folder without a Trivy DB is bad input."""
    if folder is None:
        return {}
    missing = [name for name in trivy.DB_FILES if not (folder / name).is_file()]
    if missing:
        raise UsageError(
            f"--trivy-db {folder}: no {missing[0]} in it; expected a Trivy cache folder holding "
            f"{' and '.join(trivy.DB_FILES)}"
        )
    return {trivy.DB_INPUT: folder.resolve()}


def read_reports(paths: list[Path]) -> dict[str, bytes]:
    """``--from-report`` files, named by their file name without extension (unique names are kept apart)."""
    files: dict[str, bytes] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise UsageError(f"--from-report {path}: cannot read: {e.strerror}; expected a Trivy JSON report") from None
        name = path.stem
        files[name if name not in files else str(path)] = data
    return files


def secret_reference(raw: str | None) -> str | None:
    if raw is not None and not _SECRET_REF.fullmatch(raw):
        raise UsageError(
            "--password: not a secret reference (its value is not shown); expected env://VAR or file://PATH, "
            "never the password itself"
        )
    return raw


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def images_of(
    runner: Runner,
    project: Project,
    *,
    version: str,
    commit: str,
    registry: str = "",
    username: str = "",
    password: str | None = None,
    platforms: tuple[str, ...] | None = None,
) -> ImageBackend | None:
    """The Dagger runner's image backend (labels, optional registry credentials, the runner's prepared Trivy DB);
    None on the host runner."""
    if runner.name != "dagger":
        return None
    from jessy_ci.runners.dagger import DaggerRunner

    if not isinstance(runner, DaggerRunner):
        return None
    from dagger import dag

    from jessy_ci.runners.dagger_images import DaggerImages, RegistryAuth, oci_labels

    auth = RegistryAuth(registry, username, dag.secret(password)) if password is not None else None
    labels = oci_labels(project.source_url, commit, version, now())
    return DaggerImages(runner, version=version, labels=labels, images=project.images, platforms=platforms, auth=auth)
