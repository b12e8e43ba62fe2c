"""What a person reads first: the first finding of a failed lint step, and a console without raw JSON, on the real
outputs of clippy, cargo fmt, go vet, ruff, hadolint (tests/samples/lint/) and of failing cargo and go tests."""

from __future__ import annotations

import json

import pytest

from jessy_ci.gates.findings import console_line, first_finding
from tests.conftest import SAMPLES


@pytest.mark.parametrize(
    ("sample", "finding"),
    [
        ("clippy.out", "src/lib.rs:4: unneeded `return` statement"),
        ("fmt.out", "/tmp/lintsamples/clip/src/lib.rs:3: not formatted (cargo fmt)"),
        ("vet.out", 'vet.go:6: fmt.Sprintf format %d has arg "x" of wrong type string'),
        ("ruff.out", "bad.py:1: Import block is un-sorted or un-formatted"),
        ("hadolint.out", "Dockerfile:1: DL3006 warning: Always tag the version of an image explicitly"),
    ],
)
def test_the_first_finding_of_each_linter_names_file_line_and_message(sample: str, finding: str) -> None:
    assert first_finding((SAMPLES / "lint" / sample).read_text()) == finding


def test_no_finding_in_summaries_only() -> None:
    assert first_finding("error: could not compile `clip` (lib) due to 1 previous error\n") is None
    assert first_finding("") is None


def test_go_test_json_becomes_one_line_per_package_and_failing_test() -> None:
    lines = (SAMPLES / "go-test-failing.jsonl").read_text().splitlines()
    shown = [c for c in map(console_line, lines) if c is not None]
    assert not any(line.lstrip().startswith("{") for line in shown), "no raw JSON on the console"
    assert "FAIL github.com/jessy-ci/jessy-api/internal/api.TestHealthOK (0s)" in shown
    assert "     api_test.go:30: deliberately broken" in shown
    assert shown[-1] == "FAIL github.com/jessy-ci/jessy-api/internal/api (0.295s)"
    assert len(shown) < len(lines) / 5


def test_passing_go_packages_and_cargo_progress_are_one_line_or_none() -> None:
    passed = json.dumps({"Action": "pass", "Package": "example.com/x", "Elapsed": 1.5})
    assert console_line(passed) == "ok   example.com/x (1.5s)"
    assert console_line(json.dumps({"Action": "run", "Package": "p", "Test": "TestA"})) is None
    assert console_line(json.dumps({"Action": "pass", "Package": "p", "Test": "TestA"})) is None
    assert console_line("   Compiling serde v1.0.0") is None
    assert console_line("test config::tests::port ... ok") is None
    assert console_line("test config::tests::defaults ... FAILED") == "test config::tests::defaults ... FAILED"
    assert console_line("test result: FAILED. 19 passed; 1 failed") == "test result: FAILED. 19 passed; 1 failed"


@pytest.mark.parametrize(
    ("sample", "finding"),
    [
        (
            "unresolvable.stderr",
            "No solution found when resolving dependencies: Because no-such-package-jessy-xyz was not found in the "
            "package registry and bad depends on no-such-package-jessy-xyz==1, we can conclude that your requirements "
            "are unsatisfiable.",
        ),
        (
            "bad-pyproject.stderr",
            "Failed to parse: pyproject.toml: Invalid `pyproject.toml`: TOML parse error at line 7, column 11",
        ),
        ("unknown-extra.stderr", None),  # one line: the step's last line says it already
    ],
)
def test_uv_errors_are_named_with_their_causes(sample: str, finding: str | None) -> None:
    """Real uv 0.13.9 output (tests/samples/uv/) when a component's environment cannot be built."""
    assert first_finding((SAMPLES / "uv" / sample).read_text()) == finding


def test_uv_errors_drawn_for_a_terminal_are_named_too() -> None:
    drawn = "  \u00d7 No solution found when resolving dependencies:\n  ╰─▶ Because nope was not found, it fails.\n"
    assert (
        first_finding(drawn) == "No solution found when resolving dependencies: Because nope was not found, it fails."
    )


def test_a_failed_python_step_names_uv_first_error_not_its_last_line() -> None:
    from jessy_ci.runners import RunResult
    from jessy_ci.steps import JunitSource, Step
    from jessy_ci.verbs.execute import outcome

    step = Step("app:unit", "app", "unit", "python", "python", ".", ("sh", "-c", "…"), (), junit=JunitSource.FILE)
    stderr = (SAMPLES / "uv" / "unresolvable.stderr").read_text()
    result, _ = outcome(step, RunResult(1, "", stderr, 1.0))
    assert result.status == "failed"
    assert result.detail.startswith("exit code 1: No solution found when resolving dependencies: Because no-such-pack")
