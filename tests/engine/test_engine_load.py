"""On a real engine: the load test. `dagger call reports --verb load` (jessy-core and two jessy-api instances bound as
services of the run, vegeta installed into the Go tools cache, every service sampled from inside its container, the
plot made in a python container: the module's runtime has no matplotlib), `dagger call load` with an impossible gate
and with bad input, and `jessy-ci load --runner dagger` (client mode: the plot made on the host)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.engine.conftest import Engine

pytestmark = pytest.mark.engine

SMALL = ("--rate", "20", "--duration", "3")


def test_load_reports_export_every_figure_the_samples_and_the_plot(engine: Engine, tmp_path: Path) -> None:
    done = engine.dagger("call", "reports", "--verb", "load", *SMALL, "export", "--path", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert json.loads((tmp_path / "verdict.json").read_text())["passed"] is True
    result = json.loads((tmp_path / "load" / "result.json").read_text())
    assert result["requests"] > 0 and result["error_rate"] <= 0.01
    assert set(result["instances"]) == {"jessy-api-1", "jessy-api-2"}
    assert all(c["requests"] > 0 for c in result["instances"].values())
    assert set(result["resources"]) == {"jessy-core", "jessy-api-1", "jessy-api-2"}
    for name, figures in result["resources"].items():
        assert figures["samples"] and figures["peak_rss_kb"] > 0 and figures["max_open_files"] > 0, name
    urls = (tmp_path / "load" / "vegeta" / "instances.tsv").read_text().split()
    assert urls == ["jessy-api-1", "http://jessy-api-1:3000", "jessy-api-2", "http://jessy-api-2:3000"]
    assert ET.parse(tmp_path / "load" / "latency.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert (tmp_path / "load" / "load.md").read_text().startswith("## jessy-ci load: passed")


def test_load_with_an_impossible_gate_exits_1_naming_the_figure(engine: Engine) -> None:
    done = engine.dagger("call", "load", *SMALL, "--p95-ms", "0.001")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"load p95: [\d.]+ ms > 0\.001 ms", done.stdout + done.stderr)


def test_load_with_bad_input_exits_2_before_anything_runs(engine: Engine) -> None:
    done = engine.dagger("call", "load", "--rate", "1000", "--duration", "300")
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert "300000 requests; expected from 1 to 50000 in one run" in done.stdout + done.stderr


def test_client_mode_load_writes_the_reports_on_the_host(engine: Engine, tmp_path: Path) -> None:
    done = engine.jessy_ci("load", "--runner", "dagger", *SMALL, "--reports", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "load" / "result.json").read_text())
    assert all(c["requests"] > 0 for c in result["instances"].values())
    assert ET.parse(tmp_path / "load" / "latency.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
