"""test: unit, integration (with services) and BDD tests of every selected component, with per-test JUnit."""

from __future__ import annotations

from jessy_ci.config import Project
from jessy_ci.report import Report
from jessy_ci.runners import Runner
from jessy_ci.verbs.execute import Notify, finish, run_steps
from jessy_ci.verbs.plan import plan_test


async def run_tests(project: Project, runner: Runner, components: list[str], notify: Notify) -> Report:
    steps = plan_test(project, project.select(components))
    return finish(await run_steps("test", steps, runner, notify))
