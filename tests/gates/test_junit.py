"""Test results parsed from real cargo and go output (captured from this repo's services with a test broken)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from jessy_ci.errors import UsageError
from jessy_ci.gates import junit
from tests.conftest import SAMPLES


def test_cargo_output_gives_every_test_and_the_failure_message() -> None:
    stdout = (SAMPLES / "cargo-test-failing.stdout").read_text()
    stderr = (SAMPLES / "cargo-test-failing.stderr").read_text()
    cases = junit.from_cargo_test(stdout, stderr)
    counts = junit.counts(cases)
    assert (counts.passed, counts.failed, counts.skipped) == (19, 1, 0)
    [failed] = [c for c in cases if c.outcome == "failed"]
    assert failed.name == "config::tests::defaults"
    assert failed.suite == "unittests src/lib.rs"
    assert "deliberately broken" in failed.message
    assert "left: 8080" in failed.message


def test_cargo_output_without_stderr_still_counts() -> None:
    stdout = "running 2 tests\ntest a ... ok\ntest b ... ignored, slow\n\ntest result: ok. 1 passed\n"
    cases = junit.from_cargo_test(stdout)
    assert [(c.name, c.outcome) for c in cases] == [("a", "passed"), ("b", "skipped")]


def test_go_json_gives_every_test_and_the_failure_output() -> None:
    cases = junit.from_go_test_json((SAMPLES / "go-test-failing.jsonl").read_text())
    counts = junit.counts(cases)
    assert counts.failed == 1
    assert counts.passed > 10
    [failed] = [c for c in cases if c.outcome == "failed"]
    assert failed.name == "TestHealthOK"
    assert "deliberately broken" in failed.message


def test_go_build_failure_is_a_failed_case_not_silence() -> None:
    cases = junit.from_go_test_json((SAMPLES / "go-test-build-failure.jsonl").read_text())
    assert cases, "a package that does not build must show up as a failure"
    assert all(c.outcome == "failed" and c.name == "[build]" for c in cases)
    assert any("undefined: undefined_thing" in c.message for c in cases)


def test_junit_xml_round_trip_keeps_outcomes_and_messages() -> None:
    cases = [
        junit.TestCase("s1", "ok", "passed", 0.5),
        junit.TestCase("s1", "bad", "failed", 0.1, "boom\nline 2"),
        junit.TestCase("s2", "skip", "skipped"),
    ]
    data = junit.to_junit_xml("jessy-core:unit", cases)
    root = ET.fromstring(data)
    assert root.get("tests") == "3" and root.get("failures") == "1"
    assert [s.get("name") for s in root.iter("testsuite")] == ["s1", "s2"]
    parsed = junit.from_junit_xml(data)
    assert [(c.suite, c.name, c.outcome) for c in parsed] == [(c.suite, c.name, c.outcome) for c in cases]
    assert parsed[1].message == "boom\nline 2"


def test_empty_results_write_a_valid_empty_report() -> None:
    root = ET.fromstring(junit.to_junit_xml("x", []))
    assert root.get("tests") == "0"


def test_broken_junit_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not valid JUnit XML"):
        junit.from_junit_xml(b"<testsuites")


def test_every_report_carries_a_verdict_that_reads_back() -> None:
    from jessy_ci.gates.summary import read_verdict
    from jessy_ci.report import Report, StepResult
    from jessy_ci.verbs.execute import finish

    report = finish(Report("test", steps=[StepResult("a:unit", "a", "unit", "failed", 1.0, "exit code 1")]))
    assert read_verdict(report.files["verdict.json"], "verdict.json") == (False, ["a:unit: failed (exit code 1)"])
    assert read_verdict(finish(Report("lint")).files["verdict.json"], "v") == (True, [])
    with pytest.raises(UsageError, match=r"^summary.md: not a jessy-ci verdict; expected the verdict.json"):
        read_verdict(b"## jessy-ci test", "summary.md")
