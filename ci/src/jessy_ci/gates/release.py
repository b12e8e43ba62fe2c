"""Release policy: the tag a release may carry, the image tags it pushes, image size budgets and the release notes
(``release.md``). Pure, no I/O.

Sizes are in bytes; MB means 1,000,000 bytes (the SI megabyte ``docker images`` shows), not MiB.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from jessy_ci.errors import UsageError

_NUMBER = r"(?:0|[1-9][0-9]*)"
# semver pre-release identifier: numeric without leading zeros, or alphanumerics and hyphens with a non-digit
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_TAG = re.compile(
    rf"v(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})(?:\.(?P<patch>{_NUMBER}))?(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
)
_TAG_MAX = 128  # the longest tag an OCI registry accepts
_COMMIT = re.compile(r"[0-9a-f]{7,40}")


@dataclass(frozen=True)
class ReleaseTag:
    """A release tag: ``v1.2``, ``v1.2.3`` or ``v1.3.0-rc.1``. ``patch`` is None when the tag has none."""

    major: int
    minor: int
    patch: int | None = None
    prerelease: str = ""

    @property
    def version(self) -> str:
        """The tag without its ``v``: ``1.2``, ``1.3.0-rc.1``."""
        core = f"{self.major}.{self.minor}" + ("" if self.patch is None else f".{self.patch}")
        return core + (f"-{self.prerelease}" if self.prerelease else "")

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def stable(self) -> bool:
        """No pre-release part: only a stable release moves ``latest``."""
        return not self.prerelease

    def __str__(self) -> str:
        return self.tag


def parse_tag(raw: str) -> ReleaseTag:
    """``vMAJOR.MINOR[.PATCH][-PRERELEASE]`` with semver's rules (no leading zeros in numbers, pre-release
    identifiers of alphanumerics and hyphens separated by dots, no build metadata: ``+`` is not allowed in an image
    tag; the prefix is a lowercase ``v``). Raises UsageError for anything else, or for a tag over 128 characters."""
    m = _TAG.fullmatch(raw)
    if m is None:
        raise UsageError(f"--tag {raw!r}: expected vMAJOR.MINOR[.PATCH][-PRERELEASE], e.g. v1.2 or v1.3.0-rc.1")
    if len(raw) > _TAG_MAX:
        raise UsageError(f"--tag {raw[:20]!r}...: {len(raw)} characters, expected at most {_TAG_MAX} (an image tag)")
    patch = m.group("patch")
    return ReleaseTag(
        major=int(m.group("major")),
        minor=int(m.group("minor")),
        patch=None if patch is None else int(patch),
        prerelease=m.group("pre") or "",
    )


def image_tags(tag: ReleaseTag, short_commit: str) -> list[str]:
    """The tags every image of a release is pushed with: ``v1.2``, ``1.2``, ``sha-<commit>`` and, for a stable
    release only, ``latest``. ``short_commit`` is 7 to 40 lowercase hex digits (``git rev-parse --short``)."""
    if not _COMMIT.fullmatch(short_commit):
        raise UsageError(f"commit {short_commit!r}: expected 7 to 40 lowercase hex digits (git rev-parse --short)")
    tags = [tag.tag, tag.version, f"sha-{short_commit}"]
    return [*tags, "latest"] if tag.stable else tags


# --- sizes ---------------------------------------------------------------------------------------------------------

MB = 1_000_000


def format_size(n: int) -> str:
    """Bytes for people, in SI units: ``812 B``, ``45.3 kB``, ``123.4 MB``, ``1.25 GB``."""
    if n < 1000:
        return f"{n} B"
    if n < MB:
        return f"{n / 1000:.1f} kB"
    if n < 1000 * MB:
        return f"{n / MB:.1f} MB"
    return f"{n / (1000 * MB):.2f} GB"


def _budget_bytes(image: str, budget_mb: float) -> int:
    if not math.isfinite(budget_mb) or budget_mb <= 0:
        raise UsageError(f"size budget of image {image}: {budget_mb!r}: expected a positive number of MB")
    return round(budget_mb * MB)  # whole bytes: 0.3 MB is 300000, not 300000.00000000006


def size_gate(sizes: dict[str, int], budgets_mb: dict[str, float]) -> list[str]:
    """One line per image larger than its budget (``image jessy-core: 123.4 MB > budget 100 MB``), in the order of
    ``sizes``. An image exactly at its budget passes; an image without a budget is not gated. Budgets are in MB of
    1,000,000 bytes. Raises UsageError for a budget that is not a positive number."""
    failures: list[str] = []
    for image, size in sizes.items():
        if image not in budgets_mb:
            continue
        budget = budgets_mb[image]
        if size > _budget_bytes(image, budget):
            failures.append(f"image {image}: {format_size(size)} > budget {budget:g} MB")
    return failures


# --- release notes -------------------------------------------------------------------------------------------------

_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")


def _split_digest(ref: str) -> tuple[str, str]:
    name, at, digest = ref.partition("@")
    return (name, digest) if at else (ref, "")


def release_markdown(
    version: str,
    refs: dict[str, list[str]],
    sizes: dict[str, int],
    scan_counts: dict[str, dict[str, int]],
) -> str:
    """The text of ``release.md``: a table of the images (size, findings by severity) and every pushed reference
    with its digest. ``refs`` maps an image to what ``Container.publish`` returned for each of its tags
    (``registry/name:tag@sha256:…``); a reference without a digest is listed as such, never dropped."""
    images = list(dict.fromkeys([*refs, *sizes, *scan_counts]))
    lines = [
        f"# Release {version}",
        "",
        "| image | size | " + " | ".join(_SEVERITIES) + " |",
        "|---|---:|" + "---:|" * len(_SEVERITIES),
    ]
    for image in images:
        size = format_size(sizes[image]) if image in sizes else "not measured"
        counts = scan_counts.get(image)
        cells = [str(counts.get(s, 0)) for s in _SEVERITIES] if counts is not None else ["not scanned"] * 5
        lines.append(f"| {image} | {size} | " + " | ".join(cells) + " |")
    lines += ["", "## Pushed references", "", "| image | reference | digest |", "|---|---|---|"]
    for image in images:
        for ref in refs.get(image, []):
            name, digest = _split_digest(ref)
            lines.append(f"| {image} | `{name}` | " + (f"`{digest}`" if digest else "no digest reported") + " |")
    if not any(refs.values()):
        lines.append("| (none) | nothing was pushed | |")
    return "\n".join(lines) + "\n"
