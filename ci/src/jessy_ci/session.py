"""A Session is one run of jessy-ci: the project (jessy-ci.toml, parsed once), the runner that executes its Steps, the
image backend where images can be built (the Dagger runner only), and the console. Each entrypoint builds one — the
CLI from the repository it stands in, the Dagger module from its source argument — and hands it to every verb.

Plain data: it imports nothing above the runners' protocols, so every verb can take it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from jessy_ci.config import Component, Project
from jessy_ci.runners import Runner
from jessy_ci.runners.images import ImageBackend

Say = Callable[[str], None]
"""How a verb tells a person what happens (one line, no newline): the console of the CLI, the log of the module."""


def silent(_: str) -> None:
    """A console that says nothing (tests)."""


@dataclass
class Session:
    project: Project
    runner: Runner
    say: Say = field(default=silent)
    images: ImageBackend | None = None

    def components(self, names: list[str] | tuple[str, ...]) -> list[Component]:
        """The named components (every one when none is named), in config order."""
        return self.project.select(list(names))
