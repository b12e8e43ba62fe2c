"""Image references: Docker's reference grammar, normalisation, and where each image is really pulled from.

Every image jessy-ci pulls (toolchain images, Trivy, the serve proxy, the Dockerfiles' base images) goes through
``Images.resolve``: an ``[images.replace]`` entry of jessy-ci.toml wins, else the ``mirror`` prefix, else the ref
itself. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from jessy_ci.errors import UsageError

DEFAULT_REGISTRY = "docker.io"
OFFICIAL_NAMESPACE = "library"
DEFAULT_TAG = "latest"
PLATFORMS = ("linux/amd64", "linux/arm64")

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?"
_HOST_RE = re.compile(_HOST)
_NAME = re.compile(
    rf"(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>[\w][\w.-]{{0,127}}))?(?:@(?P<digest>sha256:[0-9a-f]{{64}}))?"
)
_MIRROR = re.compile(rf"{_HOST}(?:/{_COMPONENT})*")
_PLATFORM = re.compile(r"linux/(amd64|arm64|arm/v7|ppc64le|s390x|riscv64)")


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference, e.g. ``rust:1.95-bookworm`` → docker.io / library/rust / 1.95-bookworm."""

    registry: str
    path: str
    tag: str
    digest: str = ""

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.registry}/{self.path}{tag}" + (f"@{self.digest}" if self.digest else "")


def _is_host(first: str) -> bool:
    """Docker's rule: the first component is a registry host when it has a dot or a port, or is localhost."""
    return "." in first or ":" in first or first == "localhost"


def parse_ref(text: str, what: str) -> ImageRef:
    """Parse ``text`` (``what`` names the input in the error); normalised like ``docker pull`` does."""
    first, _, rest = text.partition("/")
    host = first if rest and _is_host(first) else DEFAULT_REGISTRY
    match = _NAME.fullmatch(rest if rest and _is_host(first) else text)
    if match is None or not _HOST_RE.fullmatch(host):
        raise UsageError(f"{what}: {text!r} is not an image reference; expected [REGISTRY/]NAME[:TAG][@sha256:DIGEST]")
    path = match.group("path")
    if host == DEFAULT_REGISTRY and "/" not in path:
        path = f"{OFFICIAL_NAMESPACE}/{path}"
    digest = match.group("digest") or ""
    return ImageRef(host, path, match.group("tag") or ("" if digest else DEFAULT_TAG), digest)


def normalize(text: str, what: str = "image") -> str:
    return str(parse_ref(text, what))


def check_mirror(text: str, what: str) -> str:
    """A registry prefix like ``registry.internal:5000/mirror`` (no scheme, no tag)."""
    value = text.rstrip("/")
    if not _MIRROR.fullmatch(value) or not _is_host(value.split("/", 1)[0]):
        raise UsageError(f"{what}: {text!r} is not a registry prefix; expected HOST[:PORT][/PATH] like mirror.internal")
    return value


def check_platform(text: str, what: str) -> str:
    if not _PLATFORM.fullmatch(text):
        raise UsageError(f"{what}: {text!r} is not a platform; expected linux/amd64 or linux/arm64 (os/arch)")
    return text


@dataclass(frozen=True)
class Images:
    """Where images come from (``[images]`` of jessy-ci.toml) and which platforms release images are built for.

    ``replace``: normalised reference → the reference to pull instead, used as given.
    ``mirror``: a registry prefix every other image is pulled through, as ``MIRROR/<registry>/<path>:<tag>``
    (``rust:1.95-bookworm`` → ``MIRROR/docker.io/library/rust:1.95-bookworm``).
    """

    mirror: str = ""
    replace: Mapping[str, str] = field(default_factory=dict[str, str])
    platforms: tuple[str, ...] = PLATFORMS

    def resolve(self, ref: str) -> str:
        normalized = normalize(ref)
        if normalized in self.replace:
            return self.replace[normalized]
        if self.mirror:
            return f"{self.mirror}/{normalized}"
        return ref


_ARG = re.compile(r"^\s*ARG\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S+)\s*$", re.IGNORECASE)
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?:\s+AS\s+(?P<stage>\S+))?\s*$", re.IGNORECASE)
_VARIABLE = re.compile(r"^\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}?$")


@dataclass(frozen=True)
class DockerfileImages:
    """The base images of a Dockerfile: ``args`` are the global ARGs (declared before the first FROM) that a FROM
    uses, with their default references; ``literal`` are the references written into FROM lines directly."""

    args: Mapping[str, str]
    literal: tuple[str, ...]

    @property
    def refs(self) -> tuple[str, ...]:
        return (*self.args.values(), *self.literal)

    def build_args(self, images: Images) -> dict[str, str]:
        """The build arguments that point every ARG-named base image at where ``images`` pulls it from."""
        resolved = {name: images.resolve(ref) for name, ref in self.args.items()}
        return {name: ref for name, ref in resolved.items() if ref != self.args[name]}


def dockerfile_images(text: str) -> DockerfileImages:
    """Read the base images of a Dockerfile (stage names and ``scratch`` are not images)."""
    globals_: dict[str, str] = {}
    args: dict[str, str] = {}
    literal: list[str] = []
    stages: set[str] = set()
    seen_from = False
    for line in text.splitlines():
        if not seen_from and (arg := _ARG.match(line)):
            globals_[arg.group("name")] = arg.group("value").strip("\"'")
            continue
        found = _FROM.match(line)
        if found is None:
            continue
        seen_from = True
        image = found.group("image")
        variable = _VARIABLE.match(image)
        if variable is not None and variable.group("name") in globals_:
            args[variable.group("name")] = globals_[variable.group("name")]
        elif image.lower() != "scratch" and image not in stages and variable is None:
            literal.append(image)
        if found.group("stage"):
            stages.add(found.group("stage"))
    return DockerfileImages(args, tuple(literal))
