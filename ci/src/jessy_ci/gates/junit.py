"""Test results: parse what cargo, go and pytest print or write, and write per-test JUnit XML. Pure, no I/O."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast

from jessy_ci.report import TestCounts

Outcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class TestCase:
    suite: str
    name: str
    outcome: Outcome
    seconds: float = 0.0
    message: str = ""


def counts(cases: Iterable[TestCase]) -> TestCounts:
    cases = list(cases)
    return TestCounts(
        passed=sum(c.outcome == "passed" for c in cases),
        failed=sum(c.outcome == "failed" for c in cases),
        skipped=sum(c.outcome == "skipped" for c in cases),
        failures=tuple(f"{c.suite}::{c.name}" for c in cases if c.outcome == "failed"),
    )


# --- cargo test (libtest plain output) -------------------------------------------------------------------------

_CARGO_RUNNING = re.compile(r"^\s*(?:Running|Doc-tests)\s+(.+?)(?:\s+\(.*\))?\s*$")
_CARGO_BLOCK = re.compile(r"^running \d+ tests?$")
_CARGO_TEST = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored)(?:, .*)?$")
_CARGO_FAILURE_HEADER = re.compile(r"^---- (.+?) stdout ----$")


def from_cargo_test(stdout: str, stderr: str = "") -> list[TestCase]:
    """Cases from ``cargo test`` output: results on stdout, one ``running N tests`` block per test binary; the
    binaries' names (``Running tests/api.rs (...)``) are on stderr, in the same order."""
    suites = [m.group(1) for line in stderr.splitlines() if (m := _CARGO_RUNNING.match(line))]
    results: list[tuple[str, str, str]] = []
    messages: dict[tuple[str, str], list[str]] = {}
    block = -1
    current_failure: str | None = None
    for line in stdout.splitlines():
        if _CARGO_BLOCK.match(line):
            block += 1
            current_failure = None
            continue
        suite = suites[block] if 0 <= block < len(suites) else f"tests-{max(block, 0) + 1}"
        if m := _CARGO_TEST.match(line):
            results.append((suite, m.group(1), m.group(2)))
            continue
        if m := _CARGO_FAILURE_HEADER.match(line):
            current_failure = str(m.group(1))
            messages[(suite, current_failure)] = []
            continue
        if current_failure is not None:
            if line.strip() in ("failures:", "successes:") or line.startswith("test result:"):
                current_failure = None
            else:
                messages[(suite, current_failure)].append(line)
    outcome: dict[str, Outcome] = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}
    return [
        TestCase(suite, name, outcome[status], 0.0, "\n".join(messages.get((suite, name), [])).strip())
        for suite, name, status in results
    ]


# --- go test -json -------------------------------------------------------------------------------------------------


def from_go_test_json(stdout: str) -> list[TestCase]:
    """Cases from ``go test -json`` events. A package that fails without any test (build error) becomes one failed
    case named ``[build]`` so the failure is never lost."""
    output: dict[tuple[str, str], list[str]] = {}
    cases: list[TestCase] = []
    packages_with_tests: set[str] = set()
    outcome: dict[str, Outcome] = {"pass": "passed", "fail": "failed", "skip": "skipped"}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(raw, dict):
            continue
        event = cast(dict[str, object], raw)
        action = str(event.get("Action", ""))
        package = str(event.get("Package") or event.get("ImportPath") or "")
        test = str(event.get("Test") or "")
        key: tuple[str, str] = (package, test)
        if action in ("output", "build-output"):
            output.setdefault(key, []).append(str(event.get("Output", "")))
        elif action in outcome and test:
            packages_with_tests.add(package)
            elapsed = event.get("Elapsed", 0.0)
            seconds = float(elapsed) if isinstance(elapsed, int | float) else 0.0
            message = "".join(output.get(key, [])).strip() if action == "fail" else ""
            cases.append(TestCase(package, test, outcome[action], seconds, message))
        elif action == "fail" and not test and package not in packages_with_tests:
            message = "".join(output.get(key, [])).strip() or "package failed without running tests"
            cases.append(TestCase(package, "[build]", "failed", 0.0, message))
    return cases


# --- JUnit XML ---------------------------------------------------------------------------------------------------


def to_junit_xml(name: str, cases: Iterable[TestCase]) -> bytes:
    """One ``<testsuite>`` per suite inside ``<testsuites name=...>``, a ``<testcase>`` per test."""
    by_suite: dict[str, list[TestCase]] = {}
    for case in cases:
        by_suite.setdefault(case.suite, []).append(case)
    root = ET.Element("testsuites", name=name)
    for suite, suite_cases in by_suite.items():
        c = counts(suite_cases)
        el = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(c.total),
            failures=str(c.failed),
            errors="0",
            skipped=str(c.skipped),
            time=f"{sum(x.seconds for x in suite_cases):.3f}",
        )
        for case in suite_cases:
            tc = ET.SubElement(el, "testcase", classname=suite, name=case.name, time=f"{case.seconds:.3f}")
            if case.outcome == "failed":
                first = case.message.splitlines()[0] if case.message else "failed"
                failure = ET.SubElement(tc, "failure", message=first[:200])
                failure.text = case.message
            elif case.outcome == "skipped":
                ET.SubElement(tc, "skipped")
    totals = counts(c for cs in by_suite.values() for c in cs)
    root.set("tests", str(totals.total))
    root.set("failures", str(totals.failed))
    root.set("skipped", str(totals.skipped))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def from_junit_xml(data: bytes) -> list[TestCase]:
    """Cases from a JUnit XML file (pytest's ``--junitxml``, or ours). Errors count as failures."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ValueError(f"not valid JUnit XML: {e}") from None
    cases: list[TestCase] = []
    for tc in root.iter("testcase"):
        failure = tc.find("failure")
        if failure is None:
            failure = tc.find("error")
        outcome: Outcome = "passed"
        message = ""
        if failure is not None:
            outcome = "failed"
            message = (failure.text or failure.get("message") or "").strip()
        elif tc.find("skipped") is not None:
            outcome = "skipped"
        try:
            seconds = float(tc.get("time", "0") or 0)
        except ValueError:
            seconds = 0.0
        cases.append(TestCase(tc.get("classname", ""), tc.get("name", ""), outcome, seconds, message))
    return cases
