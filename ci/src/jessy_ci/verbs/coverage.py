"""coverage: line coverage of every selected Rust and Go component and of every Python component that has tests (unit
and integration tests both counted; Python branches too), merged over components into lcov, Cobertura and HTML with
repo-relative paths, and gated on a threshold per component and in total.

Reports: ``coverage/lcov.info``, ``coverage/cobertura.xml``, ``coverage/html/index.html`` (every component), and per
component ``coverage/<component>.lcov.info``, ``coverage/<component>.cobertura.xml``,
``coverage/html/<component>/index.html``.
"""

from __future__ import annotations

import time

from jessy_ci.config import Component, Project
from jessy_ci.errors import UsageError
from jessy_ci.gates import coverage
from jessy_ci.gates.coverage import Coverage
from jessy_ci.report import Report
from jessy_ci.runners import RunResult
from jessy_ci.session import Session
from jessy_ci.steps import Step
from jessy_ci.toolchains import go, python, rust
from jessy_ci.verbs.execute import run_steps
from jessy_ci.verbs.plan import has_coverage, plan_coverage


def repo_relative(cov: Coverage, component_path: str) -> Coverage:
    """Paths as a coverage tool wrote them (absolute, or relative to the component) made relative to the repository
    root: the root is what comes before ``/<component path>/`` in an absolute path, so it works for any checkout (the
    host's repository, a worktree, ``/src`` in a container)."""
    cov = coverage.with_prefix(cov, component_path)
    marker = f"/{component_path.strip('/')}/"
    for root in sorted({p[: p.rfind(marker)] for p in cov.files if p.startswith("/") and marker in p}):
        cov = coverage.relative_to(cov, root)
    return cov


def read_coverage(step: Step, component: Component, files: dict[str, bytes]) -> Coverage:
    """The step's coverage with repo-relative paths; empty when the tool left no report (the step failed). Raises
    ValueError for a malformed report."""
    if step.toolchain in ("rust", "python"):  # cargo-tarpaulin and coverage.py both write lcov
        lcov = files.get(rust.COVERAGE_FILE if step.toolchain == "rust" else python.COVERAGE_FILE)
        return Coverage() if lcov is None else repo_relative(coverage.parse_lcov(lcov.decode()), component.path)
    profile = files.get(go.COVERAGE_FILE)
    if profile is None:
        return Coverage()
    module = files.get(go.MODULE_FILE, b"").decode().strip()
    return coverage.parse_go_coverprofile(profile.decode(), module, component.path)


def coverage_files(per_component: dict[str, Coverage], total: Coverage) -> dict[str, bytes]:
    timestamp = int(time.time() * 1000)
    files: dict[str, bytes] = {
        "coverage/lcov.info": coverage.to_lcov(total).encode(),
        "coverage/cobertura.xml": coverage.to_cobertura(total, timestamp=timestamp),
        **{f"coverage/html/{p}": d for p, d in coverage.to_html(total, "Line coverage: every component").items()},
    }
    for name, cov in per_component.items():
        files[f"coverage/{name}.lcov.info"] = coverage.to_lcov(cov).encode()
        files[f"coverage/{name}.cobertura.xml"] = coverage.to_cobertura(cov, timestamp=timestamp)
        for path, data in coverage.to_html(cov, f"Line coverage: {name}").items():
            files[f"coverage/html/{name}/{path}"] = data
    return files


NOTHING_MEASURED = "coverage: no Rust or Go component, nor Python component with tests, selected"


def measurable(project: Project, components: list[str]) -> list[str] | None:
    """The selected components that have coverage (Rust, Go, Python with tests), or None when there are none."""
    names = [c.name for c in project.select(components) if has_coverage(c)]
    return names or None


async def run_coverage(session: Session, components: list[str], threshold: float | None = None) -> Report:
    """Coverage of the selected components (default: every Rust and Go component and every Python component with
    tests), gated on ``threshold`` percent per component and in total (checked by the option). Without one: each
    component's ``coverage_threshold``, else ``[thresholds] coverage`` of jessy-ci.toml, which the total meets too."""
    project = session.project
    limit = project.thresholds.coverage if threshold is None else threshold
    steps = plan_coverage(project, session.components(components))
    if not steps:
        raise UsageError(
            f"--component {' '.join(components)}: no coverage for these; "
            "expected a rust or go component, or a python component with tests"
        )
    results: dict[str, RunResult] = {}
    record = results.__setitem__
    report = await run_steps("coverage", steps, session.runner, session.say, lambda s, r: record(s.name, r))
    per_component: dict[str, Coverage] = {}
    for step in steps:
        try:
            cov = read_coverage(step, project.components[step.component], dict(results[step.name].files))
        except ValueError as e:
            report.gate_failures.append(f"coverage {step.component}: unreadable coverage report: {e}")
            continue
        per_component[step.component] = cov
        report.add_metric(step.name, "coverage", coverage.describe(cov))
    total = coverage.merge(*per_component.values())
    own: dict[str, float] = {}
    if threshold is None:  # an explicit --threshold is for every component
        for name in per_component:
            component_threshold = project.components[name].coverage_threshold
            if component_threshold is not None:
                own[name] = component_threshold
    report.gate_failures += coverage.gate(per_component, limit, own)
    report.files.update(coverage_files(per_component, total))
    exceptions = "".join(f", {name} {value:g}%" for name, value in own.items())
    report.notes.append(
        f"coverage total: {coverage.describe(total)}; threshold {limit:g}% per component{exceptions} and in total"
    )
    return report
