"""The HTML report's content (gates/run_view.py) from real report files, and its page (gates/run_page.py)."""

from __future__ import annotations

import re
from dataclasses import replace

from jessy_ci.gates import run_page, run_view
from jessy_ci.report import Report, StepResult
from tests.support.run_reports import FAILING_TEST, failing_run, passing_run


def test_the_failing_test_comes_first_with_the_assertion_as_its_headline() -> None:
    run = run_view.view(failing_run())
    assert not run.passed
    assert [f"{t.suite}::{t.name}" for t in run.failing_tests] == [FAILING_TEST]
    failing = run.failing_tests[0]
    assert failing.headline.startswith("AssertionError: service is 'jessy-core', expected 'jessy-kernel'")
    (tests,) = run.test_files
    assert (tests.passed, tests.failed, tests.link) == (38, 1, "junit/features-bdd.xml")
    assert tests.tests[0] == failing  # the file's list starts with it too
    assert run.failures[-1] == "bench jessy-core layer_read/1MiB: +30.0% slower"


def test_steps_keep_their_order_counts_and_a_log_link_only_when_the_log_is_there() -> None:
    steps = run_view.view(failing_run()).steps
    assert [(s.name, s.status, s.counts) for s in steps] == [
        ("jessy-core:unit", "passed", "40 passed, 0 failed, 1 skipped"),
        ("features:bdd", "failed", "38 passed, 1 failed"),
        ("jessy-core:bench", "passed", ""),
    ]
    assert [s.log for s in steps] == [None, "logs/features-bdd.log", None]
    assert steps[2].details == "benchmarks: 1"


def test_bdd_lists_the_failing_feature_first() -> None:
    features = run_view.view(failing_run()).features
    assert features[0].feature.name == "Health of jessy-core and jessy-api"
    assert [f.feature.passed for f in features] == [False, True, True, True]


def test_coverage_per_component_links_the_html_it_has() -> None:
    rows = {c.component: c for c in run_view.view(failing_run()).coverage}
    assert rows["jessy-ci"].lines == "11/16 lines (68.7%), 3/8 branches (37.5%)"
    assert rows["jessy-ci"].link == "coverage/html/jessy-ci/index.html"
    assert rows["jessy-core"].link is None
    assert list(rows)[-1] == "total"


def test_benchmarks_carry_both_sides_samples_and_mark_the_regression() -> None:
    benchmarks = run_view.view(failing_run()).benchmarks
    assert benchmarks is not None and benchmarks.compared
    assert benchmarks.max_regression_pct == 10
    rows = {r.name: r for r in benchmarks.rows}
    read = rows["layer_read/1MiB"]
    assert (read.failed, read.verdict, read.change) == (True, "slower", "+30.0%")
    assert len(read.baseline) == len(read.current) == 10
    assert rows["BenchmarkHealth"].verdict == "inconclusive"
    assert not rows["layer_write/4KiB"].failed


def test_criterions_own_report_is_linked_per_component_when_the_run_kept_it() -> None:
    report = failing_run()
    before = run_view.view(report).benchmarks
    assert before is not None and before.criterion_links == ()
    report.files["bench/criterion/jessy-core/report/index.html"] = b"<html></html>"
    report.files["bench/criterion/jessy-core/layer_read/1MiB/report/index.html"] = b"<html></html>"
    benchmarks = run_view.view(report).benchmarks
    assert benchmarks is not None
    assert benchmarks.criterion_links == (("jessy-core", "bench/criterion/jessy-core/report/index.html"),)
    page = run_page.render(run_view.view(report))
    assert '<a href="bench/criterion/jessy-core/report/index.html">' in page


def test_without_a_baseline_the_benchmarks_are_this_runs_samples() -> None:
    report = failing_run()
    del report.files["bench/compare.json"]
    benchmarks = run_view.view(report).benchmarks
    assert benchmarks is not None and not benchmarks.compared
    assert [(r.name, r.verdict, r.baseline) for r in benchmarks.rows] == [
        ("layer_read/1MiB", "measured", ()),
        ("layer_write/4KiB", "measured", ()),
    ]


def test_scan_findings_are_grouped_by_severity_most_severe_first() -> None:
    groups = run_view.view(failing_run()).findings
    assert [(g.severity, len(g.findings)) for g in groups] == [("CRITICAL", 3), ("HIGH", 1), ("MEDIUM", 1), ("LOW", 2)]
    assert groups[0].findings[0].id == "CVE-2099-1001"


def test_the_load_chart_is_embedded_and_its_figures_listed() -> None:
    load = run_view.view(failing_run()).load
    assert load is not None and load.chart is not None
    assert load.chart.startswith("data:image/svg+xml;base64,")
    assert ("p95", "4.1 ms") in load.figures
    assert ("error rate", "0.00%") in load.figures


def test_an_unreadable_file_is_a_problem_line_not_a_crash() -> None:
    report = failing_run()
    report.files["junit/broken-unit.xml"] = b"<testsuites"
    report.files["bench/compare.json"] = b"[]"
    run = run_view.view(report)
    assert any(p.startswith("junit/broken-unit.xml: not valid JUnit XML") for p in run.problems)
    assert "bench/compare.json: expected a JSON object with rows" in run.problems
    assert "Unreadable report files" in run_page.render(run)


def test_a_run_without_tests_or_reports_still_has_its_verdict_and_steps() -> None:
    run = run_view.view(Report("lint", [StepResult("jessy-ci:ruff-check", "jessy-ci", "ruff-check", "passed", 1.0)]))
    assert run.passed and run.failing_tests == () and run.benchmarks is None and run.load is None
    html = run_page.render(run)
    assert "jessy-ci lint: passed" in html and "Failing tests" not in html


# --- the page ------------------------------------------------------------------------------------------------------


def test_the_page_shows_the_failing_test_first_then_the_steps_and_every_other_section() -> None:
    html = run_page.render(run_view.view(failing_run()))
    assert re.findall(r"<h2>(.*?)</h2>", html) == [
        "Failures",
        "Failing tests",
        "Steps",
        "BDD",
        "Coverage",
        "Benchmarks",
        "Scan findings",
        "Load",
        "Tests",
    ]
    first_test = re.search(r'<li class="test [^"]*"[^>]*>(.*?)</li>', html, re.DOTALL)
    assert first_test is not None and FAILING_TEST in first_test.group(1)
    assert 'jessy-ci ci: <span id="verdict">failed</span>' in html


def test_the_page_is_self_contained() -> None:
    html = run_page.render(run_view.view(failing_run()))
    assert "<script" not in html
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)  # nothing fetched, no link off the folder
    assert "<?xml" not in html  # pygal's charts are inline <svg> elements
    assert html.count("<svg") == 4  # one chart per benchmark
    assert run_page.REGRESSION_COLOUR in html


def test_names_from_the_reports_are_escaped() -> None:
    report = passing_run()
    report.steps = [replace(report.steps[0], detail="<script>alert(1)</script>")]
    html = run_page.render(run_view.view(report))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
