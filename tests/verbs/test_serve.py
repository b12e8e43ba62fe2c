"""serve, fast: which services are served in which order, ports (options, environment, config, busy, bad), the
volume init (config → toolchain → host runner), run_serve with a demo service until SIGINT, bad input through the
CLI, and the Dagger service (proxy, services, volume init) validated against the engine schema."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import anyio
import graphql
import pytest
from dagger import dag

from jessy_ci import config
from jessy_ci.errors import UsageError
from jessy_ci.runners import ServiceFailed
from jessy_ci.runners.dagger import DaggerRunner
from jessy_ci.runners.host import HostRunner, http_status
from jessy_ci.steps import ResourceLimits
from jessy_ci.toolchains.proxy import proxy
from jessy_ci.verbs.plan import plan_test, serve_specs
from jessy_ci.verbs.serve import ServeRequest, check_ports_free, run_serve, serve_ports
from tests.cli.test_cli import jessy_ci
from tests.conftest import ROOT
from tests.runners.test_host import service
from tests.support.dagger_schema import validate

CORE_BINARY = "${CARGO_TARGET_DIR}/debug/jessy-core"


# --- planning ---------------------------------------------------------------------------------------------------


def test_serve_plans_core_then_api_with_the_volume_init_on_core(project: config.Project) -> None:
    core, api = serve_specs(project)
    assert (core.name, api.name) == ("jessy-core", "jessy-api")
    assert core.init == ((CORE_BINARY, "init-volume", "$JESSY_DATA_DIR"),)
    assert core.command == (CORE_BINARY,)
    assert api.init == ()
    assert api.needs == ("jessy-core",)
    assert core.data_env == api.data_env == "JESSY_DATA_DIR"
    assert "jessy-api-orphan" not in [s.name for s in serve_specs(project)]


def test_an_environment_reaches_every_served_service(project: config.Project) -> None:
    environment = config.load_environment(ROOT, "development", project)
    for spec in serve_specs(project, environment.service_env):
        assert spec.env["JESSY_LOG_LEVEL"] == "debug"
        assert spec.env["JESSY_MAX_LAYER_BYTES"] == str(environment.limits.max_layer_bytes)


def test_an_environments_limits_reach_every_served_service_and_tests_stay_unlimited(project: config.Project) -> None:
    environment = config.load_environment(ROOT, "staging", project)
    specs = serve_specs(project, environment.service_env, environment.resource_limits)
    assert [s.limits for s in specs] == [ResourceLimits(cpus=1.0, memory_mb=512)] * 2
    assert [s.limits for s in serve_specs(project)] == [None, None]
    tests = [spec for step in plan_test(project, project.select([])) for spec in step.services]
    assert tests and all(spec.limits is None for spec in tests), "integration tests have no --env: unlimited"


def test_test_steps_start_their_core_on_an_initialised_volume(project: config.Project) -> None:
    steps = {s.name: s for s in plan_test(project, project.select([]))}
    for name in ("jessy-api:integration", "features:bdd"):
        core = next(s for s in steps[name].services if s.name == "jessy-core")
        assert core.init == ((CORE_BINARY, "init-volume", "$JESSY_DATA_DIR"),), name


def test_volume_init_must_be_a_list_of_strings() -> None:
    text = (
        (ROOT / config.CONFIG_FILE)
        .read_text()
        .replace('volume_init = ["init-volume", "$JESSY_DATA_DIR"]', 'volume_init = "init-volume"')
    )
    with pytest.raises(UsageError, match=r"components\.jessy-core\.serve\.volume_init: expected a list of strings"):
        config.parse(text)


# --- ports ------------------------------------------------------------------------------------------------------


def test_ports_come_from_the_options_then_the_environment_then_the_config(project: config.Project) -> None:
    specs = serve_specs(project)
    assert serve_ports(specs, None, {}) == {"jessy-core": 8080, "jessy-api": 3000}
    staging = config.parse_environment("[ports]\njessy-api = 3100\n", "staging", project, "staging.toml")
    assert serve_ports(specs, staging, {"jessy-core": None}) == {"jessy-core": 8080, "jessy-api": 3100}
    assert serve_ports(specs, staging, {"jessy-core": 0, "jessy-api": 9000}) == {"jessy-core": 0, "jessy-api": 9000}


def test_bad_and_clashing_ports_are_usage_errors(project: config.Project) -> None:
    specs = serve_specs(project)
    with pytest.raises(UsageError, match=r"^--api-port 70000: expected a port number from 1 to 65535, or 0"):
        serve_ports(specs, None, {"jessy-api": 70000})
    with pytest.raises(UsageError, match=r"^--api-port 8080: already the port of jessy-core"):
        serve_ports(specs, None, {"jessy-api": 8080})
    assert serve_ports(specs, None, {"jessy-core": 0, "jessy-api": 0}) == {"jessy-core": 0, "jessy-api": 0}


def test_a_busy_port_is_named() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=rf"^--core-port {port}: 127\.0\.0\.1:{port} is not available"):
            check_ports_free({"jessy-api": 0, "jessy-core": port})


# --- the host runner's services: volume init, fixed ports, serve until SIGINT ------------------------------------

INIT = (sys.executable, "-c", "import os, pathlib; pathlib.Path(os.environ['DATA'], 'VERSION').write_text('1')")


async def test_services_init_the_volume_then_start_on_the_given_port(tmp_path: Path) -> None:
    runner = HostRunner(tmp_path, echo=lambda _: None, cache_dir=tmp_path / "cache")
    data = tmp_path / "data"
    data.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = service(init=(INIT,), data_env="DATA")
    async with runner.services((spec,), data, tmp_path / "reports", {"demo-svc": port}) as urls:
        assert urls == {"demo-svc": f"http://127.0.0.1:{port}"}
        assert (data / "VERSION").read_text() == "1"
        assert await http_status(port, "/health") == 200
    assert await http_status(port, "/health", wait=0.5) is None


async def test_a_failing_volume_init_stops_before_the_service_starts(tmp_path: Path) -> None:
    printed: list[str] = []
    runner = HostRunner(tmp_path, echo=printed.append, cache_dir=tmp_path / "cache")
    refuse = (sys.executable, "-c", "import sys; sys.exit('refusing to initialize: unexpected entry')")
    with pytest.raises(ServiceFailed, match=r"service demo-svc: volume init `.*` exited 1: refusing to initialize"):
        async with runner.services((service(init=(refuse,), data_env="DATA"),), tmp_path, tmp_path / "r"):
            pass
    assert not any("started" in line for line in printed)


async def test_run_serve_prints_urls_and_stops_everything_on_sigint(tmp_path: Path) -> None:
    shown: list[str] = []
    notes: list[str] = []
    runner = HostRunner(tmp_path, echo=lambda _: None, cache_dir=tmp_path / "cache")
    request = ServeRequest((service(init=(INIT,), data_env="DATA"),), {"demo-svc": 0})

    up = anyio.Event()

    def show(line: str) -> None:
        shown.append(line)
        if line.startswith("demo-svc: http://"):
            up.set()

    async def interrupt_once_up() -> None:
        await up.wait()
        os.kill(os.getpid(), signal.SIGINT)

    async with anyio.create_task_group() as tg:
        tg.start_soon(interrupt_once_up)
        await run_serve(runner, request, tmp_path / "reports", notes.append, show)
    volume = Path(shown[0].split(" ")[1])
    url = next(line.split(" ")[1] for line in shown if line.startswith("demo-svc: "))
    assert shown[0].endswith("(temporary, removed on exit)")
    assert not await anyio.Path(volume).exists(), "the temporary volume is removed"
    assert await http_status(int(url.rsplit(":", 1)[1]), "/health", wait=0.5) is None
    assert notes == ["SIGINT received: stopping the services", "stopped"]


# --- the CLI: bad input exits 2 before anything starts -----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--core-port", "70000"], "--core-port 70000: expected a port number from 1 to 65535, or 0"),
        (["--api-port", "8080"], "--api-port 8080: already the port of jessy-core"),
        (["--env", "nowhere"], "--env 'nowhere': unknown environment; expected one of: development"),
        (["--runner", "dagger"], "--runner dagger: serve runs on the host here; expected --runner host"),
        (["--runner", "cloud"], "--runner 'cloud': unknown runner"),
        (["--data", "jessy-ci.toml"], "--data jessy-ci.toml: not a folder"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    done = jessy_ci("serve", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "volume:" not in done.stdout


def test_a_busy_port_exits_2_before_anything_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = jessy_ci("serve", "--runner", "host", "--core-port", "0", "--api-port", str(port))
    assert done.returncode == 2, done.stderr
    assert f"--api-port {port}: 127.0.0.1:{port} is not available" in done.stderr
    assert done.stdout == ""


# --- Dagger: the proxy and the services it binds, valid against the engine schema --------------------------------


def test_the_proxy_listens_on_every_served_port_and_forwards_to_each_service(project: config.Project) -> None:
    specs = serve_specs(project)
    front = proxy(specs)
    assert front.ports == (8080, 3000)
    assert front.needs == ("jessy-core", "jessy-api")
    assert front.command[:2] == ("sh", "-c")
    assert "socat TCP-LISTEN:8080,fork,reuseaddr TCP:jessy-core:8080" in front.command[2]
    assert "socat TCP-LISTEN:3000,fork,reuseaddr TCP:jessy-api:3000" in front.command[2]
    assert proxy(specs, {"jessy-api": 3100}).ports == (8080, 3100)


def test_the_dagger_serve_service_is_valid_and_inits_the_volume_before_core_starts(
    schema: graphql.GraphQLSchema, project: config.Project
) -> None:
    runner = DaggerRunner(dag.host().directory("."), run_id="serve-test")
    specs = serve_specs(project)
    svc = runner.serve(specs, proxy(specs))
    assert validate(svc, schema, "serve") == []
    chain = svc._ctx.selections  # pyright: ignore[reportPrivateUsage]
    exposed = [s.args["port"] for s in chain if s.name == "withExposedPort"]
    assert exposed == [8080, 3000]
    assert [s.args["alias"] for s in chain if s.name == "withServiceBinding"] == ["jessy-core", "jessy-api"]
    core = next(s.args["service"] for s in chain if s.name == "withServiceBinding")
    names = [(s.name, s.args.get("args")) for s in core._ctx.selections]  # pyright: ignore[reportPrivateUsage]
    init = names.index(("withExec", [CORE_BINARY, "init-volume", "$JESSY_DATA_DIR"]))
    mount = next(i for i, (n, _) in enumerate(names) if n == "withMountedCache" and i > 0 and i < init)
    assert mount < init < names.index(("asService", [CORE_BINARY]))
