"""The Dagger runner: each Step becomes one container on the engine.

Order inside a container keeps the dependency layer cached: image → cache volumes and env → dependency manifests
only → setup (fetch/download, tool installs) → the step's sources → services bound → the command, run with
``expect=ANY`` so that report files come out of failing steps too; then the exit code decides. Building the
container (``container()``, ``service()``) is pure query building: tests validate it against the engine's schema.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import socket
import sys
import time
import uuid
from collections.abc import AsyncGenerator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import dagger
from dagger import dag

from jessy_ci.errors import UsageError, first_line
from jessy_ci.ignored import PATTERNS
from jessy_ci.runners import RunResult
from jessy_ci.runners.limits import NOT_ON_DAGGER, document, document_path
from jessy_ci.steps import REPORTS_PLACEHOLDER, Argv, Cache, Proxy, ServiceSpec, Step

SRC = "/src"
REPORTS_DIR = "/jessy-reports"
INPUTS_DIR = "/jessy-inputs"
DATA_DIR = "/data"
ANY_HOST = "0.0.0.0"
EMPTY_DATA_DIR = ("sh", "-c", f"find {DATA_DIR} -mindepth 1 -delete")
# Sources arrive with the mtimes they had on the host. A build cache shared by several trees (a copy, another branch,
# an older revision) would then look fresh to mtime-based tools (cargo) and hand back another tree's binaries: seen
# on the engine, where a tree ran the test binary of a copy with a broken test. Every exec that runs after the
# sources arrived first touches them, in the same exec (a separate one would be cached with older times), so they
# are always newer than what any tree built before; an exec served from the cache runs nothing at all.
TOUCH_SOURCES = f"find {SRC} -exec touch -c {{}} + 2>/dev/null; exec "
# Services that leave report files (ServiceSpec.reports: a resource sampler) write them into a volume shared with the
# step (``{reports}`` in their commands); when the step's command ends, whatever its exit code, an EXIT trap in the
# same exec copies them into the step's reports (a later exec would start the services again).
SERVICE_REPORTS_DIR = "/jessy-service-reports"
COLLECT_SERVICE_REPORTS = (
    f"trap 'cp -R {SERVICE_REPORTS_DIR}/. {REPORTS_DIR}/ 2>/dev/null' EXIT; "
    f"find {SRC} -exec touch -c {{}} + 2>/dev/null; "
)
# Sources travel into step containers as a packed literal (a deterministic tar, gzipped, base64): the engine keys a
# literal by its content, while a part of the uploaded repository is keyed by the whole upload (dagger/dagger#10992):
# without this, a one-line change in jessy-api re-ran every jessy-core step. Bigger parts go the plain way.
PACK = (
    "sh",
    "-c",
    "tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C /in -cf - . | gzip -n | base64 -w0",
)
PACKED_FILE = "/tmp/.jessy-sources.tgz.b64"
UNPACK = ("sh", "-c", f"mkdir -p {SRC} && base64 -d {PACKED_FILE} | tar -xzf - -C {SRC} && rm {PACKED_FILE}")
MAX_PACKED = 16_000_000
# What never goes into a container: build outputs, VCS data, local environments and reports.
SOURCE_IGNORE = list(PATTERNS)


def _include(paths: tuple[str, ...]) -> list[str]:
    """Include patterns for repository paths: a folder with everything below it, or a single file."""
    patterns: list[str] = []
    for path in paths:
        if path in (".", ""):
            return ["**"]
        patterns += [path, f"{path}/**"]
    return patterns


def cache_sharing(cache: Cache) -> dagger.CacheSharingMode:
    return dagger.CacheSharingMode.LOCKED if cache.locked else dagger.CacheSharingMode.SHARED


def _workdir(workdir: str) -> str:
    return SRC if workdir in (".", "") else f"{SRC}/{workdir}"


class DaggerRunner:
    name = "dagger"

    def __init__(
        self,
        source: dagger.Directory,
        *,
        secrets: Mapping[str, dagger.Secret] | None = None,
        inputs: Mapping[str, dagger.Directory] | None = None,
        services: Mapping[str, dagger.Service] | None = None,
        run_id: str | None = None,
    ) -> None:
        self.source = source
        self.secrets = dict(secrets or {})
        self.inputs = dict(inputs or {})
        self.services = dict(services or {})
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self._packed: dict[tuple[str, ...], str] = {}

    # --- query building (pure) ----------------------------------------------------------------------------------

    def _base(self, image: str, caches: tuple[Cache, ...], env: Mapping[str, str]) -> dagger.Container:
        ctr = dag.container().from_(image)
        for cache in caches:
            if not cache.fresh_in_containers:
                ctr = ctr.with_mounted_cache(cache.path, dag.cache_volume(cache.name), sharing=cache_sharing(cache))
            if cache.env is not None:
                ctr = ctr.with_env_variable(cache.env, cache.path)
        for key, value in env.items():
            ctr = ctr.with_env_variable(key, value.replace(REPORTS_PLACEHOLDER, REPORTS_DIR), expand=True)
        return ctr

    def _exec(
        self,
        ctr: dagger.Container,
        argv: Argv,
        *,
        any_exit: bool = False,
        touch: bool = False,
        collect: bool = False,
    ) -> dagger.Container:
        """``argv`` (``{reports}`` and ``$VAR`` expanded); ``touch``: the sources are touched first (TOUCH_SOURCES);
        ``collect``: the services' report files are copied into the reports after it (COLLECT_SERVICE_REPORTS)."""
        args = [a.replace(REPORTS_PLACEHOLDER, REPORTS_DIR) for a in argv]
        if collect:
            args = ["sh", "-c", COLLECT_SERVICE_REPORTS + shlex.join(args)]
        elif touch:
            args = ["sh", "-c", TOUCH_SOURCES + shlex.join(args)]
        expect = dagger.ReturnType.ANY if any_exit else dagger.ReturnType.SUCCESS
        return ctr.with_exec(args, expect=expect, expand=True)

    def _selected(self, paths: tuple[str, ...]) -> dagger.Directory:
        """The repository ``paths`` as git sees them: never what .gitignore leaves out (a developer's .env with
        secrets or Dagger defaults, build outputs), never SOURCE_IGNORE."""
        return dag.directory().with_directory(
            ".", self.source, include=_include(paths), exclude=SOURCE_IGNORE, gitignore=True
        )

    def _sources(self, ctr: dagger.Container, paths: tuple[str, ...]) -> dagger.Container:
        """``paths`` in ``/src``: unpacked from their packed literal when ``pack`` made one, else copied; nothing
        for a step that reads no sources (an image scan)."""
        if not paths:
            return ctr
        packed = self._packed.get(paths)
        if packed is None:
            return ctr.with_directory(SRC, self._selected(paths))
        return ctr.with_new_file(PACKED_FILE, packed).with_exec(list(UNPACK))

    async def pack(self, image: str, paths: tuple[str, ...]) -> None:
        """Pack ``paths`` into a literal for the containers built next (memoised per run)."""
        if paths in self._packed:
            return
        packer = dag.container().from_(image).with_mounted_directory("/in", self._selected(paths))
        packed = await packer.with_exec(list(PACK)).stdout()
        if len(packed) <= MAX_PACKED:
            self._packed[paths] = packed

    def _data_volume(self, owner: str, scope: str | None = None) -> dagger.CacheVolume:
        """The layer volume of one step (or of ``serve``). ``scope`` (a digest of the step's inputs) names it, so an
        unchanged step reuses its cached result instead of running again on a new volume; without one, the run's
        id (a new volume per call)."""
        return dag.cache_volume(f"jessy-data-{scope or self.run_id}-{owner.replace(':', '-')}")

    async def scope(self, step: Step) -> str:
        """Packs everything the step and its services read from the repository; returns a digest of it."""
        sets = [(step.image, step.manifests), (step.image, step.sources)]
        sets += [(spec.image, spec.sources) for spec in step.services]
        digest = hashlib.sha256()
        for image, paths in sets:
            if paths:
                await self.pack(image, paths)
                packed = self._packed.get(paths)
                digest.update(
                    packed.encode() if packed is not None else (await self._selected(paths).digest()).encode()
                )
        return digest.hexdigest()[:16]

    def service(
        self,
        spec: ServiceSpec,
        specs: Mapping[str, ServiceSpec],
        volume: dagger.CacheVolume,
        reports: dagger.CacheVolume | None = None,
    ) -> dagger.Service:
        """The service container: built from the sources, listening on all interfaces, health-checked by the
        engine on its exposed port before any client runs; ``reports``: where it leaves report files (its step's
        shared volume), mounted last so that the build and the volume init stay cached."""
        ctr = self._base(spec.image, spec.caches, spec.env).with_workdir(_workdir(spec.workdir))
        ctr = self._sources(ctr, spec.sources)
        for argv in spec.setup:
            ctr = self._exec(ctr, argv, touch=True)
        ctr = ctr.with_env_variable(spec.port_env, str(spec.port))
        if spec.bind_env:
            ctr = ctr.with_env_variable(spec.bind_env, ANY_HOST)
        if spec.data_env:
            ctr = ctr.with_mounted_cache(DATA_DIR, volume).with_env_variable(spec.data_env, DATA_DIR)
            for argv in spec.init:  # e.g. jessy-core init-volume: the fresh volume initialised before the start
                ctr = self._exec(ctr, argv)
        for name in spec.needs:
            ctr = self._bind(ctr, specs[name], specs, volume, reports)
        if spec.reports and reports is not None:
            ctr = ctr.with_mounted_cache(SERVICE_REPORTS_DIR, reports)
        args = [a.replace(REPORTS_PLACEHOLDER, SERVICE_REPORTS_DIR) for a in spec.command]
        return ctr.with_exposed_port(spec.port).as_service(args=args, expand=True)

    def serve(self, specs: tuple[ServiceSpec, ...], proxy: Proxy) -> dagger.Service:
        """The dev environment as one Service: the proxy, with every service bound under its name on one fresh
        layer volume, exposing every proxied port (what `dagger call serve up --ports …` forwards)."""
        volume = self._data_volume("serve")
        by_name = {s.name: s for s in specs}
        ctr = self._base(proxy.image, (), {})
        for argv in proxy.setup:
            ctr = self._exec(ctr, argv)
        for name in proxy.needs:
            ctr = ctr.with_service_binding(name, self.service(by_name[name], by_name, volume))
        for port in proxy.ports:
            ctr = ctr.with_exposed_port(port)
        return ctr.as_service(args=list(proxy.command))

    def _bind(
        self,
        ctr: dagger.Container,
        spec: ServiceSpec,
        specs: Mapping[str, ServiceSpec],
        volume: dagger.CacheVolume,
        reports: dagger.CacheVolume | None = None,
    ) -> dagger.Container:
        return ctr.with_service_binding(spec.name, self.service(spec, specs, volume, reports)).with_env_variable(
            spec.url_env, f"http://{spec.name}:{spec.port}"
        )

    def _service_reports(self, step: Step) -> dagger.CacheVolume | None:
        """A fresh volume for the report files of the step's services, when any of them leaves some."""
        if not any(spec.reports for spec in step.services):
            return None
        return dag.cache_volume(f"jessy-service-reports-{self.run_id}-{step.name.replace(':', '-')}")

    def container(self, step: Step, scope: str | None = None) -> dagger.Container:
        """The step's container, up to and including its command (run with expect=ANY). Its layer volume is emptied
        first: a step that runs again on unchanged inputs (cache pruned, a failure re-run) starts from nothing."""
        ctr = self._base(step.image, step.caches, step.env).with_workdir(_workdir(step.workdir))
        if step.manifests:
            ctr = self._sources(ctr, step.manifests)
        for argv in step.setup:
            ctr = self._exec(ctr, argv)
        ctr = self._sources(ctr, step.sources)
        ctr = ctr.with_directory(REPORTS_DIR, dag.directory())
        volume = self._data_volume(step.name, scope)
        if step.data_env or step.services:
            ctr = self._exec(ctr.with_mounted_cache(DATA_DIR, volume), EMPTY_DATA_DIR)
        if step.data_env:
            ctr = ctr.with_env_variable(step.data_env, DATA_DIR)
        specs = {s.name: s for s in step.services}
        reports = self._service_reports(step)
        if reports is not None:
            ctr = ctr.with_mounted_cache(SERVICE_REPORTS_DIR, reports)
        for spec in step.services:
            ctr = self._bind(ctr, spec, specs, volume, reports)
        for env, name in step.secrets.items():
            ctr = ctr.with_secret_variable(env, self.secrets[name])
        for env, name in step.inputs.items():
            path = f"{INPUTS_DIR}/{name}"
            ctr = ctr.with_directory(path, self.inputs[name]).with_env_variable(env, path)
        for name in step.bound:
            ctr = ctr.with_service_binding(name, self.services[name])
        return self._exec(ctr, step.command, any_exit=True, touch=True, collect=reports is not None)

    # --- execution ----------------------------------------------------------------------------------------------

    async def run(self, step: Step) -> RunResult:
        started = time.monotonic()
        missing = [name for name in step.secrets.values() if name not in self.secrets]
        if missing:
            return RunResult(2, "", "", 0.0, error=f"secret {missing[0]!r} was not provided")
        absent = [name for name in step.inputs.values() if name not in self.inputs]
        absent += [name for name in step.bound if name not in self.services]
        if absent:
            return RunResult(2, "", "", 0.0, error=f"input {absent[0]!r} was not provided")
        try:
            ctr = await self.container(step, await self.scope(step)).sync()
            code = await ctr.exit_code()
            stdout = await ctr.stdout()
            stderr = await ctr.stderr()
            files = await _files(ctr.directory(REPORTS_DIR))
        except dagger.ExecError as e:  # a setup command or a service build failed
            last = (e.stderr.strip().splitlines() or [""])[-1]
            error = f"`{' '.join(e.command)}` exited {e.exit_code}: {last}"
            return RunResult(e.exit_code, e.stdout, e.stderr, time.monotonic() - started, error=error)
        except dagger.QueryError as e:
            first = (str(e).strip().splitlines() or ["query failed"])[0]
            return RunResult(1, "", str(e), time.monotonic() - started, error=first)
        return RunResult(code, stdout, stderr, time.monotonic() - started, {**files, **_limits_not_applied(step)})


def _limits_not_applied(step: Step) -> dict[str, bytes]:
    """Dagger cannot limit the CPU or memory of one container (no such field in its API: only the engine as a whole
    can be limited): the containers stay as they are, and ``limits/<service>.json`` says the limits were not
    applied."""
    return {
        document_path(spec.name): document(spec.name, spec.limits, None, NOT_ON_DAGGER)
        for spec in step.services
        if spec.limits is not None and spec.limits.any
    }


async def _files(folder: dagger.Directory) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in await folder.glob("**/*"):
        if not path.endswith("/"):
            files[path] = (await folder.file(path).contents()).encode()
    return files


RUNNER_HOST = "_EXPERIMENTAL_DAGGER_RUNNER_HOST"
CLI_BIN = "_EXPERIMENTAL_DAGGER_CLI_BIN"
SESSION_PORT = "DAGGER_SESSION_PORT"
_SETTINGS = (
    f"expected a dagger CLI on PATH (or {CLI_BIN}) and an engine it can reach: Docker, or {RUNNER_HOST} "
    "(unix://SOCKET, tcp://HOST:PORT, …); or --runner host"
)


def check_engine(environ: Mapping[str, str], timeout: float = 3.0) -> None:
    """Before a client-mode session: an engine address that nothing answers on is bad input, said in one line (the
    CLI would otherwise retry for minutes). Schemes that need a driver (image://, kube-pod://, …) are left to it."""
    if environ.get(SESSION_PORT):
        return
    host = environ.get(RUNNER_HOST, "")
    scheme, _, address = host.partition("://")
    try:
        if scheme == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(address)
        elif scheme == "tcp":
            name, _, port = address.rpartition(":")
            socket.create_connection((name, int(port)), timeout=timeout).close()
    except (OSError, ValueError) as e:
        raise UsageError(f"{RUNNER_HOST}={host}: no Dagger engine answers there ({e}); {_SETTINGS}") from None


@asynccontextmanager
async def connected_runner(root: Path, inputs: Mapping[str, Path]) -> AsyncGenerator[DaggerRunner, None]:
    """Client mode (the CLI): a Dagger session, with the repository and the input folders uploaded from the host.
    A session that cannot start (no CLI and no download, no engine) is a UsageError of one line."""
    check_engine(os.environ)
    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(dagger.connection(dagger.Config(log_output=sys.stderr)))
        except (dagger.ProvisionError, dagger.ClientConnectionError) as e:
            first = first_line(e)
            raise UsageError(f"--runner dagger: cannot start a Dagger session: {first}; {_SETTINGS}") from None
        uploaded = {name: dag.host().directory(str(path)) for name, path in inputs.items()}
        yield DaggerRunner(dag.host().directory(str(root), exclude=SOURCE_IGNORE), inputs=uploaded)
