"""Benchmark parsing, the baseline file, the comparison gate and its Markdown.

Samples (real runs on this repo's services): ``go-bench.txt`` is the output of
``go test -run '^$' -bench . -benchmem -count 3 -benchtime 100x ./...`` in services/jessy-api; ``criterion/`` holds
files of ``target/criterion/`` after ``cargo bench --bench layers -- --warm-up-time 0.2 --measurement-time 0.5
--sample-size 10`` in services/jessy-core (two benchmarks' ``new/``, and one ``base/`` that must be ignored)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from jessy_ci.errors import UsageError
from jessy_ci.gates.bench import (
    TOLERATED,
    Baseline,
    Benchmark,
    compare_benchmarks,
    dump_baseline,
    load_baseline,
    parse_criterion,
    parse_go_bench,
    to_markdown,
)

SAMPLES = Path(__file__).parent / "samples"


def go_benchmarks() -> list[Benchmark]:
    return parse_go_bench((SAMPLES / "go-bench.txt").read_text(), "jessy-api")


def criterion_files() -> dict[str, bytes]:
    root = SAMPLES / "criterion"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.json")}


# --- go test -bench --------------------------------------------------------------------------------------------------


def test_parse_real_go_bench_output() -> None:
    benches = {b.name: b for b in go_benchmarks()}
    assert list(benches)[:3] == ["BenchmarkHealth", "BenchmarkHealth (B/op)", "BenchmarkHealth (allocs/op)"]
    assert len(benches) == 12  # 4 benchmarks x ns/op, B/op, allocs/op; MB/s dropped
    health = benches["BenchmarkHealth"]
    assert (health.component, health.unit) == ("jessy-api", "ns/op")
    assert health.samples == (57126.0, 54167.0, 30353.0)
    assert benches["BenchmarkHealth (allocs/op)"].samples == (109.0, 107.0, 107.0)
    # a line with MB/s between ns/op and B/op still yields all three
    get = benches["BenchmarkGetLayer4KiB (B/op)"]
    assert (get.unit, get.samples) == ("B/op", (14971.0, 14969.0, 14970.0))
    assert {b.unit for b in benches.values()} == {"ns/op", "B/op", "allocs/op"}


def test_go_bench_strips_gomaxprocs_only_at_the_end_and_ignores_other_lines() -> None:
    out = """goos: linux
pkg: example.com/m/a
BenchmarkSize/4KiB-8    100    10 ns/op
BenchmarkSize/4KiB-8    100    12 ns/op
BenchmarkSize/4KiB
--- FAIL: BenchmarkBroken
BenchmarkBroken-8    	--- FAIL: BenchmarkBroken-8
BenchmarkOne    100    7.5 ns/op    3 custom/op
PASS
"""
    benches = parse_go_bench(out, "c")
    assert [(b.name, b.samples) for b in benches] == [("BenchmarkSize/4KiB", (10.0, 12.0)), ("BenchmarkOne", (7.5,))]


def test_go_bench_names_collide_across_packages_only_then_qualified() -> None:
    out = (
        "pkg: example.com/m/a\nBenchmarkX-2 10 1 ns/op\nBenchmarkY-2 10 1 ns/op\n"
        "pkg: example.com/m/b\nBenchmarkX-2 10 2 ns/op\n"
    )
    names = [b.name for b in parse_go_bench(out, "c")]
    assert names == ["example.com/m/a.BenchmarkX", "BenchmarkY", "example.com/m/b.BenchmarkX"]


def test_go_bench_without_benchmarks() -> None:
    assert parse_go_bench("", "c") == []
    assert parse_go_bench("PASS\nok  \texample.com/m\t0.01s\n", "c") == []


# --- criterion -----------------------------------------------------------------------------------------------------


def test_parse_real_criterion_files() -> None:
    benches = parse_criterion(criterion_files(), "jessy-core")
    assert [b.name for b in benches] == ["layer_read/1MiB", "layer_write/4KiB"]  # base/ ignored: no duplicates
    read = benches[0]
    assert (read.component, read.unit, len(read.samples)) == ("jessy-core", "ns/op", 10)
    sample = json.loads((SAMPLES / "criterion/layer_read/1MiB/new/sample.json").read_text())
    assert read.samples[0] == pytest.approx(sample["times"][0] / sample["iters"][0])
    assert all(s > 0 for s in read.samples)


def test_criterion_name_falls_back_to_the_folder_and_paths_are_normalised() -> None:
    sample = b'{"sampling_mode":"Flat","iters":[2.0,4.0],"times":[10.0,30.0]}'
    benches = parse_criterion({"./grp/fn/new/sample.json": sample, "grp/fn/base/sample.json": sample}, "c")
    assert [(b.name, b.samples) for b in benches] == [("grp/fn", (5.0, 7.5))]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"iters": [1.0], "times": ["x"]}', "'times': expected a list of numbers"),
        (b'{"iters": [1.0, 2.0], "times": [1.0]}', "expected as many positive 'iters' as 'times'"),
        (b'{"iters": [0.0], "times": [1.0]}', "expected as many positive 'iters' as 'times'"),
    ],
)
def test_malformed_criterion_sample_is_an_error(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as e:
        parse_criterion({"g/new/sample.json": data}, "c")
    assert "criterion g/new/sample.json" in str(e.value)


# --- baseline file -------------------------------------------------------------------------------------------------


def real_baseline() -> Baseline:
    return Baseline(
        commit="951c345",
        toolchains={"rust": "1.95.0", "go": "go1.26.8"},
        benchmarks=tuple(go_benchmarks() + parse_criterion(criterion_files(), "jessy-core")),
    )


def test_baseline_round_trip_is_stable_and_sorted() -> None:
    baseline = real_baseline()
    text = dump_baseline(baseline)
    loaded = load_baseline(text, "bench.json")
    assert loaded.commit == baseline.commit
    assert loaded.toolchains == baseline.toolchains
    assert sorted(loaded.benchmarks, key=lambda b: b.key) == sorted(baseline.benchmarks, key=lambda b: b.key)
    assert dump_baseline(loaded) == text
    doc = json.loads(text)
    assert list(doc) == ["benchmarks", "commit", "toolchains", "version"]
    assert doc["version"] == 1
    assert list(doc["toolchains"]) == ["go", "rust"]
    keys = [(b["component"], b["name"], b["unit"]) for b in doc["benchmarks"]]
    assert keys == sorted(keys)
    assert text.endswith("}\n") and '\n  "benchmarks": [' in text


def test_baseline_accepts_integer_samples_and_extra_keys() -> None:
    text = json.dumps(
        {
            "version": 1,
            "commit": "",
            "toolchains": {},
            "note": "extra",
            "benchmarks": [{"component": "c", "name": "n", "unit": "ns/op", "samples": [1, 2.5]}],
        }
    )
    assert load_baseline(text, "b.json").benchmarks == (Benchmark("c", "n", "ns/op", (1.0, 2.5)),)


def good_doc() -> dict[str, object]:
    return {
        "version": 1,
        "commit": "abc",
        "toolchains": {"go": "go1.26.8"},
        "benchmarks": [{"component": "c", "name": "n", "unit": "ns/op", "samples": [1.0]}],
    }


def with_bench(**changes: object) -> str:
    doc = good_doc()
    bench = {"component": "c", "name": "n", "unit": "ns/op", "samples": [1.0], **changes}
    doc["benchmarks"] = [{k: v for k, v in bench.items() if v is not None}]
    return json.dumps(doc)


def with_top(**changes: object) -> str:
    doc = {**good_doc(), **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not None})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "b.json: not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        ("", "b.json: not valid JSON (Expecting value at line 1 column 1)"),
        ("[1]", "b.json: expected a JSON object with version, commit, toolchains and benchmarks"),
        (with_top(version=2), 'b.json: expected "version": 1, got 2'),
        (with_top(version="1"), 'b.json: expected "version": 1, got "1"'),
        (with_top(version=True), 'b.json: expected "version": 1, got true'),
        (with_top(version=None), "b.json: missing key 'version' (expected version, commit, toolchains, benchmarks)"),
        (with_top(benchmarks=None), "b.json: missing key 'benchmarks' (expected version, commit, toolchains, ben"),
        (with_top(commit=3), 'b.json: "commit": expected a string, got 3'),
        (with_top(toolchains={"go": 1}), 'b.json: "toolchains": expected an object of strings'),
        (with_top(benchmarks={}), 'b.json: "benchmarks": expected a list, got {}'),
        (with_top(benchmarks=["x"]), "b.json: benchmarks[0]: expected an object with component, name, unit and s"),
        (with_bench(name=None), "b.json: benchmarks[0].name: expected a non-empty string, missing"),
        (with_bench(unit=""), 'b.json: benchmarks[0].unit: expected a non-empty string, got ""'),
        (with_bench(samples=None), "b.json: benchmarks[0].samples: expected a list of numbers, missing"),
        (with_bench(samples=[1, "2"]), 'b.json: benchmarks[0].samples: expected a list of numbers, got [1, "2"]'),
        (with_bench(samples=[True]), "b.json: benchmarks[0].samples: expected a list of numbers, got [true]"),
        (with_bench(samples=3), "b.json: benchmarks[0].samples: expected a list of numbers, got 3"),
        (with_top().replace("[1.0]", "[NaN]"), "b.json: not valid JSON (NaN is not a number)"),
        (with_top().replace("[1.0]", "[-Infinity]"), "b.json: not valid JSON (-Infinity is not a number)"),
    ],
)
def test_bad_baseline_is_a_usage_error_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        load_baseline(text, "b.json")
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


def test_duplicate_baseline_benchmark_is_a_usage_error() -> None:
    doc = good_doc()
    doc["benchmarks"] = [{"component": "c", "name": "n", "unit": "ns/op", "samples": [1.0]}] * 2
    with pytest.raises(UsageError, match=r"b.json: benchmarks\[1\]: c n \(ns/op\) appears twice"):
        load_baseline(json.dumps(doc), "b.json")


# --- comparison gate ------------------------------------------------------------------------------------------------


def samples(centre: float, noise_pct: float, n: int, seed: int) -> tuple[float, ...]:
    rng = random.Random(seed)
    return tuple(centre * (1 + rng.gauss(0, noise_pct / 100)) for _ in range(n))


def bench(name: str, values: tuple[float, ...], component: str = "jessy-core", unit: str = "ns/op") -> Benchmark:
    return Benchmark(component, name, unit, values)


def baseline(*benches: Benchmark) -> Baseline:
    return Baseline("abc1234", {"rust": "1.95.0"}, benches)


def test_significant_slowdown_over_the_limit_fails() -> None:
    base = baseline(bench("layer_write/4KiB", samples(1000, 2, 10, 1)))
    cur = [bench("layer_write/4KiB", samples(1300, 2, 10, 2))]
    c = compare_benchmarks(base, cur, max_regression_pct=10)
    assert not c.passed
    (row,) = c.rows
    assert row.failed and row.verdict.classification == "slower"
    assert row.change_pct is not None and row.change_pct > 25
    (failure,) = c.failures
    assert failure.startswith("bench jessy-core layer_write/4KiB: +")
    assert "slower (ns/op, median 1" in failure and failure.endswith("> max regression 10%")


def test_significant_slowdown_under_the_limit_passes() -> None:
    base = baseline(bench("b", samples(1000, 1, 10, 1)))
    cur = [bench("b", samples(1050, 1, 10, 2))]
    c = compare_benchmarks(base, cur, max_regression_pct=10)
    (row,) = c.rows
    assert row.verdict.classification == "slower"
    assert not row.failed and c.passed and c.failures == ()


def test_slowdown_exactly_at_the_limit_passes() -> None:
    base = baseline(bench("b", (100.0,) * 5))
    cur = [bench("b", (110.0,) * 5)]
    (row,) = compare_benchmarks(base, cur, max_regression_pct=10).rows
    assert row.verdict.classification == "slower" and row.change_pct == pytest.approx(10.0)
    assert not row.failed
    assert compare_benchmarks(base, cur, max_regression_pct=9.9).failures != ()


def test_large_slowdown_that_is_not_significant_passes() -> None:
    base = baseline(bench("b", samples(1000, 80, 5, 4)))
    cur = [bench("b", samples(1300, 80, 5, 5))]
    c = compare_benchmarks(base, cur, max_regression_pct=10)
    (row,) = c.rows
    assert row.verdict.classification == "no significant change"
    assert c.passed


def test_inconclusive_is_listed_not_failed() -> None:
    real = {b.name: b for b in go_benchmarks()}  # -count 3: fewer than the 5 samples needed
    base = baseline(*[Benchmark(b.component, b.name, b.unit, tuple(s / 2 for s in b.samples)) for b in real.values()])
    c = compare_benchmarks(base, list(real.values()), max_regression_pct=10)
    assert c.passed
    assert len(c.rows) == 12
    assert {r.verdict.classification for r in c.rows} == {"inconclusive"}
    assert "❔" in to_markdown(c)


def test_one_sided_benchmarks_are_listed_not_failed() -> None:
    base = baseline(bench("gone", (1.0,) * 5), bench("kept", (1.0,) * 5))
    cur = [bench("kept", (1.0,) * 5), bench("new", (9.0,) * 5), bench("kept", (1.0,) * 5, unit="B/op")]
    c = compare_benchmarks(base, cur, max_regression_pct=0)
    assert c.passed
    assert [r.name for r in c.rows] == ["kept"]
    assert [b.name for b in c.only_in_baseline] == ["gone"]
    assert [(b.name, b.unit) for b in c.only_in_current] == [("kept", "B/op"), ("new", "ns/op")]


def test_repeated_current_benchmarks_pool_their_samples() -> None:
    base = baseline(bench("b", (1.0, 2.0, 3.0, 4.0, 5.0)))
    cur = [bench("b", (1.0, 2.0, 3.0)), bench("b", (4.0, 5.0))]
    (row,) = compare_benchmarks(base, cur, max_regression_pct=10).rows
    assert row.verdict.current_n == 5 and row.verdict.classification == "no significant change"


def test_faster_passes() -> None:
    base = baseline(bench("b", samples(1000, 1, 6, 1)))
    c = compare_benchmarks(base, [bench("b", samples(500, 1, 6, 2))], max_regression_pct=0)
    assert c.passed and c.rows[0].verdict.classification == "faster"


def test_markdown_table_for_a_pr_comment() -> None:
    base = baseline(
        bench("layer_write/4KiB", samples(1000, 2, 10, 1)),
        bench("layer_read/1MiB", samples(36000, 2, 10, 2)),
        bench("BenchmarkHealth (B/op)", (14000.0,) * 5, component="jessy-api", unit="B/op"),
        bench("a|b", (1.0,) * 3),
        bench("gone", (1.0,) * 5),
    )
    cur = [
        bench("layer_write/4KiB", samples(1300, 2, 10, 3)),
        bench("layer_read/1MiB", samples(37000, 1, 10, 4)),
        bench("BenchmarkHealth (B/op)", (14000.0,) * 5, component="jessy-api", unit="B/op"),
        bench("a|b", (1.0,) * 3),
        bench("BenchmarkNew (B/op)", (1.0,) * 5, component="jessy-api", unit="B/op"),
    ]
    md = to_markdown(compare_benchmarks(base, cur, max_regression_pct=5))
    lines = md.splitlines()
    assert lines[0] == "### Benchmarks against baseline `abc1234`"
    assert "| | component | benchmark | unit | baseline | current | change | p | verdict |" in lines
    row = {line.split(" | ")[2]: line for line in lines if line.startswith("| ") and " | jessy-" in line}
    assert row["layer_write/4KiB"].startswith("| ❌ | jessy-core | layer_write/4KiB | ns/op | 1")
    assert " µs | " in row["layer_read/1MiB"] and row["layer_read/1MiB"].endswith("| slower |")
    assert row["layer_read/1MiB"].startswith(f"| {TOLERATED} ")
    assert row["BenchmarkHealth (B/op)"] == (
        "| ✅ | jessy-api | BenchmarkHealth (B/op) | B/op | 14,000 | 14,000 | +0.0% | 1.000 | no significant change |"
    )
    assert "| ❔ | jessy-core | a\\|b | ns/op | 1 ns | 1 ns | +0.0% | n/a | inconclusive |" in lines
    assert "**Only in the baseline (not run now):**" in lines and "- jessy-core gone (ns/op)" in lines
    assert "**New (not in the baseline):**" in lines and "- jessy-api BenchmarkNew (B/op)" in lines
    assert lines[-1] == "**1 regression over 5%.**"


def test_markdown_without_common_benchmarks() -> None:
    md = to_markdown(compare_benchmarks(baseline(), [bench("new", (1.0,))], max_regression_pct=5))
    assert "No benchmark found in both the baseline and this run." in md
    assert "- jessy-core new (ns/op)" in md
    assert "regression" not in md.splitlines()[-1]
