"""Build a tiny, prepared Trivy vulnerability DB (schema 2) for offline scans in tests.

The Go program in ``tests/engine/trivydb`` writes ``<cache>/db/trivy.db`` (BoltDB) and ``<cache>/db/metadata.json``
from a list of advisories, so ``<cache>`` works as trivy's ``--cache-dir`` with ``--skip-db-update``. Each advisory
is ``{"id", "os", "package", "fixed_version", "severity", "title"}`` (``"description"`` optional); ``os`` is
Trivy's bucket name (``"debian 12"``), ``package`` the name its detector looks up (for Debian and Ubuntu the
*source* package: ``glibc`` for ``libc6``), and an empty ``fixed_version`` means unfixed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent / "engine" / "trivydb"
GO_FALLBACK = Path("/usr/local/go/bin/go")


def go_binary() -> str:
    """The go command: on PATH, else the standard install location; a clear error without Go."""
    found = shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.is_file() else None)
    if found is None:
        raise RuntimeError(f"go not found (PATH or {GO_FALLBACK}): it is needed to build the test Trivy DB")
    return found


def prepare_trivy_db(folder: Path, advisories: list[dict[str, str]]) -> Path:
    """Write ``advisories`` into a Trivy DB under ``folder`` and return the cache dir (the folder holding ``db/``)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "advisories.json"
    source.write_text(json.dumps(advisories, indent=2), encoding="utf-8")
    cache_dir = folder / "trivy-cache"
    command = [go_binary(), "run", ".", "-in", str(source), "-out", str(cache_dir)]
    try:
        subprocess.run(command, cwd=MODULE, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        raise RuntimeError(
            f"building the test Trivy DB failed ({' '.join(command)} in {MODULE}, exit {error.returncode}):\n"
            f"{error.stdout}{error.stderr}"
        ) from error
    return cache_dir
