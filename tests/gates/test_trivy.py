"""Trivy gate on real Trivy 0.76.0 reports committed in tests/samples/trivy (scripts/make_trivy_samples.py writes
them, offline, from fixtures it builds: a fake Debian 12 root filesystem, a Dockerfile, fake credentials)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

import pytest

from jessy_ci.errors import UsageError
from jessy_ci.gates.secrets import scan_file
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
from jessy_ci.toolchains.trivy import TRIVY_VERSION
from tests.conftest import SAMPLES, TRIVY_SAMPLES

TODAY = date(2025, 6, 1)
NO_IGNORES = IgnoreRules()


REPORTS = ["debian-clean.json", "debian-critical.json", "dockerfile.json", "secrets.json"]
TARGET = "rootfs (debian 12.11)"


def load(name: str) -> list[Finding]:
    return parse_report((TRIVY_SAMPLES / name).read_bytes(), name)


def raw_json(name: str) -> Any:
    return json.loads((TRIVY_SAMPLES / name).read_bytes())


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


@pytest.mark.parametrize("name", [*REPORTS, "debian-critical.sarif"])
def test_samples_come_from_the_pinned_trivy(name: str) -> None:
    report = raw_json(name)
    version = report["runs"][0]["tool"]["driver"]["version"] if "runs" in report else report["Trivy"]["Version"]
    assert version == TRIVY_VERSION  # regenerate with scripts/make_trivy_samples.py after a Trivy upgrade


@pytest.mark.parametrize("name", REPORTS)
def test_counts_by_severity_match_the_json(name: str) -> None:
    result = run(load(name), "CRITICAL")
    expected = independent_counts(raw_json(name))
    assert {k: v for k, v in result.counts_by_severity.items() if v} == dict(expected)
    assert list(result.counts_by_severity) == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]


def test_debian_critical_numbers_read_by_hand() -> None:
    # 3 CRITICAL (CVE-2099-1001 in libc-bin and libc6, fixed; CVE-2099-1002 in libssl3, unfixed), 1 HIGH
    # (CVE-2099-1003 in libssl3), 1 MEDIUM (CVE-2099-1004 in zlib1g), 2 LOW (CVE-2099-1005 in libc-bin and libc6,
    # unfixed); glibc, openssl and zlib are the source packages the advisories name
    findings = load("debian-critical.json")
    assert Counter(f.severity for f in findings) == {"CRITICAL": 3, "HIGH": 1, "MEDIUM": 1, "LOW": 2}
    libc6 = next(f for f in findings if (f.id, f.package) == ("CVE-2099-1001", "libc6"))
    assert libc6 == Finding(
        kind="vulnerability",
        id="CVE-2099-1001",
        package="libc6",
        installed="2.36-9+deb12u10",
        fixed="2.36-9+deb12u11",
        severity="CRITICAL",
        target=TARGET,
        title="glibc: heap overflow in the test DB",
    )
    assert describe(libc6) == "CVE-2099-1001 libc6 2.36-9+deb12u10 → 2.36-9+deb12u11 CRITICAL (rootfs (debian 12.11))"
    assert {(f.id, f.package, f.fixed) for f in findings if f.severity != "CRITICAL"} == {
        ("CVE-2099-1003", "libssl3", "3.0.17-1~deb12u1"),
        ("CVE-2099-1004", "zlib1g", "1:1.2.13.dfsg-1+deb12u1"),
        ("CVE-2099-1005", "libc-bin", ""),
        ("CVE-2099-1005", "libc6", ""),
    }


def test_debian_clean_has_no_critical_or_high() -> None:
    findings = load("debian-clean.json")
    assert Counter(f.severity for f in findings) == {"MEDIUM": 2, "LOW": 2}
    assert {(f.id, f.package) for f in findings} == {
        ("CVE-2099-2001", "libssl3"),
        ("CVE-2099-2002", "zlib1g"),
        ("CVE-2099-2003", "libc-bin"),
        ("CVE-2099-2003", "libc6"),
    }
    assert all(f.fixed for f in findings)


def test_misconfigurations() -> None:
    findings = load("dockerfile.json")
    # a line when Trivy gives one (the FROM :latest, the ADD), the file alone for a missing instruction
    assert [(f.kind, f.id, f.package, f.severity) for f in findings] == [
        ("misconfiguration", "DS-0001", "Dockerfile:1", "MEDIUM"),
        ("misconfiguration", "DS-0002", "Dockerfile", "HIGH"),
        ("misconfiguration", "DS-0005", "Dockerfile:2", "LOW"),
        ("misconfiguration", "DS-0026", "Dockerfile", "LOW"),
    ]
    root = findings[1]
    assert root.target == "Dockerfile"
    assert root.title == "Image user should not be 'root'"
    assert (root.installed, root.fixed, root.aliases) == ("", "", ())
    assert describe(root) == "DS-0002 Dockerfile HIGH (Image user should not be 'root')"
    assert describe(findings[0]) == "DS-0001 Dockerfile:1 MEDIUM (':latest' tag used)"


def failed_ds_0002(report: Any) -> dict[str, Any]:
    return next(m for m in report["Results"][0]["Misconfigurations"] if m["ID"] == "DS-0002")


def test_misconfigurations_count_only_when_failed() -> None:
    report = raw_json("dockerfile.json")
    failed = failed_ds_0002(report)
    passed = {**failed, "ID": "DS-0001", "Status": "PASS"}
    excepted = {**failed, "ID": "DS-0005", "Status": "EXCEPTION"}
    report["Results"][0]["Misconfigurations"] = [passed, failed, excepted]
    findings = parse_report(json.dumps(report).encode(), "dockerfile.json")
    assert [f.id for f in findings] == ["DS-0002"]


def test_misconfiguration_avdid_and_line() -> None:
    # Older Trivy versions write ID DS002 and AVDID AVD-DS-0002; the cause may carry a line
    report = raw_json("dockerfile.json")
    m = failed_ds_0002(report)
    m.update(ID="DS002", AVDID="AVD-DS-0002", CauseMetadata={"StartLine": 4})
    report["Results"][0]["Misconfigurations"] = [m]
    [f] = parse_report(json.dumps(report).encode(), "old.json")
    assert (f.id, f.aliases, f.package) == ("DS002", ("AVD-DS-0002",), "Dockerfile:4")
    ignored = run([f], "HIGH", ignore=parse_ignore_file("AVD-DS-0002\n"))
    assert ignored.passed
    assert ignored.ignored_by_file == 1


def test_secrets() -> None:
    findings = load("secrets.json")
    assert [(f.kind, f.id, f.package, f.severity, f.title) for f in findings] == [
        ("secret", "aws-access-key-id", "deploy.sh:3", "CRITICAL", "AWS Access Key ID"),
        ("secret", "aws-secret-access-key", "deploy.sh:4", "CRITICAL", "AWS Secret Access Key"),
        ("secret", "github-pat", "deploy.sh:5", "CRITICAL", "GitHub Personal Access Token"),
        ("secret", "slack-access-token", "deploy.sh:6", "HIGH", "Slack token"),
    ]
    assert describe(findings[0]) == "aws-access-key-id deploy.sh:3 CRITICAL (AWS Access Key ID)"


def test_the_secret_sample_holds_only_masked_secrets() -> None:
    # Trivy masks what it found (in Match and in every line of Code), so the committed report trips no secret scan
    data = (TRIVY_SAMPLES / "secrets.json").read_bytes()
    for secret in raw_json("secrets.json")["Results"][0]["Secrets"]:
        assert "*" * 20 in secret["Match"]
    assert scan_file("tests/samples/trivy/secrets.json", data) == []


# --- verdicts ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "severities", "failing"),
    [
        ("debian-critical.json", "CRITICAL", 3),
        ("debian-critical.json", "CRITICAL,HIGH", 4),
        ("debian-critical.json", "HIGH", 1),
        ("debian-critical.json", "MEDIUM", 1),
        ("debian-critical.json", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL", 7),
        ("debian-clean.json", "CRITICAL", 0),
        ("debian-clean.json", "CRITICAL,HIGH", 0),
        ("debian-clean.json", "MEDIUM", 2),
        ("debian-clean.json", "medium,low", 4),
        ("dockerfile.json", "CRITICAL", 0),
        ("dockerfile.json", "HIGH", 1),
        ("dockerfile.json", "LOW", 2),
        ("secrets.json", "CRITICAL", 3),
        ("secrets.json", "critical, high", 4),
    ],
)
def test_verdict_per_severity_list(name: str, severities: str, failing: int) -> None:
    result = run(load(name), severities)
    assert len(result.failing) == failing
    assert result.passed == (failing == 0)
    assert {f.severity for f in result.failing} <= set(parse_severities(severities))


def test_debian_critical_fails_on_critical_and_high() -> None:
    result = run(load("debian-critical.json"), "CRITICAL,HIGH")
    assert not result.passed
    assert [(f.id, f.package) for f in result.failing] == [
        ("CVE-2099-1001", "libc-bin"),
        ("CVE-2099-1001", "libc6"),
        ("CVE-2099-1002", "libssl3"),
        ("CVE-2099-1003", "libssl3"),
    ]


def test_debian_clean_passes_on_critical_and_high() -> None:
    result = run(load("debian-clean.json"), "CRITICAL,HIGH")
    assert result.passed
    assert result.counts_by_severity == {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 2, "LOW": 2, "UNKNOWN": 0}


def test_ignore_unfixed_drops_only_vulnerabilities_without_fix() -> None:
    # Trivy writes an unfixed vulnerability with Status "affected" and no FixedVersion
    raw = {
        (v["VulnerabilityID"], v["PkgName"]): v
        for v in raw_json("debian-critical.json")["Results"][0]["Vulnerabilities"]
    }
    assert raw["CVE-2099-1002", "libssl3"]["Status"] == "affected"
    assert "FixedVersion" not in raw["CVE-2099-1002", "libssl3"]
    findings = load("debian-critical.json")
    unfixed = next(f for f in findings if f.id == "CVE-2099-1002")
    assert unfixed.fixed == ""
    assert describe(unfixed) == "CVE-2099-1002 libssl3 3.0.16-1~deb12u1 → no fix CRITICAL (rootfs (debian 12.11))"

    kept = run(findings, "CRITICAL", ignore_unfixed=False)
    assert len(kept.failing) == 3
    assert kept.ignored == 0
    dropped = run(findings, "CRITICAL", ignore_unfixed=True)
    assert [(f.id, f.package) for f in dropped.failing] == [("CVE-2099-1001", "libc-bin"), ("CVE-2099-1001", "libc6")]
    assert dropped.ignored_unfixed == 1
    assert dropped.counts_by_severity == kept.counts_by_severity  # counts cover every finding

    # at LOW only the unfixed CVE-2099-1005 (libc-bin, libc6) is found: both dropped, the gate passes
    low = run(findings, "LOW", ignore_unfixed=True)
    assert (low.passed, low.ignored_unfixed) == (True, 2)

    # misconfigurations and secrets have no fixed version and still count
    others = load("secrets.json") + load("dockerfile.json")
    assert len(run(others, "CRITICAL,HIGH", ignore_unfixed=True).failing) == 5


def test_ignore_unfixed_changes_nothing_when_every_finding_has_a_fix() -> None:
    findings = load("debian-clean.json")
    every = "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"
    assert run(findings, every, ignore_unfixed=True).failing == run(findings, every).failing
    assert len(run(findings, every, ignore_unfixed=True).failing) == 4


# --- ignore file ---------------------------------------------------------------------------------------------------

IGNORE_FILE = """\
# accepted until the glibc upgrade lands
CVE-2099-1001 exp:2025-07-01

   # indented comment
CVE-2099-1002
CVE-2099-1003 exp:2025-07-01
aws-access-key-id exp:2025-06-01 a note after the ID
aws-secret-access-key exp:2025-06-01
github-pat   exp:2025-05-31
slack-access-token
"""


def test_parse_ignore_file() -> None:
    rules = parse_ignore_file(IGNORE_FILE)
    assert rules.entries == (
        IgnoreEntry("CVE-2099-1001", date(2025, 7, 1), 2),
        IgnoreEntry("CVE-2099-1002", None, 5),
        IgnoreEntry("CVE-2099-1003", date(2025, 7, 1), 6),
        IgnoreEntry("aws-access-key-id", date(2025, 6, 1), 7),
        IgnoreEntry("aws-secret-access-key", date(2025, 6, 1), 8),
        IgnoreEntry("github-pat", date(2025, 5, 31), 9),
        IgnoreEntry("slack-access-token", None, 10),
    )
    # an entry stops ignoring on its expiry date, as in Trivy
    never = {"CVE-2099-1002", "slack-access-token"}
    july = {"CVE-2099-1001", "CVE-2099-1003"}
    assert rules.active_ids(date(2025, 5, 31)) == never | july | {"aws-access-key-id", "aws-secret-access-key"}
    assert rules.active_ids(date(2025, 6, 1)) == never | july
    assert rules.active_ids(date(2030, 1, 1)) == never


@pytest.mark.parametrize("text", ["", "\n\n", "# only comments\n  # and more\n"])
def test_empty_ignore_file(text: str) -> None:
    assert parse_ignore_file(text) == IgnoreRules()


@pytest.mark.parametrize("field", ["exp:2025-13-01", "exp:tomorrow", "exp:2025-6-1", "exp:"])
def test_unreadable_expiry_is_a_usage_error(field: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_ignore_file(f"# header\nCVE-2099-1001 {field}\n", source="ci/.trivyignore")
    assert str(e.value) == f"ci/.trivyignore line 2: {field!r}: expected exp:YYYY-MM-DD"


def test_ignore_file_in_the_gate() -> None:
    findings = load("debian-critical.json") + load("secrets.json")
    rules = parse_ignore_file(IGNORE_FILE)

    result = run(findings, "CRITICAL,HIGH", ignore=rules, today=TODAY)
    # CVE-2099-1001 (2 packages) and CVE-2099-1003 ignored until July, CVE-2099-1002 and the slack token for good;
    # both aws entries expired today, github-pat yesterday
    secrets = ["aws-access-key-id", "aws-secret-access-key", "github-pat"]
    assert [f.id for f in result.failing] == secrets
    assert result.ignored_by_file == 5
    assert [e.id for e in result.expired] == secrets
    assert "- ignore entry `github-pat` expired on 2025-05-31" in summary_markdown("all", result).splitlines()

    earlier = run(findings, "CRITICAL,HIGH", ignore=rules, today=date(2025, 5, 1))
    assert earlier.passed
    assert earlier.ignored_by_file == 8
    assert earlier.expired == ()

    later = run(findings, "CRITICAL,HIGH", ignore=rules, today=date(2025, 7, 1))
    assert [f.id for f in later.failing] == ["CVE-2099-1001", "CVE-2099-1001", "CVE-2099-1003", *secrets]
    assert later.ignored_by_file == 2


def test_ignore_file_counts_only_at_gated_severities() -> None:
    # CVE-2099-1004 is MEDIUM: gating on CRITICAL it is not counted as ignored
    result = run(load("debian-critical.json"), "CRITICAL", ignore=parse_ignore_file("CVE-2099-1004\n"))
    assert result.ignored_by_file == 0
    assert len(result.failing) == 3


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


def test_sarif_is_not_a_trivy_json_report() -> None:
    with pytest.raises(UsageError) as e:
        load("debian-critical.sarif")
    expected = "not a Trivy report: expected a JSON object with SchemaVersion and Results"
    assert str(e.value) == f"debian-critical.sarif: {expected}"


def test_the_sarif_sample_is_the_json_report_converted() -> None:
    sarif = raw_json("debian-critical.sarif")
    [converted] = sarif["runs"]
    driver = converted["tool"]["driver"]
    assert (sarif["version"], driver["name"]) == ("2.1.0", "Trivy")
    findings = load("debian-critical.json")
    assert [r["ruleId"] for r in converted["results"]] == [f.id for f in findings]
    assert [r["id"] for r in driver["rules"]] == list(dict.fromkeys(f.id for f in findings))
    # Trivy's SARIF levels: CRITICAL and HIGH are errors, MEDIUM a warning, LOW a note
    levels = {r["ruleId"]: r["level"] for r in converted["results"]}
    assert levels == {
        "CVE-2099-1001": "error",
        "CVE-2099-1002": "error",
        "CVE-2099-1003": "error",
        "CVE-2099-1004": "warning",
        "CVE-2099-1005": "note",
    }


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


def test_summary_markdown_failing() -> None:
    result = run(load("debian-critical.json"), "CRITICAL,HIGH")
    text = summary_markdown("jessy-core", result)
    lines = text.splitlines()
    assert lines[0] == "### Trivy jessy-core: ❌ failed (4 failing)"
    assert "| CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN |" in lines
    assert "| 3 | 1 | 1 | 2 | 0 |" in lines
    assert "Gate on CRITICAL, HIGH; ignored: 0 by the ignore file, 0 unfixed." in lines
    rows = [line for line in lines if line.startswith("| CVE-")]
    assert len(rows) == 4
    fixed = "| CVE-2099-1001 | vulnerability | libc-bin | 2.36-9+deb12u10 | 2.36-9+deb12u11 | CRITICAL |"
    assert rows[0].startswith(f"{fixed} rootfs (debian 12.11) | glibc: heap overflow in the test DB |")
    assert rows[2].startswith("| CVE-2099-1002 | vulnerability | libssl3 | 3.0.16-1~deb12u1 |  | CRITICAL |")


def test_summary_markdown_passing_and_expired() -> None:
    rules = parse_ignore_file("CVE-2099-1001 exp:2025-01-01\nslack-access-token\n")
    result = run(load("debian-clean.json") + load("secrets.json"), "HIGH", ignore=rules)
    assert result.passed
    text = summary_markdown("jessy-api", result)
    assert text.startswith("### Trivy jessy-api: ✅ passed\n")
    assert "| 3 | 1 | 2 | 2 | 0 |" in text
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
    stderr = (SAMPLES / "trivy-db-download-failure.stderr").read_text()
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
