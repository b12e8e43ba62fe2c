"""One list of what jessy-ci never looks into, read the same way by the Dagger upload, Trivy and the secret scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from jessy_ci.ignored import PATTERNS, is_ignored
from jessy_ci.runners.dagger import SOURCE_IGNORE
from jessy_ci.secretscan import tracked_files
from jessy_ci.toolchains import trivy


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".git", True),
        ("services/jessy-core/target", True),
        ("services/jessy-core/target/debug/x", True),
        ("ci/sdk", True),
        ("ci/sdk/runtime/main.go", True),
        ("sdk", False),
        ("ci/src/jessy_ci/main.py", False),
        ("services/jessy-api/bin", True),
        ("reports/summary.md", True),
        ("tests/reports.py", False),
    ],
)
def test_patterns_are_read_as_the_upload_reads_them(path: str, ignored: bool) -> None:
    assert is_ignored(path) is ignored


def test_every_reader_uses_the_same_list() -> None:
    assert list(PATTERNS) == SOURCE_IGNORE
    scan = trivy.fs_scan(".", "out.json", trivy.ALL_SCANNERS)
    assert [scan[i + 1] for i, arg in enumerate(scan) if arg == "--skip-dirs"] == list(PATTERNS)


def test_the_secret_scan_without_git_walks_everything_but_the_ignored(tmp_path: Path) -> None:
    for rel in ("a.txt", "src/b.py", "services/x/target/c", "ci/sdk/d", "node/e"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert tracked_files(tmp_path) == ["a.txt", "node/e", "src/b.py"]
