"""Production images on the Dagger engine: build (Dockerfile ``production`` stage), measure, scan with Trivy, push.

The functions at the top only build queries (no engine call): tests validate each against the engine's schema.
- ``production_image``: ``Directory.docker_build(target="production", platform=…)``, so ``docker build --target
  production`` gives the same image; the builder stage cross-compiles for the target platform (``--platform=
  $BUILDPLATFORM`` in the Dockerfiles), no emulation. OCI labels are added on top.
- ``trivy_container``: the pinned Trivy image over the image's tarball, its DB in a LOCKED cache volume; it leaves
  the JSON report, the SARIF and the CycloneDX SBOM in ``/out``.
- ``publisher``: an empty container with the registry credentials (a ``dagger.Secret``: never in plaintext in a
  query, a layer, a label or a log); ``publish(…, platform_variants=…)`` on it pushes one multi-platform image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import anyio
import dagger
from dagger import dag

from jessy_ci.config import Component
from jessy_ci.imagerefs import Images, dockerfile_images
from jessy_ci.runners.dagger import cache_sharing
from jessy_ci.runners.images import ScanOutput
from jessy_ci.toolchains import trivy

TARBALL = "/scan/image.tar"
OUT = "/out"
SCAN_JSON = f"{OUT}/scan.json"
SCAN_SARIF = f"{OUT}/scan.sarif"
SBOM = f"{OUT}/sbom.cdx.json"


def oci_labels(source_url: str, revision: str, version: str, created: str) -> dict[str, str]:
    """The OCI annotations every image carries as labels (empty values are left out)."""
    labels = {"source": source_url, "revision": revision, "version": version, "created": created}
    return {f"org.opencontainers.image.{key}": value for key, value in labels.items() if value}


def production_image(
    source: dagger.Directory,
    component: Component,
    platform: str,
    version: str,
    labels: Mapping[str, str],
    base_images: Mapping[str, str] | None = None,
) -> dagger.Container:
    """``base_images``: build arguments naming the Dockerfile's base images where they are pulled from instead."""
    if component.dockerfile is None:
        raise ValueError(f"component {component.name} has no dockerfile")
    args = {"VERSION": version, **(base_images or {})}
    ctr = source.docker_build(
        dockerfile=component.dockerfile,
        target="production",
        platform=dagger.Platform(platform),
        build_args=[dagger.BuildArg(name=name, value=value) for name, value in args.items()],
    )
    for key, value in labels.items():
        ctr = ctr.with_label(key, value)
    return ctr


def trivy_container(image: dagger.Container, trivy_image: str = trivy.IMAGE) -> dagger.Container:
    """Trivy's JSON report, SARIF and SBOM of the image, in ``/out`` (scans exit 0: the gate decides)."""
    db = trivy.DB_CACHE
    ctr = (
        dag.container()
        .from_(trivy_image)
        .with_mounted_cache(db.path, dag.cache_volume(db.name), sharing=cache_sharing(db))
        .with_env_variable(db.env or "TRIVY_CACHE_DIR", db.path)
        .with_file(TARBALL, image.as_tarball())
        .with_directory(OUT, dag.directory())
    )
    commands = (trivy.image_scan(TARBALL, SCAN_JSON), trivy.to_sarif(SCAN_JSON, SCAN_SARIF), trivy.sbom(TARBALL, SBOM))
    for argv in commands:
        ctr = ctr.with_exec(list(argv))
    return ctr


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for the registry host of ``address`` (``ghcr.io/owner`` → ``ghcr.io``)."""

    address: str
    username: str
    password: dagger.Secret


def publisher(auth: RegistryAuth | None) -> dagger.Container:
    ctr = dag.container()
    if auth is not None:
        ctr = ctr.with_registry_auth(auth.address.split("/")[0], auth.username, auth.password)
    return ctr


class DaggerImages:
    """The ImageBackend of the Dagger runner. Built containers are kept (synced) per component."""

    def __init__(
        self,
        source: dagger.Directory,
        *,
        version: str,
        labels: Mapping[str, str],
        images: Images | None = None,
        platforms: tuple[str, ...] | None = None,
        auth: RegistryAuth | None = None,
    ) -> None:
        self.source = source
        self.version = version
        self.labels = dict(labels)
        self.images = images or Images()
        self.platforms = platforms or self.images.platforms
        self.auth = auth
        self._built: dict[str, list[dagger.Container]] = {}

    def variants(self, component: Component, base_images: Mapping[str, str] | None = None) -> list[dagger.Container]:
        """One production image per platform (pure query building)."""
        return [
            production_image(self.source, component, p, self.version, self.labels, base_images) for p in self.platforms
        ]

    async def base_images(self, component: Component) -> dict[str, str]:
        if component.dockerfile is None:
            return {}
        text = await self.source.file(component.dockerfile).contents()
        return dockerfile_images(text).build_args(self.images)

    def _images(self, component: Component) -> list[dagger.Container]:
        if component.name not in self._built:
            raise RuntimeError(f"image of {component.name} was not built")
        return self._built[component.name]

    async def build(self, component: Component) -> None:
        variants = self.variants(component, await self.base_images(component))
        built: list[dagger.Container | None] = [None] * len(variants)

        async def one(index: int) -> None:
            built[index] = await variants[index].sync()

        async with anyio.create_task_group() as tg:
            for index in range(len(variants)):
                tg.start_soon(one, index)
        self._built[component.name] = [c for c in built if c is not None]

    async def size(self, component: Component) -> int:
        return max([await image.as_tarball().size() for image in self._images(component)])

    async def scan(self, component: Component) -> ScanOutput:
        ctr = await trivy_container(self._images(component)[0], self.images.resolve(trivy.IMAGE)).sync()
        json_text, sarif, sbom = [await ctr.file(path).contents() for path in (SCAN_JSON, SCAN_SARIF, SBOM)]
        return ScanOutput(json_text.encode(), sarif.encode(), sbom.encode())

    async def push(self, component: Component, references: list[str]) -> list[str]:
        ctr = publisher(self.auth)
        images = self._images(component)
        return [await ctr.publish(ref, platform_variants=images) for ref in references]
