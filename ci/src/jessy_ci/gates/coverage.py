"""Line and branch coverage: parse lcov (cargo-tarpaulin, coverage.py through pytest-cov) and Go coverprofiles, merge
them, write lcov / Cobertura / HTML, and gate on a threshold. Pure, no I/O: text in, data or text/bytes out.

The model: per file (a repo-relative path once rebased), per line number, a hit count; and where the tool measures
branches (coverage.py's ``BRDA`` records), per branch (line, block, branch name) the times it was taken. A line is
covered when its count is above zero, a branch when it was taken. The gate is on lines. A report with no lines has no
percentage (``percent`` is None) and never passes the gate: "no coverage data" is a failure, not 100%.
"""

from __future__ import annotations

import html
import math
import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

Branch = tuple[int, str, str]
"""A branch as lcov's ``BRDA`` record names it: the line, the block and the branch (``jump to line 7``)."""


@dataclass(frozen=True)
class FileCoverage:
    path: str
    lines_total: int
    lines_covered: int
    uncovered: tuple[int, ...]
    branches_total: int = 0
    branches_covered: int = 0

    @property
    def percent(self) -> float | None:
        return _percent(self.lines_covered, self.lines_total)


@dataclass(frozen=True)
class Coverage:
    """Per file, per line, the hit count; per file, per branch, the times it was taken (only tools that measure
    branches fill ``branches``). Treat both as read-only: every function here returns a new Coverage."""

    files: dict[str, dict[int, int]] = field(default_factory=dict[str, dict[int, int]])
    branches: dict[str, dict[Branch, int]] = field(default_factory=dict[str, dict[Branch, int]])

    @property
    def lines_total(self) -> int:
        return sum(len(lines) for lines in self.files.values())

    @property
    def lines_covered(self) -> int:
        return sum(1 for lines in self.files.values() for hits in lines.values() if hits > 0)

    @property
    def percent(self) -> float | None:
        """Covered lines in percent, or None when there are no lines at all (never 100%: nothing was measured)."""
        return _percent(self.lines_covered, self.lines_total)

    @property
    def branches_total(self) -> int:
        return sum(len(branches) for branches in self.branches.values())

    @property
    def branches_covered(self) -> int:
        return sum(1 for branches in self.branches.values() for taken in branches.values() if taken > 0)

    def per_file(self) -> list[FileCoverage]:
        """One summary per file, sorted by path."""
        return [
            FileCoverage(
                path,
                len(lines),
                sum(1 for h in lines.values() if h > 0),
                tuple(sorted(n for n, h in lines.items() if h == 0)),
                len(self.branches.get(path, {})),
                sum(1 for taken in self.branches.get(path, {}).values() if taken > 0),
            )
            for path, lines in sorted(self.files.items())
        ]


def _percent(covered: int, total: int) -> float | None:
    return covered * 100 / total if total else None


def _build(files: dict[str, dict[int, int]], branches: dict[str, dict[Branch, int]] | None = None) -> Coverage:
    """A Coverage with paths, lines and branches sorted (stable output); equality does not depend on the order
    anyway. Files without branches have no entry in ``branches``."""
    return Coverage(
        {path: dict(sorted(lines.items())) for path, lines in sorted(files.items())},
        {path: dict(sorted(taken.items())) for path, taken in sorted((branches or {}).items()) if taken},
    )


def _add(files: dict[str, dict[int, int]], path: str, line: int, hits: int) -> None:
    lines = files.setdefault(path, {})
    lines[line] = lines.get(line, 0) + hits


def _add_branch(branches: dict[str, dict[Branch, int]], path: str, branch: Branch, taken: int) -> None:
    per_file = branches.setdefault(path, {})
    per_file[branch] = per_file.get(branch, 0) + taken


def describe(cov: Coverage) -> str:
    """``36/50 lines (72.0%)``, with ``, 3/8 branches (37.5%)`` when branches were measured, or ``no lines`` when
    nothing was measured."""
    pct = cov.percent
    if pct is None:
        return "no lines"
    text = f"{cov.lines_covered}/{cov.lines_total} lines ({_fmt_pct(pct)}%)"
    branch_pct = _percent(cov.branches_covered, cov.branches_total)
    if branch_pct is not None:
        text += f", {cov.branches_covered}/{cov.branches_total} branches ({_fmt_pct(branch_pct)}%)"
    return text


# --- lcov --------------------------------------------------------------------------------------------------------


def _brda(record: str, number: int) -> tuple[Branch, int]:
    """``BRDA:<line>,<block>,<branch>,<taken>``; the branch may hold commas, ``taken`` is ``-`` for a branch whose
    line never ran (counted as 0)."""
    try:
        line_no, block, rest = record[5:].split(",", 2)
        branch, taken = rest.rsplit(",", 1)
        line = int(line_no)
        count = 0 if taken.strip() == "-" else int(taken)
    except ValueError:
        raise ValueError(f"lcov line {number}: expected BRDA:<line>,<block>,<branch>,<taken>, got {record!r}") from None
    if line < 1 or count < 0:
        raise ValueError(f"lcov line {number}: line and taken must be positive, got {record!r}")
    return (line, block.strip(), branch.strip()), count


def parse_lcov(text: str) -> Coverage:
    """Line and branch coverage from an lcov tracefile (``SF:``, ``DA:line,hits[,checksum]``,
    ``BRDA:line,block,branch,taken``, ``end_of_record``; function records are ignored). Records of the same file are
    merged, hits summed. Paths are kept as written (cargo-tarpaulin writes absolute paths, coverage.py paths relative
    to where it ran): see ``relative_to`` and ``with_prefix``.

    Raises ValueError naming the line for a ``DA:`` or ``BRDA:`` record that is malformed or outside an ``SF:``
    record."""
    files: dict[str, dict[int, int]] = {}
    branches: dict[str, dict[Branch, int]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("SF:"):
            current = line[3:].strip()
            files.setdefault(current, {})
        elif line == "end_of_record":
            current = None
        elif line.startswith("DA:"):
            if current is None:
                raise ValueError(f"lcov line {number}: DA record outside an SF record")
            parts = line[3:].split(",")
            try:
                line_no, hits = int(parts[0]), int(parts[1])
            except (ValueError, IndexError):
                raise ValueError(f"lcov line {number}: expected DA:<line>,<hits>, got {line!r}") from None
            if line_no < 1 or hits < 0:
                raise ValueError(f"lcov line {number}: line and hits must be positive, got {line!r}")
            _add(files, current, line_no, hits)
        elif line.startswith("BRDA:"):
            if current is None:
                raise ValueError(f"lcov line {number}: BRDA record outside an SF record")
            branch, taken = _brda(line, number)
            _add_branch(branches, current, branch, taken)
    return _build(files, branches)


def to_lcov(cov: Coverage) -> str:
    """An lcov tracefile: per file ``TN:``, ``SF:``, ``DA:`` per line, ``LF:``, ``LH:``, then ``BRDA:`` per branch,
    ``BRF:``, ``BRH:`` where branches were measured, and ``end_of_record``. A branch never taken on a line that never
    ran is written ``-``, as lcov does."""
    out: list[str] = []
    for path, lines in sorted(cov.files.items()):
        out += ["TN:", f"SF:{path}"]
        out += [f"DA:{n},{h}" for n, h in sorted(lines.items())]
        out += [f"LF:{len(lines)}", f"LH:{sum(1 for h in lines.values() if h > 0)}"]
        branches = cov.branches.get(path, {})
        for (line, block, branch), taken in sorted(branches.items()):
            shown = "-" if taken == 0 and lines.get(line, 0) == 0 else str(taken)
            out.append(f"BRDA:{line},{block},{branch},{shown}")
        if branches:
            out += [f"BRF:{len(branches)}", f"BRH:{sum(1 for t in branches.values() if t > 0)}"]
        out.append("end_of_record")
    return "".join(f"{line}\n" for line in out)


# --- Go coverprofile ---------------------------------------------------------------------------------------------

_GO_BLOCK = re.compile(
    r"^(?P<file>.+):(?P<sl>\d+)\.(?P<sc>\d+),(?P<el>\d+)\.(?P<ec>\d+) (?P<stmts>\d+) (?P<count>\d+)$"
)


def parse_go_coverprofile(text: str, module: str, module_dir: str) -> Coverage:
    """Line coverage from ``go test -coverprofile`` (``mode: set|count|atomic``, then
    ``import/path/file.go:startLine.startCol,endLine.endCol numStmts count``).

    - Paths: ``<module>/<rest>`` becomes ``<module_dir>/<rest>`` (``module`` from go.mod, ``module_dir`` the module's
      folder relative to the repo, e.g. ``services/jessy-api``); other paths are kept as written.
    - Duplicate blocks (``-coverpkg`` lists a block once per test binary) are merged first: the largest count in
      ``set`` mode, the sum in ``count`` / ``atomic`` mode.
    - Every line from startLine to endLine of a block belongs to it; a line's hits are the largest count of the
      blocks it belongs to, so a line is covered when any of its blocks ran.

    An empty text is an empty Coverage. Raises ValueError for a text that does not start with ``mode:`` or a
    malformed block line."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return Coverage()
    first_no, first = lines[0]
    if not first.startswith("mode:"):
        raise ValueError(f"Go coverprofile line {first_no}: expected 'mode: set|count|atomic', got {first!r}")
    mode = first.removeprefix("mode:").strip()
    merge_counts: Callable[[int, int], int] = max if mode == "set" else _sum2
    blocks: dict[tuple[str, int, int, int, int], int] = {}
    for number, line in lines[1:]:
        if line.startswith("mode:"):  # concatenated profiles
            continue
        m = _GO_BLOCK.match(line)
        if m is None:
            raise ValueError(f"Go coverprofile line {number}: expected 'file.go:l.c,l.c stmts count', got {line!r}")
        key = (m["file"], int(m["sl"]), int(m["sc"]), int(m["el"]), int(m["ec"]))
        count = int(m["count"])
        blocks[key] = merge_counts(blocks[key], count) if key in blocks else count
    prefix = module.rstrip("/") + "/"
    target = module_dir.strip("/")
    files: dict[str, dict[int, int]] = {}
    for (file, start, _, end, _), count in blocks.items():
        path = file
        if file.startswith(prefix):
            rest = file[len(prefix) :]
            path = f"{target}/{rest}" if target and target != "." else rest
        hits = files.setdefault(path, {})
        for n in range(start, end + 1):
            hits[n] = max(hits.get(n, 0), count)
    return _build(files)


def _sum2(a: int, b: int) -> int:
    return a + b


# --- paths and merging -------------------------------------------------------------------------------------------


def _rename(cov: Coverage, rename: Callable[[str], str]) -> Coverage:
    files: dict[str, dict[int, int]] = {}
    branches: dict[str, dict[Branch, int]] = {}
    for path, lines in cov.files.items():
        new = rename(path)
        files.setdefault(new, {})
        for n, h in lines.items():
            _add(files, new, n, h)
    for path, taken in cov.branches.items():
        new = rename(path)
        for branch, count in taken.items():
            _add_branch(branches, new, branch, count)
    return _build(files, branches)


def relative_to(cov: Coverage, root: str) -> Coverage:
    """Paths under the absolute folder ``root`` made relative to it (``/src/services/jessy-core/src/cli.rs`` with root
    ``/src`` → ``services/jessy-core/src/cli.rs``); other paths unchanged. Files that end up equal are merged."""
    base = root.rstrip("/") + "/"
    return _rename(cov, lambda p: p[len(base) :] if p.startswith(base) else p)


def with_prefix(cov: Coverage, prefix: str) -> Coverage:
    """Relative paths put under ``prefix`` (``src/cli.rs`` with prefix ``services/jessy-core`` →
    ``services/jessy-core/src/cli.rs``); absolute paths unchanged. Files that end up equal are merged."""
    clean = prefix.strip("/")
    if not clean or clean == ".":
        return _rename(cov, posixpath.normpath)
    return _rename(cov, lambda p: p if p.startswith("/") else posixpath.normpath(posixpath.join(clean, p)))


def rebase(cov: Coverage, *, root: str | None = None, prefix: str = "") -> Coverage:
    """``relative_to(root)`` (when given), then ``with_prefix(prefix)``: repo-relative paths from a tool's paths."""
    out = relative_to(cov, root) if root else cov
    return with_prefix(out, prefix)


def merge(*covs: Coverage) -> Coverage:
    """The union of several reports; hits of the same file and line, and of the same branch, are summed."""
    files: dict[str, dict[int, int]] = {}
    branches: dict[str, dict[Branch, int]] = {}
    for cov in covs:
        for path, lines in cov.files.items():
            files.setdefault(path, {})
            for n, h in lines.items():
                _add(files, path, n, h)
        for path, taken in cov.branches.items():
            for branch, count in taken.items():
                _add_branch(branches, path, branch, count)
    return _build(files, branches)


# --- Cobertura XML -----------------------------------------------------------------------------------------------


def _rate(covered: int, total: int) -> str:
    return f"{covered / total:.4g}" if total else "0"


def _line_element(parent: ET.Element, number: int, hits: int, branches: list[int]) -> None:
    """A Cobertura ``<line>``; with the times each of its branches was taken, ``condition-coverage`` too."""
    attributes = {"number": str(number), "hits": str(hits), "branch": "true" if branches else "false"}
    if branches:
        taken = sum(1 for t in branches if t > 0)
        attributes["condition-coverage"] = f"{taken * 100 // len(branches)}% ({taken}/{len(branches)})"
    ET.SubElement(parent, "line", attributes)


def to_cobertura(cov: Coverage, *, timestamp: int) -> bytes:
    """Cobertura XML (what GitLab and most coverage viewers read): ``<sources><source>.</source></sources>`` so paths
    are repo-relative, one ``<package>`` per folder (dotted name), one ``<class>`` per file, a ``<line>`` per line.
    ``timestamp`` is written as given (Cobertura uses milliseconds since the epoch). Branch rates and each line's
    ``condition-coverage`` come from the branches measured (0 where none were)."""
    root = ET.Element(
        "coverage",
        {
            "line-rate": _rate(cov.lines_covered, cov.lines_total),
            "branch-rate": _rate(cov.branches_covered, cov.branches_total),
            "lines-covered": str(cov.lines_covered),
            "lines-valid": str(cov.lines_total),
            "branches-covered": str(cov.branches_covered),
            "branches-valid": str(cov.branches_total),
            "complexity": "0",
            "version": "jessy-ci",
            "timestamp": str(timestamp),
        },
    )
    ET.SubElement(ET.SubElement(root, "sources"), "source").text = "."
    packages = ET.SubElement(root, "packages")
    by_dir: dict[str, list[FileCoverage]] = {}
    for f in cov.per_file():
        by_dir.setdefault(posixpath.dirname(f.path), []).append(f)
    for directory, summaries in sorted(by_dir.items()):
        covered = sum(f.lines_covered for f in summaries)
        total = sum(f.lines_total for f in summaries)
        taken = sum(f.branches_covered for f in summaries)
        branches_total = sum(f.branches_total for f in summaries)
        package = ET.SubElement(
            packages,
            "package",
            {
                "name": directory.strip("/").replace("/", ".") or ".",
                "line-rate": _rate(covered, total),
                "branch-rate": _rate(taken, branches_total),
                "complexity": "0",
            },
        )
        classes = ET.SubElement(package, "classes")
        for f in summaries:
            cls = ET.SubElement(
                classes,
                "class",
                {
                    "name": posixpath.basename(f.path),
                    "filename": f.path,
                    "line-rate": _rate(f.lines_covered, f.lines_total),
                    "branch-rate": _rate(f.branches_covered, f.branches_total),
                    "complexity": "0",
                },
            )
            ET.SubElement(cls, "methods")
            lines_el = ET.SubElement(cls, "lines")
            per_line: dict[int, list[int]] = {}
            for (line, _, _), count in cov.branches.get(f.path, {}).items():
                per_line.setdefault(line, []).append(count)
            for n, h in sorted(cov.files[f.path].items()):
                _line_element(lines_el, n, h, per_line.get(n, []))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# --- HTML --------------------------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { width: 8em; height: 0.8em; background: #e66; display: inline-block; }
.bar > span { display: block; height: 100%; background: #4a4; }
.uncovered { font-family: ui-monospace, monospace; font-size: 90%; }
"""


def line_ranges(lines: Iterable[int]) -> str:
    """``1-3, 7, 9-10`` from 1, 2, 3, 7, 9, 10."""
    ordered = sorted(set(lines))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


def _branch_cell(taken: int, total: int) -> str:
    pct = _percent(taken, total)
    return "" if pct is None else f"{taken}/{total} ({_fmt_pct(pct)}%)"


def _html_row(name: str, covered: int, total: int, uncovered: str, branches: str | None, *, bold: bool = False) -> str:
    pct = _percent(covered, total)
    width = 0.0 if pct is None else pct
    cells = [
        html.escape(name),
        f'<span class="bar"><span style="width:{width:.1f}%"></span></span>',
        f"{covered}/{total}",
        "n/a" if pct is None else f"{_fmt_pct(pct)}%",
        *(() if branches is None else (html.escape(branches),)),
        f'<span class="uncovered">{html.escape(uncovered)}</span>',
    ]
    classes = ["", "", ' class="num"', ' class="num"', *(() if branches is None else (' class="num"',)), ""]
    tag = "th" if bold else "td"
    return "<tr>" + "".join(f"<{tag}{c}>{cell}</{tag}>" for c, cell in zip(classes, cells, strict=True)) + "</tr>"


def to_html(cov: Coverage, title: str) -> dict[str, bytes]:
    """A self-contained HTML report (inline CSS, no scripts, no external assets): ``index.html``, a table of every
    file with its covered lines, percentage, taken branches (when any were measured) and the ranges of its uncovered
    lines, and a total row."""
    with_branches = cov.branches_total > 0

    def branches(taken: int, total: int) -> str | None:
        return _branch_cell(taken, total) if with_branches else None

    rows = [
        _html_row(
            f.path,
            f.lines_covered,
            f.lines_total,
            line_ranges(f.uncovered),
            branches(f.branches_covered, f.branches_total),
        )
        for f in cov.per_file()
    ]
    rows.append(
        _html_row(
            "total",
            cov.lines_covered,
            cov.lines_total,
            "",
            branches(cov.branches_covered, cov.branches_total),
            bold=True,
        )
    )
    heading = html.escape(title)
    branch_header = "<th>branches</th>" if with_branches else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{heading}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{heading}</h1>
<p>Line coverage: {html.escape(describe(cov))}</p>
<table>
<thead><tr><th>file</th><th></th><th>lines</th><th>covered</th>{branch_header}<th>uncovered lines</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""
    return {"index.html": page.encode()}


# --- gate --------------------------------------------------------------------------------------------------------


def _fmt_pct(pct: float) -> str:
    """One decimal, rounded down: 79.96 shows as 79.9, never as a misleading 80.0."""
    return f"{math.floor(pct * 10) / 10:.1f}"


def _meets(cov: Coverage, threshold: float) -> bool:
    # integers, not the float percentage: 29 of 100 lines meets 29 exactly
    return cov.lines_covered * 100 >= threshold * cov.lines_total


def gate(per_component: dict[str, Coverage], threshold: float, own: Mapping[str, float] | None = None) -> list[str]:
    """One failure line per component under its threshold (``own[name]`` when given, else ``threshold``; percent;
    exactly equal passes), then one for the total of all components under ``threshold``, e.g.
    ``coverage jessy-core: 72.4% < threshold 80%``. A component or total without any line fails with ``no coverage
    data``. An empty list means the gate passed."""
    failures: list[str] = []
    checked = [*per_component.items(), ("total", merge(*per_component.values()))]
    for name, cov in checked:
        pct = cov.percent
        limit = (own or {}).get(name, threshold) if name != "total" else threshold
        if pct is None:
            failures.append(f"coverage {name}: no coverage data (0 lines)")
        elif not _meets(cov, limit):
            failures.append(f"coverage {name}: {_fmt_pct(pct)}% < threshold {limit:g}%")
    return failures
