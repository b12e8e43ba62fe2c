"""The Dagger module: `dagger call lint|test|…`, `dagger check`, `dagger call reports --verb test export --path r`.

Every function checks its arguments with ``jessy_ci.options`` (the same declarations as the CLI's flags), builds one
Session on a DaggerRunner and calls the same verb as the CLI; none holds pipeline logic. A failed check raises, so
`dagger call` and `dagger check` exit 1; bad input exits 2; ``reports`` returns any verb's reports folder, also
after failures.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ParamSpec, Protocol, TypeVar, cast

import dagger
from dagger import DefaultPath, Doc, Ignore, check, dag, enum_type, function, object_type

from jessy_ci import config, options
from jessy_ci.errors import ChecksFailed, UsageError
from jessy_ci.ignored import PATTERNS
from jessy_ci.report import Report
from jessy_ci.runners.dagger import DaggerRunner
from jessy_ci.runners.dagger_images import DaggerImages, RegistryAuth, oci_labels
from jessy_ci.session import Session
from jessy_ci.verbs import bench, build, ci, coverage, lint, publish, scan, smoke, test
from jessy_ci.verbs import load as load_test
from jessy_ci.verbs.execute import VERDICT_FILE, finish, read_verdict
from jessy_ci.verbs.plan import UTILITY_IMAGE

_F = TypeVar("_F", bound=Callable[..., Any])
_P = ParamSpec("_P")
_R = TypeVar("_R")


class _Decorator(Protocol):
    def __call__(self, fn: _F, /) -> _F: ...


# dagger-io 0.21.8 types `function(cache=…)` without that keyword and `check` as returning a union; both work at run
# time (dagger/mod/_module.py). Re-typed once here, so no function needs a `pyright: ignore` of its own.
def dagger_function(cache: str | None = None) -> _Decorator:
    make: Any = function
    return cast(_Decorator, make(cache=cache) if cache else make())


def dagger_check(fn: _F) -> _F:
    mark: Any = check
    return cast(_F, mark(fn))


GitArg = Annotated[
    dagger.GitRepository,
    DefaultPath("/"),
    Doc("The repository's git checkout (default: this one): its HEAD commit labels and tags the images"),
]
ComponentsArg = Annotated[list[str] | None, Doc(options.COMPONENT.help)]
ThresholdArg = Annotated[float | None, Doc(options.THRESHOLD.help)]
BaselineArg = Annotated[
    dagger.File | None,
    Doc("A baseline file (jessy-ci bench --save, or bench/<component>.json of an earlier run) to compare with"),
]
BaselineSourceArg = Annotated[
    dagger.Directory | None,
    Doc("Another tree of the repository (e.g. https://github.com/o/r#<merge-base>): its benchmarks run right before"),
]
MaxRegressionArg = Annotated[float | None, Doc(options.MAX_REGRESSION.help)]
CountArg = Annotated[int, Doc(options.COUNT.help)]
TimeArg = Annotated[float, Doc(options.TIME.help)]
FilterArg = Annotated[str, Doc(options.FILTER.help)]
PlatformArg = Annotated[list[str] | None, Doc(options.PLATFORM.help)]
SeverityArg = Annotated[str | None, Doc(options.SEVERITY.help)]
IgnoreUnfixedArg = Annotated[bool, Doc(options.IGNORE_UNFIXED.help)]
InstancesArg = Annotated[int | None, Doc(options.INSTANCES.help)]
RateArg = Annotated[int | None, Doc(options.RATE.help)]
DurationArg = Annotated[float | None, Doc(options.DURATION.help)]
ConcurrencyArg = Annotated[int | None, Doc(options.CONCURRENCY.help)]
P95MsArg = Annotated[float | None, Doc(options.P95_MS.help)]
P99MsArg = Annotated[float | None, Doc(options.P99_MS.help)]
MaxErrorRateArg = Annotated[float | None, Doc(options.MAX_ERROR_RATE.help)]
MinRpsArg = Annotated[float | None, Doc(options.MIN_RPS.help)]
EnvArg = Annotated[str, Doc("An environment of environments/NAME.toml: its service env (load: and its [load])")]
SMOKE_TARGET = "jessy-api"  # the name a --api service is bound under in the smoke container
DRY_RUN_REGISTRY = "localhost/jessy-ci-dry-run"
_EXIT_2 = "import sys; sys.stderr.write(sys.argv[1] + '\\n'); sys.exit(2)"


@enum_type
class Verb(enum.Enum):
    """A verb whose reports folder `reports` returns."""

    LINT = "lint"
    TEST = "test"
    COVERAGE = "coverage"
    BENCH = "bench"
    SCAN = "scan"
    CI = "ci"
    LOAD = "load"


@dataclass(frozen=True)
class LoadArgs:
    """The load options of a call as given; checked by ``options`` once the project (and the environment) is read."""

    instances: int | None = None
    rate: int | None = None
    duration: float | None = None
    concurrency: int | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None
    env: str = ""


def _say(message: str) -> None:
    print(message, flush=True)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def exits_2_on_bad_input(fn: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """Bad input exits 2 from `dagger call` too, as from jessy-ci: the Dagger CLI takes a function's exit code only
    from an exec error, so the one-line message is reported by a tiny exec that exits 2 (its stderr is the message).
    Where even that image cannot be pulled, the error stays a plain function error (exit 1)."""

    @functools.wraps(fn)
    async def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await fn(*args, **kwargs)
        except UsageError as e:
            reporter = dag.container().from_(UTILITY_IMAGE).with_exec(["python", "-c", _EXIT_2, str(e)])
            try:
                await reporter.sync()
            except dagger.ExecError:
                raise
            except dagger.DaggerError:
                pass
            raise

    return checked


def reports_directory(report: Report) -> dagger.Directory:
    """The report files as a Directory, laid out as on the host (junit/, logs/, summary.md, …)."""
    finish(report)
    folder = dag.directory()
    for path, data in sorted(report.files.items()):
        folder = folder.with_new_file(path, data.decode("utf-8", errors="replace"))
    return folder


def summary_or_fail(report: Report) -> str:
    """The summary text, or ChecksFailed listing every failure."""
    finish(report)
    text = report.files["summary.md"].decode()
    if not report.passed:
        raise ChecksFailed(text + "\n" + "\n".join(report.failures()))
    return text


@object_type
class JessyCi:
    """Pipeline-as-code CI for the Jessy services (jessy-core in Rust, jessy-api in Go)."""

    source: Annotated[
        dagger.Directory,
        DefaultPath("/"),
        Ignore(list(PATTERNS)),
        Doc("The repository root (default: the repository this module lives in)"),
    ]
    trivy_db: Annotated[
        dagger.Directory | None,
        Doc(
            "A prepared Trivy cache folder (db/trivy.db, db/metadata.json) for scans without any DB download, e.g. "
            "air-gapped (default: Trivy downloads its DB into a cache volume)"
        ),
    ] = None

    # --- the session of a call ---------------------------------------------------------------------------------

    async def _project(self) -> config.Project:
        text = await self.source.file(config.CONFIG_FILE).contents()
        return config.parse(text, config.CONFIG_FILE)

    def _runner(self, services: dict[str, dagger.Service] | None = None) -> DaggerRunner:
        inputs = {scan.PREPARED_DB_INPUT: self.trivy_db} if self.trivy_db is not None else {}
        return DaggerRunner(self.source, inputs=inputs, services=services)

    async def _session(
        self,
        git: dagger.GitRepository | None = None,
        *,
        version: str = "dev",
        platform: list[str] | None = None,
        auth: RegistryAuth | None = None,
    ) -> Session:
        """The project parsed once, a runner on the source, and (given the repository's git) the image backend."""
        project = await self._project()
        runner = self._runner()
        images = None
        if git is not None:
            labels = oci_labels(project.source_url, await git.head().commit(), version, _now())
            platforms = options.PLATFORM(platform)
            images = DaggerImages(
                runner, version=version, labels=labels, images=project.images, platforms=platforms, auth=auth
            )
        return Session(project, runner, _say, images)

    async def _environment(self, project: config.Project, env: str) -> config.Environment | None:
        """``--env NAME``: environments/NAME.toml of the source (None without a name); an unknown one is bad input."""
        if not env:
            return None
        file = f"{config.ENVIRONMENTS_DIR}/{env}.toml"
        known = [e.removesuffix(".toml") for e in await self.source.directory(config.ENVIRONMENTS_DIR).entries()]
        if env not in known:
            raise UsageError(f"--env {env!r}: unknown environment; expected one of: {', '.join(sorted(known))}")
        return config.parse_environment(await self.source.file(file).contents(), env, project, file)

    async def _load_request(self, project: config.Project, args: LoadArgs) -> load_test.LoadRequest:
        environment = await self._environment(project, args.env)
        settings = options.load_settings(
            project,
            environment,
            instances=args.instances,
            rate=args.rate,
            duration=args.duration,
            concurrency=args.concurrency,
        )
        gate = options.load_gate(
            project,
            environment,
            settings,
            p95_ms=args.p95_ms,
            p99_ms=args.p99_ms,
            max_error_rate=args.max_error_rate,
            min_rps=args.min_rps,
        )
        if environment is None:
            return load_test.LoadRequest(settings, gate)
        # Dagger cannot limit one container: the limits travel, and the report says they were not applied.
        return load_test.LoadRequest(settings, gate, environment.service_env, environment.resource_limits)

    async def _scan_gate(self, project: config.Project, severity: str | None, ignore_unfixed: bool) -> scan.ScanOptions:
        found = await self.source.glob(scan.IGNORE_FILE)
        text = await self.source.file(scan.IGNORE_FILE).contents() if found else None
        prepared = self.trivy_db is not None
        return scan.scan_options(project, severity, ignore_unfixed, text, scan.IGNORE_FILE, prepared)

    async def _run(
        self,
        verb: Verb,
        git: dagger.GitRepository | None,
        component: list[str] | None = None,
        *,
        threshold: float | None = None,
        baseline: dagger.File | None = None,
        baseline_source: dagger.Directory | None = None,
        max_regression: float | None = None,
        count: int = options.BENCH.count,
        time_: float = options.BENCH.seconds,
        filter_: str = "",
        severity: str | None = None,
        ignore_unfixed: bool = False,
        platform: list[str] | None = None,
        load: LoadArgs | None = None,
    ) -> Report:
        """One verb, every option checked first (bad input: nothing runs)."""
        names = options.COMPONENT(component)
        limit = options.THRESHOLD(threshold)
        regression = options.MAX_REGRESSION(max_regression)
        settings = options.bench_settings(count, time_, filter_)
        loaded = None if baseline is None else options.baseline(await baseline.contents(), "--baseline")
        session = await self._session(git if verb in (Verb.SCAN, Verb.CI) else None, platform=platform)
        options.components(session.project, names)
        match verb:
            case Verb.LINT:
                return await lint.run_lint(session, names)
            case Verb.TEST:
                return await test.run_tests(session, names)
            case Verb.COVERAGE:
                return await coverage.run_coverage(session, names, limit)
            case Verb.BENCH:
                other = None if baseline_source is None else DaggerRunner(baseline_source)
                run = await bench.run_bench(
                    session,
                    names,
                    settings=settings,
                    baseline=loaded,
                    baseline_runner=other,
                    baseline_commit="baseline-source",
                    max_regression=regression,
                )
                return run.report
            case Verb.SCAN:
                gate = await self._scan_gate(session.project, severity, ignore_unfixed)
                return await scan.run_scan(session, names, gate)
            case Verb.CI:
                gate = await self._scan_gate(session.project, None, False)

                async def images(chosen: list[str]) -> Report:
                    return await build.run_build(session, chosen)

                async def scanned(chosen: list[str]) -> Report:
                    return await scan.run_scan(session, chosen, gate)

                parts = [("build", images), ("scan", scanned)]
                return await ci.run_ci(session, names, parts, threshold=limit, baseline=loaded)
            case Verb.LOAD:
                request = await self._load_request(session.project, load or LoadArgs())
                return await load_test.run_load(session, request)

    # --- checks: `dagger check` runs each of them on its own --------------------------------------------------

    @dagger_function(cache="session")
    @dagger_check
    @exits_2_on_bad_input
    async def lint(self, component: ComponentsArg = None) -> str:
        """cargo fmt and clippy, gofmt and go vet, ruff, hadolint; fails listing every finding's step."""
        return summary_or_fail(await self._run(Verb.LINT, None, component))

    @dagger_function(cache="session")
    @dagger_check
    @exits_2_on_bad_input
    async def test(self, component: ComponentsArg = None) -> str:
        """Unit, integration (services bound) and BDD tests; fails listing every failing test."""
        return summary_or_fail(await self._run(Verb.TEST, None, component))

    @dagger_function(cache="session")
    @dagger_check
    @exits_2_on_bad_input
    async def coverage(self, component: ComponentsArg = None, threshold: ThresholdArg = None) -> str:
        """Line coverage of Rust (cargo-tarpaulin), Go and Python (coverage.py) components, unit and integration tests;
        fails naming every component (and the total) under the threshold."""
        return summary_or_fail(await self._run(Verb.COVERAGE, None, component, threshold=threshold))

    @dagger_function(cache="never")
    @exits_2_on_bad_input
    async def bench(
        self,
        component: ComponentsArg = None,
        baseline: BaselineArg = None,
        baseline_source: BaselineSourceArg = None,
        max_regression: MaxRegressionArg = None,
        count: CountArg = options.BENCH.count,
        time_: TimeArg = options.BENCH.seconds,
        filter_: FilterArg = "",
    ) -> str:
        """criterion and go test -bench; with a baseline, a verdict per benchmark (bench/compare.md) and a failure
        for every significant regression over the maximum."""
        report = await self._run(
            Verb.BENCH,
            None,
            component,
            baseline=baseline,
            baseline_source=baseline_source,
            max_regression=max_regression,
            count=count,
            time_=time_,
            filter_=filter_,
        )
        return summary_or_fail(report)

    @dagger_function(cache="never")
    @dagger_check
    @exits_2_on_bad_input
    async def bench_regression(
        self,
        baseline: BaselineArg = None,
        baseline_source: BaselineSourceArg = None,
        max_regression: MaxRegressionArg = None,
    ) -> str:
        """The benchmark regression gate: only with a baseline (a file or another tree, e.g. from .env); without one
        it passes at once and runs nothing."""
        if baseline is None and baseline_source is None:
            return "No baseline given (baseline or baseline-source): no benchmark ran, nothing to gate.\n"
        report = await self._run(
            Verb.BENCH, None, baseline=baseline, baseline_source=baseline_source, max_regression=max_regression
        )
        return summary_or_fail(report)

    @dagger_function(cache="session")
    @dagger_check
    @exits_2_on_bad_input
    async def build(self, git: GitArg, component: ComponentsArg = None, platform: PlatformArg = None) -> str:
        """Every production image for its platforms (linux/amd64 and linux/arm64 by default), measured against its
        size budget and booted; fails naming every image over its budget or not answering."""
        names = options.COMPONENT(component)
        session = await self._session(git, platform=platform)
        return summary_or_fail(await build.run_build(session, names))

    @dagger_function(cache="session")
    @dagger_check
    @exits_2_on_bad_input
    async def scan(
        self,
        git: GitArg,
        component: ComponentsArg = None,
        severity: SeverityArg = None,
        ignore_unfixed: IgnoreUnfixedArg = False,
        platform: PlatformArg = None,
    ) -> str:
        """Trivy over the repository and every image (reports always written); fails on gated findings."""
        report = await self._run(
            Verb.SCAN, git, component, severity=severity, ignore_unfixed=ignore_unfixed, platform=platform
        )
        return summary_or_fail(report)

    @dagger_function(cache="session")
    @dagger_check
    @exits_2_on_bad_input
    async def publish_dry_run(self, git: GitArg, platform: PlatformArg = None) -> str:
        """The whole release with a placeholder tag, without the push."""
        return await self.publish(git, publish.DRY_RUN_TAG, dry_run=True, platform=platform)

    # --- everything at once, and any verb's reports -------------------------------------------------------------

    @dagger_function(cache="session")
    @exits_2_on_bad_input
    async def ci(
        self,
        git: GitArg,
        component: ComponentsArg = None,
        threshold: ThresholdArg = None,
        baseline: BaselineArg = None,
        platform: PlatformArg = None,
    ) -> str:
        """Every check at once (lint, test, coverage, benchmarks with a baseline, build + scan), concurrently; one
        summary; fails listing every failure. `dagger check` runs the same checks, each one on its own."""
        report = await self._run(Verb.CI, git, component, threshold=threshold, baseline=baseline, platform=platform)
        return summary_or_fail(report)

    @dagger_function(cache="session")
    @exits_2_on_bad_input
    async def reports(
        self,
        verb: Annotated[Verb, Doc("The verb to run: lint, test, coverage, bench, scan, ci or load")],
        git: GitArg,
        component: ComponentsArg = None,
        threshold: ThresholdArg = None,
        baseline: BaselineArg = None,
        baseline_source: BaselineSourceArg = None,
        max_regression: MaxRegressionArg = None,
        count: CountArg = options.BENCH.count,
        time_: TimeArg = options.BENCH.seconds,
        filter_: FilterArg = "",
        severity: SeverityArg = None,
        ignore_unfixed: IgnoreUnfixedArg = False,
        platform: PlatformArg = None,
        instances: InstancesArg = None,
        rate: RateArg = None,
        duration: DurationArg = None,
        concurrency: ConcurrencyArg = None,
        p95_ms: P95MsArg = None,
        p99_ms: P99MsArg = None,
        max_error_rate: MaxErrorRateArg = None,
        min_rps: MinRpsArg = None,
        env: EnvArg = "",
    ) -> dagger.Directory:
        """A verb's reports folder — junit/, coverage/, bench/, scan/, sbom/, load/, logs/, summary.md, verdict.json —
        also when its checks fail: `dagger call reports --verb test export --path reports`. Options the verb does not
        take are ignored."""
        report = await self._run(
            verb,
            git,
            component,
            threshold=threshold,
            baseline=baseline,
            baseline_source=baseline_source,
            max_regression=max_regression,
            count=count,
            time_=time_,
            filter_=filter_,
            severity=severity,
            ignore_unfixed=ignore_unfixed,
            platform=platform,
            load=LoadArgs(instances, rate, duration, concurrency, p95_ms, p99_ms, max_error_rate, min_rps, env),
        )
        return reports_directory(report)

    @dagger_function(cache="never")
    @exits_2_on_bad_input
    async def verdict(
        self,
        reports: Annotated[dagger.Directory, Doc("A reports folder exported from `reports`")],
    ) -> str:
        """Pass or fail from a reports folder's verdict.json, running nothing again: a CI job exports `reports`,
        uploads them, then calls this for its exit code."""
        if not await reports.glob(VERDICT_FILE):
            raise UsageError(f"--reports: no {VERDICT_FILE}; expected a folder exported from `reports`")
        passed, failures = read_verdict((await reports.file(VERDICT_FILE).contents()).encode(), VERDICT_FILE)
        text = await reports.file("summary.md").contents() if await reports.glob("summary.md") else ""
        if not passed:
            raise ChecksFailed(text + "\n" + "\n".join(failures))
        return text

    # --- release ------------------------------------------------------------------------------------------------

    @dagger_function()
    @exits_2_on_bad_input
    async def build_image(
        self,
        git: GitArg,
        component: Annotated[str, Doc("The component, e.g. jessy-api")],
        platform: Annotated[str, Doc("linux/amd64 or linux/arm64")] = "linux/amd64",
    ) -> dagger.Container:
        """One component's production image (the Dockerfile's production stage, OCI labels): export it, run it."""
        session = await self._session(git, platform=[platform])
        selected = options.components(session.project, [component])[0]
        if selected.dockerfile is None or session.images is None:
            raise UsageError(f"--component {component!r}: has no dockerfile in jessy-ci.toml; expected an image one")
        backend = cast(DaggerImages, session.images)
        return backend.variants(selected, await backend.base_images(selected))[0]

    @dagger_function(cache="never")
    @exits_2_on_bad_input
    async def publish(
        self,
        git: GitArg,
        tag: Annotated[str, Doc(options.TAG.help)],
        registry: Annotated[str, Doc(options.REGISTRY.help)] = "",
        username: Annotated[str, Doc(options.USERNAME.help)] = "",
        password: Annotated[dagger.Secret | None, Doc("Registry password or token, e.g. env://REGISTRY_TOKEN")] = None,
        dry_run: Annotated[bool, Doc(options.DRY_RUN.help)] = False,
        severity: SeverityArg = None,
        ignore_unfixed: IgnoreUnfixedArg = False,
        platform: PlatformArg = None,
    ) -> str:
        """Build, test, size gates, boot, scan, then push every image with all its tags; any failure pushes nothing.
        Every input is checked before any work: tag, commit, registry, platforms, credentials (both or neither)."""
        project = await self._project()
        options.PLATFORM(platform)
        if dry_run and not (registry or project.registry.address):
            registry = DRY_RUN_REGISTRY
        plan = publish.prepare(project, tag, await git.head().commit(), registry)
        user = username or project.registry.username
        publish.check_credentials(user, password is not None)
        gate = await self._scan_gate(project, severity, ignore_unfixed)
        auth = RegistryAuth(plan.registry, user, password) if password is not None else None
        session = await self._session(git, version=plan.tag.version, platform=platform, auth=auth)
        report = await publish.run_publish(session, plan, gate, dry_run)
        return summary_or_fail(report) + "\n" + report.files["release.md"].decode()

    # --- services -----------------------------------------------------------------------------------------------

    @dagger_function(cache="never")
    @exits_2_on_bad_input
    async def smoke(
        self,
        url: Annotated[str, Doc("The api's base URL, reachable from the engine (e.g. https://staging.example)")] = "",
        timeout: Annotated[float, Doc(options.TIMEOUT.help)] = 60.0,  # noqa: ASYNC109
        core_url: Annotated[str, Doc(options.CORE_URL.help)] = "",
        api: Annotated[
            dagger.Service | None,
            Doc("The api as a service instead of --url: tcp://localhost:3000 (a port of your machine) or a Service"),
        ] = None,
    ) -> str:
        """api health, core health through the api, a layer write/read round trip; from a python container."""
        if (api is None) == (not url):
            raise UsageError("--url and --api: expected exactly one of them (the api's URL, or the api as a service)")
        bound: dict[str, dagger.Service] = {}
        if api is not None:
            port = await (await api.ports())[0].port()
            bound, url = {SMOKE_TARGET: api}, f"http://{SMOKE_TARGET}:{port}"
        target = smoke.SmokeTarget(options.URL(url), options.TIMEOUT(timeout), options.CORE_URL(core_url))
        session = Session(await self._project(), self._runner(bound), _say)
        return summary_or_fail(await smoke.run_smoke_step(session, target, tuple(bound)))

    @dagger_function(cache="never")
    @exits_2_on_bad_input
    async def load(
        self,
        instances: InstancesArg = None,
        rate: RateArg = None,
        duration: DurationArg = None,
        concurrency: ConcurrencyArg = None,
        p95_ms: P95MsArg = None,
        p99_ms: P99MsArg = None,
        max_error_rate: MaxErrorRateArg = None,
        min_rps: MinRpsArg = None,
        env: EnvArg = "",
    ) -> str:
        """Load test: vegeta at a constant rate over N instances of jessy-api sharing one jessy-core and one fresh
        layer volume, all bound as services of the run (nothing else is ever targeted); resources of every service
        sampled. Fails naming each breached limit (load p95: 41.3 ms > 20 ms); the files: reports --verb load."""
        args = LoadArgs(instances, rate, duration, concurrency, p95_ms, p99_ms, max_error_rate, min_rps, env)
        report = await self._run(Verb.LOAD, None, load=args)
        return summary_or_fail(report) + "\n" + report.files.get("load/load.md", b"").decode()

    @dagger_function(cache="never")
    @exits_2_on_bad_input
    async def serve(
        self,
        env: Annotated[str, Doc("An environment of environments/NAME.toml: its service env and ports")] = "",
    ) -> dagger.Service:
        """The dev environment: jessy-core and jessy-api on one fresh layer volume (initialised by jessy-core
        init-volume), health-checked, behind one proxy that exposes jessy-core's port (8080) and jessy-api's (3000):
        `dagger call serve up --ports 8080:8080,3000:3000`."""
        from jessy_ci.verbs.plan import serve_proxy, serve_specs
        from jessy_ci.verbs.serve import serve_ports

        project = await self._project()
        environment = await self._environment(project, env)
        specs = serve_specs(project, environment.service_env if environment else None)
        return self._runner().serve(specs, serve_proxy(project, specs, serve_ports(specs, environment, {})))
