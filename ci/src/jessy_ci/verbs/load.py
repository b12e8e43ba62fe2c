"""load: drive N instances of a served component (jessy-api) — and through them what they need (jessy-core) — with
vegeta at a constant rate, then gate the figures.

One step does the run (toolchains/vegeta.py): the services start on one fresh layer volume, each behind a resource
sampler; the layers the reads ask for are seeded; then the load, spread over the instances by vegeta's target list.
Only services the run itself started are ever targeted: on the host they listen on 127.0.0.1, on Dagger they are
bound to the step under their names; the script refuses any other URL and the gate fails on a request that went
anywhere else. Every run is bounded (options: duration, rate, requests) and ends by itself.

Reports: ``load/result.json``, ``load/load.md``, ``load/latency.svg``, vegeta's own files under ``load/vegeta/``
(``report.json``, ``results.jsonl``, ``seed.json``, ``instances.tsv``, the ``load.sh`` that ran), the raw
resource samples under ``load/resources/`` and, with an environment's limits, what each service's cgroups held
(``load/limits/<service>.json``: the host runner reads them back; Dagger cannot limit a container and says so).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import anyio

from jessy_ci.gates import load as gate
from jessy_ci.gates.load import LoadGate
from jessy_ci.report import Report
from jessy_ci.runners import RunResult
from jessy_ci.session import Session
from jessy_ci.steps import LIMITS_FOLDER, LoadSettings, ResourceLimits, Step
from jessy_ci.toolchains import plot, resources, vegeta
from jessy_ci.verbs.execute import run_steps
from jessy_ci.verbs.plan import plan_load, plan_load_plot

FOLDER = "load"


@dataclass(frozen=True)
class LoadRequest:
    """What `load` was asked, checked (``options.load_settings`` / ``options.load_gate``); ``service_env``: an
    environment's env for every service; ``limits``: its cpus and memory_mb for every service process (None: not
    limited)."""

    settings: LoadSettings
    gate: LoadGate
    service_env: Mapping[str, str] | None = None
    limits: ResourceLimits | None = None


def _samples(files: Mapping[str, bytes]) -> dict[str, str]:
    """Service → its resource samples, from the step's files."""
    return {
        path.removeprefix(f"{resources.FOLDER}/").removesuffix(".tsv"): data.decode(errors="replace")
        for path, data in files.items()
        if _is_samples(path)
    }


def _kept(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """vegeta's files, the raw samples and the services' limits, kept in the reports under ``load/``."""
    kept = (vegeta.REPORT_FILE, vegeta.RESULTS_FILE, vegeta.SEED_FILE, vegeta.INSTANCES_FILE, vegeta.SCRIPT_FILE)
    out = {f"{FOLDER}/{path}": files[path] for path in kept if path in files}
    out.update({f"{FOLDER}/{path}": data for path, data in files.items() if _is_samples(path) or _is_limits(path)})
    return out


def _is_limits(path: str) -> bool:
    return path.startswith(f"{LIMITS_FOLDER}/") and path.endswith(".json")


def _limits(step: Step, files: Mapping[str, bytes]) -> tuple[list[gate.ServiceLimits], list[str]]:
    """The limits every limited service of the step ran under, as its runner reported them (``limits/<service>.json``);
    and a line for each limited service the runner said nothing about (never expected)."""
    found: list[gate.ServiceLimits] = []
    missing: list[str] = []
    for spec in step.services:
        if spec.limits is None or not spec.limits.any:
            continue
        data = files.get(f"{LIMITS_FOLDER}/{spec.name}.json")
        try:
            if data is None:
                raise ValueError("the runner reported nothing")
            found.append(gate.parse_limits(spec.name, data.decode(errors="replace")))
        except ValueError as e:
            missing.append(f"load: limits of {spec.name}: {e}")
    return found, missing


def _is_samples(path: str) -> bool:
    return path.startswith(f"{resources.FOLDER}/") and path.endswith(".tsv")


async def _latency_svg(session: Session, target: str, series: str, run_id: str) -> tuple[bytes | None, str]:
    """The plot, made here when matplotlib is installed (the CLI's environment), else in a python container of the
    session's runner (the Dagger module's runtime has no matplotlib); (None, why) when it could not be made."""
    try:
        from jessy_ci.verbs.load_plot import render

        return await anyio.to_thread.run_sync(render, json.loads(series)), ""
    except ImportError:
        pass
    ran = await session.runner.run(plan_load_plot(session.project, target, series, run_id))
    svg = ran.files.get(plot.PLOT_FILE)
    if svg is None:
        said = ran.error or next(iter(reversed(ran.stderr.strip().splitlines())), f"exit code {ran.exit_code}")
        return None, f"latency plot not made: {said}"
    return svg, ""


async def run_load(session: Session, request: LoadRequest) -> Report:
    """One load run: start, seed, load, stop; then the figures (result.json, load.md, latency.svg) and the gate. A
    failed step (a build, a service that never got healthy, vegeta) is the failure, with its log; a breached limit
    is a gate failure naming the figure, its value and its limit."""
    settings = request.settings
    project = session.project
    run_id = uuid.uuid4().hex[:12]  # every run measures anew: the engine never answers from its cache
    step, names = plan_load(project, settings, run_id, request.service_env, request.limits)
    others = [s.name for s in step.services if s.name not in names]
    limited = f", limits {request.limits.describe()} per service" if request.limits is not None else ""
    session.say(
        f"{step.name}: {settings.instances} x {settings.target} with {', '.join(others) or 'nothing else'}, "
        f"{settings.rate} requests/s for {settings.seconds:g} s (gate: {request.gate.describe()}){limited}"
    )
    raw: list[RunResult] = []  # the step's own files: vegeta's results, the samples, the limits
    report = await run_steps("load", [step], session.runner, session.say, on_result=lambda _, r: raw.append(r))
    ran, result = raw[0], report.steps[0]
    report.files.update(_kept(ran.files))
    report.notes.append(
        f"load: {settings.instances} x {settings.target}, {settings.rate} requests/s for {settings.seconds:g} s, "
        f"at most {settings.concurrency} in flight; gate: {request.gate.describe()}"
    )
    limits, unreported = _limits(step, ran.files)
    note = gate.limits_note(limits)
    if note is not None:
        report.notes.append(note)
        session.say(note)
    if result.passed:
        report.gate_failures += unreported  # limits asked and not accounted for: never silently ignored
    if vegeta.REPORT_FILE not in ran.files:
        if result.passed:
            report.gate_failures.append(f"load: vegeta left no {vegeta.REPORT_FILE}")
        return report
    health = project.services[settings.target].health
    analyse = functools.partial(
        gate.analyse,
        ran.files[vegeta.REPORT_FILE].decode(),
        ran.files.get(vegeta.RESULTS_FILE, b"").decode(),
        ran.files.get(vegeta.INSTANCES_FILE, b"").decode(),
        _samples(ran.files),
        layers_path=settings.layers_path,
        health_path=health,
        seconds=settings.seconds,
        seed=ran.files[vegeta.SEED_FILE].decode() if vegeta.SEED_FILE in ran.files else None,
    )
    try:
        measured = await anyio.to_thread.run_sync(analyse)  # up to MAX_LOAD_REQUESTS lines of JSON
    except ValueError as e:
        report.gate_failures.append(f"load: unreadable vegeta results: {e}")
        return report
    failures = gate.evaluate(measured, request.gate)
    report.gate_failures += failures
    s = measured.summary
    for key, value in (
        ("rps", f"{s.rps:.1f}"),
        ("p95", f"{gate.ms(s.latency_ms['p95'])} ms"),
        ("p99", f"{gate.ms(s.latency_ms['p99'])} ms"),
        ("errors", f"{s.error_rate:.2%}"),
    ):
        report.add_metric(step.name, key, value)
    session.say(
        f"load: {s.requests} requests, {s.rps:.1f} rps, p50 {gate.ms(s.latency_ms['p50'])} ms, "
        f"p95 {gate.ms(s.latency_ms['p95'])} ms, p99 {gate.ms(s.latency_ms['p99'])} ms, errors {s.error_rate:.2%}"
    )
    title = f"{settings.instances} x {settings.target}: {settings.rate} requests/s for {settings.seconds:g} s"
    svg, why = await _latency_svg(session, settings.target, gate.series_json(measured, title), run_id)
    if svg is not None:
        report.files[f"{FOLDER}/latency.svg"] = svg
    else:
        report.notes.append(why)
    report.files[f"{FOLDER}/result.json"] = gate.to_json(measured, settings, request.gate, failures, limits)
    markdown = gate.to_markdown(measured, settings, request.gate, failures, others, limits)
    report.files[f"{FOLDER}/load.md"] = markdown.encode()
    return report
