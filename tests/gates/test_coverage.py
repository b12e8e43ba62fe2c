"""Coverage parsing, rebasing, merging, report writing and the threshold gate.

Samples: ``api.coverprofile`` is a trimmed real ``go test -coverpkg=./... -coverprofile`` of services/jessy-api;
``core.lcov`` is hand-written in cargo-tarpaulin's lcov layout (tarpaulin is not installed here) over real lines of
services/jessy-core/src."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from jessy_ci.gates.coverage import (
    Coverage,
    describe,
    gate,
    line_ranges,
    merge,
    parse_go_coverprofile,
    parse_lcov,
    rebase,
    relative_to,
    to_cobertura,
    to_html,
    to_lcov,
    with_prefix,
)

SAMPLES = Path(__file__).parent / "samples"
MODULE = "github.com/jessy-ci/jessy-api"


def core() -> Coverage:
    return parse_lcov((SAMPLES / "core.lcov").read_text())


def api() -> Coverage:
    return parse_go_coverprofile((SAMPLES / "api.coverprofile").read_text(), MODULE, "services/jessy-api")


def cov(pairs: dict[str, dict[int, int]]) -> Coverage:
    return Coverage(pairs)


# --- lcov ----------------------------------------------------------------------------------------------------------


def test_parse_tarpaulin_lcov() -> None:
    c = core()
    assert sorted(c.files) == ["/src/services/jessy-core/src/cli.rs", "/src/services/jessy-core/src/healthcheck.rs"]
    assert (c.lines_total, c.lines_covered) == (50, 36)
    assert c.percent == pytest.approx(72.0)
    health = c.files["/src/services/jessy-core/src/healthcheck.rs"]
    assert health[9] == 1 and health[13] == 0 and health[32] == 6
    by_path = {f.path: f for f in c.per_file()}
    assert by_path["/src/services/jessy-core/src/cli.rs"].percent == 100.0
    assert line_ranges(by_path["/src/services/jessy-core/src/healthcheck.rs"].uncovered) == "13-17, 20-28"


def test_lcov_records_of_the_same_file_are_merged() -> None:
    text = "SF:a.rs\nDA:1,2\nDA:2,0\nend_of_record\nSF:a.rs\nDA:1,3\nDA:3,0,abcd\nend_of_record\n"
    assert parse_lcov(text).files == {"a.rs": {1: 5, 2: 0, 3: 0}}


def test_empty_lcov_has_no_percentage() -> None:
    for text in ("", "TN:\nSF:a.rs\nLF:0\nLH:0\nend_of_record\n"):
        c = parse_lcov(text)
        assert c.lines_total == 0
        assert c.percent is None
        assert describe(c) == "no lines"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DA:1,1\n", "line 1: DA record outside an SF record"),
        ("SF:a.rs\nDA:x,1\n", "line 2: expected DA:<line>,<hits>"),
        ("SF:a.rs\nDA:3\n", "line 2: expected DA:<line>,<hits>"),
        ("SF:a.rs\nDA:3,-1\n", "line 2: line and hits must be positive"),
    ],
)
def test_malformed_lcov_is_an_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_lcov(text)


def test_to_lcov_round_trips_and_counts() -> None:
    c = relative_to(core(), "/src")
    text = to_lcov(c)
    assert parse_lcov(text) == c
    assert text.startswith("TN:\nSF:services/jessy-core/src/cli.rs\nDA:19,14\n")
    assert "LF:37\nLH:23\nend_of_record\n" in text
    assert to_lcov(Coverage()) == ""


# --- Go coverprofile ------------------------------------------------------------------------------------------------


def test_parse_real_go_coverprofile() -> None:
    c = api()
    assert sorted(c.files) == [
        "services/jessy-api/internal/api/config.go",
        "services/jessy-api/internal/api/log.go",
        "services/jessy-api/main.go",
    ]
    summaries = {f.path: f for f in c.per_file()}
    log = summaries["services/jessy-api/internal/api/log.go"]
    # log.go:24.55,25.19 ran, 25.19,27.3 did not: line 25 is covered (one of its blocks ran), 26-27 are not
    assert line_ranges(log.uncovered) == "26-27, 36-37, 44, 53-54"
    assert (log.lines_total, log.lines_covered) == (35, 28)
    assert summaries["services/jessy-api/internal/api/config.go"].percent == 100.0
    main = summaries["services/jessy-api/main.go"]
    assert main.lines_covered == 0
    # -coverpkg lists main.go's blocks twice: lines are counted once
    assert main.lines_total == len(set(c.files["services/jessy-api/main.go"])) == 31


def test_go_duplicate_blocks_merge_by_mode() -> None:
    body = "m/a.go:1.1,2.2 1 0\nm/a.go:1.1,2.2 1 3\nm/a.go:1.1,2.2 1 4\n"
    assert parse_go_coverprofile("mode: set\n" + body, "m", "svc").files == {"svc/a.go": {1: 4, 2: 4}}
    assert parse_go_coverprofile("mode: count\n" + body, "m", "svc").files == {"svc/a.go": {1: 7, 2: 7}}
    assert parse_go_coverprofile("mode: atomic\n" + body, "m", "svc").files == {"svc/a.go": {1: 7, 2: 7}}


def test_go_line_shared_by_blocks_is_covered_if_any_ran() -> None:
    text = "mode: set\nm/a.go:3.10,5.3 1 1\nm/a.go:5.3,7.2 1 0\n"
    assert parse_go_coverprofile(text, "m", "").files == {"a.go": {3: 1, 4: 1, 5: 1, 6: 0, 7: 0}}


def test_go_paths_outside_the_module_are_kept() -> None:
    text = "mode: set\nexample.com/other/x.go:1.1,1.5 1 1\ngithub.com/jessy-ci/jessy-api2/y.go:1.1,1.5 1 1\n"
    assert sorted(parse_go_coverprofile(text, MODULE, "services/jessy-api").files) == [
        "example.com/other/x.go",
        "github.com/jessy-ci/jessy-api2/y.go",
    ]


def test_go_concatenated_profiles_and_empty_profiles() -> None:
    text = "mode: set\nm/a.go:1.1,1.5 1 0\nmode: set\nm/a.go:1.1,1.5 1 1\n"
    assert parse_go_coverprofile(text, "m", "svc").files == {"svc/a.go": {1: 1}}
    assert parse_go_coverprofile("", "m", "svc").percent is None
    assert parse_go_coverprofile("mode: set\n", "m", "svc").percent is None


def test_malformed_go_coverprofile_is_an_error() -> None:
    with pytest.raises(ValueError, match=re.escape("line 1: expected 'mode: set|count|atomic'")):
        parse_go_coverprofile("m/a.go:1.1,1.5 1 1\n", "m", "svc")
    with pytest.raises(ValueError, match=re.escape("line 2: expected 'file.go:l.c,l.c stmts count'")):
        parse_go_coverprofile("mode: set\nm/a.go:1.1 1 1\n", "m", "svc")


# --- paths and merge ------------------------------------------------------------------------------------------------


def test_relative_to_strips_an_absolute_root() -> None:
    c = cov({"/src/services/jessy-core/src/cli.rs": {1: 1}, "/elsewhere/x.rs": {1: 0}})
    assert sorted(relative_to(c, "/src/").files) == ["/elsewhere/x.rs", "services/jessy-core/src/cli.rs"]
    assert sorted(relative_to(c, "/sr").files) == sorted(c.files)  # a folder boundary, not a string prefix


def test_with_prefix_puts_crate_relative_paths_under_the_component() -> None:
    c = cov({"src/cli.rs": {1: 1}, "./src/lib.rs": {2: 0}, "/abs/x.rs": {3: 1}})
    assert sorted(with_prefix(c, "services/jessy-core/").files) == [
        "/abs/x.rs",
        "services/jessy-core/src/cli.rs",
        "services/jessy-core/src/lib.rs",
    ]


def test_rebase_merges_files_that_become_equal() -> None:
    c = cov({"/work/src/a.rs": {1: 1, 2: 0}, "src/a.rs": {2: 3}})
    assert rebase(c, root="/work", prefix="svc").files == {"svc/src/a.rs": {1: 1, 2: 3}}


def test_merge_sums_hits_per_line() -> None:
    a = cov({"x.rs": {1: 1, 2: 0}})
    b = cov({"x.rs": {2: 2, 3: 0}, "y.go": {1: 1}})
    m = merge(a, b)
    assert m.files == {"x.rs": {1: 1, 2: 2, 3: 0}, "y.go": {1: 1}}
    assert (m.lines_total, m.lines_covered) == (4, 3)
    assert merge().percent is None


# --- Cobertura and HTML ---------------------------------------------------------------------------------------------


def test_cobertura_has_packages_per_folder_and_classes_per_file() -> None:
    c = merge(relative_to(core(), "/src"), api())
    root = ET.fromstring(to_cobertura(c, timestamp=1700000000000))
    assert root.tag == "coverage"
    assert root.get("timestamp") == "1700000000000"
    assert (root.get("lines-valid"), root.get("lines-covered")) == (str(c.lines_total), str(c.lines_covered))
    assert [s.text for s in root.iter("source")] == ["."]
    packages = {p.get("name"): p for p in root.iter("package")}
    assert sorted(packages) == ["services.jessy-api", "services.jessy-api.internal.api", "services.jessy-core.src"]
    assert packages["services.jessy-core.src"].get("line-rate") == "0.72"
    classes = {k.get("filename"): k for k in root.iter("class")}
    health = classes["services/jessy-core/src/healthcheck.rs"]
    assert health.get("name") == "healthcheck.rs"
    assert len(health.findall("lines/line")) == 37
    assert classes["services/jessy-api/main.go"].get("line-rate") == "0"
    first = next(iter(classes["services/jessy-core/src/cli.rs"].iter("line")))
    assert first.attrib == {"number": "19", "hits": "14", "branch": "false"}


def test_cobertura_of_nothing_is_valid() -> None:
    root = ET.fromstring(to_cobertura(Coverage(), timestamp=0))
    assert root.get("line-rate") == "0"
    assert root.findall("packages/package") == []


def test_html_report_is_one_self_contained_page() -> None:
    c = merge(relative_to(core(), "/src"), cov({"<odd>&.rs": {1: 0}}))
    files = to_html(c, "Coverage <jessy>")
    assert list(files) == ["index.html"]
    page = files["index.html"].decode()
    assert "<title>Coverage &lt;jessy&gt;</title>" in page
    assert "services/jessy-core/src/healthcheck.rs" in page
    assert "13-17, 20-28" in page
    assert "&lt;odd&gt;&amp;.rs" in page
    assert "36/51 lines (70.5%)" in page
    assert "http" not in page and "<script" not in page and "<link" not in page


def test_line_ranges() -> None:
    assert line_ranges([10, 9, 1, 2, 3, 7, 3]) == "1-3, 7, 9-10"
    assert line_ranges([]) == ""


# --- gate -----------------------------------------------------------------------------------------------------------


def lines(covered: int, total: int) -> Coverage:
    return Coverage({"f.rs": {n: (1 if n <= covered else 0) for n in range(1, total + 1)}})


def test_gate_lists_every_component_under_the_threshold_and_the_total() -> None:
    failures = gate({"jessy-core": relative_to(core(), "/src"), "jessy-api": api()}, 80)
    assert failures == [
        "coverage jessy-core: 72.0% < threshold 80%",
        "coverage jessy-api: 65.1% < threshold 80%",
        "coverage total: 67.2% < threshold 80%",
    ]


def test_gate_passes_above_and_exactly_at_the_threshold() -> None:
    assert gate({"a": lines(8, 10), "b": lines(9, 10)}, 80) == []
    assert gate({"a": lines(29, 100)}, 29) == []  # 29 * 100 / 100 is 28.999… as a float: compared exactly
    assert gate({"a": lines(10, 10)}, 100) == []
    assert gate({"a": lines(0, 10)}, 0) == []


def test_gate_just_under_the_threshold_fails_and_does_not_round_up() -> None:
    assert gate({"a": lines(7996, 10000)}, 80) == [
        "coverage a: 79.9% < threshold 80%",
        "coverage total: 79.9% < threshold 80%",
    ]
    assert gate({"a": lines(9, 10), "b": lines(7, 10)}, 80.5) == ["coverage b: 70.0% < threshold 80.5%"]


def test_gate_without_lines_fails_even_at_threshold_zero() -> None:
    assert gate({"a": Coverage(), "b": lines(1, 1)}, 0) == ["coverage a: no coverage data (0 lines)"]
    assert gate({}, 0) == ["coverage total: no coverage data (0 lines)"]
    assert gate({"a": parse_lcov("")}, 50) == [
        "coverage a: no coverage data (0 lines)",
        "coverage total: no coverage data (0 lines)",
    ]


# --- branches (coverage.py's lcov, a real pytest-cov report: scripts/make_pytest_cov_sample.py) ------------------

PYTEST_COV = Path(__file__).parents[1] / "samples" / "pytest-cov.lcov"


def test_parse_pytest_cov_lcov_with_branches() -> None:
    c = parse_lcov(PYTEST_COV.read_text())
    assert sorted(c.files) == ["src/calc/__init__.py", "tests/test_calc.py"]
    assert (c.lines_total, c.lines_covered) == (16, 11)
    assert (c.branches_total, c.branches_covered) == (8, 3)
    assert c.branches["src/calc/__init__.py"][(5, "0", "jump to line 6")] == 0
    assert c.branches["src/calc/__init__.py"][(7, "0", "jump to line 9")] == 1
    assert "tests/test_calc.py" not in c.branches
    assert describe(c) == "11/16 lines (68.7%), 3/8 branches (37.5%)"
    by_path = {f.path: f for f in c.per_file()}
    assert (by_path["src/calc/__init__.py"].branches_total, by_path["src/calc/__init__.py"].branches_covered) == (8, 3)


def test_branches_round_trip_through_lcov_and_follow_their_file() -> None:
    c = with_prefix(parse_lcov(PYTEST_COV.read_text()), "tools/calc")
    assert list(c.branches) == ["tools/calc/src/calc/__init__.py"]
    text = to_lcov(c)
    assert parse_lcov(text) == c
    assert "BRDA:13,0,jump to line 14,-\n" in text  # never-run line: "-", as lcov writes it
    assert "BRDA:5,0,jump to line 6,0\n" in text  # run, branch not taken: 0
    assert "BRF:8\nBRH:3\n" in text
    twice = merge(c, c)
    assert twice.branches["tools/calc/src/calc/__init__.py"][(7, "0", "jump to line 9")] == 2
    assert (twice.branches_total, twice.branches_covered) == (8, 3)


def test_branch_names_with_commas_and_malformed_branch_records() -> None:
    c = parse_lcov("SF:a.py\nDA:1,1\nBRDA:1,0,return from function 'f, g',2\nend_of_record\n")
    assert c.branches == {"a.py": {(1, "0", "return from function 'f, g'"): 2}}
    with pytest.raises(ValueError, match="lcov line 2: expected BRDA:<line>,<block>,<branch>,<taken>"):
        parse_lcov("SF:a.py\nBRDA:1,0\nend_of_record\n")
    with pytest.raises(ValueError, match="lcov line 1: BRDA record outside an SF record"):
        parse_lcov("BRDA:1,0,b,1\n")


def test_cobertura_and_html_show_branches_when_measured() -> None:
    c = parse_lcov(PYTEST_COV.read_text())
    root = ET.fromstring(to_cobertura(c, timestamp=1))
    assert (root.get("branches-valid"), root.get("branches-covered"), root.get("branch-rate")) == ("8", "3", "0.375")
    line = next(el for el in root.iter("line") if el.get("number") == "13")
    assert (line.get("branch"), line.get("condition-coverage")) == ("true", "0% (0/2)")
    page = to_html(c, "t")["index.html"].decode()
    assert "<th>branches</th>" in page and "3/8 (37.5%)" in page
    assert "<th>branches</th>" not in to_html(core(), "t")["index.html"].decode()  # lines only: no column
