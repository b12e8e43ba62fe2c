"""Python steps: ruff for lint; pytest for the tests and coverage.py (through pytest-cov) for coverage, each in the
component's own environment. Tool versions are pinned here and in the root pyproject.toml (tests/test_packaging.py
keeps the two equal).

A component's environment is built by uv from the component's own metadata, in its folder:
- ``requirements`` named in jessy-ci.toml: ``uv pip install -r <file>`` (the file installs the project itself, if
  it should be, with ``-e .``);
- else a ``uv.lock``: ``uv sync --frozen`` with the ``test_extra`` / ``test_group``;
- else a pyproject.toml with a ``[project]`` table: its dependencies, the extra / group, and the project itself
  (editable);
- else nothing but the test tools.
pytest (and pytest-bdd for BDD tests, pytest-cov for coverage) are added at the pinned versions when the environment
lacks them. The environment is one folder per component: on the host kept with the checkout
(``.jessy-ci/cache/python-env-<component>``), in a container made anew in every step; uv's cache is a cache volume.
Everything runs in the step's command, not in its setup, so that a dependency that cannot be resolved fails the step
with uv's own error (gates/findings.py picks its first line).

Scripts here never use shell variables of their own: both runners expand ``$NAME`` from the step's env first.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from jessy_ci.config import Component, Service, TestKind
from jessy_ci.steps import CUCUMBER_FILE, REPORTS_PLACEHOLDER, Cache, JunitSource, ServiceSpec, Step
from jessy_ci.toolchains import component_step

IMAGE = "python:3.11-slim-bookworm"
RUFF = "ruff==0.17.5"
UV = "uv==0.13.9"
PYTEST = "pytest==9.0.1"
PYTEST_BDD = "pytest-bdd==9.0.1"
PYTEST_COV = "pytest-cov==7.1.0"
CACHES = (Cache("pip", "/root/.cache/pip", env="PIP_CACHE_DIR"),)
UV_CACHE = Cache("uv", "/root/.cache/uv", env="UV_CACHE_DIR")
ENV_PATH = "/opt/python-env"  # the component's environment inside a container
COVERAGE_FILE = "lcov.info"  # the coverage step's lcov tracefile (with branches), in {reports}
INTEGRATION_MARKER = "integration"  # pytest marker of a component's integration tests
UV_ENV = {
    "UV_LINK_MODE": "copy",  # the uv cache is another mount in containers: no hard links
    "UV_PYTHON_DOWNLOADS": "never",  # the interpreter of the image or the host, never a downloaded one
    # the machine's trust store, as pip uses it: a registry behind a TLS-intercepting proxy, whose CA the Dagger
    # engine installs into every container, is then reachable (uv's own bundle knows only public CAs)
    "UV_SYSTEM_CERTS": "1",
}
_ENV = "${VIRTUAL_ENV}"
# Installs the pinned requirements given as arguments whose module the environment lacks (a project that declares
# pytest keeps its own). No `$` in it: runners expand variables in commands.
ADD_MISSING = (
    "import importlib.util, subprocess, sys; "
    'need = [r for r in sys.argv[1:] if importlib.util.find_spec(r.split("==")[0].replace("-", "_")) is None]; '
    'sys.exit(subprocess.call(["uv", "pip", "install", "--quiet", *need]) if need else 0)'
)


def pip_install(*requirements: str) -> tuple[str, ...]:
    return ("python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements)


def _in_repo(component: Component, path: str) -> str:
    return path if component.path == "." else f"{component.path}/{path}".removesuffix("/.")


def environment_cache(component: Component) -> Cache:
    """The component's own environment (``VIRTUAL_ENV``)."""
    return Cache(
        f"python-env-{component.name}", ENV_PATH, env="VIRTUAL_ENV", per_checkout=True, fresh_in_containers=True
    )


def _selection(component: Component) -> tuple[str, ...]:
    return (
        *(("--extra", component.test_extra) if component.test_extra else ()),
        *(("--group", component.test_group) if component.test_group else ()),
    )


def environment_script(component: Component) -> str:
    """Shell that builds the component's environment in ``$VIRTUAL_ENV`` from its metadata, in its folder."""
    venv = f'{{ [ -x "{_ENV}/bin/python" ] || uv venv --quiet "{_ENV}"; }}'
    if component.requirements is not None:
        return f"{venv} && {shlex.join(('uv', 'pip', 'install', '--quiet', '-r', component.requirements))}"
    selection = _selection(component)
    sync = shlex.join(("uv", "sync", "--quiet", "--frozen", "--inexact", *selection))
    install = shlex.join(("uv", "pip", "install", "--quiet", "-r", "pyproject.toml", *selection, "-e", "."))
    return (
        f'if [ -f uv.lock ]; then UV_PROJECT_ENVIRONMENT="{_ENV}" {sync}; '
        f"elif grep -qs '^\\[project\\]' pyproject.toml; then {venv} && {install}; "
        f"else {venv}; fi"
    )


def marker_expression(component: Component, kind: str) -> str | None:
    """``pytest -m``: the component's ``pytest_markers``, and when it declares integration tests, which of them a
    kind runs (``integration`` marks them; unit runs the others); None: every test."""
    selection = None
    if INTEGRATION_MARKER in component.tests:
        selection = {"unit": f"not {INTEGRATION_MARKER}", "integration": INTEGRATION_MARKER}.get(kind)
    if component.pytest_markers and selection:
        return f"({component.pytest_markers}) and {selection}"
    return component.pytest_markers or selection


def pytest_script(component: Component, kind: str, tools: tuple[str, ...], pytest_args: tuple[str, ...]) -> str:
    """The whole test run: the environment, the test tools it lacks, then pytest (JUnit into ``{reports}``, and for
    BDD pytest-bdd's cucumber JSON beside it)."""
    markers = marker_expression(component, kind)
    pytest = (
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--junitxml={REPORTS_PLACEHOLDER}/junit.xml",
        *((f"--cucumberjson={REPORTS_PLACEHOLDER}/{CUCUMBER_FILE}",) if kind == "bdd" else ()),
        *(("-m", markers) if markers else ()),
        *component.pytest_args,
        *pytest_args,
    )
    return " && ".join(
        (
            environment_script(component),
            f'export PATH="{_ENV}/bin:${{PATH}}"',
            shlex.join(("python", "-c", ADD_MISSING, *tools)),
            f"exec {shlex.join(pytest)}",
        )
    )


def _tools(component: Component, *extra: str) -> tuple[str, ...]:
    return (PYTEST, *((PYTEST_BDD,) if "bdd" in component.tests else ()), *extra)


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
            setup=(pip_install(RUFF),),
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

    def _pytest(self, c: Component, kind: str, script: str, services: tuple[ServiceSpec, ...]) -> Step:
        step = component_step(
            c,
            kind,
            toolchain=self.name,
            image=IMAGE,
            command=("sh", "-c", script),
            workdir=c.path,
            sources=(c.path,),
            caches=(*CACHES, UV_CACHE, environment_cache(c)),
            setup=(pip_install(UV),),
        )
        return replace(step, env={**UV_ENV, **step.env}, services=services, junit=JunitSource.FILE)

    def test(self, component: Component, kind: TestKind, services: tuple[ServiceSpec, ...]) -> Step:
        """pytest over the component's tests (its own configuration says where they are): ``unit`` and
        ``integration`` split by the ``integration`` marker when the component has both, ``bdd`` runs them all."""
        script = pytest_script(component, kind, _tools(component), ())
        return self._pytest(component, kind, script, services)

    def coverage(self, component: Component, services: tuple[ServiceSpec, ...]) -> Step:
        """Every test of the component in one run (services bound when it has integration or BDD tests) under
        coverage.py with branches, as lcov in ``{reports}``. What is measured is the project's own coverage
        configuration (``[tool.coverage.run] source``), else everything under the component's folder."""
        cov = ("--cov", "--cov-branch", f"--cov-report=lcov:{REPORTS_PLACEHOLDER}/{COVERAGE_FILE}")
        script = pytest_script(component, "coverage", _tools(component, PYTEST_COV), cov)
        bound = services if {"integration", "bdd"} & set(component.tests) else ()
        step = self._pytest(component, "coverage", script, bound)
        # coverage.py's data file (and its subprocesses') beside the environment, never in the checkout
        return replace(step, env={**step.env, "COVERAGE_FILE": f"{_ENV}/.coverage"})

    def service(self, service: Service, component: Component) -> ServiceSpec:
        raise ValueError(f"component {component.name}: python components cannot run as services")


PYTHON = Python()
