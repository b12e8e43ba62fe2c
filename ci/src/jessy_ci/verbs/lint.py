"""lint: formatters, linters and vet for every selected component, and hadolint on its Dockerfile."""

from __future__ import annotations

from jessy_ci.config import Project
from jessy_ci.report import Report
from jessy_ci.runners import Runner
from jessy_ci.verbs.execute import Notify, finish, run_steps
from jessy_ci.verbs.plan import plan_lint


async def run_lint(project: Project, runner: Runner, components: list[str], notify: Notify) -> Report:
    steps = plan_lint(project, project.select(components))
    return finish(await run_steps("lint", steps, runner, notify))
