"""Python components: the Steps planned for them (their own environment built by uv from their metadata, pytest with
JUnit, markers, coverage) and what the environment script does with each kind of metadata, run for real against a
stand-in `uv` that records its calls (no network, milliseconds)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from jessy_ci import config
from jessy_ci.steps import Cache, JunitSource, Step
from jessy_ci.toolchains import python
from jessy_ci.verbs.plan import plan_coverage, plan_test

APP = """
[components.app]
language = "python"
path = "tools/app"
"""


def component(extra: str = "") -> config.Component:
    return config.parse(APP + extra, "jessy-ci.toml").components["app"]


def script(step: Step) -> str:
    assert step.command[:2] == ("sh", "-c"), step.command
    return step.command[2]


def test_the_dogfood_component_runs_the_fast_tier_in_its_own_dev_environment(project: config.Project) -> None:
    (step,) = plan_test(project, project.select(["jessy-ci"]))
    assert (step.name, step.kind, step.workdir, step.sources) == ("jessy-ci:unit", "unit", ".", (".",))
    assert step.image == "python:3.11-slim-bookworm" and step.junit is JunitSource.FILE
    assert step.services == ()
    assert step.setup == (python.pip_install("uv==0.13.9"),)
    assert step.caches == (
        Cache("pip", "/root/.cache/pip", "PIP_CACHE_DIR"),
        Cache("uv", "/root/.cache/uv", "UV_CACHE_DIR"),
        Cache("python-env-jessy-ci", "/opt/python-env", "VIRTUAL_ENV", per_checkout=True, fresh_in_containers=True),
    )
    assert {k: step.env[k] for k in python.UV_ENV} == python.UV_ENV
    text = script(step)
    assert "uv sync --quiet --frozen --inexact --extra dev" in text
    assert "uv pip install --quiet -r pyproject.toml --extra dev -e ." in text
    assert text.endswith(
        "exec python -m pytest -p no:cacheprovider '--junitxml={reports}/junit.xml' -m 'not slow and not engine'"
    )
    # recursion: the dogfood run never runs the slow tier, which runs jessy-ci (and so this step) itself
    assert "-m 'not slow and not engine'" in text


def test_bdd_steps_bind_every_service_and_get_pytest_bdd(project: config.Project) -> None:
    (step,) = plan_test(project, project.select(["features"]))
    assert step.name == "features:bdd" and step.workdir == "features"
    assert [s.name for s in step.services] == ["jessy-core", "jessy-api", "jessy-api-orphan"]
    assert f"{python.PYTEST} {python.PYTEST_BDD}" in script(step)
    assert "'--junitxml={reports}/junit.xml'" in script(step)


def test_extras_groups_and_requirements_select_the_environment() -> None:
    both = python.environment_script(component('test_extra = "test"\ntest_group = "ci"'))
    assert "uv sync --quiet --frozen --inexact --extra test --group ci" in both
    assert "uv pip install --quiet -r pyproject.toml --extra test --group ci -e ." in both
    requirements = python.environment_script(component('requirements = "requirements-dev.txt"'))
    assert "uv pip install --quiet -r requirements-dev.txt" in requirements
    assert "uv sync" not in requirements and "pyproject" not in requirements


def test_unit_and_integration_split_on_the_integration_marker() -> None:
    both = component('tests = ["unit", "integration"]\npytest_markers = "not slow"')
    assert python.marker_expression(both, "unit") == "(not slow) and not integration"
    assert python.marker_expression(both, "integration") == "(not slow) and integration"
    assert python.marker_expression(both, "coverage") == "not slow"
    alone = component('tests = ["unit"]')
    assert python.marker_expression(alone, "unit") is None  # every test
    assert python.marker_expression(component('tests = ["unit", "integration"]'), "unit") == "not integration"


def test_integration_tests_get_the_services_and_unit_tests_none() -> None:
    project = config.parse(
        """
[components.core]
language = "go"
path = "core"
[components.core.serve]
port = 8080
port_env = "PORT"
health = "/health"
url_env = "CORE_URL"

[components.app]
language = "python"
path = "app"
tests = ["unit", "integration"]
services = ["core"]
pytest_args = ["-x"]
""",
        "jessy-ci.toml",
    )
    steps = {s.name: s for s in plan_test(project, project.select(["app"]))}
    assert steps["app:unit"].services == ()
    assert [s.name for s in steps["app:integration"].services] == ["core"]
    assert script(steps["app:integration"]).endswith("-m integration -x")
    (cov,) = plan_coverage(project, project.select(["app"]))
    assert [s.name for s in cov.services] == ["core"]


def test_the_coverage_step_measures_branches_into_lcov(project: config.Project) -> None:
    steps = {s.name: s for s in plan_coverage(project, project.select(["features", "jessy-ci"]))}
    assert set(steps) == {"features:coverage", "jessy-ci:coverage"}
    dogfood = steps["jessy-ci:coverage"]
    text = script(dogfood)
    assert text.endswith("--cov --cov-branch '--cov-report=lcov:{reports}/lcov.info'")
    assert f"{python.PYTEST} {python.PYTEST_COV}" in text
    assert dogfood.env["COVERAGE_FILE"] == "${VIRTUAL_ENV}/.coverage"  # never in the checkout
    assert dogfood.services == () and dogfood.junit is JunitSource.FILE
    assert len(steps["features:coverage"].services) == 3  # BDD tests run against the services


def test_python_components_without_tests_have_no_coverage() -> None:
    project = config.parse(APP + "tests = []\n", "jessy-ci.toml")
    assert plan_coverage(project, project.select([])) == []


# --- the environment script, run --------------------------------------------------------------------------------

FAKE_UV = """#!/bin/sh
echo "uv $*" >> "$UV_LOG"
"""


def run_environment(tmp_path: Path, c: config.Component, files: dict[str, str]) -> list[str]:
    """Runs the environment script in a component folder holding ``files``; returns the uv calls."""
    folder = tmp_path / "component"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").write_text(FAKE_UV)
    (bin_dir / "uv").chmod(0o755)
    log = tmp_path / "uv.log"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "UV_LOG": str(log), "VIRTUAL_ENV": str(tmp_path / "env")}
    text = python.environment_script(c).replace("${VIRTUAL_ENV}", env["VIRTUAL_ENV"])
    subprocess.run(["sh", "-c", text], cwd=folder, env=env, check=True)
    calls = log.read_text().splitlines() if log.exists() else []
    return [call.replace(env["VIRTUAL_ENV"], "ENV") for call in calls]


PYPROJECT = '[project]\nname = "app"\nversion = "0.1"\n'


@pytest.mark.parametrize(
    ("files", "calls"),
    [
        (
            {"pyproject.toml": PYPROJECT, "uv.lock": "version = 1\n"},
            ["uv sync --quiet --frozen --inexact --extra test"],
        ),
        (
            {"pyproject.toml": PYPROJECT},
            ["uv venv --quiet ENV", "uv pip install --quiet -r pyproject.toml --extra test -e ."],
        ),
        ({"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, ["uv venv --quiet ENV"]),  # no project to install
        ({}, ["uv venv --quiet ENV"]),  # nothing declared: the test tools only
    ],
    ids=["uv.lock", "pyproject", "tool-config-only", "nothing"],
)
def test_the_environment_comes_from_what_the_component_has(
    tmp_path: Path, files: dict[str, str], calls: list[str]
) -> None:
    assert run_environment(tmp_path, component('test_extra = "test"'), files) == calls


def test_a_requirements_file_wins_over_a_lock(tmp_path: Path) -> None:
    files = {"pyproject.toml": PYPROJECT, "uv.lock": "", "requirements-dev.txt": "-e .\n"}
    calls = run_environment(tmp_path, component('requirements = "requirements-dev.txt"'), files)
    assert calls == ["uv venv --quiet ENV", "uv pip install --quiet -r requirements-dev.txt"]


def test_test_tools_are_added_only_when_the_environment_lacks_them(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").write_text(FAKE_UV)
    (bin_dir / "uv").chmod(0o755)
    log = tmp_path / "uv.log"
    text = python.pytest_script(component(), "unit", (python.PYTEST,), ())
    assert shlex.join(("python", "-c", python.ADD_MISSING, python.PYTEST)) in text  # in the env, after PATH is set
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "UV_LOG": str(log)}
    wanted = [python.PYTEST, "no-such-module-jessy==1.0"]  # pytest is here (this very run), the other is not
    subprocess.run([sys.executable, "-c", python.ADD_MISSING, *wanted], env=env, check=True)
    assert log.read_text().splitlines() == ["uv pip install --quiet no-such-module-jessy==1.0"]
    log.unlink()
    subprocess.run([sys.executable, "-c", python.ADD_MISSING, python.PYTEST], env=env, check=True)
    assert not log.exists()


def test_the_bdd_run_writes_cucumber_json_beside_its_junit_and_the_report_keeps_it() -> None:
    from jessy_ci.runners import RunResult
    from jessy_ci.verbs.execute import outcome

    assert "'--cucumberjson={reports}/cucumber.json'" in python.pytest_script(component(), "bdd", (python.PYTEST,), ())
    assert "--cucumberjson" not in python.pytest_script(component(), "unit", (python.PYTEST,), ())
    step = python.PYTHON.test(component(), "bdd", ())
    junit = b'<testsuites><testsuite name="s"><testcase classname="s" name="t"/></testsuite></testsuites>'
    result = RunResult(0, "", "", 1.0, {"junit.xml": junit, "cucumber.json": b"[]"})
    _, files = outcome(step, result)
    assert files[f"bdd/{step.component}-bdd.cucumber.json"] == b"[]"
