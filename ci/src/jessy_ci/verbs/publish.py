"""publish: the release, never half done. Build every image → tests → size gates → scans → only then push
everything. Any failure pushes nothing; ``dry_run`` does everything but the push.

The tag, the commit and the registry are checked first (``prepare``: UsageError, exit 2, before any work, also for a
dry run). Pushed tags: the exact tag, the version without ``v``, ``sha-<short commit>`` and, for a stable release,
``latest``. ``release.md`` lists every image's size and findings and every pushed reference with its digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import anyio

from jessy_ci.config import Component, Project
from jessy_ci.errors import UsageError, first_line
from jessy_ci.gates import release
from jessy_ci.report import Report
from jessy_ci.runners import Runner
from jessy_ci.runners.images import ImageBackend
from jessy_ci.session import Session
from jessy_ci.verbs.build import boot, build_images, measure, probe_read_only
from jessy_ci.verbs.plan import image_components
from jessy_ci.verbs.scan import ScanOptions, scan_image
from jessy_ci.verbs.test import run_tests

DRY_RUN_TAG = "v0.0.0-dry-run"
SHORT_COMMIT = 7
_REGISTRY = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*")
_COMMIT = re.compile(r"[0-9a-f]{7,40}")


@dataclass(frozen=True)
class Release:
    tag: release.ReleaseTag
    commit: str
    registry: str
    tags: tuple[str, ...]

    def references(self, image: str) -> list[str]:
        return [f"{self.registry}/{image}:{tag}" for tag in self.tags]


def prepare(project: Project, tag: str, commit: str, registry: str | None) -> Release:
    """Check every input of a release before any work: the tag policy, the commit, the registry address."""
    parsed = release.parse_tag(tag)
    if not _COMMIT.fullmatch(commit):
        raise UsageError(f"commit {commit!r}: expected 7 to 40 lowercase hex digits (git rev-parse HEAD)")
    address = (registry or project.registry.address).rstrip("/")
    if not address:
        raise UsageError("--registry: missing; expected a registry address like ghcr.io/OWNER (or [registry] address)")
    if not _REGISTRY.fullmatch(address):
        raise UsageError(f"--registry {address!r}: expected a registry address like ghcr.io/owner (no scheme, no tag)")
    tags = release.image_tags(parsed, commit[:SHORT_COMMIT])
    return Release(parsed, commit, address, tuple(tags))


def check_credentials(username: str, has_password: bool) -> None:
    """Both a user name and a password, or neither (a registry without authentication)."""
    if has_password and not username:
        raise UsageError("--username: missing; expected the registry user that goes with --password")
    if username and not has_password:
        raise UsageError(f"--password: missing for user {username!r}; expected a secret reference like env://VAR")


async def _scan_all(
    report: Report, project: Project, runner: Runner, images: ImageBackend, built: list[Component], options: ScanOptions
) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}

    async def one(c: Component) -> None:
        found = await scan_image(report, project, runner, images, c, options)
        if found is not None:
            counts[c.image or c.name] = found

    async with anyio.create_task_group() as tg:
        for c in built:
            tg.start_soon(one, c)
    return counts


async def _push_all(
    report: Report, images: ImageBackend, built: list[Component], plan: Release
) -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {}
    for c in built:
        image = c.image or c.name
        try:
            refs[image] = await images.push(c, plan.references(image))
        except Exception as e:  # the registry refused: nothing more is pushed, and the run fails
            report.gate_failures.append(f"push {image}: {first_line(e)}")
            break
    return refs


async def run_publish(session: Session, plan: Release, options: ScanOptions, dry_run: bool) -> Report:
    project, runner, images, say = session.project, session.runner, session.images, session.say
    if images is None:
        raise UsageError("publish needs a Dagger engine, not the host runner; expected --runner dagger with an engine")
    components = image_components(session.components([]))
    report = Report(verb="publish-dry-run" if dry_run else "publish")
    built = await build_images(report, images, components, say)
    report.absorb(await run_tests(session, []))
    sizes = await measure(report, images, built, say)
    await boot(report, images, project, built, say)
    await probe_read_only(report, images, project, built, say)
    counts = await _scan_all(report, project, runner, images, built, options)
    refs: dict[str, list[str]] = {}
    if not report.passed:
        report.notes.append(f"nothing was pushed: {len(report.failures())} failure(s) before the push")
    elif dry_run:
        report.notes.append("dry run: every gate passed; nothing was pushed")
    else:
        refs = await _push_all(report, images, built, plan)
        report.notes += [f"pushed {ref}" for image_refs in refs.values() for ref in image_refs]
    report.notes.append(f"release {plan.tag} of commit {plan.commit[:SHORT_COMMIT]}: tags {', '.join(plan.tags)}")
    report.files["release.md"] = release.release_markdown(plan.tag.tag, refs, sizes, counts).encode()
    return report
