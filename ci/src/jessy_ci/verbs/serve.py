"""serve: the dev environment (what `docker-compose up` was). Every served component (a [serve] table in
jessy-ci.toml: jessy-core, then jessy-api) built, started on one freshly initialised layer volume, health-checked,
and kept running until SIGINT/SIGTERM; then both are stopped and the temporary volume removed.

The host path runs processes through a runner's own service machinery (`ServiceRunner.services`); the Dagger
path is `DaggerRunner.serve` (a proxy in front of the service containers). Choosing ports is pure and checked
before anything starts: a bad or busy port is a UsageError (exit 2).
"""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.abc

from jessy_ci.config import Environment
from jessy_ci.errors import UsageError
from jessy_ci.runners import LOOPBACK, ServiceFailed, ServiceRunner
from jessy_ci.session import Say
from jessy_ci.steps import ServiceSpec

# The CLI option that sets each component's port (the error messages name it).
PORT_OPTIONS = {"jessy-core": "--core-port", "jessy-api": "--api-port"}


def port_option(name: str) -> str:
    return PORT_OPTIONS.get(name, f"the port of {name}")


def validate_port(value: int, option: str) -> int:
    if not 0 <= value <= 65535:
        raise UsageError(f"{option} {value}: expected a port number from 1 to 65535, or 0 for any free port")
    return value


def serve_ports(
    specs: tuple[ServiceSpec, ...], environment: Environment | None, overrides: Mapping[str, int | None]
) -> dict[str, int]:
    """The port of every served service: the option (``overrides``), else the environment's [ports], else the
    service's port in jessy-ci.toml; 0 means any free port. Two services on one port is a UsageError."""
    ports: dict[str, int] = {}
    for spec in specs:
        override = overrides.get(spec.name)
        if override is not None:
            ports[spec.name] = validate_port(override, port_option(spec.name))
        elif environment is not None and spec.name in environment.ports:
            ports[spec.name] = environment.ports[spec.name]
        else:
            ports[spec.name] = spec.port
    taken: dict[int, str] = {}
    for name, port in ports.items():
        if port and port in taken:
            raise UsageError(
                f"{port_option(name)} {port}: already the port of {taken[port]}; expected a different port"
            )
        taken[port] = name
    return ports


def check_ports_free(ports: Mapping[str, int], host: str = LOOPBACK) -> None:
    """A UsageError naming the first port that something already listens on (0: any free port, never busy)."""
    for name, port in ports.items():
        if not port:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError as e:
                raise UsageError(
                    f"{port_option(name)} {port}: {host}:{port} is not available ({e.strerror}); "
                    "expected a free port (or 0 for any free port)"
                ) from None


def check_data_dir(path: Path) -> Path:
    """``--data DIR``: a folder (created when missing) that is kept after the run."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--data {path}: not a folder; expected a folder for the layer volume (created if missing)")
    return path.resolve()


@dataclass(frozen=True)
class ServeRequest:
    """What `jessy-ci serve` was asked, checked: the specs in start order, their ports, and the volume (None: a
    fresh temporary one, removed on exit)."""

    specs: tuple[ServiceSpec, ...]
    ports: Mapping[str, int]
    data: Path | None = None


async def _until_signal(
    scope: anyio.CancelScope, say: Say, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for signum in signals:
            say(f"{signal.Signals(signum).name} received: stopping the services")
            scope.cancel()
            return


async def run_serve(runner: ServiceRunner, request: ServeRequest, reports: Path, say: Say, show: Say) -> None:
    """Build, initialise the volume, start and health-check every service, print one ``name: URL`` line each, then
    block until SIGINT/SIGTERM; every service is stopped and the temporary volume removed on every way out.
    ServiceFailed (a build, the volume init or a health check failed) ends it with the reason."""
    if request.data is None:
        data = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp, None, "jessy-serve-"))
    else:
        data = request.data
        await anyio.to_thread.run_sync(lambda: data.mkdir(parents=True, exist_ok=True))
    failure: list[ServiceFailed] = []
    show(f"volume: {data}" + (" (temporary, removed on exit)" if request.data is None else ""))
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(_until_signal, tg.cancel_scope, say)
            try:
                async with runner.services(request.specs, data, reports, request.ports) as urls:
                    for name, url in urls.items():
                        show(f"{name}: {url}")
                    show(f"logs: {reports / 'services'}/; press Ctrl-C to stop")
                    await anyio.sleep_forever()
            except ServiceFailed as e:
                failure.append(e)
                tg.cancel_scope.cancel()
    finally:
        if request.data is None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(shutil.rmtree, data, True)
    if failure:
        raise failure[0]
    say("stopped")
