"""Trivy findings: parse a JSON report (``trivy --format json``), read a ``.trivyignore`` and gate on severities.
Pure, no I/O: callers read the files and hand over bytes / text.

What a report holds (Trivy's JSON, SchemaVersion 2): ``Results[]``, one per scanned target, each with
``Vulnerabilities[]`` (VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Severity),
``Misconfigurations[]`` (ID, AVDID in older versions, Status FAIL/PASS, Severity, Title) and ``Secrets[]``
(RuleID, Severity, Title, StartLine). A clean scan may have no ``Results`` at all (Trivy omits it when empty).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, cast

from jessy_ci.errors import UsageError

Kind = Literal["vulnerability", "misconfiguration", "secret"]

# Trivy's severities, least severe first (the order of its --severity help); tables show them most severe first.
SEVERITIES: tuple[str, ...] = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_DISPLAY_ORDER: tuple[str, ...] = tuple(reversed(SEVERITIES))


@dataclass(frozen=True)
class Finding:
    """One finding. ``package`` is the package of a vulnerability, the file (``path[:line]``) of a misconfiguration
    or a secret. ``installed`` and ``fixed`` are empty for misconfigurations and secrets; ``fixed`` is empty for a
    vulnerability without a fix. ``aliases`` are other IDs an ignore entry may use (a misconfiguration's AVDID)."""

    kind: Kind
    id: str
    package: str
    installed: str
    fixed: str
    severity: str
    target: str
    title: str
    aliases: tuple[str, ...] = ()


# --- report --------------------------------------------------------------------------------------------------------


def _text(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    return "" if value is None else str(value)


def _severity(obj: dict[str, object]) -> str:
    raw = _text(obj, "Severity").upper()
    return raw if raw in SEVERITIES else "UNKNOWN"


def _objects(value: object, what: str, source: str) -> list[dict[str, object]]:
    """A JSON array of objects (``null`` or absent is empty), or a UsageError naming the file."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in cast(list[object], value)):
        raise UsageError(f"{source}: {what} is not a list of objects: expected a Trivy JSON report (--format json)")
    return cast(list[dict[str, object]], value)


def _location(target: str, line: object) -> str:
    if isinstance(line, int) and not isinstance(line, bool) and line > 0:
        return f"{target}:{line}"
    if isinstance(line, str) and line.isdigit() and int(line) > 0:
        return f"{target}:{int(line)}"
    return target


def parse_report(data: bytes, source: str) -> list[Finding]:
    """Every finding of a Trivy JSON report, in report order. Misconfigurations count only when they failed
    (``Status`` FAIL; PASS and EXCEPTION entries, written with ``--include-non-failures``, are left out).
    ``source`` names the file in error messages. Raises UsageError for anything that is not a Trivy JSON report."""
    try:
        raw: object = json.loads(data)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UsageError(f"{source}: not valid JSON ({first}): expected a Trivy JSON report (--format json)") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{source}: not a Trivy report: expected a JSON object with SchemaVersion and Results")
    report = cast(dict[str, object], raw)
    if "SchemaVersion" not in report and "Results" not in report:
        raise UsageError(f"{source}: not a Trivy report: expected a JSON object with SchemaVersion and Results")
    findings: list[Finding] = []
    for result in _objects(report.get("Results"), "Results", source):
        target = _text(result, "Target")
        for v in _objects(result.get("Vulnerabilities"), "Vulnerabilities", source):
            findings.append(
                Finding(
                    kind="vulnerability",
                    id=_text(v, "VulnerabilityID"),
                    package=_text(v, "PkgName"),
                    installed=_text(v, "InstalledVersion"),
                    fixed=_text(v, "FixedVersion"),
                    severity=_severity(v),
                    target=target,
                    title=_text(v, "Title"),
                )
            )
        for m in _objects(result.get("Misconfigurations"), "Misconfigurations", source):
            if _text(m, "Status") not in ("FAIL", ""):
                continue
            ids = [i for i in (_text(m, "ID"), _text(m, "AVDID")) if i]
            cause = m.get("CauseMetadata")
            line = cast(dict[str, object], cause).get("StartLine") if isinstance(cause, dict) else None
            findings.append(
                Finding(
                    kind="misconfiguration",
                    id=ids[0] if ids else "",
                    package=_location(target, line),
                    installed="",
                    fixed="",
                    severity=_severity(m),
                    target=target,
                    title=_text(m, "Title"),
                    aliases=tuple(ids[1:]),
                )
            )
        for s in _objects(result.get("Secrets"), "Secrets", source):
            findings.append(
                Finding(
                    kind="secret",
                    id=_text(s, "RuleID"),
                    package=_location(target, s.get("StartLine")),
                    installed="",
                    fixed="",
                    severity=_severity(s),
                    target=target,
                    title=_text(s, "Title"),
                )
            )
    return findings


# --- options -------------------------------------------------------------------------------------------------------


def parse_severities(raw: str) -> tuple[str, ...]:
    """``"CRITICAL,HIGH"`` (any case, spaces allowed) → ``("CRITICAL", "HIGH")``, most severe first, no duplicates.
    Raises UsageError for an empty list, an empty item or an unknown name."""
    items = [item.strip().upper() for item in raw.split(",")]
    if not all(item in SEVERITIES for item in items):
        raise UsageError(f"--severity {raw!r}: expected a comma-separated list of {', '.join(SEVERITIES)}")
    return tuple(s for s in _DISPLAY_ORDER if s in items)


@dataclass(frozen=True)
class IgnoreEntry:
    id: str
    expires: date | None = None
    line: int = 0

    def active(self, today: date) -> bool:
        """Trivy compares midnight (UTC) of the expiry date with now: an entry ignores up to the day before."""
        return self.expires is None or today < self.expires


@dataclass(frozen=True)
class IgnoreRules:
    entries: tuple[IgnoreEntry, ...] = field(default=())

    def active_ids(self, today: date) -> frozenset[str]:
        return frozenset(e.id for e in self.entries if e.active(today))

    def expired(self, today: date) -> tuple[IgnoreEntry, ...]:
        return tuple(e for e in self.entries if not e.active(today))


_EXPIRY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_ignore_file(text: str, source: str = ".trivyignore") -> IgnoreRules:
    """Trivy's plain ``.trivyignore``: one ID per line (a CVE, a misconfiguration ID or AVDID, a secret rule ID),
    ``#`` comment lines and blank lines skipped, an optional ``exp:YYYY-MM-DD`` field after the ID; other fields
    after the ID are ignored, as Trivy does. Trivy only warns about (and drops) an entry with an unreadable expiry;
    here it is a UsageError naming the line, so a typo never silently changes what is ignored."""
    entries: list[IgnoreEntry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        expires: date | None = None
        for f in fields[1:]:
            if f.startswith("exp:"):
                value = f.removeprefix("exp:")
                try:
                    if not _EXPIRY.fullmatch(value):
                        raise ValueError(value)
                    expires = date.fromisoformat(value)
                except ValueError:
                    raise UsageError(f"{source} line {number}: {f!r}: expected exp:YYYY-MM-DD") from None
                break
        entries.append(IgnoreEntry(fields[0], expires, number))
    return IgnoreRules(tuple(entries))


# --- gate ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """``failing``: the findings at the gated severities that are neither ignored nor unfixed (when asked).
    ``counts_by_severity``: every finding of the report, most severe first, zeros included.
    ``ignored_by_file`` / ``ignored_unfixed``: findings at the gated severities left out by the ignore file or by
    ``ignore_unfixed``. ``expired``: ignore entries past their date that match a finding of the report."""

    severities: tuple[str, ...]
    failing: list[Finding]
    counts_by_severity: dict[str, int]
    ignored_by_file: int = 0
    ignored_unfixed: int = 0
    expired: tuple[IgnoreEntry, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failing

    @property
    def ignored(self) -> int:
        return self.ignored_by_file + self.ignored_unfixed


def gate(
    findings: Iterable[Finding],
    *,
    severities: Iterable[str],
    ignore_unfixed: bool,
    ignore: IgnoreRules,
    today: date,
) -> GateResult:
    """Fail on every finding whose severity is in ``severities`` (as given by ``parse_severities``), except those
    the ignore file lists (an active entry matching the ID or an alias: first) and, with ``ignore_unfixed``,
    vulnerabilities without a fixed version (misconfigurations and secrets have no fix and always count)."""
    wanted = tuple(severities)
    unknown = [s for s in wanted if s not in SEVERITIES]
    if unknown:
        raise ValueError(f"unknown severities {unknown}: expected names from {SEVERITIES}")
    findings = list(findings)
    counts = dict.fromkeys(_DISPLAY_ORDER, 0)
    for f in findings:
        counts[f.severity if f.severity in counts else "UNKNOWN"] += 1
    active = ignore.active_ids(today)
    failing: list[Finding] = []
    by_file = unfixed = 0
    for f in findings:
        if f.severity not in wanted:
            continue
        if active.intersection((f.id, *f.aliases)):
            by_file += 1
        elif ignore_unfixed and f.kind == "vulnerability" and not f.fixed:
            unfixed += 1
        else:
            failing.append(f)
    ids = {i for f in findings for i in (f.id, *f.aliases)}
    expired = tuple(e for e in ignore.expired(today) if e.id in ids)
    return GateResult(
        severities=tuple(s for s in _DISPLAY_ORDER if s in wanted),
        failing=failing,
        counts_by_severity=counts,
        ignored_by_file=by_file,
        ignored_unfixed=unfixed,
        expired=expired,
    )


def describe(f: Finding) -> str:
    """One line: ``CVE-2019-14697 musl 1.1.20-r4 → 1.1.20-r5 CRITICAL (alpine:3.9 (alpine 3.9.4))`` for a
    vulnerability (``→ no fix`` without one), ``DS-0002 Dockerfile HIGH (Image user should not be 'root')`` for a
    misconfiguration or a secret."""
    if f.kind == "vulnerability":
        return f"{f.id} {f.package} {f.installed} → {f.fixed or 'no fix'} {f.severity} ({f.target})"
    return f"{f.id} {f.package} {f.severity} ({f.title})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(name: str, result: GateResult) -> str:
    """A small Markdown section: counts by severity, the gate's verdict, the failing findings."""
    verdict = "✅ passed" if result.passed else f"❌ failed ({len(result.failing)} failing)"
    gated = ", ".join(result.severities) or "nothing"
    lines = [
        f"### Trivy {_cell(name)}: {verdict}",
        "",
        "| " + " | ".join(_DISPLAY_ORDER) + " |",
        "|" + "---:|" * len(_DISPLAY_ORDER),
        "| " + " | ".join(str(result.counts_by_severity.get(s, 0)) for s in _DISPLAY_ORDER) + " |",
        "",
        f"Gate on {gated}; ignored: {result.ignored_by_file} by the ignore file, {result.ignored_unfixed} unfixed.",
    ]
    if result.expired:
        lines += ["", *(f"- ignore entry `{_cell(e.id)}` expired on {e.expires}" for e in result.expired)]
    if result.failing:
        lines += [
            "",
            "| ID | kind | package | installed | fixed | severity | target | title |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(f.id)} | {f.kind} | {_cell(f.package)} | {_cell(f.installed)} | {_cell(f.fixed)} "
            f"| {f.severity} | {_cell(f.target)} | {_cell(f.title)} |"
            for f in result.failing
        ]
    return "\n".join(lines) + "\n"


_DB_DOWNLOAD = re.compile(r"failed to download vulnerability DB")
_DB_REPOSITORY = re.compile(r"failed to download artifact from (?P<repo>\S+?):?\s")
_FATAL = re.compile(r"\bFATAL\b\s*(?P<message>.*)")


def explain_failure(output: str) -> str:
    """One line on why Trivy failed, from its output: the vulnerability DB that could not be downloaded (and what
    to do), else Trivy's FATAL message, else its last line."""
    found = _DB_DOWNLOAD.search(output)
    if found is not None:
        named = _DB_REPOSITORY.search(output)
        repo = named.group("repo") if named is not None else "its DB repository"
        return (
            f"Trivy could not download its vulnerability DB from {repo} (no network or a blocked registry); "
            "give it a prepared DB: --trivy-db DIR (a Trivy cache folder holding db/trivy.db)"
        )
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in lines:
        fatal = _FATAL.search(line)
        if fatal is not None:
            return f"Trivy failed: {fatal.group('message')}"[:300]
    return f"Trivy failed: {lines[-1]}"[:300] if lines else "Trivy failed without output"
