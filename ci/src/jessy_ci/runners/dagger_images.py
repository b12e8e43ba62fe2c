"""Production images on the Dagger engine: build (Dockerfile ``production`` stage), measure, boot, hand over as a
tarball (the scan is a Step like any other), push.

The functions at the top only build queries (no engine call): tests validate each against the engine's schema.
- ``production_image``: ``Directory.docker_build(target="production", platform=…)``, so ``docker build --target
  production`` gives the same image; the builder stage cross-compiles for the target platform (``--platform=
  $BUILDPLATFORM`` in the Dockerfiles), no emulation. OCI labels are added on top.
- ``publisher``: an empty container with the registry credentials (a ``dagger.Secret``: never in plaintext in a
  query, a layer, a label or a log); ``publish(…, platform_variants=…)`` on it pushes one multi-platform image.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import anyio
import dagger
from dagger import dag

from jessy_ci.config import Component
from jessy_ci.errors import first_line
from jessy_ci.imagerefs import Images, dockerfile_images
from jessy_ci.runners.dagger import ANY_HOST, DATA_DIR, DaggerRunner
from jessy_ci.steps import Probe, ServiceSpec

TARBALL = "image.tar"  # what an image's tarball input folder holds


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


KERNEL_DIRS = frozenset({"proc", "sys", "dev"})  # the runtime mounts these; never part of the image's filesystem
# The runtime writes /etc/hosts and /etc/resolv.conf there for the service names (Docker's --read-only keeps them
# too): left writable for root, which the image's non-root user is not.
RUNTIME_DIRS = frozenset({"etc"})


def _top_level(top_level: list[str], data_dir: str | None) -> list[str]:
    """The image's top-level directories (``entries()`` names; a trailing ``/`` marks a directory, symlinks are
    left out) but the kernel's and the one holding the data volume."""
    data_top = (data_dir or "").strip("/").split("/")[0]
    names = [e.rstrip("/") for e in top_level if e.endswith("/")]
    return [n for n in names if n not in KERNEL_DIRS and n != data_top]


def read_only_directories(top_level: list[str], data_dir: str | None) -> list[str]:
    """The top-level directories mounted read-only: all but the kernel's, the runtime's and the data volume's."""
    return [f"/{n}" for n in _top_level(top_level, data_dir) if n not in RUNTIME_DIRS]


def directories(top_level: list[str], data_dir: str | None, workdir: str) -> list[str]:
    """What the probe tries to write: the root, every top-level directory but the kernel's and the data volume's,
    and the working directory (a non-root user's home is where it could write in a writable image)."""
    dirs = ["/", *(f"/{n}" for n in _top_level(top_level, data_dir))]
    if workdir and workdir not in dirs and workdir != data_dir:
        dirs.append(workdir)
    return dirs


def read_only_root(image: dagger.Container, top_level: list[str], data_dir: str | None) -> dagger.Container:
    """``image`` with a read-only root filesystem: each of its top-level directories (``top_level``: its rootfs
    ``entries()``) mounted read-only over itself, but the data volume's."""
    rootfs = image.rootfs()
    for path in read_only_directories(top_level, data_dir):
        image = image.with_mounted_directory(path, rootfs.directory(path.lstrip("/")), read_only=True)
    return image


def with_probe(ctr: dagger.Container, probe: Probe, argv: list[str]) -> dagger.Container:
    """``ctr`` running ``argv`` with the probe's binary mounted (read-only) at its place."""
    tool = dag.container().from_(probe.image).file(probe.binary)
    return ctr.with_mounted_file(probe.mount, tool).with_exec(argv)


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
        runner: DaggerRunner,
        *,
        version: str,
        labels: Mapping[str, str],
        images: Images | None = None,
        platforms: tuple[str, ...] | None = None,
        auth: RegistryAuth | None = None,
    ) -> None:
        self.runner = runner
        self.source = runner.source
        self.version = version
        self.labels = dict(labels)
        self.images = images or Images()
        self.platforms = platforms or self.images.platforms
        self.auth = auth
        self._built: dict[str, list[dagger.Container]] = {}
        self._entries: dict[str, list[str]] = {}  # component → top-level entries of its native image

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
        """Every platform variant; one whose image came out for another platform (a base image that lacks the
        requested one: the builder then takes what it has) is a failure, never a mislabelled release."""
        variants = self.variants(component, await self.base_images(component))
        built: list[dagger.Container | None] = [None] * len(variants)
        errors: list[str] = []

        async def one(index: int) -> None:
            wanted = self.platforms[index]
            try:
                image = await variants[index].sync()
                actual = str(await image.platform())
            except dagger.DaggerError as e:
                errors.append(f"{wanted}: {first_line(e)}")
                return
            if actual != wanted:
                errors.append(f"image for {wanted} came out as {actual}: a base image has no {wanted} variant")
                return
            built[index] = image

        async with anyio.create_task_group() as tg:
            for index in range(len(variants)):
                tg.start_soon(one, index)
        if errors:
            raise RuntimeError("; ".join(sorted(errors)))
        self._built[component.name] = [c for c in built if c is not None]
        self._entries.pop(component.name, None)  # read again from the image just built

    async def _native(self, component: Component) -> dagger.Container:
        """The built variant this engine runs without emulation."""
        native = str(await dag.default_platform())
        for platform, image in zip(self.platforms, self._images(component), strict=True):
            if platform == native:
                return image
        raise RuntimeError(f"image of {component.name}: no {native} variant to start on this engine")

    async def _production(
        self,
        spec: ServiceSpec,
        specs: Mapping[str, ServiceSpec],
        volume: dagger.CacheVolume,
        components: Mapping[str, Component],
        owner: str,
    ) -> dagger.Container:
        """The production image as production runs it: its own entrypoint, user and HEALTHCHECK; a read-only root
        filesystem (every top-level directory mounted read-only over itself, as ``docker run --read-only``: Dagger
        has no read-only root) with only the data volume writable — owned by ``owner``, the user of the service that
        initialises it (``_data_owner``), so a reader running as another user cannot write it (a cache volume has no
        read-only mount); the data volume initialised by its own binary; the services it needs bound under their
        names."""
        image = await self._native(components[spec.component])
        data_dir = DATA_DIR if spec.data_env else None
        ctr = read_only_root(image, await self._top_level(components[spec.component]), data_dir)
        ctr = ctr.with_env_variable(spec.port_env, str(spec.port))
        for key, value in spec.env.items():
            ctr = ctr.with_env_variable(key, value)
        if spec.bind_env:
            ctr = ctr.with_env_variable(spec.bind_env, ANY_HOST)
        if spec.data_env:
            ctr = ctr.with_mounted_cache(DATA_DIR, volume, owner=owner or await image.user() or "0").with_env_variable(
                spec.data_env, DATA_DIR
            )
            for argv in spec.init_arguments():
                ctr = ctr.with_exec(list(argv), use_entrypoint=True, expand=True)
        for name in spec.needs:
            need = specs[name]
            service = await self._service(need, specs, volume, components, owner)
            ctr = ctr.with_service_binding(name, service).with_env_variable(need.url_env, f"http://{name}:{need.port}")
        return ctr

    async def _top_level(self, component: Component) -> list[str]:
        """The top-level entries of the component's native image (its rootfs ``entries()``), read once."""
        if component.name not in self._entries:
            self._entries[component.name] = await (await self._native(component)).rootfs().entries()
        return self._entries[component.name]

    async def _data_owner(self, specs: Mapping[str, ServiceSpec], components: Mapping[str, Component]) -> str:
        """The user of the image whose service initialises the data volume ("" when none of ``specs`` does)."""
        for spec in specs.values():
            if spec.data_env and spec.init_arguments():
                return await (await self._native(components[spec.component])).user()
        return ""

    async def _service(
        self,
        spec: ServiceSpec,
        specs: Mapping[str, ServiceSpec],
        volume: dagger.CacheVolume,
        components: Mapping[str, Component],
        owner: str,
    ) -> dagger.Service:
        ctr = await self._production(spec, specs, volume, components, owner)
        return ctr.with_exposed_port(spec.port).as_service(use_entrypoint=True)

    async def probe(
        self, specs: tuple[ServiceSpec, ...], components: Mapping[str, Component], probes: Mapping[str, Probe]
    ) -> dict[str, str]:
        """Run each service's probe inside its production image (as ``_production`` runs it, on a fresh data
        volume per service, with the services it needs): service name → the probe's output."""
        by_name = {s.name: s for s in specs}
        owner = await self._data_owner(by_name, components)
        outputs: dict[str, str] = {}

        async def one(spec: ServiceSpec) -> None:
            probe = probes[spec.name]
            volume = dag.cache_volume(f"jessy-probe-{uuid.uuid4().hex[:12]}")
            ctr = await self._production(spec, by_name, volume, components, owner)
            image = await self._native(components[spec.component])
            data_dir = DATA_DIR if spec.data_env else None
            top_level = await self._top_level(components[spec.component])
            tried = directories(top_level, data_dir, await image.workdir())
            argv = [*probe.argv, data_dir or "", *tried, "--", *await image.entrypoint()]
            outputs[spec.name] = await with_probe(ctr, probe, argv).stdout()

        async with anyio.create_task_group() as tg:
            for spec in specs:
                tg.start_soon(one, spec)
        return outputs

    async def boot(
        self, specs: tuple[ServiceSpec, ...], components: Mapping[str, Component], probe_image: str
    ) -> dict[str, int | None]:
        """Start every service's image (``specs`` in dependency order, all built) on one fresh data volume and GET
        each health endpoint from a probe container: service name → HTTP status (None: no answer)."""
        by_name = {s.name: s for s in specs}
        owner = await self._data_owner(by_name, components)
        volume = dag.cache_volume(f"jessy-boot-{uuid.uuid4().hex[:12]}")
        probe = dag.container().from_(probe_image)
        urls: dict[str, str] = {}
        for spec in specs:
            service = await self._service(spec, by_name, volume, components, owner)
            probe = probe.with_service_binding(spec.name, service)
            urls[spec.name] = f"http://{spec.name}:{spec.port}{spec.health}"
        script = (
            "import json, sys, urllib.request, urllib.error\n"
            "def status(url):\n"
            "    try:\n"
            "        return urllib.request.urlopen(url, timeout=10).status\n"
            "    except urllib.error.HTTPError as e:\n"
            "        return e.code\n"
            "    except OSError:\n"
            "        return None\n"
            "print(json.dumps({name: status(url) for name, url in json.loads(sys.argv[1]).items()}))\n"
        )
        out = await probe.with_exec(["python", "-c", script, json.dumps(urls)]).stdout()
        answered: dict[str, int | None] = json.loads(out)
        return answered

    async def size(self, component: Component) -> int:
        return max([await image.as_tarball().size() for image in self._images(component)])

    async def tarball_input(self, component: Component) -> str:
        """The first platform's image as a tarball, handed to the runner as an input folder (for the scan step)."""
        name = f"image-{component.name}"
        self.runner.inputs[name] = dag.directory().with_file(TARBALL, self._images(component)[0].as_tarball())
        return name

    async def push(self, component: Component, references: list[str]) -> list[str]:
        ctr = publisher(self.auth)
        images = self._images(component)
        return [await ctr.publish(ref, platform_variants=images) for ref in references]
