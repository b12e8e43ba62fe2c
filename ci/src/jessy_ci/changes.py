"""Changed-only runs: which components a set of changed paths selects, and why. Pure: paths in, a Selection out.

- a component is selected when a changed path is inside one of its folders (its ``path``, or its ``lint_paths`` when
  its path is the repository root) or is its Dockerfile;
- the components whose tests run against a selected component's service are selected too (transitively);
- a change to the pipeline itself (``ci/``, ``jessy-ci.toml``, ``dockerfiles/``, ``features/``) selects everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jessy_ci.config import Component, Project

GLOBAL_PATHS = ("ci", "jessy-ci.toml", "dockerfiles", "features")
_SHOWN_PATHS = 3


@dataclass(frozen=True)
class Selection:
    """The selected components (config order) with one reason each; ``skipped`` are the others."""

    ref: str
    components: tuple[str, ...]
    reasons: Mapping[str, str]
    skipped: tuple[str, ...]
    changed: int

    def notes(self) -> list[str]:
        head = f"changed since {self.ref}: {self.changed} file{'s' if self.changed != 1 else ''}"
        if not self.components:
            return [f"{head}; no component selected (no changed file belongs to one)"]
        lines = [f"{head}; selected: {', '.join(self.components)}"]
        lines += [f"{name}: {self.reasons[name]}" for name in self.components]
        if self.skipped:
            lines.append(f"not selected (unchanged): {', '.join(self.skipped)}")
        return lines


def _inside(path: str, folder: str) -> bool:
    folder = folder.strip("/")
    return folder in ("", ".") or path == folder or path.startswith(f"{folder}/")


def owned_paths(component: Component) -> tuple[str, ...]:
    """The repository paths whose changes select the component."""
    folders = component.lint_paths if component.path in (".", "") else (component.path,)
    return (*folders, *((component.dockerfile,) if component.dockerfile else ()))


def _shown(paths: Sequence[str]) -> str:
    more = len(paths) - _SHOWN_PATHS
    return ", ".join(paths[:_SHOWN_PATHS]) + (f" (+{more} more)" if more > 0 else "")


def dependencies(project: Project, component: Component) -> set[str]:
    """The components whose services the component's tests run against (transitively)."""
    return {s.component for s in project.services_for(component)} - {component.name}


def select_changed(project: Project, changed: Sequence[str], ref: str, requested: Sequence[str] = ()) -> Selection:
    """The components the changed paths select, limited to ``requested`` when any is named."""
    paths = sorted({p.strip().removeprefix("./") for p in changed if p.strip()})
    every = list(project.components.values())
    reasons: dict[str, str] = {}
    pipeline = [p for p in paths if any(_inside(p, g) for g in GLOBAL_PATHS)]
    if pipeline:
        for c in every:
            reasons[c.name] = f"the pipeline changed ({_shown(pipeline)}): everything is selected"
    else:
        for c in every:
            own = [p for p in paths if any(_inside(p, folder) for folder in owned_paths(c))]
            if own:
                reasons[c.name] = f"changed: {_shown(own)}"
        direct = set(reasons)
        for c in every:
            if c.name in reasons:
                continue
            upstream = sorted(dependencies(project, c) & direct)
            if upstream:
                reasons[c.name] = f"its tests run against {', '.join(upstream)}, which changed"
    candidates = [c for c in every if not requested or c.name in requested]
    selected = tuple(c.name for c in candidates if c.name in reasons)
    skipped = tuple(c.name for c in candidates if c.name not in reasons)
    return Selection(ref=ref, components=selected, reasons=reasons, skipped=skipped, changed=len(paths))
