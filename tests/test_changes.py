"""Changed-only runs: which components a set of changed paths selects, why, and bad refs."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from jessy_ci import config
from jessy_ci.changes import select_changed
from jessy_ci.errors import UsageError
from jessy_ci.gates.summary import render as render_summary
from jessy_ci.git import changed_paths
from jessy_ci.report import Report, StepResult
from jessy_ci.verbs.selected import run_selected
from tests.conftest import ROOT
from tests.support.preconditions import needs_git


def test_an_api_change_selects_the_api_and_what_tests_against_it(project: config.Project) -> None:
    s = select_changed(project, ["services/jessy-api/main.go", "services/jessy-api/internal/api/api.go"], "main")
    assert s.components == ("jessy-api", "features")
    assert s.reasons["jessy-api"] == "changed: services/jessy-api/internal/api/api.go, services/jessy-api/main.go"
    assert s.reasons["features"] == "its tests run against jessy-api, which changed"
    assert s.skipped == ("jessy-core", "jessy-ci")
    notes = s.notes()
    assert notes[0] == "changed since main: 2 files; selected: jessy-api, features"
    assert notes[-1] == "not selected (unchanged): jessy-core, jessy-ci"


def test_a_core_change_selects_its_dependents_transitively(project: config.Project) -> None:
    s = select_changed(project, ["services/jessy-core/src/server.rs"], "HEAD~1")
    assert s.components == ("jessy-core", "jessy-api", "features")
    assert "jessy-core" in s.reasons["jessy-api"]


@pytest.mark.parametrize(
    "path", ["ci/src/jessy_ci/cli.py", "jessy-ci.toml", "dockerfiles/api.Dockerfile", "features/layers.feature"]
)
def test_pipeline_changes_select_everything(project: config.Project, path: str) -> None:
    s = select_changed(project, [path, "services/jessy-api/main.go"], "main")
    assert s.components == tuple(project.components)
    assert all("the pipeline changed" in r and path in r for r in s.reasons.values())


def test_the_root_component_owns_its_lint_paths_only(project: config.Project) -> None:
    assert select_changed(project, ["tests/test_cli.py"], "main").components == ("jessy-ci",)
    assert select_changed(project, ["scripts/x.py"], "main").components == ("jessy-ci",)
    nothing = select_changed(project, ["README.md"], "main")
    assert nothing.components == ()
    assert nothing.notes() == ["changed since main: 1 file; no component selected (no changed file belongs to one)"]


def test_requested_components_limit_the_selection(project: config.Project) -> None:
    s = select_changed(project, ["services/jessy-core/src/lib.rs"], "main", ["jessy-api"])
    assert s.components == ("jessy-api",)
    assert s.skipped == ()


def test_long_path_lists_are_shortened(project: config.Project) -> None:
    paths = [f"services/jessy-api/f{i}.go" for i in range(5)]
    assert select_changed(project, paths, "main").reasons["jessy-api"].endswith("(+2 more)")


@needs_git
def test_unknown_ref_is_bad_input() -> None:
    with pytest.raises(UsageError, match=r"--changed-since 'no-such-ref-xyz': not a commit of this repository"):
        changed_paths(ROOT, "no-such-ref-xyz", "--changed-since")
    with pytest.raises(UsageError, match="expected a branch, tag or commit"):
        changed_paths(ROOT, "--output=x")


@needs_git
def test_changed_paths_see_commits_edits_and_new_files(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "base")
    (tmp_path / "a.txt").write_text("a")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "a")
    (tmp_path / "a.txt").write_text("edited")
    (tmp_path / "new.txt").write_text("new")
    assert changed_paths(tmp_path, "HEAD~1") == ["a.txt", "new.txt"]
    assert changed_paths(tmp_path, "HEAD") == ["a.txt", "new.txt"]


def test_selected_runs_say_what_was_selected_and_an_empty_selection_passes(project: config.Project) -> None:
    seen: list[list[str]] = []

    async def run(components: list[str]) -> Report:
        seen.append(components)
        return Report(verb="test", steps=[StepResult(f"{c}:unit", c, "unit", "passed", 1.0) for c in components])

    s = select_changed(project, ["services/jessy-api/main.go"], "main")
    report = anyio.run(run_selected, "test", s, [], run)
    assert seen == [["jessy-api", "features"]]
    summary = render_summary(report)
    assert "selected: jessy-api, features" in summary and "features: its tests run against jessy-api" in summary

    empty = anyio.run(run_selected, "test", select_changed(project, ["README.md"], "main"), [], run)
    assert empty.passed and empty.steps == [] and len(seen) == 1
    assert "no component selected" in render_summary(empty)


@needs_git
@pytest.mark.parametrize("verb", ["lint", "test", "ci"])
def test_cli_unknown_ref_exits_2_with_one_line(verb: str) -> None:
    from tests.cli.test_cli import jessy_ci

    done = jessy_ci(verb, "--runner", "host", "--changed-since", "no-such-ref-xyz")
    assert done.returncode == 2
    expected = "--changed-since 'no-such-ref-xyz': not a commit of this repository; expected a branch, tag or commit"
    assert done.stderr.strip().splitlines() == [f"jessy-ci: error: {expected}"]


@needs_git
def test_a_docs_only_change_passes_without_starting_any_runner(tmp_path: Path) -> None:
    import subprocess

    from tests.cli.test_cli import jessy_ci

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=tmp_path, check=True)

    (tmp_path / "jessy-ci.toml").write_text('[components.api]\nlanguage = "go"\npath = "api"\ntests = ["unit"]\n')
    (tmp_path / "api").mkdir()
    (tmp_path / "README.md").write_text("# demo\n")
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    (tmp_path / "README.md").write_text("# demo, documented\n")
    # an engine that is not there: reaching for it would exit 2
    unreachable = {"_EXPERIMENTAL_DAGGER_RUNNER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    done = jessy_ci("test", "--runner", "dagger", "--changed-since", "HEAD", cwd=tmp_path, env=unreachable)
    assert done.returncode == 0, done.stderr
    assert "no component selected" in done.stdout
