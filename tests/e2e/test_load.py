"""End to end: `jessy-ci load --runner host` on the real services (jessy-core and two jessy-api instances built from
this repository, on 127.0.0.1), with vegeta installed into the tools cache: the reports, the spread over the
instances, the resource samples, the plot, and an impossible gate that fails naming the figure."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_host import jessy_ci

pytestmark = pytest.mark.slow

SMALL = ("--runner", "host", "--instances", "2", "--rate", "50", "--duration", "3")


def test_a_small_load_run_passes_and_reports_everything(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = jessy_ci("load", *SMALL, "--reports", str(reports), cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    load = reports / "load"
    result = json.loads((load / "result.json").read_text())
    assert result["requests"] > 0 and result["error_rate"] == 0.0
    assert result["rps"] > 0 and 0 < result["p50"] <= result["p95"] <= result["p99"] <= result["max"]
    assert set(result["instances"]) == {"jessy-api-1", "jessy-api-2"}
    assert all(c["requests"] > 0 and c["errors"] == 0 for c in result["instances"].values())
    assert set(result["scenarios"]) == {"read", "write", "health"}
    assert result["seed"] == {"requests": 20, "errors": 0}
    assert set(result["resources"]) == {"jessy-core", "jessy-api-1", "jessy-api-2"}
    for name, figures in result["resources"].items():
        assert figures["samples"], name
        assert figures["peak_rss_kb"] > 0 and figures["max_open_files"] > 0 and figures["cpu_seconds"] >= 0, name
    assert ET.parse(load / "latency.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert (load / "load.md").read_text().startswith("## jessy-ci load: passed")
    urls = (load / "vegeta" / "instances.tsv").read_text().split()
    assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+", u) for u in urls[1::2])
    summary = (reports / "summary.md").read_text()
    assert "| jessy-api:load |" in summary and "rps: " in summary
    assert "[jessy-api-1] stopped" in done.stdout and "[jessy-core] stopped" in done.stdout


def test_an_impossible_gate_exits_1_naming_the_figure(tmp_path: Path) -> None:
    done = jessy_ci("load", *SMALL, "--p95-ms", "0.001", "--reports", str(tmp_path / "reports"), cwd=ROOT)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"^load p95: [\d.]+ ms > 0\.001 ms$", done.stderr, re.MULTILINE), done.stderr[-2000:]
    assert json.loads((tmp_path / "reports" / "load" / "result.json").read_text())["gate"]["passed"] is False
