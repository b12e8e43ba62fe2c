"""The load gate and figures on real vegeta output (tests/samples/load/, see its README): vegeta's JSON report and
encoded results, the resource samples, the gate's lines, result.json and load.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jessy_ci.gates import load as g
from jessy_ci.gates.load import LoadGate, LoadResult
from jessy_ci.steps import LoadSettings
from tests.conftest import SAMPLES

LOAD = SAMPLES / "load"
ERRORS = LOAD / "errors"
HEALTH = "/api/health"
LAYERS = "/api/layers"


def analysed(folder: Path = LOAD, seconds: float = 3.0) -> LoadResult:
    samples = {p.stem: p.read_text() for p in sorted((folder / "resources").glob("*.tsv"))}
    seed = folder / "seed.json"
    return g.analyse(
        (folder / "report.json").read_text(),
        (folder / "results.jsonl").read_text(),
        (folder / "instances.tsv").read_text(),
        samples,
        layers_path=LAYERS,
        health_path=HEALTH,
        seconds=seconds,
        seed=seed.read_text() if seed.exists() else None,
    )


@pytest.fixture(scope="module")
def run() -> LoadResult:
    return analysed()


@pytest.fixture(scope="module")
def failing() -> LoadResult:
    return analysed(ERRORS, 2.0)


# --- vegeta's files ---------------------------------------------------------------------------------------------


def test_the_report_gives_the_headline_figures(run: LoadResult) -> None:
    s = run.summary
    assert s.requests == 150
    assert s.rps == pytest.approx(50.311, abs=0.001)
    assert s.latency_ms["p95"] == pytest.approx(6.949973)
    assert s.latency_ms["p99"] == pytest.approx(14.993629)
    assert s.latency_ms["max"] == pytest.approx(18.698022)
    assert s.error_rate == 0.0
    assert s.status_codes == {"200": 138, "201": 12}
    assert run.seed is not None and (run.seed.requests, run.seed.error_rate) == (20, 0.0)


def test_every_request_is_counted_per_instance_and_per_scenario(run: LoadResult) -> None:
    assert {name: c.requests for name, c in run.instances.items()} == {"jessy-api-1": 75, "jessy-api-2": 75}
    assert {name: c.requests for name, c in run.scenarios.items()} == {"health": 14, "read": 106, "write": 30}
    assert sum(b.requests for b in run.series) == 150
    assert run.strays == ()


def test_failures_are_counted_where_they_happened(failing: LoadResult) -> None:
    assert failing.summary.error_rate == pytest.approx(0.25)
    assert failing.summary.status_codes == {"200": 30, "404": 10}
    assert failing.summary.errors == ("404 Not Found",)
    assert {n: (c.requests, c.errors) for n, c in failing.instances.items()} == {
        "jessy-api-1": (20, 0),
        "jessy-api-2": (20, 10),
    }
    assert failing.scenarios["read"].errors == 10 and failing.scenarios["health"].errors == 0


def test_the_latency_series_buckets_the_run(run: LoadResult) -> None:
    assert run.bucket_seconds == 0.1
    assert len(run.series) == 30
    first = run.series[0]
    assert first.start == 0.0 and first.requests >= 1
    assert set(first.latency_ms) == {"p50", "p90", "p95", "p99", "max"}
    assert g.bucket_width(10) == 0.5 and g.bucket_width(300) == 10.0


def test_the_resource_samples_of_every_service(run: LoadResult) -> None:
    by_name = {r.service: r for r in run.resources}
    assert set(by_name) == {"jessy-core", "jessy-api-1", "jessy-api-2"}
    core = by_name["jessy-core"]
    assert core.interval == 0.5 and len(core.samples) == 8
    assert core.cpu_seconds == pytest.approx(0.10)
    assert core.peak_rss_kb == 5872 and core.max_open_files == 12
    assert by_name["jessy-api-1"].peak_rss_kb == 9804


def test_samples_before_the_exec_and_after_the_end_are_left_out() -> None:
    text = "\n".join(
        [
            "# jessy-ci resources v1 pid=7 clk_tck=100 interval=0.5",
            "10.00 0 0 900 900 3 sh",  # the sampler's shell, before it became the service
            "10.50 5 5 4000 3900 9 jessy-core",
            "11.00 15 5 4100 4000 11 jessy-core",
            "11.50 15 5 0 0 1 jessy-core",  # a zombie: no memory any more
            "12.00 15",  # cut short
        ]
    )
    r = g.parse_samples("jessy-core", text)
    assert [s.seconds for s in r.samples] == [0.0, 0.5]
    assert r.cpu_seconds == pytest.approx(0.10)
    assert r.peak_cpu_percent == pytest.approx(20.0)
    assert (r.peak_rss_kb, r.max_open_files) == (4100, 11)


def test_malformed_vegeta_files_are_value_errors() -> None:
    with pytest.raises(ValueError, match="vegeta report: not JSON"):
        g.parse_report("Requests [total] 150")
    with pytest.raises(ValueError, match="latencies"):
        g.parse_report('{"requests": 1}')
    with pytest.raises(ValueError, match="vegeta results line 2: not an RFC 3339 timestamp"):
        g.parse_results((LOAD / "results.jsonl").read_text().splitlines()[0] + '\n{"timestamp": "yesterday"}\n')


def test_scenarios_come_from_method_and_path() -> None:
    def hit(method: str, url: str) -> g.Hit:
        return g.Hit(0.0, 200, 1.0, method, url)

    assert g.scenario(hit("GET", "http://127.0.0.1:1/api/health"), LAYERS, HEALTH) == "health"
    assert g.scenario(hit("GET", "http://jessy-api-1:3000/api/layers/seed-1"), LAYERS, HEALTH) == "read"
    assert g.scenario(hit("PUT", "http://jessy-api-1:3000/api/layers/load-1-0"), LAYERS, HEALTH) == "write"
    assert g.scenario(hit("GET", "http://jessy-api-1:3000/elsewhere?x=1"), LAYERS, HEALTH) == "other"


# --- the gate ---------------------------------------------------------------------------------------------------


def test_a_run_within_its_limits_passes(run: LoadResult) -> None:
    assert g.evaluate(run, LoadGate(p95_ms=250, p99_ms=500, max_error_rate=0.01, min_rps=45)) == []
    assert g.evaluate(run, LoadGate()) == []


def test_every_breached_limit_is_one_line_naming_figure_value_and_limit(run: LoadResult) -> None:
    failures = g.evaluate(run, LoadGate(p95_ms=0.001, p99_ms=10, min_rps=50.5))
    assert failures == [
        "load p95: 6.9 ms > 0.001 ms",
        "load p99: 15.0 ms > 10 ms",
        "load rps: 50.3 < 50.5",
    ]


def test_the_error_rate_gate_on_a_run_with_404s(failing: LoadResult) -> None:
    assert g.evaluate(failing, LoadGate(max_error_rate=0.01)) == ["load error rate: 0.25 > 0.01"]
    assert g.evaluate(failing, LoadGate(max_error_rate=0.25)) == []


def test_a_request_anywhere_else_or_an_idle_instance_fails(run: LoadResult) -> None:
    from dataclasses import replace

    strayed = replace(run, strays=("http://10.0.0.1:80/api/health",))
    assert g.evaluate(strayed, LoadGate()) == [
        "load: a request went to http://10.0.0.1:80/api/health, not to an instance this run started"
    ]
    idle = replace(run, instances={**run.instances, "jessy-api-3": g.Counts()})
    assert g.evaluate(idle, LoadGate()) == ["load jessy-api-3: no request reached it"]
    nothing = replace(run, summary=replace(run.summary, requests=0))
    assert g.evaluate(nothing, LoadGate(p95_ms=1)) == ["load: no request was sent"]


def test_requests_to_other_urls_are_strays() -> None:
    instances = "jessy-api-1\thttp://127.0.0.1:45421\n"  # the second instance unknown: its requests are strays
    report, results = (LOAD / "report.json").read_text(), (LOAD / "results.jsonl").read_text()
    r = g.analyse(report, results, instances, {}, layers_path=LAYERS, health_path=HEALTH, seconds=3)
    assert r.instances["jessy-api-1"].requests == 75
    assert r.strays and all(url.startswith("http://127.0.0.1:33319/api/") for url in r.strays)
    assert len(g.evaluate(r, LoadGate())) == len(r.strays)


# --- documents --------------------------------------------------------------------------------------------------


def test_result_json_has_every_figure(run: LoadResult) -> None:
    gate = LoadGate(p95_ms=0.001)
    failures = g.evaluate(run, gate)
    doc = json.loads(g.to_json(run, LoadSettings(seconds=3), gate, failures))
    assert doc["rps"] == pytest.approx(50.311)
    assert (doc["p50"], doc["p95"], doc["p99"], doc["max"]) == (0.913, 6.95, 14.994, 18.698)
    assert doc["error_rate"] == 0.0
    assert doc["status_codes"] == {"200": 138, "201": 12}
    assert doc["instances"]["jessy-api-2"]["requests"] == 75
    assert doc["resources"]["jessy-core"]["peak_rss_kb"] == 5872
    assert len(doc["resources"]["jessy-core"]["samples"]) == 8
    assert doc["settings"]["duration_s"] == 3.0 and doc["settings"]["mix"] == {"read": 70, "write": 20, "health": 10}
    assert doc["gate"] == {
        "p95_ms": 0.001,
        "p99_ms": None,
        "max_error_rate": None,
        "min_rps": None,
        "passed": False,
        "failures": ["load p95: 6.9 ms > 0.001 ms"],
    }
    assert len(doc["series"]["buckets"]) == 30


def test_load_md_shows_the_figures_against_the_gate(run: LoadResult) -> None:
    gate = LoadGate(p95_ms=250, min_rps=45)
    text = g.to_markdown(run, LoadSettings(seconds=3), gate, [], ["jessy-core"])
    assert text.startswith("## jessy-ci load: passed\n")
    assert "2 x jessy-api (jessy-api-1, jessy-api-2) with jessy-core: 50 requests/s for 3 s" in text
    assert "| p95 | 6.9 ms | ≤ 250 ms ✔ |" in text
    assert "| throughput | 50.3 rps | ≥ 45 ✔ |" in text
    assert "| jessy-api-1 | 75 | 0 |" in text
    assert "| write | 30 | 0 |" in text
    assert "| jessy-core | 0.10 | 4 % | 5.7 MiB | 12 | 8 |" in text
    assert "![latency over time](latency.svg)" in text


def test_the_series_for_the_plot_is_compact_json(run: LoadResult) -> None:
    series = json.loads(g.series_json(run, "title"))
    assert series["title"] == "title" and series["bucket_s"] == 0.1
    assert len(series["t"]) == len(series["p95"]) == len(series["requests"]) == 30
    assert " " not in g.series_json(run, "t") and "$" not in g.series_json(run, "t")
