"""Committed secrets: files that look like they hold one. Pure: (path, bytes) in, findings out.

Flagged: ``.env`` files (``.env``, ``.env.local``, … — ``.env.example`` is the documented template and allowed),
private key headers, and well-known token formats (GitHub, AWS access key ids, Slack). A finding names the file,
the line and the kind of secret, never the value.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

ALLOWED_ENV_FILES = (".env.example",)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("GitHub token", re.compile(r"\b(?:gh[opsur]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
)
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # 0: the file itself
    kind: str

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: looks like a committed {self.kind}"


def is_env_file(path: str) -> bool:
    name = posixpath.basename(path)
    return (name == ".env" or name.startswith(".env.")) and name not in ALLOWED_ENV_FILES


def scan_file(path: str, data: bytes) -> list[Finding]:
    findings = [Finding(path, 0, ".env file (commit .env.example instead)")] if is_env_file(path) else []
    if b"\0" in data[:8192] or len(data) > _MAX_BYTES:  # binary or generated: not a place for hand-written secrets
        return findings
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        findings.extend(Finding(path, number, kind) for kind, pattern in _PATTERNS if pattern.search(line))
    return findings


def scan(files: Iterable[tuple[str, bytes]]) -> list[Finding]:
    return [finding for path, data in files for finding in scan_file(path, data)]
