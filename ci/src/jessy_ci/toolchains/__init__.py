"""WHAT each step runs, per language: images, cache volumes, env and command lines, as plain data.

A command line is written in exactly one place: its toolchain module.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from jessy_ci.config import Component, Language, Service, TestKind
from jessy_ci.steps import Argv, BenchSettings, Cache, ServiceSpec, Step

__all__ = ["BenchSettings"]


class Toolchain(Protocol):
    @property
    def name(self) -> str: ...

    def lint(self, component: Component) -> list[Step]: ...

    def test(self, component: Component, kind: TestKind, services: tuple[ServiceSpec, ...]) -> Step: ...

    def service(self, service: Service, component: Component) -> ServiceSpec: ...


VERSION_FILE = "toolchain-version"  # a bench step writes its toolchain's version line there, in {reports}


def component_step(
    component: Component,
    kind: str,
    *,
    toolchain: str,
    image: str,
    command: Argv,
    caches: tuple[Cache, ...],
    workdir: str | None = None,
    sources: tuple[str, ...] | None = None,
    manifests: tuple[str, ...] = (),
    setup: tuple[Argv, ...] = (),
) -> Step:
    """A step of one component (named ``<component>:<kind>``), with the component's env and data volume; it runs in
    the component's folder and sees only that folder unless ``workdir`` / ``sources`` say otherwise."""
    return Step(
        name=f"{component.name}:{kind}",
        component=component.name,
        kind=kind,
        toolchain=toolchain,
        image=image,
        workdir=component.path if workdir is None else workdir,
        command=command,
        sources=(component.path,) if sources is None else sources,
        manifests=manifests,
        setup=setup,
        env=dict(component.env),
        caches=caches,
        data_env=component.data_env,
    )


def repo_step(
    component: str, kind: str, *, toolchain: str, image: str, command: Argv, sources: tuple[str, ...], **more: Any
) -> Step:
    """A step over the repository (it runs at its root), named ``<component>:<kind>``; ``more``: any other Step
    field (setup, env, caches, inputs)."""
    step = Step(
        name=f"{component}:{kind}",
        component=component,
        kind=kind,
        toolchain=toolchain,
        image=image,
        workdir=".",
        command=command,
        sources=sources,
    )
    return replace(step, **more)


def service_spec(
    service: Service, component: Component, *, image: str, build: Argv, command: Argv, caches: tuple[Cache, ...]
) -> ServiceSpec:
    """A service of jessy-ci.toml run from its component's folder: ``build`` makes the binary, ``command`` starts
    it (and, with the ``volume_init`` arguments, initialises a fresh data volume)."""
    return ServiceSpec(
        name=service.name,
        component=component.name,
        image=image,
        workdir=component.path,
        sources=(component.path,),
        setup=(build,),
        command=command,
        port=service.port,
        port_env=service.port_env,
        health=service.health,
        url_env=service.url_env,
        env=dict(service.env),
        caches=caches,
        data_env=component.data_env,
        needs=service.needs,
        bind_env=service.bind_env,
        health_status=service.health_status,
        init=volume_init(service, command),
    )


def volume_init(service: Service, command: Argv) -> tuple[Argv, ...]:
    """The service's data-volume initialisation: its own binary (``command``) with the ``volume_init`` arguments
    of jessy-ci.toml (none when the service has none)."""
    return ((*command, *service.volume_init),) if service.volume_init else ()


def for_language(language: Language) -> Toolchain:
    from jessy_ci.toolchains import go, python, rust

    toolchains: dict[str, Toolchain] = {"rust": rust.RUST, "go": go.GO, "python": python.PYTHON}
    return toolchains[language]
