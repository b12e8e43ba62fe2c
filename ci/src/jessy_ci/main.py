"""The Dagger module: `dagger call lint`, `dagger call test`, `dagger check`, `dagger call test-reports export`.

Every function calls the same verb as the CLI with a DaggerRunner; none holds pipeline logic. A failed check
raises, so `dagger call` and `dagger check` exit non-zero; the `*_reports` functions return the reports folder
also after failures.
"""

from __future__ import annotations

from typing import Annotated

import dagger
from dagger import DefaultPath, Doc, Ignore, check, dag, function, object_type

from jessy_ci import config
from jessy_ci.errors import ChecksFailed
from jessy_ci.report import Report
from jessy_ci.runners.dagger import SOURCE_IGNORE, DaggerRunner
from jessy_ci.verbs.ci import run_ci
from jessy_ci.verbs.lint import run_lint
from jessy_ci.verbs.test import run_tests

ComponentsArg = Annotated[
    list[str] | None,
    Doc("Only these components (default: every component in jessy-ci.toml)"),
]


def _log(message: str) -> None:
    print(message, flush=True)


def reports_directory(report: Report) -> dagger.Directory:
    """The report files as a Directory, laid out as on the host (junit/, logs/, summary.md, …)."""
    folder = dag.directory()
    for path, data in sorted(report.files.items()):
        folder = folder.with_new_file(path, data.decode("utf-8", errors="replace"))
    return folder


def verdict(report: Report) -> str:
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

    async def _project(self) -> config.Project:
        text = await self.source.file(config.CONFIG_FILE).contents()
        return config.parse(text, config.CONFIG_FILE)

    def _runner(self) -> DaggerRunner:
        return DaggerRunner(self.source)

    async def _lint(self, component: list[str] | None) -> Report:
        return await run_lint(await self._project(), self._runner(), list(component or []), _log)

    async def _test(self, component: list[str] | None) -> Report:
        return await run_tests(await self._project(), self._runner(), list(component or []), _log)

    # dagger-io 0.21.8's typing: `check` returns a union and `function`'s overloads lack `cache`; both work at run
    # time (dagger/mod/_module.py), so those two pyright reports are silenced where they occur.
    @function  # pyright: ignore[reportArgumentType]
    @check
    async def lint(self, component: ComponentsArg = None) -> str:
        """cargo fmt and clippy, gofmt and go vet, ruff, hadolint; fails listing every finding's step."""
        return verdict(await self._lint(component))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    @check
    async def test(self, component: ComponentsArg = None) -> str:
        """Unit, integration (services bound) and BDD tests; fails listing every failing test."""
        return verdict(await self._test(component))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    async def lint_reports(self, component: ComponentsArg = None) -> dagger.Directory:
        """The lint reports folder (logs, summary.md), also when lint fails."""
        return reports_directory(await self._lint(component))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    async def test_reports(self, component: ComponentsArg = None) -> dagger.Directory:
        """The test reports folder (junit/<component>-<kind>.xml, logs, summary.md), also when tests fail."""
        return reports_directory(await self._test(component))

    async def _ci(self, component: list[str] | None) -> Report:
        return await run_ci(await self._project(), self._runner(), list(component or []), _log)

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    async def ci(self, component: ComponentsArg = None) -> str:
        """Every check at once (lint, test and the gates), concurrently; one summary; fails listing every failure.
        `dagger check` runs the same checks, each one on its own."""
        return verdict(await self._ci(component))

    @function(cache="session")  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
    async def ci_reports(self, component: ComponentsArg = None) -> dagger.Directory:
        """The ci reports folder (junit/, logs/, summary.md, …), also when checks fail."""
        return reports_directory(await self._ci(component))
