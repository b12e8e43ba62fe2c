"""`python -m jessy_ci.secretscan`: the secret-scan lint step. Scans the files git tracks (or, without a .git
folder — a container's copy of the sources or a CI checkout — every file below the working directory), prints each
finding and exits 1 when there is one. Standard library only: it runs in a bare python image."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from jessy_ci import git
from jessy_ci.gates.secrets import scan
from jessy_ci.ignored import is_ignored


def tracked_files(root: Path) -> list[str]:
    """What git tracks, or without git every file but what jessy-ci never looks into."""
    tracked = git.tracked_files(root)
    if tracked is not None:
        return tracked
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        relative = Path(folder).relative_to(root)
        dirs[:] = sorted(d for d in dirs if not is_ignored((relative / d).as_posix()))
        found += [(relative / f).as_posix() for f in sorted(files)]
    return found


def _read(root: Path, paths: list[str]) -> Iterator[tuple[str, bytes]]:
    for path in paths:
        file = root / path
        if file.is_file() and not file.is_symlink():
            yield path, file.read_bytes()


def main(root: Path) -> int:
    paths = tracked_files(root)
    findings = scan(_read(root, paths))
    for finding in findings:
        print(finding.describe())
    print(f"secret scan: {len(paths)} files, {len(findings)} finding{'s' if len(findings) != 1 else ''}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
