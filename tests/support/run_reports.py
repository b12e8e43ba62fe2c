"""Reports of whole runs for the HTML report's tests, made of the real samples under tests/samples/ and
tests/gates/samples/: a BDD run with one failing scenario, coverage, a benchmark comparison with a regression, a
Trivy report with findings of every severity, a load run's latency chart."""

from __future__ import annotations

from pathlib import Path

from jessy_ci.gates import bench, coverage
from jessy_ci.report import Report, StepResult, TestCounts
from tests.conftest import SAMPLES

GATE_SAMPLES = Path(__file__).resolve().parent.parent / "gates" / "samples"
FAILING_TEST = "test_bdd_health::test_jessycore_reports_that_it_is_healthy"
LATENCY_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    b'<text x="4" y="24">p95 latency</text></svg>'
)


def criterion(benchmark: str, side: str) -> list[bench.Benchmark]:
    """A criterion sample of jessy-core: ``layer_write/4KiB`` (``base``: an earlier run, ``new``) or
    ``layer_read/1MiB`` (``new``)."""
    folder = GATE_SAMPLES / "criterion" / benchmark / side
    files = {f"{benchmark}/new/{p.name}": p.read_bytes() for p in folder.iterdir()}
    return bench.parse_criterion(files, "jessy-core")


def bench_files(*, regression: bool) -> dict[str, bytes]:
    """``bench/compare.json`` and ``bench/jessy-core.json``: criterion's two real runs of ``layer_write/4KiB`` against
    each other, the real Go samples against themselves (3 samples: inconclusive), and ``layer_read/1MiB`` against
    itself or, with ``regression``, against its samples times 1.3 (significantly slower, +30%)."""
    go = [
        b for b in bench.parse_go_bench((GATE_SAMPLES / "go-bench.txt").read_text(), "jessy-api") if b.unit == "ns/op"
    ]
    read = criterion("layer_read/1MiB", "new")
    factor = 1.3 if regression else 1.0
    read_now = [bench.Benchmark(b.component, b.name, b.unit, tuple(s * factor for s in b.samples)) for b in read]
    baseline = bench.Baseline("0123abc", {}, (*read, *criterion("layer_write/4KiB", "base"), *go[:2]))
    current = [*read_now, *criterion("layer_write/4KiB", "new"), *go[:2]]
    comparison = bench.compare_benchmarks(baseline, current, max_regression_pct=10)
    return {
        "bench/compare.json": bench.comparison_json(comparison, baseline, current),
        "bench/jessy-core.json": bench.dump_baseline(bench.Baseline("cafe", {}, tuple(current[:2]))).encode(),
    }


def failing_run() -> Report:
    """A ``ci`` run: the BDD step failed (one failing scenario), the other sections have their real samples."""
    files: dict[str, bytes] = {
        "junit/features-bdd.xml": (SAMPLES / "junit" / "features-bdd-failing.xml").read_bytes(),
        "bdd/features-bdd.cucumber.json": (SAMPLES / "bdd" / "features-bdd-failing.cucumber.json").read_bytes(),
        "logs/features-bdd.log": b"38 passed, 1 failed\n",
        "coverage/jessy-ci.lcov.info": (SAMPLES / "pytest-cov.lcov").read_bytes(),
        "coverage/jessy-core.lcov.info": (GATE_SAMPLES / "core.lcov").read_bytes(),
        "coverage/lcov.info": (SAMPLES / "pytest-cov.lcov").read_bytes(),
        "scan/jessy-api.json": (SAMPLES / "trivy" / "debian-critical.json").read_bytes(),
        "load/latency.svg": LATENCY_SVG,
        "load/result.json": b'{"rate": 50, "rps": 49.9, "p50": 1.2, "p95": 4.1, "p99": 9.5, "max": 20.0,'
        b' "error_rate": 0.0}',
        **bench_files(regression=True),
    }
    cov = coverage.parse_lcov((SAMPLES / "pytest-cov.lcov").read_text())
    files.update({f"coverage/html/jessy-ci/{p}": d for p, d in coverage.to_html(cov, "jessy-ci").items()})
    failing = TestCounts(38, 1, 0, (FAILING_TEST,))
    steps = [
        StepResult("jessy-core:unit", "jessy-core", "unit", "passed", 12.5, tests=TestCounts(40, 0, 1)),
        StepResult("features:bdd", "features", "bdd", "failed", 16.6, "exit code 1, 1 failing test", failing),
        StepResult("jessy-core:bench", "jessy-core", "bench", "passed", 30.0, metrics=(("benchmarks", "1"),)),
    ]
    return Report("ci", steps, gate_failures=["bench jessy-core layer_read/1MiB: +30.0% slower"], files=files)


def passing_run() -> Report:
    files = {
        "junit/features-bdd.xml": b'<testsuites><testsuite name="s"><testcase classname="s" name="t" />'
        b"</testsuite></testsuites>"
    }
    step = StepResult("features:bdd", "features", "bdd", "passed", 3.0, tests=TestCounts(1, 0, 0))
    return Report("test", [step], files=files)
