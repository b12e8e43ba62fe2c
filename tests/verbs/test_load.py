"""load, fast: the plan (instances, the sampler, vegeta pinned and installed into a tools cache, the target list), the
settings from options, environment and jessy-ci.toml with their bounds (exit 2), the sampler and the load script as
they run, the verb on a runner that hands back the real sample files, the plot, and the Dagger containers validated
against the engine schema."""

from __future__ import annotations

import base64
import functools
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import graphql
import pytest
from dagger import dag

from jessy_ci import config, options
from jessy_ci.errors import UsageError
from jessy_ci.gates.load import LoadGate
from jessy_ci.runners import RunResult
from jessy_ci.runners.dagger import COLLECT_SERVICE_REPORTS, SERVICE_REPORTS_DIR, DaggerRunner
from jessy_ci.runners.limits import NOT_ON_DAGGER, Applied, document
from jessy_ci.session import Session
from jessy_ci.steps import LoadMix, LoadSettings, ResourceLimits, Step
from jessy_ci.toolchains import plot, resources, vegeta
from jessy_ci.verbs.load import LoadRequest, run_load
from jessy_ci.verbs.load_plot import render
from jessy_ci.verbs.plan import plan_load, plan_load_plot, serve_specs
from tests.cli.test_cli import jessy_ci
from tests.conftest import ROOT, SAMPLES
from tests.support.dagger_schema import validate

LOAD = SAMPLES / "load"
SETTINGS = LoadSettings(seconds=3)


# --- the plan ---------------------------------------------------------------------------------------------------


def test_the_plan_starts_one_core_and_n_api_instances_each_behind_the_sampler(project: config.Project) -> None:
    step, names = plan_load(project, LoadSettings(instances=3), "run-1")
    assert names == ("jessy-api-1", "jessy-api-2", "jessy-api-3")
    assert [s.name for s in step.services] == ["jessy-core", *names]
    assert [s.url_env for s in step.services] == [
        "JESSY_CORE_URL",
        "JESSY_API_URL_1",
        "JESSY_API_URL_2",
        "JESSY_API_URL_3",
    ]
    for spec in step.services:
        assert spec.reports and spec.command[:2] == ("sh", "-c")
        assert f"'{{reports}}/resources/{spec.name}.tsv' 0.5 " in spec.command[2]
    core = step.services[0]
    assert core.command[2].endswith(" '${CARGO_TARGET_DIR}/debug/jessy-core'")
    assert core.init == (("${CARGO_TARGET_DIR}/debug/jessy-core", "init-volume", "$JESSY_DATA_DIR"),), "bare binary"
    assert all(s.needs == ("jessy-core",) and s.data_env == "JESSY_DATA_DIR" for s in step.services[1:])
    assert (step.name, step.kind, step.toolchain, step.image) == (
        "jessy-api:load",
        "load",
        "vegeta",
        "golang:1.26-bookworm",
    )
    assert step.command[2].endswith(
        " jessy-api-1 ${JESSY_API_URL_1} jessy-api-2 ${JESSY_API_URL_2} jessy-api-3 ${JESSY_API_URL_3}"
    )
    assert step.env["JESSY_LOAD_RUN"] == "run-1" and step.env["JESSY_MAX_LAYER_BYTES"] == "1048576"


def test_vegeta_is_pinned_and_installed_once_into_a_tools_cache(project: config.Project) -> None:
    step, _ = plan_load(project, SETTINGS, "r")
    assert vegeta.VEGETA_VERSION.startswith("v12.")
    assert step.setup == (
        (
            "sh",
            "-c",
            "test -x ${JESSY_GO_TOOLS}/vegeta-v12.13.0/vegeta || GOBIN=${JESSY_GO_TOOLS}/vegeta-v12.13.0 "
            "go install github.com/tsenart/vegeta/v12@v12.13.0",
        ),
    )
    assert vegeta.TOOLS in step.caches and step.env["PATH"] == "${JESSY_GO_TOOLS}/vegeta-v12.13.0:${PATH}"


def test_an_environment_reaches_every_service(project: config.Project) -> None:
    environment = config.load_environment(ROOT, "development", project)
    step, _ = plan_load(project, SETTINGS, "r", environment.service_env)
    assert all(s.env["JESSY_LOG_LEVEL"] == "debug" for s in step.services)


def test_the_mix_cycle_spreads_each_scenario_evenly() -> None:
    cycle = vegeta.mix_cycle(LoadMix(70, 20, 10))
    assert cycle == ["read", "write", "read", "read", "read", "health", "read", "write", "read", "read"]
    assert vegeta.mix_cycle(LoadMix(0, 1, 0)) == ["write"]
    assert vegeta.mix_cycle(LoadMix(1, 0, 1)) == ["read", "health"]


def test_the_target_list_covers_every_seed_and_takes_turns_over_the_instances() -> None:
    text = vegeta.targets(LoadSettings(instances=2, seed_layers=20), "/api/health")
    blocks = text.split("\n\n")
    assert len(blocks) == 60  # 3 cycles of 10, each line once per instance
    assert blocks[0] == "GET @API1@/api/layers/seed-1" and blocks[1] == "GET @API2@/api/layers/seed-1"
    reads = {b.rsplit("/", 1)[1] for b in blocks if b.startswith("GET") and "/layers/" in b}
    assert reads == {f"seed-{i}" for i in range(1, 21)}
    writes = [b for b in blocks if b.startswith("PUT")]
    assert len(writes) == 12 and writes[0] == "PUT @API1@/api/layers/load-1-0\n@@BODY@"
    assert sum(b == "GET @API2@/api/health" for b in blocks) == 3
    seeds = vegeta.seed_targets(LoadSettings(seed_layers=3)).split("\n\n")
    assert seeds == [f"PUT @API1@/api/layers/seed-{i}\n@@BODY@" for i in (1, 2, 3)]


def test_the_script_has_every_figure_written_in() -> None:
    text = vegeta.script(LoadSettings(rate=75, seconds=2.5, concurrency=7, seed_layers=4, layer_bytes=512), "/h")
    assert "-rate 75/1s -duration 2.5s" in text and "-workers 7 -max-workers 7" in text
    assert "-rate 4/1s -duration 1s" in text and "head -c 512 /dev/urandom" in text
    assert "vegeta encode --to json" in text and "vegeta report -type json" in text
    assert re.findall(r"@(?:COUNT|BYTES|SEEDS|RATE|SECONDS|WORKERS|TIMEOUT|SEED|TARGETS)@", text) == []


# --- the sampler and the script, as they run ---------------------------------------------------------------------


def test_the_sampler_samples_the_process_it_becomes(tmp_path: Path) -> None:
    sampler = tmp_path / "sampler.sh"
    sampler.write_text(resources.SAMPLER)
    out = tmp_path / "samples.tsv"
    # the "service" ends once the sampler wrote one line about it: no timing involved
    wait = (
        "import pathlib, time\n"
        f"p = pathlib.Path({str(out)!r})\n"
        "deadline = time.monotonic() + 60\n"
        "while time.monotonic() < deadline and not any(not l.startswith('#') for l in "
        "(p.read_text().splitlines() if p.exists() else [])):\n"
        "    time.sleep(0.05)\n"
    )
    done = subprocess.run(["sh", str(sampler), str(out), "0.1", sys.executable, "-c", wait], timeout=90, check=False)
    assert done.returncode == 0
    header, *lines = out.read_text().splitlines()
    assert header.startswith("# jessy-ci resources v1 pid=") and "clk_tck=" in header and "interval=0.1" in header
    fields = lines[0].split()
    assert len(fields) == 7 and int(fields[3]) > 0 and int(fields[4]) > 0 and int(fields[5]) >= 3
    assert fields[6].startswith("python")


def test_the_wrapped_service_command_decodes_the_sampler(project: config.Project) -> None:
    core = serve_specs(project)[0]
    wrapped = resources.sampled(core, 0.25)
    assert wrapped.reports and not core.reports
    encoded = wrapped.command[2].split("echo ", 1)[1].split(" ", 1)[0]
    assert base64.b64decode(encoded).decode() == resources.SAMPLER
    assert "$" not in wrapped.command[2].replace("${CARGO_TARGET_DIR}", ""), "runners expand $NAME in commands"
    assert wrapped.command[2].endswith(" 0.25 '${CARGO_TARGET_DIR}/debug/jessy-core'")


def _load_script(tmp_path: Path) -> Path:
    path = tmp_path / "load.sh"
    path.write_text(vegeta.script(SETTINGS, "/api/health"))
    return path


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (
            ["jessy-api-1", "http://10.0.0.1:3000", "jessy-api-2", "http://127.0.0.1:9"],
            "refusing jessy-api-1 at http://10.0.0.1:3000: not a service this run started",
        ),
        (["jessy-api-1", "http://example.com:80"], "refusing jessy-api-1 at http://example.com:80"),
        (["jessy-api-1", "http://jessy-api-2:3000"], "refusing jessy-api-1 at http://jessy-api-2:3000"),
        (["jessy-api-1", "http://127.0.0.1:9"], "expected 2 instances, got 1"),
    ],
)
def test_the_script_refuses_any_other_address_before_sending_anything(
    tmp_path: Path, pairs: list[str], message: str
) -> None:
    done = subprocess.run(
        ["sh", str(_load_script(tmp_path)), str(tmp_path / "reports"), *pairs],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},  # no vegeta: nothing could be sent anyway
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


# --- settings: options over the environment over jessy-ci.toml over the defaults ---------------------------------


def test_settings_come_from_the_options_then_the_environment_then_the_config(project: config.Project) -> None:
    assert options.load_settings(project, None).rate == 50
    env = config.parse_environment("[load]\nrate = 20\nduration = 2\n", "ci", project, "ci.toml")
    settings = options.load_settings(project, env, instances="3")
    assert (settings.rate, settings.seconds, settings.instances, settings.concurrency) == (20, 2.0, 3, 10)
    assert options.load_settings(project, env, rate=40, duration="1.5").requests == 60
    gate = options.load_gate(project, env, settings, p95_ms="0.001")
    assert gate == LoadGate(p95_ms=0.001, p99_ms=500, max_error_rate=0.01, min_rps=None)


def test_the_gate_limits_layer_the_same_way(project: config.Project) -> None:
    env = config.parse_environment("[load]\np99_ms = 900\nmin_rps = 10\n", "ci", project, "ci.toml")
    settings = options.load_settings(project, env)
    expected = LoadGate(p95_ms=250, p99_ms=900, max_error_rate=0.01, min_rps=10)
    assert options.load_gate(project, env, settings) == expected
    assert options.load_gate(project, None, settings, max_error_rate="0", min_rps=0).max_error_rate == 0.0
    slow = options.load_settings(project, env, rate=5)
    with pytest.raises(UsageError, match=r"^environments/ci\.toml: load\.min_rps 10: above the rate of 5 requests/s"):
        options.load_gate(project, env, slow)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": "0"}, "--rate '0': expected a whole number from 1 to 1000"),
        ({"rate": "2.5"}, "--rate '2.5': expected a whole number from 1 to 1000"),
        ({"rate": 5000}, "--rate 5000: expected a whole number from 1 to 1000"),
        ({"instances": "9"}, "--instances '9': expected a whole number from 1 to 8"),
        ({"concurrency": "lots"}, "--concurrency 'lots': expected a whole number from 1 to 1000"),
        ({"duration": "0"}, "--duration '0': expected seconds above 0, at most 300"),
        ({"duration": "301"}, "--duration '301': expected seconds above 0, at most 300"),
        ({"duration": "nan"}, "--duration 'nan': expected seconds above 0, at most 300"),
        (
            {"rate": "1000", "duration": "300"},
            "--rate 1000 and --duration 300: 300000 requests; expected from 1 to 50000 in one run",
        ),
    ],
)
def test_bad_settings_are_usage_errors_naming_the_input(
    project: config.Project, kwargs: Mapping[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        options.load_settings(project, None, **kwargs)  # pyright: ignore[reportArgumentType]
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p95_ms": "0"}, "--p95-ms '0': expected milliseconds above 0"),
        ({"p99_ms": "-3"}, "--p99-ms '-3': expected milliseconds above 0"),
        ({"max_error_rate": "2"}, "--max-error-rate '2': expected a fraction from 0 to 1"),
        ({"min_rps": "-1"}, "--min-rps '-1': expected requests per second, 0 or more"),
        ({"min_rps": "60"}, "--min-rps 60: above the rate of 50 requests/s; expected at most the rate"),
    ],
)
def test_bad_gate_limits_are_usage_errors(project: config.Project, kwargs: Mapping[str, object], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        options.load_gate(project, None, LoadSettings(), **kwargs)  # pyright: ignore[reportArgumentType]
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("rate = 5000", r"load\.rate: expected a whole number from 1 to 1000, got 5000"),
        ("duration = 600", r"load\.duration: expected a number from 0\.1 to 300, got 600"),
        ('target = "features"', r"load\.target: expected a served component \(jessy-core, jessy-api\)"),
        ('layers_path = "api"', r"load\.layers_path: expected an HTTP path starting with /"),
        ("mix = { read = 0, write = 0, health = 0 }", r"load\.mix: expected at least one weight above 0"),
        ("mix = { reads = 1 }", r"load\.mix\.reads: unknown key; expected one of: read, write, health"),
        ("max_error_rate = 2", r"load\.max_error_rate: expected a number from 0 to 1, got 2"),
        ("speed = 1", r"load\.speed: unknown key; expected one of: target, instances, rate"),
    ],
)
def test_bad_load_tables_name_file_key_and_expectation(table: str, message: str) -> None:
    text = (ROOT / config.CONFIG_FILE).read_text()
    start = text.index("\n[load]\n")
    end = text.index("\n[", start + 1)
    with pytest.raises(UsageError, match=rf"^jessy-ci\.toml: {message}"):
        config.parse(text[:start] + text[end:] + f"\n[load]\n{table}\n")


def test_an_environments_load_table_is_checked_the_same_way(project: config.Project) -> None:
    with pytest.raises(UsageError, match=r"^environments/ci\.toml: load\.rate: expected a whole number from 1 to 1000"):
        config.parse_environment("[load]\nrate = 0\n", "ci", project, "environments/ci.toml")


def test_the_committed_load_table_parses(project: config.Project) -> None:
    assert project.load.target == "jessy-api" and project.load.mix == LoadMix(70, 20, 10)
    assert (project.load.p95_ms, project.load.p99_ms, project.load.max_error_rate) == (250, 500, 0.01)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "0"], "--rate '0': expected a whole number from 1 to 1000"),
        (["--duration", "301"], "--duration '301': expected seconds above 0, at most 300"),
        (["--rate", "1000", "--duration", "300"], "300000 requests; expected from 1 to 50000 in one run"),
        (["--max-error-rate", "2"], "--max-error-rate '2': expected a fraction from 0 to 1"),
        (["--p95-ms", "fast"], "--p95-ms 'fast': expected milliseconds above 0"),
        (["--min-rps", "100"], "--min-rps 100: above the rate of 50 requests/s"),
        (["--env", "nowhere"], "--env 'nowhere': unknown environment"),
        (["--runner", "cloud", "--duration", "1"], "--runner 'cloud': unknown runner"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    done = jessy_ci("load", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# --- the verb, on a runner that hands back the real sample -------------------------------------------------------


def _sample_files() -> dict[str, bytes]:
    files = {f"vegeta/{p.name}": p.read_bytes() for p in LOAD.iterdir() if p.is_file() and p.suffix != ".md"}
    files.update({f"resources/{p.name}": p.read_bytes() for p in (LOAD / "resources").iterdir()})
    return files


class SampleRunner:
    """Hands back the sample's files for the load step, and an SVG for a plot step."""

    name = "sample"

    def __init__(self) -> None:
        self.steps: list[Step] = []

    async def run(self, step: Step) -> RunResult:
        self.steps.append(step)
        if step.kind == "plot":
            assert json.loads(step.env[plot.SERIES_ENV])["t"]
            return RunResult(0, "", "", 1.0, {plot.PLOT_FILE: b"<svg xmlns='http://www.w3.org/2000/svg'/>"})
        return RunResult(0, "load: 50 requests/s", "", 3.0, _sample_files())


async def test_the_verb_writes_every_report_and_passes_within_the_limits(project: config.Project) -> None:
    runner = SampleRunner()
    gate = LoadGate(p95_ms=250, p99_ms=500, max_error_rate=0.01, min_rps=45)
    report = await run_load(Session(project, runner), LoadRequest(SETTINGS, gate))
    assert report.passed, report.failures()
    assert [s.name for s in runner.steps] == ["jessy-api:load"]
    for name in ("result.json", "load.md", "latency.svg", "vegeta/report.json", "vegeta/results.jsonl"):
        assert f"load/{name}" in report.files, name
    assert "load/resources/jessy-core.tsv" in report.files
    ET.fromstring(report.files["load/latency.svg"])
    assert dict(report.steps[0].metrics) == {"rps": "50.3", "p95": "6.9 ms", "p99": "15.0 ms", "errors": "0.00%"}
    assert json.loads(report.files["load/result.json"])["instances"]["jessy-api-1"]["requests"] == 75


async def test_a_breached_limit_fails_naming_the_figure(project: config.Project) -> None:
    report = await run_load(Session(project, SampleRunner()), LoadRequest(SETTINGS, LoadGate(p95_ms=0.001)))
    assert not report.passed
    assert report.failures() == ["load p95: 6.9 ms > 0.001 ms"]


async def test_without_matplotlib_the_plot_is_made_in_a_container(
    project: config.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    runner = SampleRunner()
    report = await run_load(Session(project, runner), LoadRequest(SETTINGS, LoadGate()))
    assert [s.name for s in runner.steps] == ["jessy-api:load", "jessy-api:plot"]
    plot_step = runner.steps[1]
    assert plot_step.setup == (
        ("python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", plot.MATPLOTLIB),
    )
    assert plot_step.command == ("python", "-m", "jessy_ci.verbs.load_plot", "{reports}/latency.svg")
    assert report.files["load/latency.svg"].startswith(b"<svg")


async def test_a_failed_load_step_is_the_failure_with_no_figures(project: config.Project) -> None:
    class Broken(SampleRunner):
        async def run(self, step: Step) -> RunResult:
            return RunResult(1, "", "", 1.0, error="service jessy-core exited with 101 before it was ready")

    report = await run_load(Session(project, Broken()), LoadRequest(SETTINGS, LoadGate(p95_ms=1)))
    assert report.failures() == ["jessy-api:load: error (service jessy-core exited with 101 before it was ready)"]
    assert "load/result.json" not in report.files


# --- the plot ---------------------------------------------------------------------------------------------------


def test_the_plot_is_a_valid_svg() -> None:
    from jessy_ci.gates import load as g

    files = _sample_files()
    result = g.analyse(
        files["vegeta/report.json"].decode(),
        files["vegeta/results.jsonl"].decode(),
        files["vegeta/instances.tsv"].decode(),
        {},
        layers_path="/api/layers",
        health_path="/api/health",
        seconds=3,
    )
    svg = render(json.loads(g.series_json(result, "2 x jessy-api")))
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert render(json.loads(g.series_json(result, "2 x jessy-api"))) == svg, "the same series, the same file"


# --- Dagger: the load container and its services, the plot container -------------------------------------------


def test_the_dagger_load_container_is_valid_and_shares_a_reports_volume_with_its_services(
    schema: graphql.GraphQLSchema, project: config.Project
) -> None:
    runner = DaggerRunner(dag.host().directory("."), run_id="load-test")
    step, _ = plan_load(project, SETTINGS, runner.run_id)
    ctr = runner.container(step)
    assert validate(ctr, schema, "load") == []
    chain = ctr._ctx.selections  # pyright: ignore[reportPrivateUsage]
    bound = [s.args["alias"] for s in chain if s.name == "withServiceBinding"]
    assert bound == ["jessy-core", "jessy-api-1", "jessy-api-2"]
    mounts = [s.args["path"] for s in chain if s.name == "withMountedCache"]
    assert SERVICE_REPORTS_DIR in mounts
    last = chain[-1]
    assert last.name == "withExec" and last.args["args"][2].startswith(COLLECT_SERVICE_REPORTS)
    api = next(s.args["service"] for s in chain if s.name == "withServiceBinding" and s.args["alias"] == "jessy-api-1")
    api_chain = api._ctx.selections
    assert [s.args["path"] for s in api_chain if s.name == "withMountedCache"][-1] == SERVICE_REPORTS_DIR
    args = next(s.args["args"] for s in api_chain if s.name == "asService")
    assert f"'{SERVICE_REPORTS_DIR}/resources/jessy-api-1.tsv'" in args[2] and "{reports}" not in args[2]
    assert [s.args["alias"] for s in api_chain if s.name == "withServiceBinding"] == ["jessy-core"]


def test_steps_whose_services_leave_no_reports_are_unchanged(project: config.Project) -> None:
    from jessy_ci.verbs.plan import plan_test

    runner = DaggerRunner(dag.host().directory("."), run_id="t")
    bdd = next(s for s in plan_test(project, project.select(["features"])) if s.kind == "bdd")
    chain = runner.container(bdd)._ctx.selections  # pyright: ignore[reportPrivateUsage]
    assert SERVICE_REPORTS_DIR not in [s.args.get("path") for s in chain]
    assert not chain[-1].args["args"][2].startswith("trap ")


def test_the_dagger_plot_container_is_valid(schema: graphql.GraphQLSchema, project: config.Project) -> None:
    runner = DaggerRunner(dag.host().directory("."), run_id="plot-test")
    step = plan_load_plot(project, "jessy-api", '{"t":[0],"p50":[1]}', runner.run_id)
    assert validate(runner.container(step), schema, "plot") == []


# --- resource limits: they travel with the services; Dagger leaves its containers as they were ---------------------

LIMITS = ResourceLimits(cpus=1, memory_mb=512)


def _chain(obj: Any) -> list[object]:
    """An object's query chain, object arguments as chains of their own: two equal chains are one query."""

    def arg(value: object) -> object:
        if isinstance(value, list | tuple):
            return [arg(v) for v in cast(list[object], value)]
        return _chain(value) if hasattr(value, "_ctx") else value

    selections = obj._ctx.selections  # pyright: ignore[reportPrivateUsage]
    return [(s.type_name, s.name, {k: arg(v) for k, v in s.args.items()}) for s in selections]


def test_an_environments_limits_go_to_every_service_of_the_load(project: config.Project) -> None:
    step, _ = plan_load(project, SETTINGS, "run-1", limits=LIMITS)
    assert [s.limits for s in step.services] == [LIMITS] * 3
    plain, _ = plan_load(project, SETTINGS, "run-1")
    assert [s.limits for s in plain.services] == [None] * 3


def test_limits_leave_the_dagger_load_container_as_it_was(project: config.Project) -> None:
    from jessy_ci.runners.dagger import _limits_not_applied  # pyright: ignore[reportPrivateUsage]

    runner = DaggerRunner(dag.host().directory("."), run_id="same")
    plain, _ = plan_load(project, SETTINGS, "same")
    limited, _ = plan_load(project, SETTINGS, "same", limits=LIMITS)
    assert _chain(runner.container(limited)) == _chain(runner.container(plain))
    assert _limits_not_applied(plain) == {}
    notes = {path: json.loads(data) for path, data in _limits_not_applied(limited).items()}
    assert set(notes) == {"limits/jessy-core.json", "limits/jessy-api-1.json", "limits/jessy-api-2.json"}
    assert notes["limits/jessy-core.json"] == {
        "service": "jessy-core",
        "requested": {"cpus": 1, "memory_mb": 512},
        "applied": None,
        "note": "not applied on Dagger: engine-wide limits only",
    }


def _host_limits(service: str) -> bytes:
    """What the host runner leaves for a limited service (cgroup v1, read back)."""
    applied = Applied(
        1, {"memory": f"/jessy-ci/x-{service}", "cpu": f"/jessy-ci/x-{service}"}, 512 * 1024 * 1024, 0, 100000, 100000
    )
    return document(service, LIMITS, applied, "applied through cgroup v1, read back from the service's cgroups")


class LimitedRunner(SampleRunner):
    """The sample, and for every limited service what ``limits`` makes of it (None: the runner says nothing)."""

    def __init__(self, limits: Callable[[str], bytes] | None) -> None:
        super().__init__()
        self.limits = limits

    async def run(self, step: Step) -> RunResult:
        ran = await super().run(step)
        extra = {f"limits/{s.name}.json": self.limits(s.name) for s in step.services if s.limits and self.limits}
        return RunResult(ran.exit_code, ran.stdout, ran.stderr, ran.seconds, {**ran.files, **extra})


async def test_the_load_report_records_the_limits_read_back_from_the_cgroups(project: config.Project) -> None:
    request = LoadRequest(SETTINGS, LoadGate(), limits=LIMITS)
    report = await run_load(Session(project, LimitedRunner(_host_limits)), request)
    assert report.passed, report.failures()
    limits = json.loads(report.files["load/result.json"])["limits"]
    assert set(limits) == {"jessy-core", "jessy-api-1", "jessy-api-2"}
    assert limits["jessy-api-1"]["requested"] == {"cpus": 1.0, "memory_mb": 512}
    assert limits["jessy-api-1"]["applied"] == {
        "cgroup": "v1",
        "paths": {"memory": "/jessy-ci/x-jessy-api-1", "cpu": "/jessy-ci/x-jessy-api-1"},
        "memory_bytes": 512 * 1024 * 1024,
        "swap_bytes": 0,
        "cpu_quota_us": 100000,
        "cpu_period_us": 100000,
        "cpus": 1.0,
    }
    markdown = report.files["load/load.md"].decode()
    assert "| jessy-core | 1 CPU, 512 MB | 512 MiB (swap off), 1 CPU (100000/100000 µs), cgroup v1 |" in markdown
    assert "load/limits/jessy-core.json" in report.files
    assert "limits: 1 CPU, 512 MB per service, applied through cgroup v1 (read back: load/result.json)" in report.notes


async def test_on_dagger_the_report_says_the_limits_were_not_applied(project: config.Project) -> None:
    request = LoadRequest(SETTINGS, LoadGate(), limits=LIMITS)
    not_applied = functools.partial(document, limits=LIMITS, applied=None, note=NOT_ON_DAGGER)
    report = await run_load(Session(project, LimitedRunner(not_applied)), request)
    assert report.passed, report.failures()
    assert json.loads(report.files["load/result.json"])["limits"]["jessy-core"]["applied"] is None
    assert "| jessy-api-2 | 1 CPU, 512 MB | not applied on Dagger: engine-wide limits only |" in (
        report.files["load/load.md"].decode()
    )
    assert report.notes[-1] == (
        "limits (1 CPU, 512 MB per service): not applied on Dagger: engine-wide limits only "
        "(jessy-core, jessy-api-1, jessy-api-2)"
    )


async def test_limits_a_runner_says_nothing_about_fail_the_run(project: config.Project) -> None:
    report = await run_load(Session(project, LimitedRunner(None)), LoadRequest(SETTINGS, LoadGate(), limits=LIMITS))
    assert report.failures() == [
        f"load: limits of {name}: the runner reported nothing" for name in ("jessy-core", "jessy-api-1", "jessy-api-2")
    ]


async def test_without_limits_the_report_has_none(project: config.Project) -> None:
    report = await run_load(Session(project, SampleRunner()), LoadRequest(SETTINGS, LoadGate()))
    assert json.loads(report.files["load/result.json"])["limits"] == {}
    assert "Resource limits" not in report.files["load/load.md"].decode()
    assert not any(note.startswith("limits") for note in report.notes)
