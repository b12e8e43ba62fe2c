"""The release commands: build (images and their budgets), scan (Trivy and its gate), publish (never half done)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from jessy_ci import options
from jessy_ci.cli import COMPONENT, REPORTS, RUNNER, VERBOSE, Images, app, choose_runner, root, run, show
from jessy_ci.cli.grammar import PATH, Flag, flag
from jessy_ci.errors import UsageError

if TYPE_CHECKING:
    from jessy_ci.config import Project
    from jessy_ci.runners import Runner
    from jessy_ci.runners.images import ImageBackend
    from jessy_ci.verbs.scan import ScanOptions

# The secret providers `dagger call` accepts for a Secret argument (REFERENCE §5).
_SECRET_REF = re.compile(r"(env|file|cmd|op|vault|gcp|aws\+sm)://.+")

PLATFORM = flag(options.PLATFORM, repeat=True)
SEVERITY = flag(options.SEVERITY)
IGNORE_UNFIXED = flag(options.IGNORE_UNFIXED, switch=True)
IGNORE_FILE = Flag(
    ("--ignore-file",), "Trivy ignore file. Default: .trivyignore of the repository.", "FILE", convert=PATH
)
TRIVY_DB = flag(options.TRIVY_DB, convert=PATH)
SCAN_GATE = (SEVERITY, IGNORE_UNFIXED, IGNORE_FILE, TRIVY_DB, PLATFORM)


def now() -> str:
    from datetime import UTC, datetime  # only a release needs the clock: not loaded by every command

    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def scan_gate(
    project: Project,
    here: Path,
    severity: str | None,
    ignore_unfixed: bool,
    ignore_file: Path | None,
    prepared_db: bool = False,
) -> ScanOptions:
    """The gate's options; the ignore file is ``--ignore-file`` or the repository's ``.trivyignore`` when present."""
    from jessy_ci.verbs.scan import IGNORE_FILE, scan_options

    path = ignore_file if ignore_file is not None else here / IGNORE_FILE
    text: str | None = None
    if ignore_file is not None or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"--ignore-file {path}: cannot read: {e.strerror}; expected a .trivyignore file") from None
    return scan_options(project, severity, ignore_unfixed, text, str(path), prepared_db)


def prepared_db(folder: Path | None) -> dict[str, Path]:
    """``--trivy-db DIR`` as the runner input ``trivy-db``; a folder without a Trivy DB is bad input."""
    from jessy_ci.verbs.scan import PREPARED_DB_FILES, PREPARED_DB_INPUT

    if folder is None:
        return {}
    missing = [name for name in PREPARED_DB_FILES if not (folder / name).is_file()]
    if missing:
        raise UsageError(
            f"--trivy-db {folder}: no {missing[0]} in it; expected a Trivy cache folder holding "
            f"{' and '.join(PREPARED_DB_FILES)}"
        )
    return {PREPARED_DB_INPUT: folder.resolve()}


def secret_reference(raw: str | None) -> str | None:
    if raw is not None and not _SECRET_REF.fullmatch(raw):
        raise UsageError(
            "--password: not a secret reference (its value is not shown); expected env://VAR or file://PATH, "
            "never the password itself"
        )
    return raw


def image_backend(
    *,
    version: str,
    commit: str,
    platforms: tuple[str, ...] | None,
    registry: str = "",
    username: str = "",
    password: str | None = None,
) -> Images:
    """How to make the image backend of a runner: the Dagger runner's (labels, credentials as a Dagger secret);
    none on the host runner."""

    def make(runner: Runner, project: Project) -> ImageBackend | None:
        from jessy_ci.runners.dagger import DaggerRunner

        if not isinstance(runner, DaggerRunner):
            return None
        from dagger import dag

        from jessy_ci.runners.dagger_images import DaggerImages, RegistryAuth, oci_labels

        auth = RegistryAuth(registry, username, dag.secret(password)) if password is not None else None
        labels = oci_labels(project.source_url, commit, version, now())
        return DaggerImages(
            runner, version=version, labels=labels, images=project.images, platforms=platforms, auth=auth
        )

    return make


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


@app.command(RUNNER, COMPONENT, REPORTS, PLATFORM, VERBOSE)
def build(
    runner: str | None = None,
    component: list[str] | None = None,
    reports: Path = Path("reports"),
    platform: list[str] | None = None,
    verbose: bool = False,
) -> None:
    """Production images (linux/amd64, linux/arm64) and their size budgets on Dagger; release binaries on the host."""
    from jessy_ci.git import head_commit
    from jessy_ci.verbs.build import run_build

    images = image_backend(version="dev", commit=head_commit(root()), platforms=options.PLATFORM(platform))
    names = options.COMPONENT(component)
    run(lambda session: run_build(session, names), runner=runner, reports=reports, images=images, verbose=verbose)


@app.command(
    RUNNER,
    COMPONENT,
    REPORTS,
    *SCAN_GATE,
    Flag(
        ("--from-report",),
        "Gate existing Trivy JSON reports instead of scanning (repeatable).",
        "FILE",
        repeat=True,
        convert=PATH,
    ),
    VERBOSE,
)
def scan(
    runner: str | None = None,
    component: list[str] | None = None,
    reports: Path = Path("reports"),
    severity: str | None = None,
    ignore_unfixed: bool = False,
    ignore_file: Path | None = None,
    trivy_db: Path | None = None,
    platform: list[str] | None = None,
    from_report: list[Path] | None = None,
    verbose: bool = False,
) -> None:
    """Trivy: the repository (trivy fs), every image and its SBOM (Dagger); the severity gate over the findings."""
    from jessy_ci.config import load
    from jessy_ci.git import head_commit
    from jessy_ci.verbs.scan import run_scan, run_scan_reports

    here = root()
    project = load(here)
    inputs = prepared_db(trivy_db)
    gate = scan_gate(project, here, severity, ignore_unfixed, ignore_file, bool(inputs))
    if from_report:
        show(run_scan_reports(read_reports(from_report), gate), reports)
        return
    images = image_backend(version="dev", commit=head_commit(here), platforms=options.PLATFORM(platform))
    names = options.COMPONENT(component)
    run(
        lambda session: run_scan(session, names, gate),
        runner=runner,
        reports=reports,
        inputs=inputs,
        images=images,
        project=project,
        verbose=verbose,
    )


@app.command(
    flag(options.TAG, required=True),
    flag(options.REGISTRY),
    flag(options.USERNAME),
    Flag(("--password",), options.PASSWORD.help, "SECRET"),
    flag(options.DRY_RUN, switch=True),
    RUNNER,
    REPORTS,
    *SCAN_GATE,
    VERBOSE,
)
def publish(
    tag: str,
    registry: str | None = None,
    username: str | None = None,
    password: str | None = None,
    dry_run: bool = False,
    runner: str | None = None,
    reports: Path = Path("reports"),
    severity: str | None = None,
    ignore_unfixed: bool = False,
    ignore_file: Path | None = None,
    trivy_db: Path | None = None,
    platform: list[str] | None = None,
    verbose: bool = False,
) -> None:
    """Build every image, test, size gates, scans, then push every image with all its tags (Dagger runner only)."""
    from jessy_ci.config import load
    from jessy_ci.git import head_commit
    from jessy_ci.verbs.publish import check_credentials, prepare, run_publish

    here = root()
    project = load(here)
    plan = prepare(project, tag, head_commit(here), registry)
    inputs = prepared_db(trivy_db)
    chosen = options.PLATFORM(platform)
    gate = scan_gate(project, here, severity, ignore_unfixed, ignore_file, bool(inputs))
    secret = secret_reference(password)
    user = username or project.registry.username
    check_credentials(user, secret is not None)
    if choose_runner(runner) != "dagger":
        raise UsageError("publish needs a Dagger engine, not the host runner; expected --runner dagger with an engine")
    images = image_backend(
        version=plan.tag.version,
        commit=plan.commit,
        platforms=chosen,
        registry=plan.registry,
        username=user,
        password=secret,
    )
    run(
        lambda session: run_publish(session, plan, gate, dry_run),
        runner="dagger",
        reports=reports,
        inputs=inputs,
        images=images,
        project=project,
        verbose=verbose,
    )
