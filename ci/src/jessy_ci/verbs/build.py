"""build: every selected component's production image and its size budget (Dagger), or, on the host, the native
release binaries and their sizes (images need a Dagger engine)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import anyio

from jessy_ci.config import Component, Project
from jessy_ci.errors import first_line
from jessy_ci.gates import readonly as readonly_gate
from jessy_ci.gates import release
from jessy_ci.report import Report, Status, StepResult
from jessy_ci.runners import Runner, RunResult
from jessy_ci.runners.images import ImageBackend
from jessy_ci.session import Say, Session
from jessy_ci.steps import RELEASE_SIZE_FILE, ServiceSpec, Step
from jessy_ci.toolchains import python, readonly
from jessy_ci.verbs.execute import run_steps
from jessy_ci.verbs.plan import image_components, plan_release_builds, serve_specs

T = TypeVar("T")
HOST_NOTE = "container images need a Dagger engine: `dagger call build` (or `jessy-ci build --runner dagger`)"


async def measure(report: Report, images: ImageBackend, components: list[Component], say: Say) -> dict[str, int]:
    """The size of every built image (largest platform tarball) and the size gate over the budgets."""
    sizes: dict[str, int] = {}
    budgets: dict[str, float] = {}

    async def one(c: Component) -> None:
        name = c.image or c.name
        try:
            sizes[name] = await images.size(c)
        except Exception as e:
            report.gate_failures.append(f"image {name}: could not measure its size: {e}")
            return
        report.add_metric(f"{c.name}:image", "size", release.format_size(sizes[name]))
        say(f"image {name}: {release.format_size(sizes[name])}")

    async with anyio.create_task_group() as tg:
        for c in components:
            tg.start_soon(one, c)
    for c in components:
        if c.size_budget_mb is not None:
            budgets[c.image or c.name] = c.size_budget_mb
    ordered = {c.image or c.name: sizes[c.image or c.name] for c in components if (c.image or c.name) in sizes}
    report.gate_failures += release.size_gate(ordered, budgets)
    return ordered


def _bootable(project: Project, built: list[Component]) -> tuple[ServiceSpec, ...]:
    """The services of the built images whose needs were built too (dependencies first)."""
    names = {c.name for c in built}
    specs = tuple(s for s in serve_specs(project) if s.component in names)
    return tuple(s for s in specs if set(s.needs) <= {t.name for t in specs})


async def _per_service(
    report: Report,
    kind: str,
    services: tuple[ServiceSpec, ...],
    call: Callable[[], Awaitable[Mapping[str, T]]],
    judge: Callable[[ServiceSpec, T | None], tuple[bool, str]],
    say: Say,
) -> None:
    """One ``<service>:<kind>`` step per service from one call to the image backend: ``judge`` turns each
    service's answer (None: none) into (passed, detail); a failing call is every service's error."""
    started = time.monotonic()
    say(f"▶ {kind}: {', '.join(s.name for s in services)}")
    answers: Mapping[str, T] = {}
    problem = ""
    try:
        answers = await call()
    except Exception as e:
        problem = first_line(e)
    for spec in services:
        ok, detail = (False, problem) if problem else judge(spec, answers.get(spec.name))
        result: Status = "passed" if ok else ("error" if problem else "failed")
        report.steps.append(
            StepResult(f"{spec.name}:{kind}", spec.component, kind, result, time.monotonic() - started, detail)
        )
        say(f"{'✔' if ok else '✘'} {spec.name}:{kind}: {detail}")


async def boot(report: Report, images: ImageBackend, project: Project, built: list[Component], say: Say) -> None:
    """Every built image that runs as a service is started the way production runs it, with the images it needs,
    and its health endpoint must answer with the expected status (``<component>:boot``). A service that needs an
    image this run did not build is left out, with a note."""
    bootable = _bootable(project, built)
    names = {c.name for c in built}
    left_out = [s for s in serve_specs(project) if s.component in names and s not in bootable]
    report.notes += [f"boot {s.name}: left out, it needs an image not built here" for s in left_out]
    if not bootable:
        return

    def answered(spec: ServiceSpec, status: int | None) -> tuple[bool, str]:
        ok = status == spec.health_status
        return ok, f"GET {spec.health} → {status or 'no answer'}" + ("" if ok else f", expected {spec.health_status}")

    async def call() -> Mapping[str, int | None]:
        return await images.boot(bootable, project.components, project.images.resolve(python.IMAGE))

    await _per_service(report, "boot", bootable, call, answered, say)


async def probe_read_only(
    report: Report, images: ImageBackend, project: Project, built: list[Component], say: Say
) -> None:
    """Every built image that runs as a service, run as production runs it (read-only root filesystem, only the data
    volume writable) with a probe beside it (``<service>:readonly``): no write outside the data volume, the data
    volume writable only by the service that initialises it, health answered before and after."""
    bootable = _bootable(project, built)
    if not bootable:
        return

    def judged(spec: ServiceSpec, output: str | None) -> tuple[bool, str]:
        owns = bool(spec.init_arguments())
        expected = readonly_gate.Expectation(spec.health_status, spec.data_env is not None, owns)
        return readonly_gate.judge(output or "", expected)

    async def call() -> Mapping[str, str]:
        probes = {s.name: readonly.probe(s, project.images.resolve(readonly.IMAGE)) for s in bootable}
        return await images.probe(bootable, project.components, probes)

    await _per_service(report, "readonly", bootable, call, judged, say)


async def build_image(report: Report, images: ImageBackend, component: Component, say: Say) -> bool:
    """Build every platform of one image; a failure is a failed step. True when built."""
    started = time.monotonic()
    say(f"▶ {component.name}:image ({', '.join(images.platforms)})")
    try:
        await images.build(component)
    except Exception as e:
        detail = first_line(e)
        report.steps.append(
            StepResult(f"{component.name}:image", component.name, "image", "failed", time.monotonic() - started, detail)
        )
        say(f"✘ {component.name}:image: {detail}")
        return False
    report.steps.append(
        StepResult(f"{component.name}:image", component.name, "image", "passed", time.monotonic() - started)
    )
    say(f"✔ {component.name}:image")
    return True


async def build_images(report: Report, images: ImageBackend, components: list[Component], say: Say) -> list[Component]:
    """Build every image concurrently; the components whose image was built, in config order."""
    built: set[str] = set()

    async def one(c: Component) -> None:
        if await build_image(report, images, c, say):
            built.add(c.name)

    async with anyio.create_task_group() as tg:
        for c in components:
            tg.start_soon(one, c)
    order = [c.name for c in components]
    report.steps.sort(key=lambda s: order.index(s.component) if s.component in order else len(order))
    return [c for c in components if c.name in built]


async def _host_build(project: Project, runner: Runner, selected: list[Component], say: Say) -> Report:
    sizes: dict[str, str] = {}

    def keep(step: Step, result: RunResult) -> None:
        raw = result.files.get(RELEASE_SIZE_FILE, b"").decode().strip()
        if raw.isdigit():
            sizes[step.name] = release.format_size(int(raw))

    report = await run_steps("build", plan_release_builds(project, selected), runner, say, on_result=keep)
    for name, size in sizes.items():
        report.add_metric(name, "binary", size)
        say(f"{name}: release binary {size}")
    report.notes.append(HOST_NOTE)
    return report


async def run_build(session: Session, components: list[str]) -> Report:
    """With the session's image backend (Dagger): production images for every platform, the size gate, a boot of
    each. Without one (host): release binaries."""
    project, images, say = session.project, session.images, session.say
    selected = image_components(session.components(components))
    if images is None:
        say(HOST_NOTE)
        return await _host_build(project, session.runner, selected, say)
    started = time.monotonic()
    report = Report(verb="build")
    built = await build_images(report, images, selected, say)
    await measure(report, images, built, say)
    await boot(report, images, project, built, say)
    await probe_read_only(report, images, project, built, say)
    report.notes.append(f"{len(built)} image(s) for {', '.join(images.platforms)} in {time.monotonic() - started:.0f}s")
    return report
