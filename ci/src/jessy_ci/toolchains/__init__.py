"""WHAT each step runs, per language: images, cache volumes, env and command lines, as plain data.

A command line is written in exactly one place: its toolchain module.
"""

from __future__ import annotations

from typing import Protocol

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
    workdir: str,
    sources: tuple[str, ...],
    caches: tuple[Cache, ...],
    manifests: tuple[str, ...] = (),
    setup: tuple[Argv, ...] = (),
) -> Step:
    """A step of one component (named ``<component>:<kind>``), with the component's env and data volume."""
    return Step(
        name=f"{component.name}:{kind}",
        component=component.name,
        kind=kind,
        toolchain=toolchain,
        image=image,
        workdir=workdir,
        command=command,
        sources=sources,
        manifests=manifests,
        setup=setup,
        env=dict(component.env),
        caches=caches,
        data_env=component.data_env,
    )


def volume_init(service: Service, command: Argv) -> tuple[Argv, ...]:
    """The service's data-volume initialisation: its own binary (``command``) with the ``volume_init`` arguments
    of jessy-ci.toml (none when the service has none)."""
    return ((*command, *service.volume_init),) if service.volume_init else ()


def for_language(language: Language) -> Toolchain:
    from jessy_ci.toolchains import go, python, rust

    toolchains: dict[str, Toolchain] = {"rust": rust.RUST, "go": go.GO, "python": python.PYTHON}
    return toolchains[language]
