"""The Dagger module's release functions (build, build_image, scan, publish) minus the decorators: argument types,
the image backend with OCI labels from the git commit, the scan options from jessy-ci.toml and .trivyignore.

main.py holds the ``@function``/``@check`` entry points; they call these, which call the same verbs as the CLI.
"""

from __future__ import annotations

from typing import Annotated

import dagger
from dagger import DefaultPath, Doc

from jessy_ci import config
from jessy_ci.cli_release import now
from jessy_ci.errors import UsageError
from jessy_ci.imagerefs import check_platform, requested_platforms
from jessy_ci.report import Report
from jessy_ci.runners.dagger import DaggerRunner
from jessy_ci.runners.dagger_images import DaggerImages, RegistryAuth, oci_labels
from jessy_ci.toolchains import trivy
from jessy_ci.verbs.build import run_build
from jessy_ci.verbs.execute import Notify
from jessy_ci.verbs.publish import DRY_RUN_TAG, check_credentials, prepare, run_publish
from jessy_ci.verbs.scan import ScanOptions, run_scan, scan_options

__all__ = ["DRY_RUN_TAG"]

GitArg = Annotated[
    dagger.GitRepository,
    DefaultPath("/"),
    Doc("The repository's git checkout (default: this one): its HEAD commit labels and tags the images"),
]
SeverityArg = Annotated[str | None, Doc("Severities that fail the gate, e.g. CRITICAL,HIGH (default: jessy-ci.toml)")]
IgnoreUnfixedArg = Annotated[bool, Doc("Vulnerabilities without a fixed version do not fail the gate")]
PlatformArg = Annotated[
    list[str] | None,
    Doc("Platforms of the images, e.g. linux/amd64 (repeatable; default: [images] platforms of jessy-ci.toml)"),
]
DRY_RUN_REGISTRY = "localhost/jessy-ci-dry-run"


async def commit_of(git: dagger.GitRepository) -> str:
    return await git.head().commit()


async def images(
    runner: DaggerRunner,
    git: dagger.GitRepository,
    project: config.Project,
    version: str = "dev",
    auth: RegistryAuth | None = None,
    platforms: tuple[str, ...] | None = None,
) -> DaggerImages:
    labels = oci_labels(project.source_url, await commit_of(git), version, now())
    return DaggerImages(runner, version=version, labels=labels, images=project.images, platforms=platforms, auth=auth)


async def build(
    project: config.Project, runner: DaggerRunner, backend: DaggerImages, component: list[str] | None, log: Notify
) -> Report:
    return await run_build(project, runner, list(component or []), log, images=backend)


async def build_image(
    source: dagger.Directory, git: dagger.GitRepository, project: config.Project, component: str, platform: str
) -> dagger.Container:
    selected = project.select([component])[0]
    if selected.dockerfile is None:
        raise UsageError(f"--component {component!r}: has no dockerfile in jessy-ci.toml; expected an image component")
    backend = await images(DaggerRunner(source), git, project, platforms=(check_platform(platform, "--platform"),))
    return backend.variants(selected, await backend.base_images(selected))[0]


async def options(
    source: dagger.Directory,
    project: config.Project,
    severity: str | None,
    ignore_unfixed: bool,
    trivy_db: dagger.Directory | None,
) -> ScanOptions:
    found = await source.glob(trivy.IGNORE_FILE)
    text = await source.file(trivy.IGNORE_FILE).contents() if found else None
    return scan_options(project, severity, ignore_unfixed, text, trivy.IGNORE_FILE, trivy_db is not None)


async def scan(
    runner: DaggerRunner,
    git: dagger.GitRepository,
    project: config.Project,
    component: list[str] | None,
    severity: str | None,
    ignore_unfixed: bool,
    log: Notify,
    platforms: tuple[str, ...] | None = None,
) -> Report:
    trivy_db = runner.inputs.get(trivy.DB_INPUT)
    gate = await options(runner.source, project, severity, ignore_unfixed, trivy_db)
    backend = await images(runner, git, project, platforms=platforms)
    return await run_scan(project, runner, list(component or []), log, images=backend, options=gate)


async def publish(
    runner: DaggerRunner,
    git: dagger.GitRepository,
    project: config.Project,
    tag: str,
    registry: str,
    username: str,
    password: dagger.Secret | None,
    dry_run: bool,
    severity: str | None,
    ignore_unfixed: bool,
    log: Notify,
    platform: list[str] | None = None,
) -> Report:
    """Every input is checked before any work: tag, commit, registry, platforms, credentials (both or none: a
    registry without authentication takes neither)."""
    chosen = requested_platforms(platform)
    if dry_run and not (registry or project.registry.address):
        registry = DRY_RUN_REGISTRY
    plan = prepare(project, tag, await commit_of(git), registry)
    user = username or project.registry.username
    check_credentials(user, password is not None)
    trivy_db = runner.inputs.get(trivy.DB_INPUT)
    gate = await options(runner.source, project, severity, ignore_unfixed, trivy_db)
    auth = RegistryAuth(plan.registry, user, password) if password is not None else None
    backend = await images(runner, git, project, plan.tag.version, auth, chosen)
    return await run_publish(project, runner, log, images=backend, plan=plan, options=gate, dry_run=dry_run)


def release_text(summary: str, report: Report) -> str:
    """What publish prints: the summary (every pushed reference with its digest is in its notes) and release.md."""
    return summary + "\n" + report.files["release.md"].decode()
