"""`jessy-ci coverage` and `jessy-ci bench` as a user sees them: their options, and exit 2 with one line naming the
input and what was expected for every bad input, before any work (no reports folder, no benchmark run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import jessy_ci


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("coverage", ["--threshold"]),
        ("bench", ["--baseline", "--baseline-ref", "--save", "--max-regression", "--count", "--time", "--filter"]),
    ],
)
def test_help_lists_the_options(command: str, options: list[str]) -> None:
    done = jessy_ci(command, "--help")
    assert done.returncode == 0
    for option in ("--runner", "--component", "--reports", *options):
        assert option in done.stdout


def bad_baseline_files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "not-json.json").write_text("{nope")
    (tmp_path / "v2.json").write_text('{"version": 2, "commit": "", "toolchains": {}, "benchmarks": []}')
    return {"not-json": tmp_path / "not-json.json", "v2": tmp_path / "v2.json", "missing": tmp_path / "missing.json"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["coverage", "--threshold", "-1"], "--threshold '-1': expected a number from 0 to 100"),
        (["coverage", "--threshold", "101"], "--threshold '101': expected a number from 0 to 100"),
        (["coverage", "--threshold", "abc"], "--threshold 'abc': expected a number from 0 to 100"),
        (["bench", "--max-regression", "-5"], "--max-regression '-5': expected a number of percent, 0 or more"),
        (["bench", "--max-regression", "x"], "--max-regression 'x': expected a number of percent, 0 or more"),
        (["bench", "--count", "2"], "--count 2: expected a whole number from 5 to 1000"),
        (["bench", "--time", "0"], "--time 0: expected a number of seconds above 0, at most 3600"),
        (["bench", "--baseline-ref", "no-such-ref-anywhere"], "--baseline-ref 'no-such-ref-anywhere': not a commit"),
        (["bench", "--baseline-ref=--help-me"], "--baseline-ref '--help-me': not a commit of this repository"),
        (["bench", "--baseline", "missing"], "cannot read (No such file or directory); expected a file from bench"),
        (["bench", "--baseline", "not-json"], "not-json.json: not valid JSON (Expecting property name"),
        (["bench", "--baseline", "v2"], 'v2.json: expected "version": 1, got 2'),
        (["bench", "--baseline", "v2", "--baseline-ref", "HEAD"], "--baseline and --baseline-ref: expected one of"),
        (["bench", "-c", "jessy-ci"], "--component jessy-ci: no benchmarks for these; expected a rust or go"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    files = bad_baseline_files(tmp_path)
    args = [str(files[a]) if a in files else a for a in args]
    reports = tmp_path / "reports"
    done = jessy_ci(*args, "--runner", "host", "--reports", str(reports))
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("jessy-ci: error: ")
    assert message in lines[0]
    assert not reports.exists(), "nothing runs on bad input"
