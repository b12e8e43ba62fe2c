"""What jessy-ci never looks into: VCS data, build outputs, local environments, caches and reports. One list for the
repository uploaded to Dagger, Trivy's source scan and the secret scan. Standard library only (the secret scan runs
in a bare python image)."""

from __future__ import annotations

from fnmatch import fnmatchcase

# `**/name` is a folder of that name anywhere; any other pattern is a path from the repository root.
PATTERNS: tuple[str, ...] = (
    ".git",
    "**/target",
    "**/bin",
    "reports",
    ".jessy-ci",
    ".venv",
    "ci/.venv",
    "ci/sdk",
    "**/node_modules",
    "**/__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".import_linter_cache",
)


def is_ignored(path: str) -> bool:
    """Is this repository-relative path (a folder or a file) never looked into?"""
    parts = path.strip("/").split("/")
    for pattern in PATTERNS:
        if pattern.startswith("**/"):
            if pattern[3:] in parts:
                return True
        elif path.strip("/") == pattern or fnmatchcase(path.strip("/"), f"{pattern}/*"):
            return True
    return False
