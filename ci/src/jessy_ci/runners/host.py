"""The host runner: Steps as subprocesses with the local toolchains.

- caches are local folders under ``.jessy-ci/cache/<volume>`` (tools are pointed at them through each cache's env);
- services are processes on free loopback ports, waited on by their HTTP health check and always stopped
  (SIGTERM, then SIGKILL), on success, failure and Ctrl-C alike; their logs come back as report files;
- a service with ResourceLimits runs in cgroups of its own (``runners/limits.py``), joined before it execs, read back
  once it is healthy (``{reports}/limits/<service>.json``) and removed when it stops;
- output is streamed line by line with the step name as prefix; every secret value is redacted from what is
  printed, returned and written.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import anyio
import anyio.abc

from jessy_ci.runners import LOOPBACK, RunResult, ServiceFailed
from jessy_ci.runners.redact import Redactor
from jessy_ci.steps import REPORTS_PLACEHOLDER, Argv, Cache, ResourceLimits, ServiceSpec, Step

if TYPE_CHECKING:  # cgroups are imported when a service has limits, not by every run
    from jessy_ci.runners.limits import Group, Machine

_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_LOG_TAIL_LINES = 15


def expand(arg: str, env: Mapping[str, str]) -> str:
    """``$VAR`` and ``${VAR}`` from env (as Dagger's ``expand=True`` does); unknown variables become empty."""
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), arg)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


async def http_status(port: int, path: str, wait: float = 2.0) -> int | None:
    """The status code of ``GET path`` on the loopback port, or None when nothing answers."""
    try:
        with anyio.fail_after(wait):
            async with await anyio.connect_tcp(LOOPBACK, port) as stream:
                request = f"GET {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\nConnection: close\r\n\r\n"
                await stream.send(request.encode())
                head = b""
                while b"\r\n" not in head:
                    head += await stream.receive()
    except (OSError, TimeoutError, anyio.EndOfStream, anyio.BrokenResourceError):
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class HostRunner:
    name = "host"

    def __init__(
        self,
        root: Path,
        *,
        secrets: Mapping[str, str] | None = None,
        inputs: Mapping[str, Path] | None = None,
        echo: Callable[[str], None] | None = None,
        readable: Callable[[str], str | None] | None = None,
        cache_dir: Path | None = None,
        user_cache_dir: Path | None = None,
        health_timeout: float = 60.0,
        cgroups: Machine | None = None,
    ) -> None:
        self.root = root
        self.secrets = dict(secrets or {})
        self.inputs = dict(inputs or {})
        self.redactor = Redactor(self.secrets.values())
        self._echo = echo or _print_line
        self._readable = readable
        self.cache_dir = cache_dir or root / ".jessy-ci" / "cache"
        self.user_cache_dir = user_cache_dir or cache_dir or user_caches()
        self.health_timeout = health_timeout
        self._cgroups = cgroups  # where services with ResourceLimits get their cgroups (made when first needed)
        self._built: dict[tuple[str, tuple[Argv, ...]], anyio.Lock] = {}
        self._built_ok: set[tuple[str, tuple[Argv, ...]]] = set()

    @property
    def cgroups(self) -> Machine:
        if self._cgroups is None:
            from jessy_ci.runners.limits import Machine

            self._cgroups = Machine()
        return self._cgroups

    # --- environment --------------------------------------------------------------------------------------------

    def echo(self, prefix: str, line: str) -> None:
        """One line of a step or service, prefixed with its name; ``readable`` (the console's filter) may shorten
        or drop it (everything still goes to the step's log and report files)."""
        shown = line if self._readable is None else self._readable(line)
        if shown is not None:
            self._echo(self.redactor.text(f"[{prefix}] {shown}"))

    def _env(self, extra: Mapping[str, str], caches: tuple[Cache, ...], reports: Path) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        for cache in caches:
            if cache.env is not None and not cache.containers_only:
                folder = (self.cache_dir if cache.per_checkout else self.user_cache_dir) / cache.name
                folder.mkdir(parents=True, exist_ok=True)
                env[cache.env] = str(folder)
        for key, value in extra.items():
            env[key] = expand(value.replace(REPORTS_PLACEHOLDER, str(reports)), env)
        return env

    @staticmethod
    def _argv(argv: Argv, env: Mapping[str, str], reports: Path) -> list[str]:
        return [expand(a.replace(REPORTS_PLACEHOLDER, str(reports)), env) for a in argv]

    # --- processes ----------------------------------------------------------------------------------------------

    async def _exec(self, prefix: str, argv: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, str, str]:
        """Run to completion, streaming both outputs with the prefix; returns (exit code, stdout, stderr)."""
        out: list[str] = []
        err: list[str] = []

        async def pump(stream: anyio.abc.ByteReceiveStream | None, sink: list[str]) -> None:
            if stream is None:
                return
            pending = ""
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span two reads
            async for data in stream:
                chunk = decoder.decode(data)
                sink.append(chunk)
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    self.echo(prefix, line)
            if rest := decoder.decode(b"", final=True):
                sink.append(rest)
                pending += rest
            if pending:
                self.echo(prefix, pending)

        process = await anyio.open_process(argv, cwd=cwd, env=dict(env), stdin=None)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(pump, process.stdout, out)
                tg.start_soon(pump, process.stderr, err)
            code = await process.wait()
        finally:
            await _stop(process)
        return code, "".join(out), "".join(err)

    async def _setup(
        self, prefix: str, setup: tuple[Argv, ...], cwd: Path, env: Mapping[str, str], reports: Path
    ) -> str | None:
        """Run setup commands in order; the error line of the first that fails, else None."""
        for argv in setup:
            code, _, stderr = await self._exec(prefix, self._argv(argv, env, reports), cwd, env)
            if code != 0:
                last = stderr.strip().splitlines()[-1:] or [""]
                return f"setup `{' '.join(argv)}` exited {code}: {last[0]}"
        return None

    async def _build_once(self, spec: ServiceSpec, env: Mapping[str, str], reports: Path) -> None:
        """A service's build runs once per runner, however many steps start the service."""
        key = (spec.workdir, spec.setup)
        lock = self._built.setdefault(key, anyio.Lock())
        async with lock:
            if key in self._built_ok:
                return
            error = await self._setup(f"{spec.name} build", spec.setup, self.root / spec.workdir, env, reports)
            if error is not None:
                raise ServiceFailed(f"service {spec.name}: {error}")
            self._built_ok.add(key)

    async def _init_volume(self, spec: ServiceSpec, env: Mapping[str, str], reports: Path) -> None:
        """The service's ``init`` commands (``jessy-core init-volume``) on its data volume, before it starts."""
        error = await self._setup(f"{spec.name} init", spec.init, self.root / spec.workdir, env, reports)
        if error is not None:
            raise ServiceFailed(f"service {spec.name}: volume init {error.removeprefix('setup ')}")

    @asynccontextmanager
    async def _service(
        self, spec: ServiceSpec, urls: Mapping[str, str], data_dir: Path, reports: Path, port: int = 0
    ) -> AsyncGenerator[str, None]:
        """Start one service (on ``port``, 0: a free one); yields its URL once healthy; always stops it."""
        port = port or free_port()
        extra = {**spec.env, **urls, spec.port_env: str(port)}
        if spec.bind_env:
            extra[spec.bind_env] = LOOPBACK
        if spec.data_env:
            extra[spec.data_env] = str(data_dir)
        env = self._env(extra, spec.caches, reports)
        await self._build_once(spec, env, reports)
        await self._init_volume(spec, env, reports)
        log_path = reports / "services" / f"{spec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = self._argv(spec.command, env, reports)
        group: Group | None = None
        log: IO[bytes] = await anyio.to_thread.run_sync(log_path.open, "wb")
        try:
            if spec.limits is not None and spec.limits.any:
                group = await self._make_cgroups(spec, spec.limits)
                from jessy_ci.runners.limits import wrap

                argv = wrap(group.procs, argv)  # the process joins its cgroups before it becomes the service
            try:
                process = await anyio.open_process(
                    argv, cwd=self.root / spec.workdir, env=env, stdin=None, stdout=log, stderr=log
                )
            except OSError as e:
                raise ServiceFailed(f"service {spec.name}: cannot start {argv[0]}: {e.strerror}") from None
            try:
                self.echo(spec.name, f"started (pid {process.pid}) on port {port}, waiting for {spec.health}")
                await self._wait_healthy(spec, process, port, log_path)
                if group is not None and spec.limits is not None:
                    await self._record_limits(spec, spec.limits, group, process.pid, reports)
                self.echo(spec.name, f"ready at http://{LOOPBACK}:{port} ({spec.health} answered {spec.health_status})")
                yield f"http://{LOOPBACK}:{port}"
            finally:
                await _stop(process)
                self.echo(spec.name, "stopped")
        finally:
            log.close()
            if group is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.cgroups.remove, group)

    async def _make_cgroups(self, spec: ServiceSpec, limits: ResourceLimits) -> Group:
        """The service's own cgroups, made and set (``runners/limits.py``); ServiceFailed when they cannot be.
        One worker-thread call, which a cancellation waits for: once made, they reach the caller, whose ``finally``
        removes them."""
        from jessy_ci.runners.limits import LimitsUnavailable

        name = f"{os.urandom(6).hex()}-{spec.name}"

        def make() -> Group:
            return self.cgroups.create(self.cgroups.locate(limits), name, limits)

        try:
            return await anyio.to_thread.run_sync(make)
        except LimitsUnavailable as e:
            raise ServiceFailed(f"service {spec.name}: {e}") from None

    async def _record_limits(
        self, spec: ServiceSpec, limits: ResourceLimits, group: Group, pid: int, reports: Path
    ) -> None:
        """Read back what the running service's cgroups hold into ``{reports}/limits/<service>.json``; ServiceFailed
        when it is not what was asked (never run a service that only looks limited)."""
        from jessy_ci.runners.limits import LimitsUnavailable, document, document_path, mismatch

        try:
            applied = await anyio.to_thread.run_sync(self.cgroups.read_back, group, pid)
        except (OSError, ValueError, LimitsUnavailable) as e:
            raise ServiceFailed(f"service {spec.name}: limits: cannot read them back: {e}") from None
        wrong = mismatch(limits, applied)
        if wrong is not None:
            raise ServiceFailed(f"service {spec.name}: limits: its cgroups hold a {wrong}")
        note = f"applied through cgroup v{applied.version}, read back from the service's cgroups while it ran"
        path = reports / document_path(spec.name)
        data = document(spec.name, limits, applied, note)
        await anyio.to_thread.run_sync(_write, path, data)
        self.echo(spec.name, f"limits: {applied.describe()} ({', '.join(sorted(set(applied.paths.values())))})")

    async def _wait_healthy(self, spec: ServiceSpec, process: anyio.abc.Process, port: int, log: Path) -> None:
        deadline = time.monotonic() + self.health_timeout
        delay = 0.01
        while True:
            if process.returncode is not None:
                raise ServiceFailed(
                    f"service {spec.name} exited with {process.returncode} before it was ready; "
                    f"last log lines:\n{_tail(log)}"
                )
            if await http_status(port, spec.health) == spec.health_status:
                return
            if time.monotonic() > deadline:
                raise ServiceFailed(
                    f"service {spec.name}: {spec.health} did not answer {spec.health_status} "
                    f"within {self.health_timeout:.0f}s; "
                    f"last log lines:\n{_tail(log)}"
                )
            await anyio.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    @asynccontextmanager
    async def services(
        self,
        specs: tuple[ServiceSpec, ...],
        data_dir: Path,
        reports: Path,
        ports: Mapping[str, int] | None = None,
    ) -> AsyncGenerator[dict[str, str], None]:
        """Build, initialise the volume for, start and health-check every service in order (dependencies first),
        all on the data volume ``data_dir``, each on its port in ``ports`` (missing or 0: a free port); yields
        service name → URL. Every started service is stopped on exit (success, failure or cancellation alike);
        their logs are in ``reports/services/<name>.log``."""
        async with AsyncExitStack() as stack:
            urls: dict[str, str] = {}
            by_name = {s.name: s for s in specs}

            async def start(spec: ServiceSpec, failures: list[Exception]) -> None:
                needed = {by_name[n].url_env: urls[n] for n in spec.needs if n in urls}
                port = (ports or {}).get(spec.name, 0)
                try:
                    service = self._service(spec, needed, data_dir, reports, port)
                    urls[spec.name] = await stack.enter_async_context(service)
                except Exception as e:  # re-raised below as itself, not as a task group's ExceptionGroup
                    failures.append(e)

            for level in _levels(specs):  # services that need nothing of each other start together
                failures: list[Exception] = []
                async with anyio.create_task_group() as tg:
                    for spec in level:
                        tg.start_soon(start, spec, failures)
                if failures:
                    raise failures[0]
            yield urls

    @asynccontextmanager
    async def _services(self, step: Step, data_dir: Path, reports: Path) -> AsyncGenerator[dict[str, str], None]:
        """Start every service of the step; yields the env that points the step at them."""
        async with self.services(step.services, data_dir, reports) as urls:
            by_name = {s.name: s for s in step.services}
            yield {by_name[name].url_env: url for name, url in urls.items()}

    # --- the step -----------------------------------------------------------------------------------------------

    async def run(self, step: Step) -> RunResult:
        started = time.monotonic()
        reports = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp, None, "jessy-reports-"))
        data_dir = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp, None, "jessy-data-"))
        try:
            result = await self._run(step, reports, data_dir)
            files = await anyio.to_thread.run_sync(self._collect, reports)
            return RunResult(
                exit_code=result[0],
                stdout=self.redactor.text(result[1]),
                stderr=self.redactor.text(result[2]),
                seconds=time.monotonic() - started,
                files=files,
                error=self.redactor.text(result[3]) if result[3] else None,
            )
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(shutil.rmtree, reports, True)
                await anyio.to_thread.run_sync(shutil.rmtree, data_dir, True)

    async def _run(self, step: Step, reports: Path, data_dir: Path) -> tuple[int, str, str, str | None]:
        cwd = self.root / step.workdir
        secret_env = {env: self.secrets.get(name, "") for env, name in step.secrets.items()}
        missing = [name for name in step.secrets.values() if name not in self.secrets]
        if missing:
            return 2, "", "", f"secret {missing[0]!r} was not provided"
        absent = [name for name in step.inputs.values() if name not in self.inputs] + list(step.bound)
        if absent:
            return 2, "", "", f"input {absent[0]!r} was not provided"
        inputs = {env: str(self.inputs[name]) for env, name in step.inputs.items()}
        extra = {**step.env, **inputs, **({step.data_env: str(data_dir)} if step.data_env else {})}
        env = self._env(extra, step.caches, reports)
        try:
            error = await self._setup(step.name, step.setup, cwd, env, reports)
            if error is not None:
                return 1, "", "", error
            async with self._services(step, data_dir, reports) as service_env:
                env = {**env, **service_env, **secret_env}
                code, out, err = await self._exec(step.name, self._argv(step.command, env, reports), cwd, env)
        except ServiceFailed as e:
            return 1, "", "", str(e)
        except FileNotFoundError as e:
            return 127, "", "", f"{e.filename or 'a tool'} not found on PATH"
        return code, out, err, None

    def _collect(self, reports: Path) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        for path in sorted(reports.rglob("*")):
            if path.is_file():
                files[path.relative_to(reports).as_posix()] = self.redactor.data(path.read_bytes())
        return files


def _levels(specs: tuple[ServiceSpec, ...]) -> list[list[ServiceSpec]]:
    """Services grouped by start order: each group needs only services of earlier groups."""
    names = {s.name for s in specs}
    level: dict[str, int] = {}
    for spec in specs:  # dependencies come first (planning orders them so)
        level[spec.name] = 1 + max((level[n] for n in spec.needs if n in names and n in level), default=-1)
    groups: list[list[ServiceSpec]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for spec in specs:
        groups[level[spec.name]].append(spec)
    return groups


def user_caches() -> Path:
    """The user's cache folder of jessy-ci (``$XDG_CACHE_HOME/jessy-ci``, else ``~/.cache/jessy-ci``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jessy-ci"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _print_line(line: str) -> None:
    print(line, flush=True)


async def _stop(process: anyio.abc.Process) -> None:
    """SIGTERM, then SIGKILL after 5 s; shielded so that it also runs while the run is being cancelled."""
    with anyio.CancelScope(shield=True):
        if process.returncode is None:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                return
            with anyio.move_on_after(5):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                await stream.aclose()
