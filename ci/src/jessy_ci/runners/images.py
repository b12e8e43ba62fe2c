"""What the release verbs (build, scan, publish) need from a place that builds container images.

Only the Dagger runner builds images (``runners/dagger_images.py``); tests use fakes. Each method raises on an
infrastructure failure; the verbs turn that into a failed step and go on with the other images.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from jessy_ci.config import Component
from jessy_ci.steps import Probe, ServiceSpec


class ImageBackend(Protocol):
    platforms: tuple[str, ...]

    async def build(self, component: Component) -> None:
        """Build the component's production image for every platform (raises when a build fails)."""
        ...

    async def size(self, component: Component) -> int:
        """Bytes of the largest per-platform image tarball."""
        ...

    async def tarball_input(self, component: Component) -> str:
        """Hand the runner the built image's tarball (first platform) as an input folder holding ``image.tar``;
        returns the input's name, for the scan step."""
        ...

    async def boot(
        self, specs: tuple[ServiceSpec, ...], components: Mapping[str, Component], probe_image: str
    ) -> dict[str, int | None]:
        """Start each service's built image (dependencies first, on one fresh data volume) and GET its health
        endpoint from a container of ``probe_image``: service name → HTTP status (None: no answer)."""
        ...

    async def probe(
        self, specs: tuple[ServiceSpec, ...], components: Mapping[str, Component], probes: Mapping[str, Probe]
    ) -> dict[str, str]:
        """Run each service's probe (``probes[name]``) inside its built image, run as production runs it (its own
        user and entrypoint, a read-only root filesystem, only the data volume writable, dependencies bound):
        service name → the probe's output."""
        ...

    async def push(self, component: Component, references: list[str]) -> list[str]:
        """Push every platform variant under each reference; returns what the registry answered
        (``registry/name:tag@sha256:…``), one per reference."""
        ...
