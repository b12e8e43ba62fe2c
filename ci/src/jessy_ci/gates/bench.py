"""Benchmarks: parse ``go test -bench`` output and criterion's files, read and write the baseline file, compare a run
with the baseline and gate on regressions. Pure, no I/O.

Baseline file (``reports/bench/<component>.json``, or a committed baseline), version 1::

    {
      "version": 1,
      "commit": "<git sha the samples were taken at>",
      "toolchains": {"go": "go1.26.8", "rust": "1.95.0"},
      "benchmarks": [
        {"component": "jessy-api", "name": "BenchmarkHealth", "unit": "ns/op", "samples": [57126.0, 54167.0]}
      ]
    }

``samples`` are the raw per-run measurements (one per ``-count`` run for Go, one per criterion sample), smaller is
better for every unit. A benchmark is identified by (component, name, unit).

Units: Go's ``ns/op``, ``B/op`` and ``allocs/op`` become three benchmarks: ``BenchmarkHealth`` (ns/op),
``BenchmarkHealth (B/op)`` and ``BenchmarkHealth (allocs/op)``. Throughput (``MB/s``, bigger is better and derived
from ns/op) and custom ``b.ReportMetric`` units are dropped. Criterion's per-iteration time is in ns, unit ``ns/op``.

Gate: a benchmark fails only when it is significantly slower (Mann-Whitney U, p < alpha; see ``stats``) AND its
median grew by more than ``max_regression_pct``. Inconclusive comparisons (too few samples) and benchmarks present
on one side only are listed in the report, never failed.
"""

from __future__ import annotations

import json
import math
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from jessy_ci.errors import UsageError
from jessy_ci.gates.stats import Verdict, compare

BASELINE_VERSION = 1

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Benchmark:
    component: str
    name: str
    unit: str
    samples: tuple[float, ...]

    @property
    def key(self) -> Key:
        return (self.component, self.name, self.unit)


@dataclass(frozen=True)
class Baseline:
    """A baseline file's content. ``toolchains`` names the toolchain versions the samples were taken with (a change
    there explains a change of numbers); treat it as read-only."""

    commit: str
    toolchains: dict[str, str] = field(default_factory=dict[str, str])
    benchmarks: tuple[Benchmark, ...] = ()


# --- baseline file -------------------------------------------------------------------------------------------------


class _NotANumber(ValueError):
    pass


def _reject_constant(name: str) -> float:
    raise _NotANumber(name)


def load_baseline(text: str, source: str) -> Baseline:
    """Parse a baseline file (format in the module docstring). ``source`` names the file in error messages.

    Raises UsageError, one line naming ``source`` and what was expected: bad JSON, another version, a missing key, a
    value of the wrong type, non-numeric (or NaN/Infinity) samples, the same benchmark twice."""
    try:
        raw: object = json.loads(text, parse_constant=_reject_constant)
    except _NotANumber as e:
        raise UsageError(f"{source}: not valid JSON ({e} is not a number)") from None
    except json.JSONDecodeError as e:
        raise UsageError(f"{source}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{source}: expected a JSON object with version, commit, toolchains and benchmarks")
    doc = cast(dict[str, object], raw)
    for key in ("version", "commit", "toolchains", "benchmarks"):
        if key not in doc:
            raise UsageError(f"{source}: missing key {key!r} (expected version, commit, toolchains, benchmarks)")
    version = doc["version"]
    if version != BASELINE_VERSION or isinstance(version, bool):
        raise UsageError(f'{source}: expected "version": {BASELINE_VERSION}, got {json.dumps(version)}')
    commit = doc["commit"]
    if not isinstance(commit, str):
        raise UsageError(f'{source}: "commit": expected a string, got {json.dumps(commit)}')
    toolchains = doc["toolchains"]
    if not isinstance(toolchains, dict) or not all(
        isinstance(v, str) for v in cast(dict[str, object], toolchains).values()
    ):
        raise UsageError(f'{source}: "toolchains": expected an object of strings, like {{"go": "go1.26.8"}}')
    entries = doc["benchmarks"]
    if not isinstance(entries, list):
        raise UsageError(f'{source}: "benchmarks": expected a list, got {json.dumps(entries)[:40]}')
    benchmarks: list[Benchmark] = []
    seen: set[Key] = set()
    for i, entry in enumerate(cast(list[object], entries)):
        bench = _load_benchmark(entry, f"{source}: benchmarks[{i}]")
        if bench.key in seen:
            raise UsageError(f"{source}: benchmarks[{i}]: {bench.component} {bench.name} ({bench.unit}) appears twice")
        seen.add(bench.key)
        benchmarks.append(bench)
    return Baseline(commit, dict(cast(dict[str, str], toolchains)), tuple(benchmarks))


def _load_benchmark(entry: object, where: str) -> Benchmark:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected an object with component, name, unit and samples")
    item = cast(dict[str, object], entry)
    strings: list[str] = []
    for key in ("component", "name", "unit"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            what = "missing" if key not in item else f"got {json.dumps(value)}"
            raise UsageError(f"{where}.{key}: expected a non-empty string, {what}")
        strings.append(value)
    samples = item.get("samples")
    if not isinstance(samples, list) or not all(
        isinstance(s, int | float) and not isinstance(s, bool) for s in cast(list[object], samples)
    ):
        what = "missing" if "samples" not in item else f"got {json.dumps(samples)[:60]}"
        raise UsageError(f"{where}.samples: expected a list of numbers, {what}")
    return Benchmark(strings[0], strings[1], strings[2], tuple(float(s) for s in cast(list[float], samples)))


def dump_baseline(baseline: Baseline) -> str:
    """The baseline file: keys sorted, benchmarks sorted by component, name and unit, indent 2, a final newline. The
    same content always gives the same text."""
    doc = {
        "version": BASELINE_VERSION,
        "commit": baseline.commit,
        "toolchains": dict(sorted(baseline.toolchains.items())),
        "benchmarks": [
            {"component": b.component, "name": b.name, "unit": b.unit, "samples": [float(s) for s in b.samples]}
            for b in sorted(baseline.benchmarks, key=lambda b: b.key)
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


# --- go test -bench ------------------------------------------------------------------------------------------------

_GO_RESULT = re.compile(r"^(?P<name>Benchmark\S*)\s+(?P<iterations>\d+)\s+(?P<metrics>\S.*)$")
_GO_PROCS = re.compile(r"-\d+$")
GO_UNITS = ("ns/op", "B/op", "allocs/op")


def parse_go_bench(stdout: str, component: str) -> list[Benchmark]:
    """Benchmarks from ``go test -run '^$' -bench . -benchmem -count N`` output, one sample per result line.

    The ``-N`` GOMAXPROCS suffix is stripped (``BenchmarkHealth-2`` → ``BenchmarkHealth``). ns/op gives the
    benchmark itself; B/op and allocs/op give ``<name> (B/op)`` and ``<name> (allocs/op)``. If two packages
    (``pkg:`` lines) have a benchmark of the same name, both are named ``<import path>.<name>``. Order: first
    appearance."""
    samples: dict[tuple[str, str], dict[str, list[float]]] = {}
    package = ""
    for raw in stdout.splitlines():
        line = raw.strip()
        if line.startswith("pkg:"):
            package = line.removeprefix("pkg:").strip()
            continue
        m = _GO_RESULT.match(line)
        if m is None:
            continue
        fields = m["metrics"].split()
        if len(fields) % 2:
            continue
        try:
            values = [(unit, float(value)) for value, unit in zip(fields[::2], fields[1::2], strict=True)]
        except ValueError:
            continue
        metrics = samples.setdefault((package, _GO_PROCS.sub("", m["name"])), {})
        for unit, value in values:
            if unit in GO_UNITS and math.isfinite(value):
                metrics.setdefault(unit, []).append(value)
    packages_of: dict[str, set[str]] = {}
    for package, name in samples:
        packages_of.setdefault(name, set()).add(package)
    out: list[Benchmark] = []
    for (package, name), metrics in samples.items():
        full = f"{package}.{name}" if len(packages_of[name]) > 1 and package else name
        for unit in GO_UNITS:
            if unit in metrics:
                label = full if unit == "ns/op" else f"{full} ({unit})"
                out.append(Benchmark(component, label, unit, tuple(metrics[unit])))
    return out


# --- criterion ---------------------------------------------------------------------------------------------------


def _json_object(data: bytes, path: str) -> dict[str, object]:
    try:
        raw: object = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"criterion {path}: not valid JSON ({e})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"criterion {path}: expected a JSON object")
    return cast(dict[str, object], raw)


def _numbers(doc: dict[str, object], key: str, path: str) -> list[float]:
    values = doc.get(key)
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in cast(list[object], values)
    ):
        raise ValueError(f"criterion {path}: {key!r}: expected a list of numbers")
    return [float(v) for v in cast(list[float], values)]


def parse_criterion(files: dict[str, bytes], component: str) -> list[Benchmark]:
    """Benchmarks from criterion's output folder: ``files`` maps paths relative to ``target/criterion/`` to their
    bytes. Each ``<dir>/new/sample.json`` (``iters`` and ``times`` in ns) gives one benchmark, samples
    ``times[i] / iters[i]`` ns per iteration, unit ``ns/op``; its name is ``full_id`` of ``<dir>/new/benchmark.json``
    (``layer_write/4KiB``), or ``<dir>`` without it. Other files (``base/``, ``change/``, ``report/``, estimates) are
    ignored. Sorted by name.

    Raises ValueError naming the file for malformed JSON or mismatched ``iters`` / ``times``."""
    normalised = {posixpath.normpath(p.replace("\\", "/")).lstrip("/"): data for p, data in files.items()}
    out: list[Benchmark] = []
    for path, data in normalised.items():
        if posixpath.basename(path) != "sample.json" or posixpath.basename(posixpath.dirname(path)) != "new":
            continue
        directory = posixpath.dirname(posixpath.dirname(path))
        doc = _json_object(data, path)
        iters = _numbers(doc, "iters", path)
        times = _numbers(doc, "times", path)
        if len(iters) != len(times) or any(i <= 0 for i in iters):
            raise ValueError(f"criterion {path}: expected as many positive 'iters' as 'times'")
        name = directory
        meta_path = posixpath.join(directory, "new", "benchmark.json")
        if meta_path in normalised:
            full_id = _json_object(normalised[meta_path], meta_path).get("full_id")
            if isinstance(full_id, str) and full_id:
                name = full_id
        out.append(Benchmark(component, name, "ns/op", tuple(t / i for t, i in zip(times, iters, strict=True))))
    return sorted(out, key=lambda b: b.name)


# --- comparison and gate -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    component: str
    name: str
    unit: str
    verdict: Verdict
    failed: bool

    @property
    def baseline_median(self) -> float | None:
        return self.verdict.baseline_median

    @property
    def current_median(self) -> float | None:
        return self.verdict.current_median

    @property
    def change_pct(self) -> float | None:
        return self.verdict.change_pct


@dataclass(frozen=True)
class Comparison:
    """Rows for benchmarks on both sides (sorted by component, name, unit); one-sided benchmarks listed apart;
    ``failures`` one line per failed row (empty: the gate passed)."""

    commit: str
    max_regression_pct: float
    alpha: float
    min_samples: int
    rows: tuple[Row, ...]
    only_in_baseline: tuple[Benchmark, ...]
    only_in_current: tuple[Benchmark, ...]
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def _merge_samples(benchmarks: Iterable[Benchmark]) -> dict[Key, Benchmark]:
    merged: dict[Key, Benchmark] = {}
    for b in benchmarks:
        if b.key in merged:
            b = Benchmark(b.component, b.name, b.unit, merged[b.key].samples + b.samples)
        merged[b.key] = b
    return merged


def compare_benchmarks(
    baseline: Baseline,
    current: list[Benchmark],
    *,
    max_regression_pct: float,
    alpha: float = 0.05,
    min_samples: int = 5,
) -> Comparison:
    """Compare every benchmark of ``current`` with the baseline's (same component, name and unit; samples of a
    benchmark listed twice are pooled). A row fails only when classified "slower" (significant) and its median grew
    by more than ``max_regression_pct`` percent."""
    base = _merge_samples(baseline.benchmarks)
    cur = _merge_samples(current)
    rows: list[Row] = []
    failures: list[str] = []
    for key in sorted(base.keys() & cur.keys()):
        component, name, unit = key
        verdict = compare(base[key].samples, cur[key].samples, alpha=alpha, min_samples=min_samples)
        change = verdict.change_pct
        failed = verdict.classification == "slower" and change is not None and change > max_regression_pct
        rows.append(Row(component, name, unit, verdict, failed))
        if failed:
            failures.append(
                f"bench {component} {name}: {_fmt_change(change)} slower ({unit}, median "
                f"{_fmt_value(verdict.baseline_median, unit)} → {_fmt_value(verdict.current_median, unit)}, "
                f"p={_fmt_p(verdict.p_value)}) > max regression {max_regression_pct:g}%"
            )
    return Comparison(
        commit=baseline.commit,
        max_regression_pct=max_regression_pct,
        alpha=alpha,
        min_samples=min_samples,
        rows=tuple(rows),
        only_in_baseline=tuple(base[k] for k in sorted(base.keys() - cur.keys())),
        only_in_current=tuple(cur[k] for k in sorted(cur.keys() - base.keys())),
        failures=tuple(failures),
    )


# --- Markdown --------------------------------------------------------------------------------------------------------


def _fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ns/op":
        for limit, div, suffix in ((1e3, 1.0, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms")):
            if abs(value) < limit:
                return f"{value / div:.3g} {suffix}"
        return f"{value / 1e9:.3g} s"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _fmt_change(change: float | None) -> str:
    if change is None:
        return "n/a"
    return f"{change:+.1f}%"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"{p:.3f}" if p >= 0.001 else "<0.001"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


PASSED, TOLERATED, FAILED, INCONCLUSIVE = "✅", "➖", "❌", "❔"  # noqa: RUF001 (the heavy minus is meant)


def _icon(row: Row) -> str:
    if row.failed:
        return FAILED
    if row.verdict.classification == "inconclusive":
        return INCONCLUSIVE
    if row.verdict.classification == "slower":
        return TOLERATED
    return PASSED


def _label(b: Benchmark) -> str:
    """``jessy-api BenchmarkHealth (ns/op)``; the unit is not repeated when the name already ends with it."""
    name = b.name if b.name.endswith(f"({b.unit})") else f"{b.name} ({b.unit})"
    return _cell(f"{b.component} {name}")


def to_markdown(comparison: Comparison) -> str:
    """A Markdown section fit for a PR comment or ``$GITHUB_STEP_SUMMARY``: a table of the compared benchmarks, a
    legend, then the benchmarks found on one side only."""
    c = comparison
    allowed = f"{c.max_regression_pct:g}%"
    lines = [
        f"### Benchmarks against baseline `{_cell(c.commit) or 'unknown'}`",
        "",
        f"A benchmark fails when it is significantly slower (Mann-Whitney U, p < {c.alpha:g}) by more than {allowed}.",
        "",
    ]
    if c.rows:
        lines += [
            "| | component | benchmark | unit | baseline | current | change | p | verdict |",
            "|:-:|---|---|---|--:|--:|--:|--:|---|",
        ]
        for r in c.rows:
            v = r.verdict
            lines.append(
                f"| {_icon(r)} | {_cell(r.component)} | {_cell(r.name)} | {_cell(r.unit)} "
                f"| {_fmt_value(v.baseline_median, r.unit)} | {_fmt_value(v.current_median, r.unit)} "
                f"| {_fmt_change(v.change_pct)} | {_fmt_p(v.p_value)} | {v.classification} |"
            )
        lines += [
            "",
            f"{PASSED} no regression · {TOLERATED} slower, within {allowed} · {FAILED} slower by more than "
            f"{allowed} · {INCONCLUSIVE} inconclusive (fewer than {c.min_samples} samples on a side)",
        ]
    else:
        lines.append("No benchmark found in both the baseline and this run.")
    for title, benchmarks in (
        ("Only in the baseline (not run now)", c.only_in_baseline),
        ("New (not in the baseline)", c.only_in_current),
    ):
        if benchmarks:
            lines += ["", f"**{title}:**", ""]
            lines += [f"- {_label(b)}" for b in benchmarks]
    if c.failures:
        lines += ["", f"**{len(c.failures)} regression{'s' if len(c.failures) > 1 else ''} over {allowed}.**"]
    return "\n".join(lines) + "\n"


# --- JSON (what the HTML report charts) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Compared:
    """One compared benchmark as ``bench/compare.json`` keeps it: the gate's verdict and both sides' raw samples."""

    component: str
    name: str
    unit: str
    classification: str
    change_pct: float | None
    p_value: float | None
    failed: bool
    baseline: tuple[float, ...]
    current: tuple[float, ...]


def comparison_json(comparison: Comparison, baseline: Baseline, current: list[Benchmark]) -> bytes:
    """``bench/compare.json``: the settings, then per compared benchmark its verdict and both sides' samples."""
    base, cur = _merge_samples(baseline.benchmarks), _merge_samples(current)
    doc = {
        "version": BASELINE_VERSION,
        "commit": comparison.commit,
        "max_regression_pct": comparison.max_regression_pct,
        "alpha": comparison.alpha,
        "rows": [
            {
                "component": r.component,
                "name": r.name,
                "unit": r.unit,
                "classification": r.verdict.classification,
                "change_pct": r.change_pct,
                "p_value": r.verdict.p_value,
                "failed": r.failed,
                "baseline": list(base[(r.component, r.name, r.unit)].samples),
                "current": list(cur[(r.component, r.name, r.unit)].samples),
            }
            for r in comparison.rows
        ],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _optional_number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_comparison(data: bytes, source: str) -> tuple[float, list[Compared]]:
    """``(max_regression_pct, rows)`` of a ``bench/compare.json``. Raises ValueError naming ``source``."""
    try:
        raw: object = json.loads(data)
    except ValueError as e:
        raise ValueError(f"{source}: not valid JSON ({str(e).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(cast(dict[str, object], raw).get("rows"), list):
        raise ValueError(f"{source}: expected a JSON object with rows")
    doc = cast(dict[str, object], raw)
    rows: list[Compared] = []
    for entry in cast(list[object], doc["rows"]):
        if not isinstance(entry, dict):
            raise ValueError(f"{source}: expected every row to be an object")
        row = cast(dict[str, object], entry)
        sides = [
            tuple(n for v in cast(list[object], side) if (n := _optional_number(v)) is not None)
            if isinstance(side := row.get(key), list)
            else ()
            for key in ("baseline", "current")
        ]
        rows.append(
            Compared(
                str(row.get("component", "")),
                str(row.get("name", "")),
                str(row.get("unit", "")),
                str(row.get("classification", "")),
                _optional_number(row.get("change_pct")),
                _optional_number(row.get("p_value")),
                row.get("failed") is True,
                sides[0],
                sides[1],
            )
        )
    return _optional_number(doc.get("max_regression_pct")) or 0.0, rows


format_value, format_change, format_p = _fmt_value, _fmt_change, _fmt_p  # the Markdown's wording, for the HTML
