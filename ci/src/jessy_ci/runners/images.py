"""What the release verbs (build, scan, publish) need from a place that builds container images.

Only the Dagger runner builds images (``runners/dagger_images.py``); tests use fakes. Each method raises on an
infrastructure failure; the verbs turn that into a failed step and go on with the other images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from jessy_ci.config import Component


@dataclass(frozen=True)
class ScanOutput:
    """Trivy's reports of one image: the full JSON, the same as SARIF, and a CycloneDX SBOM."""

    json: bytes
    sarif: bytes
    sbom: bytes


class ImageBackend(Protocol):
    platforms: tuple[str, ...]

    async def build(self, component: Component) -> None:
        """Build the component's production image for every platform (raises when a build fails)."""
        ...

    async def size(self, component: Component) -> int:
        """Bytes of the largest per-platform image tarball."""
        ...

    async def scan(self, component: Component) -> ScanOutput:
        """Trivy over the image tarball (the first platform's image)."""
        ...

    async def push(self, component: Component, references: list[str]) -> list[str]:
        """Push every platform variant under each reference; returns what the registry answered
        (``registry/name:tag@sha256:…``), one per reference."""
        ...
