"""The Dagger module: `dagger call lint`, `dagger call test`, `dagger check`, `dagger call test-reports export`.

Every function calls the same verb as the CLI with a DaggerRunner; none holds pipeline logic. A failed check
raises, so `dagger call` and `dagger check` exit non-zero; the `*_reports` functions return the reports folder
also after failures.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, ParamSpec, TypeVar

import dagger
from dagger import DefaultPath, Doc, Ignore, check, dag, function, object_type

from jessy_ci import config
from jessy_ci import release_module as rel
from jessy_ci.errors import ChecksFailed, UsageError
from jessy_ci.gates import summary
from jessy_ci.gates.bench import load_baseline
from jessy_ci.imagerefs import requested_platforms
from jessy_ci.report import Report
from jessy_ci.runners.dagger import SOURCE_IGNORE, DaggerRunner
from jessy_ci.toolchains import BenchSettings, python, trivy
from jessy_ci.verbs.bench import run_bench
from jessy_ci.verbs.ci import run_ci
from jessy_ci.verbs.coverage import run_coverage
from jessy_ci.verbs.execute import finish, outcome
from jessy_ci.verbs.lint import run_lint
from jessy_ci.verbs.plan import plan_smoke
from jessy_ci.verbs.test import run_tests

ComponentsArg = Annotated[
    list[str] | None,
    Doc("Only these components (default: every component in jessy-ci.toml)"),
]
ThresholdArg = Annotated[
    float | None,
    Doc("Minimum line coverage in percent, per component and in total (default: [thresholds] coverage)"),
]
BaselineArg = Annotated[
    dagger.File | None,
    Doc("A baseline file (jessy-ci bench --save, or bench/<component>.json of an earlier run) to compare with"),
]
BaselineSourceArg = Annotated[
    dagger.Directory | None,
    Doc("Another tree of the repository (e.g. https://github.com/o/r#<merge-base>): its benchmarks run right before"),
]
MaxRegressionArg = Annotated[
    float | None,
    Doc("Fail when a benchmark is significantly slower by more than this percent (default: [thresholds])"),
]
CommitArg = Annotated[str, Doc("The commit measured, written into bench/<component>.json")]
CountArg = Annotated[int, Doc("Samples per benchmark (Go -count; criterion at least 10)")]
TimeArg = Annotated[float, Doc("Measurement time per benchmark, in seconds")]
FilterArg = Annotated[str, Doc("Only benchmarks whose name matches this regular expression")]
_BENCH = BenchSettings()
SMOKE_TARGET = "jessy-api"  # the name a --api service is bound under in the smoke container


def _log(message: str) -> None:
    print(message, flush=True)


_P = ParamSpec("_P")
_R = TypeVar("_R")
_EXIT_2 = "import sys; sys.stderr.write(sys.argv[1] + '\\n'); sys.exit(2)"


def exits_2_on_bad_input(fn: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """Bad input exits 2 from `dagger call` too, as from jessy-ci: the Dagger CLI takes a function's exit code only
    from an exec error, so the one-line message is reported by a tiny exec that exits 2 (its stderr is the message).
    Where even that image cannot be pulled, the error stays a plain function error (exit 1)."""

    @functools.wraps(fn)
    async def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await fn(*args, **kwargs)
        except UsageError as e:
            reporter = dag.container().from_(python.IMAGE).with_exec(["python", "-c", _EXIT_2, str(e)])
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
    folder = dag.directory()
    for path, data in sorted(report.files.items()):
        folder = folder.with_new_file(path, data.decode("utf-8", errors="replace"))
    return folder


def summary_or_fail(report: Report) -> str:
    """The summary text, or ChecksFailed listing every failure."""
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
        Ignore(SOURCE_IGNORE),
        Doc("The repository root (default: the repository this module lives in)"),
    ]
    trivy_db: Annotated[
        dagger.Directory | None,
        Doc(
            "A prepared Trivy cache folder (db/trivy.db, db/metadata.json) for scans without any DB download, e.g. "
            "air-gapped (default: Trivy downloads its DB into a cache volume)"
        ),
    ] = None

    async def _project(self) -> config.Project:
        text = await self.source.file(config.CONFIG_FILE).contents()
        return config.parse(text, config.CONFIG_FILE)

    def _runner(self) -> DaggerRunner:
        inputs = {trivy.DB_INPUT: self.trivy_db} if self.trivy_db is not None else {}
        return DaggerRunner(self.source, inputs=inputs)

    async def _lint(self, component: list[str] | None) -> Report:
        return await run_lint(await self._project(), self._runner(), list(component or []), _log)

    async def _test(self, component: list[str] | None) -> Report:
        return await run_tests(await self._project(), self._runner(), list(component or []), _log)

    # dagger-io 0.21.8's typing: `check` returns a union and `function`'s overloads lack `cache`; both work at run
    # time (dagger/mod/_module.py), so those two pyright reports are silenced where they occur.
    @function  # pyright: ignore[reportArgumentType]
    @check
    @exits_2_on_bad_input
    async def lint(self, component: ComponentsArg = None) -> str:
        """cargo fmt and clippy, gofmt and go vet, ruff, hadolint; fails listing every finding's step."""
        return summary_or_fail(await self._lint(component))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @check
    @exits_2_on_bad_input
    async def test(self, component: ComponentsArg = None) -> str:
        """Unit, integration (services bound) and BDD tests; fails listing every failing test."""
        return summary_or_fail(await self._test(component))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def lint_reports(self, component: ComponentsArg = None) -> dagger.Directory:
        """The lint reports folder (logs, summary.md), also when lint fails."""
        return reports_directory(await self._lint(component))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def test_reports(self, component: ComponentsArg = None) -> dagger.Directory:
        """The test reports folder (junit/<component>-<kind>.xml, logs, summary.md), also when tests fail."""
        return reports_directory(await self._test(component))

    async def _ci(
        self,
        git: dagger.GitRepository,
        component: list[str] | None,
        threshold: float | None,
        baseline: dagger.File | None,
        platform: list[str] | None,
    ) -> Report:
        """lint, test, the coverage gate, the benchmark gate (with a baseline), and build (size budgets) + Trivy scan
        of every production image, concurrently."""
        project = await self._project()
        loaded = None if baseline is None else load_baseline(await baseline.contents(), "--baseline")
        runner = self._runner()
        platforms = requested_platforms(platform)

        async def build(components: list[str]) -> Report:
            images = await rel.images(runner, git, project, platforms=platforms)
            return await rel.build(project, runner, images, components, _log)

        async def scan(components: list[str]) -> Report:
            return await rel.scan(runner, git, project, components, None, False, _log, platforms)

        return await run_ci(
            project,
            runner,
            list(component or []),
            _log,
            [("build", build), ("scan", scan)],
            threshold=threshold,
            baseline=loaded,
        )

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def ci(
        self,
        git: rel.GitArg,
        component: ComponentsArg = None,
        threshold: ThresholdArg = None,
        baseline: BaselineArg = None,
        platform: rel.PlatformArg = None,
    ) -> str:
        """Every check at once (lint, test, coverage, benchmarks with a baseline, build + scan), concurrently; one
        summary; fails listing every failure. `dagger check` runs the same checks, each one on its own."""
        return summary_or_fail(await self._ci(git, component, threshold, baseline, platform))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def ci_reports(
        self,
        git: rel.GitArg,
        component: ComponentsArg = None,
        threshold: ThresholdArg = None,
        baseline: BaselineArg = None,
        platform: rel.PlatformArg = None,
    ) -> dagger.Directory:
        """The ci reports folder (junit/, coverage/, bench/, logs/, scan/*.sarif, sbom/, summary.md, verdict.json),
        also when checks fail; `verdict --reports DIR` then fails the job without running anything again."""
        return reports_directory(await self._ci(git, component, threshold, baseline, platform))

    @function(cache="never")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def verdict(
        self,
        reports: Annotated[dagger.Directory, Doc("A reports folder exported from a *-reports function")],
    ) -> str:
        """Pass or fail from a reports folder's verdict.json, running nothing again: a CI job exports `ci-reports`,
        uploads them, then calls this for its exit code."""
        if not await reports.glob(summary.VERDICT_FILE):
            raise UsageError(
                f"--reports: no {summary.VERDICT_FILE}; expected a folder exported from a *-reports function"
            )
        passed, failures = summary.read_verdict(
            (await reports.file(summary.VERDICT_FILE).contents()).encode(), summary.VERDICT_FILE
        )
        text = await reports.file("summary.md").contents() if await reports.glob("summary.md") else ""
        if not passed:
            raise ChecksFailed(text + "\n" + "\n".join(failures))
        return text

    # --- release: build, scan, publish (helpers in release_module.py) --------------------------------------------

    @function  # pyright: ignore[reportArgumentType]
    @check
    @exits_2_on_bad_input
    async def build(self, git: rel.GitArg, component: ComponentsArg = None, platform: rel.PlatformArg = None) -> str:
        """Every production image for its platforms (linux/amd64 and linux/arm64 by default); fails when one is over
        its size budget."""
        chosen = requested_platforms(platform)
        project = await self._project()
        images = await rel.images(self._runner(), git, project, platforms=chosen)
        return summary_or_fail(await rel.build(project, self._runner(), images, component, _log))

    @function
    @exits_2_on_bad_input
    async def build_image(
        self,
        git: rel.GitArg,
        component: Annotated[str, Doc("The component, e.g. jessy-api")],
        platform: Annotated[str, Doc("linux/amd64 or linux/arm64")] = "linux/amd64",
    ) -> dagger.Container:
        """One component's production image (the Dockerfile's production stage, OCI labels): export it, run it."""
        return await rel.build_image(self.source, git, await self._project(), component, platform)

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @check
    @exits_2_on_bad_input
    async def scan(
        self,
        git: rel.GitArg,
        component: ComponentsArg = None,
        severity: rel.SeverityArg = None,
        ignore_unfixed: rel.IgnoreUnfixedArg = False,
        platform: rel.PlatformArg = None,
    ) -> str:
        """Trivy over the repository and every image (reports always written); fails on gated findings."""
        project = await self._project()
        chosen = requested_platforms(platform)
        report = await rel.scan(self._runner(), git, project, component, severity, ignore_unfixed, _log, chosen)
        return summary_or_fail(report)

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def scan_reports(
        self,
        git: rel.GitArg,
        component: ComponentsArg = None,
        severity: rel.SeverityArg = None,
        ignore_unfixed: rel.IgnoreUnfixedArg = False,
        platform: rel.PlatformArg = None,
    ) -> dagger.Directory:
        """scan/<name>.{json,sarif}, sbom/<image>.cdx.json, summary.md: also when the gate fails."""
        project = await self._project()
        chosen = requested_platforms(platform)
        report = await rel.scan(self._runner(), git, project, component, severity, ignore_unfixed, _log, chosen)
        return reports_directory(report)

    @function(cache="never")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def publish(
        self,
        git: rel.GitArg,
        tag: Annotated[str, Doc("vMAJOR.MINOR[.PATCH][-PRERELEASE], e.g. v1.2")],
        registry: Annotated[str, Doc("e.g. ghcr.io/OWNER (default: [registry] address)")] = "",
        username: Annotated[str, Doc("Registry user (default: [registry] username)")] = "",
        password: Annotated[dagger.Secret | None, Doc("Registry password or token, e.g. env://REGISTRY_TOKEN")] = None,
        dry_run: Annotated[bool, Doc("Everything but the push")] = False,
        severity: rel.SeverityArg = None,
        ignore_unfixed: rel.IgnoreUnfixedArg = False,
        platform: rel.PlatformArg = None,
    ) -> str:
        """Build, test, size gates, scan, then push every image with all its tags; any failure pushes nothing."""
        project = await self._project()
        report = await rel.publish(
            self._runner(),
            git,
            project,
            tag,
            registry,
            username,
            password,
            dry_run,
            severity,
            ignore_unfixed,
            _log,
            platform,
        )
        return rel.release_text(summary_or_fail(report), report)

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @check
    @exits_2_on_bad_input
    async def publish_dry_run(self, git: rel.GitArg, platform: rel.PlatformArg = None) -> str:
        """The whole release with a placeholder tag, without the push."""
        project = await self._project()
        report = await rel.publish(
            self._runner(), git, project, rel.DRY_RUN_TAG, "", "", None, True, None, False, _log, platform
        )
        return rel.release_text(summary_or_fail(report), report)

    @function(cache="never")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def smoke(
        self,
        url: Annotated[
            str, Doc("The api's base URL, reachable from the engine (e.g. https://staging.jessy.example)")
        ] = "",
        timeout: Annotated[float, Doc("Seconds to retry while a deployment settles")] = 60.0,  # noqa: ASYNC109
        core_url: Annotated[str, Doc("The core's URL, to delete the scratch layer (optional)")] = "",
        api: Annotated[
            dagger.Service | None,
            Doc("The api as a service instead of --url: tcp://localhost:3000 (a port of your machine) or a Service"),
        ] = None,
    ) -> str:
        """api health, core health through the api, a layer write/read round trip; from a python container."""
        from jessy_ci.verbs.smoke import validate_timeout, validate_url

        if (api is None) == (not url):
            raise UsageError("--url and --api: expected exactly one of them (the api's URL, or the api as a service)")
        bound: dict[str, dagger.Service] = {}
        if api is not None:
            port = await (await api.ports())[0].port()
            bound, url = {SMOKE_TARGET: api}, f"http://{SMOKE_TARGET}:{port}"
        target = validate_url(url), validate_timeout(timeout), validate_url(core_url, "--core-url") if core_url else ""
        runner = DaggerRunner(self.source, services=bound)
        step = plan_smoke(await self._project(), *target, run_id=runner.run_id, bound=tuple(bound))
        result, files = outcome(step, await runner.run(step))
        return summary_or_fail(finish(Report(verb="smoke", steps=[result], files=files)))

    @function(cache="never")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
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
        environment = None
        if env:
            file = f"{config.ENVIRONMENTS_DIR}/{env}.toml"
            known = [e.removesuffix(".toml") for e in await self.source.directory(config.ENVIRONMENTS_DIR).entries()]
            if env not in known:
                raise UsageError(f"--env {env!r}: unknown environment; expected one of: {', '.join(sorted(known))}")
            text = await self.source.file(file).contents()
            environment = config.parse_environment(text, env, project, file)
        specs = serve_specs(project, environment.service_env if environment else None)
        return self._runner().serve(specs, serve_proxy(project, specs, serve_ports(specs, environment, {})))

    # --- coverage and benchmarks -------------------------------------------------------------------------------------

    async def _coverage(self, component: list[str] | None, threshold: float | None) -> Report:
        return await run_coverage(await self._project(), self._runner(), list(component or []), _log, threshold)

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @check
    @exits_2_on_bad_input
    async def coverage(self, component: ComponentsArg = None, threshold: ThresholdArg = None) -> str:
        """Line coverage of Rust (cargo-llvm-cov) and Go components, unit and integration tests; fails naming every
        component (and the total) under the threshold."""
        return summary_or_fail(await self._coverage(component, threshold))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def coverage_reports(
        self, component: ComponentsArg = None, threshold: ThresholdArg = None
    ) -> dagger.Directory:
        """coverage/{lcov.info,cobertura.xml,html/} and per component, junit/, logs/, summary.md; also on failure."""
        return reports_directory(await self._coverage(component, threshold))

    async def _bench(
        self,
        component: list[str] | None,
        baseline: dagger.File | None,
        baseline_source: dagger.Directory | None,
        max_regression: float | None,
        settings: BenchSettings,
        commit: str,
    ) -> Report:
        project = await self._project()
        loaded = None if baseline is None else load_baseline(await baseline.contents(), "--baseline")
        run = await run_bench(
            project,
            self._runner(),
            list(component or []),
            _log,
            settings=settings,
            commit=commit,
            baseline=loaded,
            baseline_runner=None if baseline_source is None else DaggerRunner(baseline_source),
            baseline_commit="baseline-source",
            max_regression=max_regression,
        )
        return run.report

    @function(cache="never")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def bench(
        self,
        component: ComponentsArg = None,
        baseline: BaselineArg = None,
        baseline_source: BaselineSourceArg = None,
        max_regression: MaxRegressionArg = None,
        commit: CommitArg = "",
        count: CountArg = _BENCH.count,
        time_: TimeArg = _BENCH.seconds,
        filter_: FilterArg = "",
    ) -> str:
        """criterion and go test -bench; with a baseline, a verdict per benchmark (bench/compare.md) and a failure
        for every significant regression over the maximum."""
        settings = BenchSettings(count, time_, filter_)
        return summary_or_fail(
            await self._bench(component, baseline, baseline_source, max_regression, settings, commit)
        )

    @function(cache="never")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @exits_2_on_bad_input
    async def bench_reports(
        self,
        component: ComponentsArg = None,
        baseline: BaselineArg = None,
        baseline_source: BaselineSourceArg = None,
        max_regression: MaxRegressionArg = None,
        commit: CommitArg = "",
        count: CountArg = _BENCH.count,
        time_: TimeArg = _BENCH.seconds,
        filter_: FilterArg = "",
    ) -> dagger.Directory:
        """bench/<component>.json (the samples, a baseline file), bench/compare.md, logs/, summary.md; also on
        failure."""
        settings = BenchSettings(count, time_, filter_)
        report = await self._bench(component, baseline, baseline_source, max_regression, settings, commit)
        return reports_directory(report)

    @function(cache="never")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @check
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
        return summary_or_fail(await self._bench(None, baseline, baseline_source, max_regression, _BENCH, ""))
