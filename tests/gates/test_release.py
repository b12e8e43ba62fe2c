"""Release policy: tags, image tags, size budgets, release notes."""

from __future__ import annotations

import pytest

from jessy_ci.errors import UsageError
from jessy_ci.gates.release import (
    ReleaseTag,
    format_size,
    image_tags,
    parse_tag,
    release_markdown,
    size_gate,
)

# --- tags ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("v1.2", ReleaseTag(1, 2)),
        ("v0.0", ReleaseTag(0, 0)),
        ("v1.2.3", ReleaseTag(1, 2, 3)),
        ("v10.20.30", ReleaseTag(10, 20, 30)),
        ("v0.1.0", ReleaseTag(0, 1, 0)),
        ("v1.3.0-rc.1", ReleaseTag(1, 3, 0, "rc.1")),
        ("v1.3-beta", ReleaseTag(1, 3, None, "beta")),
        ("v1.0.0-alpha.beta.1", ReleaseTag(1, 0, 0, "alpha.beta.1")),
        ("v1.0.0-0.3.7", ReleaseTag(1, 0, 0, "0.3.7")),
        ("v1.0.0-x-y-z.--", ReleaseTag(1, 0, 0, "x-y-z.--")),
        ("v1.0.0-0a.01a", ReleaseTag(1, 0, 0, "0a.01a")),  # leading zeros are fine in alphanumeric identifiers
        ("v1.0.0-RC.1", ReleaseTag(1, 0, 0, "RC.1")),
    ],
)
def test_valid_tags(raw: str, expected: ReleaseTag) -> None:
    tag = parse_tag(raw)
    assert tag == expected
    assert tag.tag == raw
    assert str(tag) == raw
    assert tag.version == raw.removeprefix("v")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1.2",
        "v1",
        "v",
        "latest",
        "v1.2.3.4",
        "v1.2 ",
        " v1.2",
        "v1. 2",
        "v 1.2",
        "v01.2",
        "v1.02",
        "v1.2.03",
        "v1.2-",
        "v1.2.3-",
        "v1.2.3-rc..1",
        "v1.2.3-rc.",
        "v1.2.3-.rc",
        "v1.2.3-rc.01",  # numeric pre-release identifiers have no leading zeros
        "v1.2.3-rc_1",
        "v1.2.3+build.5",  # build metadata: '+' is not allowed in an image tag
        "V1.2",
        "v1.2\n",
        "v1.2.-1",
        "v\u0661.\u0662",  # Arabic-Indic digits are digits to \d, not to semver
        "v1.2.3-rc.1/evil",
    ],
)
def test_invalid_tags(raw: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_tag(raw)
    assert str(e.value) == f"--tag {raw!r}: expected vMAJOR.MINOR[.PATCH][-PRERELEASE], e.g. v1.2 or v1.3.0-rc.1"


def test_error_message_as_documented() -> None:
    with pytest.raises(UsageError, match=r"^--tag '1\.2': expected vMAJOR\.MINOR\[\.PATCH\]\[-PRERELEASE\], e\.g\. "):
        parse_tag("1.2")


def test_tag_longer_than_an_image_tag_may_be() -> None:
    parse_tag("v1.2.3-" + "a" * 121)  # 128 characters
    with pytest.raises(UsageError, match="129 characters, expected at most 128"):
        parse_tag("v1.2.3-" + "a" * 122)


@pytest.mark.parametrize(
    ("raw", "stable"), [("v1.2", True), ("v1.2.3", True), ("v1.3.0-rc.1", False), ("v2.0-1", False)]
)
def test_stable(raw: str, stable: bool) -> None:
    assert parse_tag(raw).stable is stable


# --- image tags ----------------------------------------------------------------------------------------------------


def test_image_tags_stable() -> None:
    assert image_tags(parse_tag("v1.2"), "3597015") == ["v1.2", "1.2", "sha-3597015", "latest"]
    assert image_tags(parse_tag("v1.2.3"), "3597015a") == ["v1.2.3", "1.2.3", "sha-3597015a", "latest"]


def test_image_tags_prerelease_never_moves_latest() -> None:
    assert image_tags(parse_tag("v1.3.0-rc.1"), "d0cfb72") == ["v1.3.0-rc.1", "1.3.0-rc.1", "sha-d0cfb72"]


def test_image_tags_full_commit() -> None:
    commit = "d0cfb72" + "0" * 33
    assert image_tags(parse_tag("v1.2"), commit)[2] == f"sha-{commit}"


@pytest.mark.parametrize("commit", ["", "abc123", "D0CFB72", "d0cfb7g", "d0cfb72 ", "0" * 41, "HEAD", "sha-d0cfb72"])
def test_image_tags_bad_commit(commit: str) -> None:
    with pytest.raises(UsageError) as e:
        image_tags(parse_tag("v1.2"), commit)
    assert str(e.value) == f"commit {commit!r}: expected 7 to 40 lowercase hex digits (git rev-parse --short)"


# --- sizes ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (45_300, "45.3 kB"),
        (999_949, "999.9 kB"),
        (1_000_000, "1.0 MB"),
        (123_400_000, "123.4 MB"),
        (999_900_000, "999.9 MB"),
        (1_000_000_000, "1.00 GB"),
        (1_250_000_000, "1.25 GB"),
    ],
)
def test_format_size(n: int, text: str) -> None:
    assert format_size(n) == text


def test_size_gate_boundaries() -> None:
    budgets = {"jessy-core": 100, "jessy-api": 25.5}
    assert size_gate({"jessy-core": 100_000_000, "jessy-api": 25_500_000}, budgets) == []  # equal passes
    assert size_gate({"jessy-core": 99_999_999, "jessy-api": 1}, budgets) == []
    assert size_gate({"jessy-core": 100_000_001, "jessy-api": 25_500_001}, budgets) == [
        "image jessy-core: 100.0 MB > budget 100 MB",
        "image jessy-api: 25.5 MB > budget 25.5 MB",
    ]


def test_size_gate_message() -> None:
    assert size_gate({"jessy-core": 123_400_000}, {"jessy-core": 100}) == ["image jessy-core: 123.4 MB > budget 100 MB"]


def test_size_gate_fractional_budget_is_exact() -> None:
    # 0.3 * 1_000_000 is 300000.00000000006 in floating point: the budget is 300000 bytes
    assert size_gate({"tiny": 300_000}, {"tiny": 0.3}) == []
    assert size_gate({"tiny": 300_001}, {"tiny": 0.3}) == ["image tiny: 300.0 kB > budget 0.3 MB"]


def test_size_gate_without_budget_does_not_gate() -> None:
    assert size_gate({"jessy-core": 10**12}, {}) == []
    assert size_gate({"jessy-core": 10**12}, {"jessy-api": 1}) == []
    assert size_gate({}, {"jessy-api": 1}) == []  # a budget for an image not built this time


@pytest.mark.parametrize("budget", [0, -1, float("nan"), float("inf")])
def test_size_gate_bad_budget(budget: float) -> None:
    with pytest.raises(UsageError, match=r"size budget of image jessy-core: .*expected a positive number of MB"):
        size_gate({"jessy-core": 1}, {"jessy-core": budget})


# --- release notes -------------------------------------------------------------------------------------------------

CORE_DIGEST = "sha256:" + "a" * 64
API_DIGEST = "sha256:" + "b" * 64
REFS = {
    "jessy-core": [f"ghcr.io/acme/jessy-core:{t}@{CORE_DIGEST}" for t in ("v1.2", "1.2", "sha-d0cfb72", "latest")],
    "jessy-api": [f"ghcr.io/acme/jessy-api:{t}@{API_DIGEST}" for t in ("v1.2", "1.2", "sha-d0cfb72", "latest")],
}
SIZES = {"jessy-core": 38_200_000, "jessy-api": 21_400_000}
SCANS = {"jessy-core": {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 3}, "jessy-api": {"LOW": 2}}


def test_release_markdown_lists_every_reference_with_its_digest() -> None:
    text = release_markdown("v1.2", REFS, SIZES, SCANS)
    lines = text.splitlines()
    assert lines[0] == "# Release v1.2"
    assert text.endswith("\n")
    for image, refs in REFS.items():
        for ref in refs:
            name, digest = ref.split("@")
            assert f"| {image} | `{name}` | `{digest}` |" in lines
    assert sum(line.startswith("| jessy-") and "`ghcr.io/" in line for line in lines) == 8


def test_release_markdown_image_table() -> None:
    lines = release_markdown("v1.2", REFS, SIZES, SCANS).splitlines()
    assert "| image | size | CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN |" in lines
    assert "| jessy-core | 38.2 MB | 0 | 1 | 3 | 0 | 0 |" in lines
    assert "| jessy-api | 21.4 MB | 0 | 0 | 0 | 2 | 0 |" in lines
    # images in the order of refs
    assert lines.index("| jessy-core | 38.2 MB | 0 | 1 | 3 | 0 | 0 |") < lines.index(
        "| jessy-api | 21.4 MB | 0 | 0 | 0 | 2 | 0 |"
    )


def test_release_markdown_missing_data_is_visible() -> None:
    text = release_markdown("v1.3.0-rc.1", {"jessy-core": ["ghcr.io/acme/jessy-core:v1.3.0-rc.1"]}, {}, {})
    assert "| jessy-core | not measured | not scanned | not scanned | not scanned | not scanned | not scanned |" in text
    assert "| jessy-core | `ghcr.io/acme/jessy-core:v1.3.0-rc.1` | no digest reported |" in text


def test_release_markdown_nothing_pushed() -> None:
    text = release_markdown("v1.2", {}, SIZES, SCANS)
    assert "| (none) | nothing was pushed | |" in text
    assert "| jessy-core | 38.2 MB |" in text
