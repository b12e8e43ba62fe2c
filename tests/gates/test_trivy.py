"""Trivy gate on real reports from Trivy's own integration tests (read from $JESSY_SAMPLES_DIR/trivy)."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from jessy_ci.errors import UsageError
from jessy_ci.gates.trivy import (
    Finding,
    GateResult,
    IgnoreEntry,
    IgnoreRules,
    describe,
    explain_failure,
    gate,
    parse_ignore_file,
    parse_report,
    parse_severities,
    summary_markdown,
)

TODAY = date(2025, 6, 1)
NO_IGNORES = IgnoreRules()


@pytest.fixture(scope="module")
def samples() -> Path:
    root = os.environ.get("JESSY_SAMPLES_DIR")
    if not root:
        pytest.skip("JESSY_SAMPLES_DIR not set: the Trivy sample reports live in ../shared/samples/trivy")
    return Path(root) / "trivy"


def load(samples: Path, name: str) -> list[Finding]:
    return parse_report((samples / name).read_bytes(), name)


def raw_json(samples: Path, name: str) -> Any:
    return json.loads((samples / name).read_bytes())


def independent_counts(report: Any) -> Counter[str]:
    """Severities counted straight from the JSON, for comparison with the parser."""
    counts: Counter[str] = Counter()
    results: list[Any] = report.get("Results") or []
    for result in results:
        vulnerabilities: list[Any] = result.get("Vulnerabilities") or []
        misconfigurations: list[Any] = result.get("Misconfigurations") or []
        secrets: list[Any] = result.get("Secrets") or []
        counts.update(v["Severity"] for v in vulnerabilities)
        counts.update(m["Severity"] for m in misconfigurations if m["Status"] == "FAIL")
        counts.update(s["Severity"] for s in secrets)
    return counts


def run(findings: list[Finding], severities: str, **kw: Any) -> GateResult:
    kw.setdefault("ignore_unfixed", False)
    kw.setdefault("ignore", NO_IGNORES)
    kw.setdefault("today", TODAY)
    return gate(findings, severities=parse_severities(severities), **kw)


# --- parsing the real reports --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alpine-310.json", "alpine-39.json", "dockerfile.json", "secrets.json"])
def test_counts_by_severity_match_the_json(samples: Path, name: str) -> None:
    result = run(load(samples, name), "CRITICAL")
    expected = independent_counts(raw_json(samples, name))
    assert {k: v for k, v in result.counts_by_severity.items() if v} == dict(expected)
    assert list(result.counts_by_severity) == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]


def test_alpine_39_numbers_read_by_hand(samples: Path) -> None:
    # 4 MEDIUM (openssl in libcrypto1.1/libssl1.1) and 2 CRITICAL (CVE-2019-14697 in musl, musl-utils)
    findings = load(samples, "alpine-39.json")
    assert Counter(f.severity for f in findings) == {"MEDIUM": 4, "CRITICAL": 2}
    musl = next(f for f in findings if f.package == "musl")
    assert musl == Finding(
        kind="vulnerability",
        id="CVE-2019-14697",
        package="musl",
        installed="1.1.20-r4",
        fixed="1.1.20-r5",
        severity="CRITICAL",
        target="testdata/fixtures/images/alpine-39.tar.gz (alpine 3.9.4)",
        title="",
    )
    assert describe(musl) == (
        "CVE-2019-14697 musl 1.1.20-r4 → 1.1.20-r5 CRITICAL (testdata/fixtures/images/alpine-39.tar.gz (alpine 3.9.4))"
    )


def test_alpine_310_has_only_medium(samples: Path) -> None:
    findings = load(samples, "alpine-310.json")
    assert Counter(f.severity for f in findings) == {"MEDIUM": 4}
    assert {(f.id, f.package) for f in findings} == {
        ("CVE-2019-1549", "libcrypto1.1"),
        ("CVE-2019-1551", "libcrypto1.1"),
        ("CVE-2019-1549", "libssl1.1"),
        ("CVE-2019-1551", "libssl1.1"),
    }


def test_misconfiguration(samples: Path) -> None:
    [f] = load(samples, "dockerfile.json")
    assert (f.kind, f.id, f.severity) == ("misconfiguration", "DS-0002", "HIGH")
    assert (f.package, f.target) == ("Dockerfile", "Dockerfile")
    assert f.title == "Image user should not be 'root'"
    assert (f.installed, f.fixed) == ("", "")
    assert describe(f) == "DS-0002 Dockerfile HIGH (Image user should not be 'root')"


def test_misconfigurations_count_only_when_failed(samples: Path) -> None:
    report = raw_json(samples, "dockerfile.json")
    failed = report["Results"][0]["Misconfigurations"][0]
    passed = {**failed, "ID": "DS-0001", "Status": "PASS"}
    excepted = {**failed, "ID": "DS-0005", "Status": "EXCEPTION"}
    report["Results"][0]["Misconfigurations"] = [passed, failed, excepted]
    findings = parse_report(json.dumps(report).encode(), "dockerfile.json")
    assert [f.id for f in findings] == ["DS-0002"]


def test_misconfiguration_avdid_and_line(samples: Path) -> None:
    # Older Trivy versions write ID DS002 and AVDID AVD-DS-0002; the cause may carry a line
    report = raw_json(samples, "dockerfile.json")
    m = report["Results"][0]["Misconfigurations"][0]
    m.update(ID="DS002", AVDID="AVD-DS-0002", CauseMetadata={"StartLine": 4})
    [f] = parse_report(json.dumps(report).encode(), "old.json")
    assert (f.id, f.aliases, f.package) == ("DS002", ("AVD-DS-0002",), "Dockerfile:4")
    ignored = run([f], "HIGH", ignore=parse_ignore_file("AVD-DS-0002\n"))
    assert ignored.passed
    assert ignored.ignored_by_file == 1


def test_secrets(samples: Path) -> None:
    findings = load(samples, "secrets.json")
    assert [(f.kind, f.id, f.package, f.severity, f.title) for f in findings] == [
        ("secret", "aws-access-key-id", "deploy.sh:3", "CRITICAL", "AWS Access Key ID"),
        ("secret", "mysecret", "deploy.sh:7", "HIGH", "My Secret"),
    ]
    assert describe(findings[0]) == "aws-access-key-id deploy.sh:3 CRITICAL (AWS Access Key ID)"


# --- verdicts ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "severities", "failing"),
    [
        ("alpine-39.json", "CRITICAL", 2),
        ("alpine-39.json", "CRITICAL,HIGH", 2),
        ("alpine-39.json", "HIGH", 0),
        ("alpine-39.json", "MEDIUM", 4),
        ("alpine-39.json", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL", 6),
        ("alpine-310.json", "CRITICAL", 0),
        ("alpine-310.json", "CRITICAL,HIGH", 0),
        ("alpine-310.json", "MEDIUM", 4),
        ("dockerfile.json", "CRITICAL", 0),
        ("dockerfile.json", "HIGH", 1),
        ("secrets.json", "CRITICAL", 1),
        ("secrets.json", "critical, high", 2),
    ],
)
def test_verdict_per_severity_list(samples: Path, name: str, severities: str, failing: int) -> None:
    result = run(load(samples, name), severities)
    assert len(result.failing) == failing
    assert result.passed == (failing == 0)
    assert {f.severity for f in result.failing} <= set(parse_severities(severities))


def test_alpine_39_fails_on_critical_with_the_musl_findings(samples: Path) -> None:
    result = run(load(samples, "alpine-39.json"), "CRITICAL,HIGH")
    assert not result.passed
    assert [(f.id, f.package) for f in result.failing] == [
        ("CVE-2019-14697", "musl"),
        ("CVE-2019-14697", "musl-utils"),
    ]


def test_ignore_unfixed_drops_only_vulnerabilities_without_fix(samples: Path) -> None:
    # Every vulnerability of the samples has a fix: clear one to make it unfixed
    report = raw_json(samples, "alpine-39.json")
    for v in report["Results"][0]["Vulnerabilities"]:
        if v["PkgName"] == "musl-utils":
            del v["FixedVersion"]
    findings = parse_report(json.dumps(report).encode(), "alpine-39.json")
    unfixed = next(f for f in findings if f.package == "musl-utils")
    assert unfixed.fixed == ""
    assert describe(unfixed).startswith("CVE-2019-14697 musl-utils 1.1.20-r4 → no fix CRITICAL")

    kept = run(findings, "CRITICAL", ignore_unfixed=False)
    assert len(kept.failing) == 2
    assert kept.ignored == 0
    dropped = run(findings, "CRITICAL", ignore_unfixed=True)
    assert [f.package for f in dropped.failing] == ["musl"]
    assert dropped.ignored_unfixed == 1
    assert dropped.counts_by_severity == kept.counts_by_severity  # counts cover every finding

    # misconfigurations and secrets have no fixed version and still count
    others = load(samples, "secrets.json") + load(samples, "dockerfile.json")
    assert len(run(others, "CRITICAL,HIGH", ignore_unfixed=True).failing) == 3


def test_ignore_unfixed_on_real_reports_changes_nothing(samples: Path) -> None:
    findings = load(samples, "alpine-39.json")
    assert run(findings, "CRITICAL", ignore_unfixed=True).failing == run(findings, "CRITICAL").failing


# --- ignore file ---------------------------------------------------------------------------------------------------

IGNORE_FILE = """\
# accepted until the musl upgrade lands
CVE-2019-14697 exp:2025-07-01

   # indented comment
CVE-2019-1549
aws-access-key-id exp:2025-06-01 a note after the ID
mysecret   exp:2025-05-31
"""


def test_parse_ignore_file() -> None:
    rules = parse_ignore_file(IGNORE_FILE)
    assert rules.entries == (
        IgnoreEntry("CVE-2019-14697", date(2025, 7, 1), 2),
        IgnoreEntry("CVE-2019-1549", None, 5),
        IgnoreEntry("aws-access-key-id", date(2025, 6, 1), 6),
        IgnoreEntry("mysecret", date(2025, 5, 31), 7),
    )
    # an entry stops ignoring on its expiry date, as in Trivy
    assert rules.active_ids(date(2025, 5, 31)) == {"CVE-2019-14697", "CVE-2019-1549", "aws-access-key-id"}
    assert rules.active_ids(date(2025, 6, 1)) == {"CVE-2019-14697", "CVE-2019-1549"}
    assert rules.active_ids(date(2030, 1, 1)) == {"CVE-2019-1549"}


@pytest.mark.parametrize("text", ["", "\n\n", "# only comments\n  # and more\n"])
def test_empty_ignore_file(text: str) -> None:
    assert parse_ignore_file(text) == IgnoreRules()


@pytest.mark.parametrize("field", ["exp:2025-13-01", "exp:tomorrow", "exp:2025-6-1", "exp:"])
def test_unreadable_expiry_is_a_usage_error(field: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_ignore_file(f"# header\nCVE-2019-14697 {field}\n", source="ci/.trivyignore")
    assert str(e.value) == f"ci/.trivyignore line 2: {field!r}: expected exp:YYYY-MM-DD"


def test_ignore_file_in_the_gate(samples: Path) -> None:
    findings = load(samples, "alpine-39.json") + load(samples, "secrets.json")
    rules = parse_ignore_file(IGNORE_FILE)

    result = run(findings, "CRITICAL,HIGH", ignore=rules, today=TODAY)
    # musl CVE (2 packages) ignored until July; aws key expired today; mysecret expired yesterday
    assert [f.id for f in result.failing] == ["aws-access-key-id", "mysecret"]
    assert result.ignored_by_file == 2
    assert [e.id for e in result.expired] == ["aws-access-key-id", "mysecret"]
    assert "- ignore entry `mysecret` expired on 2025-05-31" in summary_markdown("all", result).splitlines()

    earlier = run(findings, "CRITICAL,HIGH", ignore=rules, today=date(2025, 5, 1))
    assert earlier.passed
    assert earlier.ignored_by_file == 4
    assert earlier.expired == ()

    later = run(findings, "CRITICAL,HIGH", ignore=rules, today=date(2025, 7, 1))
    assert len(later.failing) == 4


def test_ignore_file_counts_only_at_gated_severities(samples: Path) -> None:
    # CVE-2019-1549 is MEDIUM: gating on CRITICAL it is not counted as ignored
    result = run(load(samples, "alpine-39.json"), "CRITICAL", ignore=parse_ignore_file("CVE-2019-1549\n"))
    assert result.ignored_by_file == 0
    assert len(result.failing) == 2


def test_ignore_file_takes_precedence_over_unfixed() -> None:
    f = Finding("vulnerability", "CVE-1", "pkg", "1.0", "", "HIGH", "img", "")
    result = run([f], "HIGH", ignore_unfixed=True, ignore=parse_ignore_file("CVE-1"))
    assert (result.ignored_by_file, result.ignored_unfixed, result.ignored) == (1, 0, 1)


# --- severities ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CRITICAL", ("CRITICAL",)),
        ("CRITICAL,HIGH", ("CRITICAL", "HIGH")),
        ("high, critical", ("CRITICAL", "HIGH")),
        (" Medium ,LOW,medium", ("MEDIUM", "LOW")),
        ("UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL", ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")),
    ],
)
def test_parse_severities(raw: str, expected: tuple[str, ...]) -> None:
    assert parse_severities(raw) == expected


@pytest.mark.parametrize("raw", ["", " ", "BAD", "CRITICAL,BAD", "CRITICAL,", "CRITICAL;HIGH", "SEVERE"])
def test_bad_severities(raw: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_severities(raw)
    expected = "expected a comma-separated list of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL"
    assert str(e.value) == f"--severity {raw!r}: {expected}"


def test_gate_rejects_unparsed_severities() -> None:
    with pytest.raises(ValueError, match="critical"):
        gate([], severities=["critical"], ignore_unfixed=False, ignore=NO_IGNORES, today=TODAY)


# --- bad input -----------------------------------------------------------------------------------------------------


def test_sarif_is_not_a_trivy_json_report(samples: Path) -> None:
    with pytest.raises(UsageError) as e:
        load(samples, "alpine-310.sarif")
    assert str(e.value) == "alpine-310.sarif: not a Trivy report: expected a JSON object with SchemaVersion and Results"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "scan/core.json: not valid JSON"),
        (b"<html>502</html>", "scan/core.json: not valid JSON"),
        (b"\xff\xfe\xfa", "scan/core.json: not valid JSON"),
        (b"[]", "scan/core.json: not a Trivy report: expected a JSON object with SchemaVersion and Results"),
        (b'{"runs": []}', "scan/core.json: not a Trivy report: expected a JSON object with SchemaVersion and Results"),
        (b'{"SchemaVersion": 2, "Results": {}}', "scan/core.json: Results is not a list of objects"),
        (b'{"Results": [{"Vulnerabilities": [1]}]}', "scan/core.json: Vulnerabilities is not a list of objects"),
    ],
)
def test_bad_reports(data: bytes, message: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_report(data, "scan/core.json")
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("data", [b'{"SchemaVersion": 2}', b'{"SchemaVersion": 2, "Results": null}'])
def test_clean_scan_without_results(data: bytes) -> None:
    assert parse_report(data, "clean.json") == []
    assert run([], "CRITICAL").passed


def test_unknown_or_missing_severity_counts_as_unknown() -> None:
    data = b'{"Results": [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "X", "Severity": "SEVERE"}, {}]}]}'
    findings = parse_report(data, "odd.json")
    assert [f.severity for f in findings] == ["UNKNOWN", "UNKNOWN"]
    assert len(run(findings, "UNKNOWN").failing) == 2


# --- summary -------------------------------------------------------------------------------------------------------


def test_summary_markdown_failing(samples: Path) -> None:
    result = run(load(samples, "alpine-39.json"), "CRITICAL,HIGH")
    text = summary_markdown("jessy-core", result)
    lines = text.splitlines()
    assert lines[0] == "### Trivy jessy-core: ❌ failed (2 failing)"
    assert "| CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN |" in lines
    assert "| 2 | 0 | 4 | 0 | 0 |" in lines
    assert "Gate on CRITICAL, HIGH; ignored: 0 by the ignore file, 0 unfixed." in lines
    rows = [line for line in lines if line.startswith("| CVE-")]
    assert len(rows) == 2
    assert rows[0].startswith("| CVE-2019-14697 | vulnerability | musl | 1.1.20-r4 | 1.1.20-r5 | CRITICAL |")


def test_summary_markdown_passing_and_expired(samples: Path) -> None:
    rules = parse_ignore_file("CVE-2019-14697 exp:2025-01-01\nmysecret\n")
    result = run(load(samples, "alpine-310.json") + load(samples, "secrets.json"), "HIGH", ignore=rules)
    assert result.passed
    text = summary_markdown("jessy-api", result)
    assert text.startswith("### Trivy jessy-api: ✅ passed\n")
    assert "| 1 | 1 | 4 | 0 | 0 |" in text
    assert "ignored: 1 by the ignore file" in text
    assert "expired" not in text  # the expired CVE entry matches nothing in these reports
    assert "| ID |" not in text


def test_summary_escapes_pipes() -> None:
    f = Finding("misconfiguration", "X-1", "a|b.tf", "", "", "HIGH", "a|b.tf", "use x | y")
    text = summary_markdown("n", run([f], "HIGH"))
    assert "a\\|b.tf" in text
    assert "use x \\| y" in text


def test_a_db_download_failure_is_explained_with_what_to_do() -> None:
    """Trivy 0.76's own stderr in a container without network (recorded on the engine here)."""
    stderr = (Path(__file__).resolve().parent.parent / "samples" / "trivy-db-download-failure.stderr").read_text()
    assert explain_failure(stderr) == (
        "Trivy could not download its vulnerability DB from mirror.gcr.io/aquasec/trivy-db:2 (no network or a "
        "blocked registry); give it a prepared DB: --trivy-db DIR (a Trivy cache folder holding db/trivy.db)"
    )


def test_other_trivy_failures_keep_trivys_own_words() -> None:
    assert explain_failure("INFO x\n2026 FATAL\tFatal error\tscan error: bad input\n") == (
        "Trivy failed: Fatal error\tscan error: bad input"
    )
    assert explain_failure("trivy not found on PATH: install it\n") == (
        "Trivy failed: trivy not found on PATH: install it"
    )
    assert explain_failure("") == "Trivy failed without output"
