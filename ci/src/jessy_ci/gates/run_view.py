"""What the HTML run report (``index.html``) shows, as plain data: a pure function of the run's Report and the report
files it holds. ``run_page`` renders it; nothing here knows HTML.

Every section reads the files the verbs already write: ``junit/*.xml`` (tests), ``bdd/*.cucumber.json`` (features,
scenarios, steps), ``coverage/<component>.lcov.info`` and ``coverage/html/`` (coverage and its pages),
``bench/compare.json`` or ``bench/<component>.json`` (benchmarks), ``scan/*.json`` (Trivy findings), ``load/`` (the
load run). A file that cannot be read becomes a line in ``problems``, never an exception: the page is written after
the run, and must never hide its verdict.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from jessy_ci.errors import UsageError
from jessy_ci.gates import bench, coverage, cucumber, junit, trivy
from jessy_ci.report import Report, StepResult

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
COVERAGE_HTML = "coverage/html"
CRITERION_REPORTS = re.compile(r"^bench/criterion/([^/]+)/report/index\.html$")  # criterion's own, per component
LOAD_SVG = "load/latency.svg"
LOAD_RESULT = "load/result.json"
T = TypeVar("T")


@dataclass(frozen=True)
class StepRow:
    name: str
    component: str
    kind: str
    status: str
    seconds: float
    counts: str  # "38 passed, 1 failed"; empty for a step without tests
    details: str  # metrics and the failure detail, "; "-separated
    log: str | None  # relative link to the step's log


@dataclass(frozen=True)
class TestRow:
    source: str  # the JUnit file, "features-bdd"
    suite: str
    name: str
    outcome: str
    seconds: float
    message: str

    @property
    def headline(self) -> str:
        """The message's telling line: pytest's first ``E`` line (the assertion), else its first line."""
        lines = [line.strip() for line in self.message.splitlines() if line.strip()]
        said = next((line.removeprefix("E").strip() for line in lines if line.startswith("E ")), None)
        return said or (lines[0] if lines else "")


@dataclass(frozen=True)
class TestFile:
    source: str
    link: str
    passed: int
    failed: int
    skipped: int
    tests: tuple[TestRow, ...]  # failing first, then the others in file order


@dataclass(frozen=True)
class FeatureView:
    source: str
    feature: cucumber.Feature


@dataclass(frozen=True)
class CoverageRow:
    component: str  # "total" for the merged figure
    lines: str  # "377/450 lines (83.7%), 10/12 branches (83.3%)"
    percent: float | None
    link: str | None  # relative link to its HTML page


@dataclass(frozen=True)
class BenchRow:
    component: str
    name: str
    unit: str
    baseline: tuple[float, ...]  # raw samples; empty without a baseline
    current: tuple[float, ...]
    baseline_median: str
    current_median: str
    change: str
    p_value: str
    verdict: str  # the gate's classification, "measured" without a baseline
    failed: bool  # a regression beyond --max-regression


@dataclass(frozen=True)
class Benchmarks:
    rows: tuple[BenchRow, ...]
    compared: bool
    max_regression_pct: float | None
    criterion_links: tuple[tuple[str, str], ...]  # (component, path of criterion's own HTML report)


@dataclass(frozen=True)
class FindingRow:
    report: str  # the image or "source"
    id: str
    package: str
    installed: str
    fixed: str
    title: str


@dataclass(frozen=True)
class SeverityGroup:
    severity: str
    findings: tuple[FindingRow, ...]


@dataclass(frozen=True)
class LoadView:
    figures: tuple[tuple[str, str], ...]  # ("p95", "4.1 ms"), …
    chart: str | None  # a data: URI of latency.svg (self-contained)
    link: str | None


@dataclass(frozen=True)
class RunView:
    verb: str
    passed: bool
    failures: tuple[str, ...]
    notes: tuple[str, ...]
    steps: tuple[StepRow, ...]
    failing_tests: tuple[TestRow, ...]
    test_files: tuple[TestFile, ...]
    features: tuple[FeatureView, ...]
    coverage: tuple[CoverageRow, ...]
    benchmarks: Benchmarks | None
    findings: tuple[SeverityGroup, ...]
    load: LoadView | None
    summary_link: str
    problems: tuple[str, ...]

    @property
    def passed_steps(self) -> int:
        return sum(s.status == "passed" for s in self.steps)


def _counts(step: StepResult) -> str:
    t = step.tests
    if t is None:
        return ""
    return f"{t.passed} passed, {t.failed} failed" + (f", {t.skipped} skipped" if t.skipped else "")


def _steps(report: Report) -> tuple[StepRow, ...]:
    rows: list[StepRow] = []
    for s in report.steps:
        log = f"logs/{s.name.replace(':', '-')}.log"
        details = "; ".join([*(f"{k}: {v}" for k, v in s.metrics), *([s.detail] if s.detail else [])])
        rows.append(
            StepRow(
                s.name,
                s.component,
                s.kind,
                s.status,
                s.seconds,
                _counts(s),
                details,
                log if log in report.files else None,
            )
        )
    return tuple(rows)


def _under(files: dict[str, bytes], folder: str, suffix: str) -> list[str]:
    return sorted(p for p in files if posixpath.dirname(p) == folder and p.endswith(suffix))


def _read(
    files: dict[str, bytes], folder: str, suffix: str, parse: Callable[[bytes, str], T], problems: list[str]
) -> list[tuple[str, str, T]]:
    """``(path, name, parsed)`` of each file of ``folder`` ending in ``suffix`` (name: without the folder and the
    suffix); a file that does not parse becomes a line in ``problems``, naming it."""
    out: list[tuple[str, str, T]] = []
    for path in _under(files, folder, suffix):
        try:
            out.append((path, posixpath.basename(path).removesuffix(suffix), parse(files[path], path)))
        except (ValueError, UsageError) as e:
            problems.append(str(e) if str(e).startswith(path) else f"{path}: {e}")
    return out


def _tests(files: dict[str, bytes], problems: list[str]) -> tuple[TestFile, ...]:
    out: list[TestFile] = []
    for path, source, cases in _read(files, "junit", ".xml", lambda data, _: junit.from_junit_xml(data), problems):
        rows = [TestRow(source, c.suite, c.name, c.outcome, c.seconds, c.message) for c in cases]
        ordered = [r for r in rows if r.outcome == "failed"] + [r for r in rows if r.outcome != "failed"]
        c = junit.counts(cases)
        out.append(TestFile(source, path, c.passed, c.failed, c.skipped, tuple(ordered)))
    return tuple(out)


def _features(files: dict[str, bytes], problems: list[str]) -> tuple[FeatureView, ...]:
    out: list[FeatureView] = []
    for _, source, found in _read(files, "bdd", ".cucumber.json", cucumber.parse, problems):
        # failing features first, each keeping its scenarios in file order
        out += [FeatureView(source, f) for f in found if not f.passed]
        out += [FeatureView(source, f) for f in found if f.passed]
    return tuple(out)


def _coverage_link(files: dict[str, bytes], folder: str) -> str | None:
    page = f"{folder}/index.html"
    return page if page in files else None


def _coverage(files: dict[str, bytes], problems: list[str]) -> tuple[CoverageRow, ...]:
    rows: list[CoverageRow] = []
    lcov = [(posixpath.basename(p).removesuffix(".lcov.info"), p) for p in _under(files, "coverage", ".lcov.info")]
    if "coverage/lcov.info" in files:
        lcov.append(("total", "coverage/lcov.info"))
    for name, path in lcov:
        try:
            cov = coverage.parse_lcov(files[path].decode(errors="replace"))
        except ValueError as e:
            problems.append(f"{path}: {e}")
            continue
        folder = COVERAGE_HTML if name == "total" else f"{COVERAGE_HTML}/{name}"
        rows.append(CoverageRow(name, coverage.describe(cov), cov.percent, _coverage_link(files, folder)))
    return tuple(rows)


def _median(samples: tuple[float, ...]) -> float | None:
    ordered = sorted(samples)
    n = len(ordered)
    if not n:
        return None
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def _benchmarks(files: dict[str, bytes], problems: list[str]) -> Benchmarks | None:
    criterion = tuple((m[1], m[0]) for path in sorted(files) if (m := CRITERION_REPORTS.match(path)))
    if "bench/compare.json" in files:
        try:
            limit, compared = bench.read_comparison(files["bench/compare.json"], "bench/compare.json")
        except ValueError as e:
            problems.append(str(e))
        else:
            rows = tuple(
                BenchRow(
                    c.component,
                    c.name,
                    c.unit,
                    c.baseline,
                    c.current,
                    bench.format_value(_median(c.baseline), c.unit),
                    bench.format_value(_median(c.current), c.unit),
                    bench.format_change(c.change_pct),
                    bench.format_p(c.p_value),
                    c.classification,
                    c.failed,
                )
                for c in compared
            )
            return Benchmarks(rows, True, limit, criterion)
    rows_: list[BenchRow] = []

    def load(data: bytes, path: str) -> bench.Baseline:
        return bench.load_baseline(data.decode(errors="replace"), path)

    measured_files = {p: d for p, d in files.items() if p != "bench/compare.json"}
    for _, _, measured in _read(measured_files, "bench", ".json", load, problems):
        for b in measured.benchmarks:
            median = bench.format_value(_median(b.samples), b.unit)
            rows_.append(BenchRow(b.component, b.name, b.unit, (), b.samples, "", median, "", "", "measured", False))
    return Benchmarks(tuple(rows_), False, None, criterion) if rows_ else None


def _findings(files: dict[str, bytes], problems: list[str]) -> tuple[SeverityGroup, ...]:
    by_severity: dict[str, list[FindingRow]] = {}
    for _, name, found in _read(files, "scan", ".json", trivy.parse_report, problems):
        for f in found:
            severity = f.severity if f.severity in SEVERITIES else "UNKNOWN"
            row = FindingRow(name, f.id, f.package, f.installed, f.fixed, f.title)
            by_severity.setdefault(severity, []).append(row)
    return tuple(SeverityGroup(s, tuple(by_severity[s])) for s in SEVERITIES if s in by_severity)


def _ms(value: object) -> str:
    return f"{value:.1f} ms" if isinstance(value, int | float) and not isinstance(value, bool) else "n/a"


def _load(files: dict[str, bytes], problems: list[str]) -> LoadView | None:
    svg, result = files.get(LOAD_SVG), files.get(LOAD_RESULT)
    if svg is None and result is None:
        return None
    figures: list[tuple[str, str]] = []
    if result is not None:
        try:
            raw: object = json.loads(result)
        except ValueError as e:
            problems.append(f"{LOAD_RESULT}: not valid JSON ({str(e).splitlines()[0]})")
            raw = {}
        doc = cast(dict[str, object], raw) if isinstance(raw, dict) else {}
        for key in ("rate", "rps"):
            if isinstance(value := doc.get(key), int | float):
                figures.append((key, f"{value:g} requests/s"))
        figures += [(key, _ms(doc.get(key))) for key in ("p50", "p95", "p99", "max") if key in doc]
        if isinstance(rate := doc.get("error_rate"), int | float):
            figures.append(("error rate", f"{rate:.2%}"))
    chart = None if svg is None else "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return LoadView(tuple(figures), chart, LOAD_SVG if svg is not None else None)


def view(report: Report) -> RunView:
    """The page's content, from the Report and its files (paths relative to the reports folder)."""
    files = report.files
    problems: list[str] = []
    test_files = _tests(files, problems)
    return RunView(
        verb=report.verb,
        passed=report.passed,
        failures=tuple(report.failures()),
        notes=tuple(report.notes),
        steps=_steps(report),
        failing_tests=tuple(t for f in test_files for t in f.tests if t.outcome == "failed"),
        test_files=test_files,
        features=_features(files, problems),
        coverage=_coverage(files, problems),
        benchmarks=_benchmarks(files, problems),
        findings=_findings(files, problems),
        load=_load(files, problems),
        summary_link="summary.md",
        problems=tuple(problems),
    )
