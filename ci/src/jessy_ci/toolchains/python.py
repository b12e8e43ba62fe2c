"""Python steps: ruff for lint, pytest (with pytest-bdd) for the BDD scenarios. Tool versions are pinned here and
in the root pyproject.toml (tests/test_packaging.py keeps the two equal)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from jessy_ci.config import Component, Service, TestKind
from jessy_ci.steps import REPORTS_PLACEHOLDER, Cache, JunitSource, ServiceSpec, Step
from jessy_ci.toolchains import component_step

IMAGE = "python:3.11-slim-bookworm"
RUFF = "ruff==0.17.5"
PYTEST = ("pytest==9.0.1", "pytest-bdd==9.0.1")
CACHES = (Cache("pip", "/root/.cache/pip", env="PIP_CACHE_DIR"),)


def pip_install(*requirements: str) -> tuple[str, ...]:
    return ("python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements)


def _in_repo(component: Component, path: str) -> str:
    return path if component.path == "." else f"{component.path}/{path}".removesuffix("/.")


@dataclass(frozen=True)
class Python:
    name: str = "python"

    def _step(self, c: Component, kind: str, command: tuple[str, ...], sources: tuple[str, ...]) -> Step:
        return component_step(
            c,
            kind,
            toolchain=self.name,
            image=IMAGE,
            command=command,
            workdir=".",
            sources=sources,
            caches=CACHES,
            setup=(pip_install(RUFF) if kind.startswith("ruff") else pip_install(*PYTEST),),
        )

    def lint(self, component: Component) -> list[Step]:
        paths = tuple(_in_repo(component, p) for p in component.lint_paths)
        if not paths:
            return []
        sources = (*paths, "pyproject.toml")
        return [
            self._step(component, "ruff-check", ("ruff", "check", *paths), sources),
            self._step(component, "ruff-format", ("ruff", "format", "--check", *paths), sources),
        ]

    def test(self, component: Component, kind: TestKind, services: tuple[ServiceSpec, ...]) -> Step:
        junit = f"--junitxml={REPORTS_PLACEHOLDER}/junit.xml"
        command = ("python", "-m", "pytest", component.path, "-p", "no:cacheprovider", junit)
        step = self._step(component, kind, command, (component.path,))
        return replace(step, services=services, junit=JunitSource.FILE)

    def service(self, service: Service, component: Component) -> ServiceSpec:
        raise ValueError(f"component {component.name}: python components cannot run as services")


PYTHON = Python()
