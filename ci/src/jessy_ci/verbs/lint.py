"""lint: formatters, linters and vet for every selected component, and hadolint on its Dockerfile."""

from __future__ import annotations

from jessy_ci.report import Report
from jessy_ci.session import Session
from jessy_ci.verbs.execute import run_steps
from jessy_ci.verbs.plan import plan_lint


async def run_lint(session: Session, components: list[str]) -> Report:
    steps = plan_lint(session.project, session.components(components))
    return await run_steps("lint", steps, session.runner, session.say)
