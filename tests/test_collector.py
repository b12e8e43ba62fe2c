"""The collector's schedule for a command-line run: paused while jessy-ci loads, collecting again (with what was
loaded frozen) once resumed, and a no-op for library users who never paused it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from jessy_ci import collector


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_pause_then_resume_freezes_what_is_loaded_and_collects_again() -> None:
    collector.pause()
    assert not gc.isenabled()
    collector.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_resume_without_pause_leaves_the_collector_alone() -> None:
    gc.disable()
    collector.resume()
    assert not gc.isenabled()  # a library user's (or a test's) choice is not overridden
    assert gc.get_freeze_count() == 0


def test_a_verb_runs_with_the_collector_collecting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console entry pauses the collector while jessy-ci loads; the verb (the steps) runs with it collecting."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")  # a Dagger container's OTLP settings: no exporter for this process
    from jessy_ci.cli import run
    from jessy_ci.report import Report
    from jessy_ci.session import Session

    seen: list[bool] = []

    async def verb(session: Session) -> Report:
        seen.append(gc.isenabled())
        return Report(verb="probe")

    collector.pause()
    run(verb, runner="host", reports=tmp_path / "reports")
    assert seen == [True]
    assert (tmp_path / "reports" / "summary.md").is_file()
