"""test: unit, integration (with services) and BDD tests of every selected component, with per-test JUnit."""

from __future__ import annotations

from jessy_ci.report import Report
from jessy_ci.session import Session
from jessy_ci.verbs.execute import run_steps
from jessy_ci.verbs.plan import plan_test


async def run_tests(session: Session, components: list[str]) -> Report:
    steps = plan_test(session.project, session.components(components))
    return await run_steps("test", steps, session.runner, session.say)
