"""scan: Trivy over the repository's files and over every production image; SBOMs; the severity gate.

Reports are always written, whatever the gate says: ``scan/<name>.json`` (Trivy's full JSON), ``scan/<name>.sarif``,
``sbom/<image>.cdx.json`` and ``scan/summary.md``. The gate is separate (``gates/trivy.py``): severities (default
from jessy-ci.toml), ``--ignore-unfixed`` and the ``.trivyignore`` file; every failing finding is listed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import anyio

from jessy_ci.config import Component, Project
from jessy_ci.errors import UsageError
from jessy_ci.gates import trivy as trivy_gate
from jessy_ci.report import Report, StepResult
from jessy_ci.runners import Runner, RunResult
from jessy_ci.runners.images import ImageBackend
from jessy_ci.session import Say, Session
from jessy_ci.steps import Step
from jessy_ci.toolchains import trivy
from jessy_ci.verbs.build import build_image
from jessy_ci.verbs.execute import outcome, run_steps
from jessy_ci.verbs.plan import image_components, plan_image_scan, plan_source_scan

SUMMARY = "scan/summary.md"
IGNORE_FILE = trivy.IGNORE_FILE
PREPARED_DB_INPUT = trivy.DB_INPUT  # the runner input a prepared Trivy DB is handed over as
PREPARED_DB_FILES = trivy.DB_FILES


@dataclass(frozen=True)
class ScanOptions:
    """The gate (severities, ``--ignore-unfixed``, the ignore file) and ``prepared_db``: the runner was given a
    prepared Trivy DB (input ``trivy-db``), so every scanner runs and nothing is downloaded."""

    severities: tuple[str, ...]
    ignore_unfixed: bool
    ignore: trivy_gate.IgnoreRules = field(default_factory=trivy_gate.IgnoreRules)
    today: date = field(default_factory=date.today)
    prepared_db: bool = False


def scan_options(
    project: Project,
    severity: str | None,
    ignore_unfixed: bool,
    ignore_text: str | None,
    ignore_source: str,
    prepared_db: bool = False,
) -> ScanOptions:
    """The gate's options: ``severity`` (``CRITICAL,HIGH``) overrides jessy-ci.toml's thresholds.severity."""
    severities = (
        trivy_gate.parse_severities(severity)
        if severity is not None
        else trivy_gate.parse_severities(",".join(project.thresholds.severity))
    )
    ignore = trivy_gate.parse_ignore_file(ignore_text, ignore_source) if ignore_text is not None else None
    return ScanOptions(severities, ignore_unfixed, ignore or trivy_gate.IgnoreRules(), prepared_db=prepared_db)


def apply_gate(
    report: Report, name: str, findings: list[trivy_gate.Finding], options: ScanOptions
) -> trivy_gate.GateResult:
    """Gate one report's findings: failing findings become gate failures, the Markdown goes to scan/summary.md."""
    result = trivy_gate.gate(
        findings,
        severities=options.severities,
        ignore_unfixed=options.ignore_unfixed,
        ignore=options.ignore,
        today=options.today,
    )
    report.gate_failures += [f"scan {name}: {f.kind} {trivy_gate.describe(f)}" for f in result.failing]
    report.notes += [f"scan {name}: {trivy.IGNORE_FILE} entry {e.id} expired on {e.expires}" for e in result.expired]
    previous = report.files.get(SUMMARY, b"").decode()
    report.files[SUMMARY] = (previous + ("\n" if previous else "") + trivy_gate.summary_markdown(name, result)).encode()
    return result


def gate_json(report: Report, name: str, data: bytes, options: ScanOptions) -> dict[str, int] | None:
    """Gate a Trivy JSON report the pipeline produced; an unreadable one is a failure, not bad input."""
    try:
        findings = trivy_gate.parse_report(data, f"scan/{name}.json")
    except UsageError as e:
        report.gate_failures.append(f"scan {name}: {e}")
        return None
    return apply_gate(report, name, findings, options).counts_by_severity


def run_scan_reports(files: Mapping[str, bytes], options: ScanOptions) -> Report:
    """`scan --from-report`: the same gate over existing Trivy JSON reports (name → bytes). Every file is parsed
    before anything is gated: an unreadable file is bad input (UsageError)."""
    parsed = {name: trivy_gate.parse_report(data, name) for name, data in files.items()}
    report = Report(verb="scan")
    for name, findings in parsed.items():
        started = time.monotonic()
        result = apply_gate(report, name, findings, options)
        detail = ", ".join(f"{n} {s}" for s, n in result.counts_by_severity.items() if n)
        status = "passed" if result.passed else "failed"
        report.steps.append(
            StepResult(name, "report", "trivy-report", status, time.monotonic() - started, detail or "no findings")
        )
    return report


async def _source_scan(report: Report, project: Project, runner: Runner, say: Say, options: ScanOptions) -> None:
    offline = runner.name == "host" and not options.prepared_db
    raw: dict[str, RunResult] = {}

    def keep(step: Step, result: RunResult) -> None:
        raw[step.name] = result

    steps = plan_source_scan(project, runner.name == "host", options.prepared_db)
    part = await run_steps("scan", steps, runner, say, on_result=keep)
    report.steps += part.steps
    report.files.update(part.files)
    if offline:
        report.notes.append(
            "source scan on the host: secret and misconfiguration scanners only (no vulnerability DB download); "
            "`dagger call scan` adds vulnerabilities"
        )
    report.steps = [
        replace(s, detail=trivy_gate.explain_failure(raw[s.name].stderr + raw[s.name].stdout))
        if s.status == "failed" and s.name in raw
        else s
        for s in report.steps
    ]
    for step in steps:
        result = raw.get(step.name)
        files: Mapping[str, bytes] = result.files if result is not None else {}
        name = trivy.SOURCE_REPORT
        for ext in ("json", "sarif"):
            if f"{name}.{ext}" in files:
                report.files[f"scan/{name}.{ext}"] = files[f"{name}.{ext}"]
        if f"{name}.json" in files:
            counts = gate_json(report, name, files[f"{name}.json"], options)
            found = ", ".join(f"{n} {s}" for s, n in (counts or {}).items() if n) or "none"
            report.add_metric(step.name, "findings", found)


async def scan_image(
    report: Report, project: Project, runner: Runner, images: ImageBackend, component: Component, options: ScanOptions
) -> dict[str, int] | None:
    """Scan one built image with the Trivy step: JSON, SARIF and SBOM to the reports, then the gate; None when the
    scan failed (the step says why)."""
    name = component.image or component.name
    tarball = await images.tarball_input(component)
    step = plan_image_scan(project, component, tarball, options.prepared_db)
    result = await runner.run(step)
    step_result, files = outcome(step, result)
    report.files.update(files)
    output = {key: result.files.get(key) for key in (trivy.IMAGE_JSON, trivy.IMAGE_SARIF, trivy.IMAGE_SBOM)}
    if not step_result.passed or output[trivy.IMAGE_JSON] is None:
        explained = trivy_gate.explain_failure(result.error or result.stderr + result.stdout)
        report.steps.append(replace(step_result, status="error", detail=explained))
        return None
    report.files[f"scan/{name}.json"] = output[trivy.IMAGE_JSON] or b""
    report.files[f"scan/{name}.sarif"] = output[trivy.IMAGE_SARIF] or b""
    report.files[f"sbom/{name}.cdx.json"] = output[trivy.IMAGE_SBOM] or b""
    counts = gate_json(report, name, output[trivy.IMAGE_JSON] or b"", options)
    found = ", ".join(f"{n} {s}" for s, n in (counts or {}).items() if n) or "no findings"
    report.steps.append(replace(step_result, detail=found))
    return counts


async def run_scan(session: Session, components: list[str], options: ScanOptions) -> Report:
    """The source scan (on any runner) and, with the session's image backend, every selected production image."""
    project, runner, images, say = session.project, session.runner, session.images, session.say
    selected = image_components(session.components(components))
    report = Report(verb="scan")
    await _source_scan(report, project, runner, say, options)
    if images is None:
        report.notes.append(
            "image scans and SBOMs need a Dagger engine: `dagger call scan` or `jessy-ci scan --runner dagger`"
        )
        return report

    async def one(c: Component) -> None:
        if await build_image(report, images, c, say):
            await scan_image(report, project, runner, images, c, options)

    async with anyio.create_task_group() as tg:
        for c in selected:
            tg.start_soon(one, c)
    return report
