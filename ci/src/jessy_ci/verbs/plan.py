"""Planning: which Steps a verb runs for which components. Pure: config in, frozen Steps out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from jessy_ci.config import Component, Project, Service
from jessy_ci.steps import LoadSettings, Proxy, ResourceLimits, ServiceSpec, Step
from jessy_ci.toolchains import (
    BenchSettings,
    for_language,
    go,
    hadolint,
    plot,
    proxy,
    python,
    repo,
    resources,
    rust,
    trivy,
    vegeta,
)

UTILITY_IMAGE = python.IMAGE  # small helper containers: the boot probe, the bad-input reporter of the module


def _with_project_env(step: Step, project: Project) -> Step:
    """The project's env under the step's own, and its image pulled from where jessy-ci.toml says."""
    return replace(step, env={**project.env, **step.env}, image=project.images.resolve(step.image))


def _specs(
    project: Project,
    services: list[Service],
    env: Mapping[str, str] | None = None,
    limits: ResourceLimits | None = None,
) -> tuple[ServiceSpec, ...]:
    specs: list[ServiceSpec] = []
    for service in services:
        owner = project.components[service.component]
        spec = for_language(owner.language).service(service, owner)
        merged = {**project.env, **(env or {}), **spec.env}
        specs.append(replace(spec, env=merged, image=project.images.resolve(spec.image), limits=limits))
    return tuple(specs)


def service_specs(project: Project, component: Component) -> tuple[ServiceSpec, ...]:
    """The services the component's tests need, dependencies first, as runnable specs."""
    return _specs(project, project.services_for(component))


def serve_specs(
    project: Project, env: Mapping[str, str] | None = None, limits: ResourceLimits | None = None
) -> tuple[ServiceSpec, ...]:
    """The dev environment (``serve``): every component that has a [serve] table, dependencies first, as runnable
    specs; ``env`` (an environment's service env) goes to every one of them, under the service's own env, and so do
    ``limits`` (an environment's cpus and memory_mb: what each service process may use)."""
    return _specs(project, project.served(), env, limits)


def serve_proxy(project: Project, specs: tuple[ServiceSpec, ...], ports: Mapping[str, int]) -> Proxy:
    """The front door of ``serve`` on Dagger, pulled from where jessy-ci.toml says."""
    front = proxy.proxy(specs, ports)
    return replace(front, image=project.images.resolve(front.image))


def plan_smoke(project: Project, url: str, timeout: float, core_url: str, run_id: str, bound: tuple[str, ...]) -> Step:
    """The smoke checks from a container (Dagger), its image pulled from where jessy-ci.toml says."""
    return _with_project_env(repo.smoke(url, timeout, core_url, run_id, bound), project)


def plan_load(
    project: Project,
    settings: LoadSettings,
    run_id: str,
    env: Mapping[str, str] | None = None,
    limits: ResourceLimits | None = None,
) -> tuple[Step, tuple[str, ...]]:
    """The load step: ``settings.instances`` instances of the target's service and one of every service it needs
    (dependencies first, all on one fresh layer volume, each behind the resource sampler), and vegeta over the
    instances; ``env`` (an environment's service env) and ``limits`` (its cpus and memory_mb) go to every service.
    Also the instances' names."""
    *needed, target = _specs(project, project.services_closure((settings.target,)), env, limits)
    copies = vegeta.instances(target, settings.instances)
    services = tuple(resources.sampled(spec, settings.sample_seconds) for spec in (*needed, *copies))
    step = vegeta.load(settings, services, copies, target.health, run_id)
    return _with_project_env(step, project), tuple(spec.name for spec in copies)


def plan_load_plot(project: Project, component: str, series: str, run_id: str) -> Step:
    """The latency plot made in a python container (where the caller has no matplotlib)."""
    return _with_project_env(plot.latency_plot(component, series, run_id), project)


def plan_lint(project: Project, components: list[Component]) -> list[Step]:
    steps: list[Step] = []
    for c in components:
        steps.extend(for_language(c.language).lint(c))
        dockerfile = hadolint.lint(c)
        if dockerfile is not None:
            steps.append(dockerfile)
        if c.path in (".", ""):  # the repository's own component: secret scan over every file, the workflows
            steps += [repo.secret_scan(c.name), repo.actionlint(c.name)]
    return [_with_project_env(s, project) for s in steps]


def plan_test(project: Project, components: list[Component]) -> list[Step]:
    steps: list[Step] = []
    for c in components:
        toolchain = for_language(c.language)
        services = service_specs(project, c)
        for kind in c.tests:
            steps.append(toolchain.test(c, kind, () if kind == "unit" else services))
    return [_with_project_env(s, project) for s in steps]


def image_components(components: list[Component]) -> list[Component]:
    """The components that ship an image: a Dockerfile and an image name in jessy-ci.toml."""
    return [c for c in components if c.dockerfile is not None and c.image is not None]


def plan_release_builds(project: Project, components: list[Component]) -> list[Step]:
    """Native release builds (the host runner's `build`) of every selected component that ships an image."""
    builders = {"rust": rust.RUST.release, "go": go.GO.release}
    steps = [builders[c.language](c) for c in image_components(components) if c.language in builders]
    return [_with_project_env(s, project) for s in steps]


def plan_source_scan(project: Project, offline: bool, prepared_db: bool = False) -> list[Step]:
    """Trivy over the repository's files (``offline``: secret and misconfiguration scanners only, unless a
    ``prepared_db`` is given)."""
    return [_with_project_env(trivy.source_scan(offline, prepared_db), project)]


def plan_image_scan(project: Project, component: Component, tarball_input: str, prepared_db: bool) -> Step:
    """Trivy over one built image, handed to the runner as the input ``tarball_input``."""
    return _with_project_env(trivy.image_scan_step(component.name, tarball_input, prepared_db), project)


def has_coverage(component: Component) -> bool:
    """Rust and Go components, and Python components that have tests."""
    return component.language in ("rust", "go") or (component.language == "python" and bool(component.tests))


def has_benchmarks(component: Component) -> bool:
    """Rust (criterion) and Go (go test -bench) components."""
    return component.language in ("rust", "go")


def plan_coverage(project: Project, components: list[Component]) -> list[Step]:
    """One coverage step per selected component that has coverage: unit and integration (and for Python BDD) tests
    in one run, services bound."""
    steps: list[Step] = []
    for c in components:
        if not has_coverage(c):
            continue
        if c.language == "rust":
            steps.append(rust.RUST.coverage(c))
        elif c.language == "go":
            steps.append(go.GO.coverage(c, service_specs(project, c)))
        else:
            steps.append(python.PYTHON.coverage(c, service_specs(project, c)))
    return [_with_project_env(s, project) for s in steps]


def plan_bench(project: Project, components: list[Component], settings: BenchSettings) -> list[Step]:
    """One benchmark step per selected Rust (criterion) or Go (go test -bench) component."""
    builders = {"rust": rust.RUST.bench, "go": go.GO.bench}
    steps = [builders[c.language](c, settings) for c in components if has_benchmarks(c)]
    return [_with_project_env(s, project) for s in steps]
