"""What a person should read first of a tool's output. Pure functions over text, no I/O.

- ``first_finding``: the first problem a linter reports, as ``file:line: message`` (rustc/clippy's ``-->`` form,
  the ``file:line:col: message`` form of go vet, ruff and most tools, hadolint's ``file:line CODE message``, cargo
  fmt's ``Diff in file:line``), instead of the tool's last line ("could not compile … due to 2 previous errors"); and
  uv's first error with its causes (``error: No solution found when resolving dependencies`` + ``cause: Because
  …``), which would otherwise be cut to its last cause.
- ``console_line``: a line of a step's output as the console shows it (gotestsum-style): `go test -json` events become
  one line per package and per failing test, passing tests and compiler progress disappear; None drops the line.
"""

from __future__ import annotations

import json
import re
from typing import cast

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOCATED = re.compile(r"^(?P<file>[\w./@+-]+):(?P<line>\d+)(?::\d+)?:?\s+(?P<message>\S.*)$")
_ARROW = re.compile(r"^\s*-->\s*(?P<file>[^:\s]+):(?P<line>\d+)(?::\d+)?\s*$")
# A message over a `--> file:line` arrow: rustc and clippy (`error: …`), ruff (`F401 [*] …`).
_HEADED = re.compile(r"^(?:(?:error|warning)(?:\[\w+\])?: |[A-Z]+\d+ (?:\[\*\] )?)(?P<message>\S.*)$")
_FMT_DIFF = re.compile(r"^Diff in (?P<file>\S+?):(?P<line>\d+):?")
_NOISE = re.compile(r"^\s*(Compiling|Checking|Downloaded|Downloading|Updating|Fresh|Locking|Adding)\s")
_PASSING_TEST = re.compile(r"^(test .+ \.\.\. (ok|ignored)|running \d+ tests?)$")
_SUMMARY_ERROR = re.compile(r"could not compile|aborting due to|previous errors?|warnings? emitted")
# uv's errors: a headline and its causes, plain (`error: …` / `  cause: …`, uv's output when not on a terminal) or
# drawn (a multiplication sign, then `╰─▶ …`).
_UV_ERROR = re.compile(r"^\s*(?:error:|\u00d7)\s+(?P<message>\S.*)$")
_UV_CAUSE = re.compile(r"^\s*(?:cause:|Caused by:|╰─▶)\s+(?P<message>\S.*)$")


def _uv_error(lines: list[str], index: int) -> str | None:
    """The error starting at ``lines[index]`` with every cause right under it, as one line; None when it has none
    (a plain ``error:`` line of another tool)."""
    headline = _UV_ERROR.match(lines[index])
    if headline is None:
        return None
    causes: list[str] = []
    for follow in lines[index + 1 :]:
        cause = _UV_CAUSE.match(follow)
        if cause is None:
            break
        causes.append(cause.group("message").strip())
    return ": ".join((headline.group("message").strip().rstrip(":"), *causes)) if causes else None


def first_finding(output: str) -> str | None:
    """The first reported problem of a linter's output as ``file:line: message``; None when there is none."""
    lines = [_ANSI.sub("", line).rstrip() for line in output.splitlines()]
    for index, text in enumerate(lines):
        uv = _uv_error(lines, index)
        if uv is not None:
            return uv
        headed = _HEADED.match(text)
        if headed and not _SUMMARY_ERROR.search(headed.group("message")):
            for follow in lines[index + 1 : index + 4]:
                arrow = _ARROW.match(follow)
                if arrow:
                    return f"{arrow.group('file')}:{arrow.group('line')}: {headed.group('message')}"
        diff = _FMT_DIFF.match(text)
        if diff:
            return f"{diff.group('file')}:{diff.group('line')}: not formatted (cargo fmt)"
        located = _LOCATED.match(text)
        if located:
            return f"{located.group('file')}:{located.group('line')}: {located.group('message')}"
    return None


def _go_event(line: str) -> dict[str, object] | None:
    if not line.startswith("{"):
        return None
    try:
        event: object = json.loads(line)
    except ValueError:
        return None
    return cast(dict[str, object], event) if isinstance(event, dict) and "Action" in event else None


def console_line(line: str) -> str | None:
    """The line as the console shows it, or None to leave it out (the full output stays in logs/ and JUnit)."""
    event = _go_event(line)
    if event is None:
        if not line.strip() or _NOISE.match(line) or _PASSING_TEST.match(line.strip()):
            return None
        return line
    action, package, test = event.get("Action"), str(event.get("Package", "")), event.get("Test")
    elapsed = event.get("Elapsed")
    took = f" ({elapsed}s)" if isinstance(elapsed, int | float) else ""
    if action == "fail":
        return f"FAIL {package}.{test}{took}" if test else f"FAIL {package}{took}"
    if action == "pass" and not test:
        return f"ok   {package}{took}"
    if action == "skip" and not test:
        return f"--   {package} (no test files)"
    if action == "output" and test:
        text = str(event.get("Output", "")).rstrip("\n")
        if re.search(r"_test\.go:\d+:|panic:|--- FAIL", text):
            return f"     {text.strip()}"
    return None
