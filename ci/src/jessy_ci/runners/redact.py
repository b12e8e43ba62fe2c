"""Redaction of secret values from everything the host runner prints or writes."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
_MIN_PART = 4  # lines of a multi-line secret shorter than this are too common to mask on their own


class Redactor:
    """Replaces every secret value, and every line of a multi-line secret, with ``***``.

    Whole values are replaced first (longest first), then the lines of multi-line values, so a key printed line
    by line is masked too.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {s for s in secrets if s}
        parts = {line.strip() for s in values if "\n" in s for line in s.splitlines()}
        parts = {p for p in parts if len(p) >= _MIN_PART}
        self._needles = sorted(values | parts, key=len, reverse=True)

    def text(self, text: str) -> str:
        for needle in self._needles:
            text = text.replace(needle, MASK)
        return text

    def data(self, data: bytes) -> bytes:
        for needle in self._needles:
            data = data.replace(needle.encode(), MASK.encode())
        return data
