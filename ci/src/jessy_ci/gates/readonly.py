"""The read-only root filesystem gate: what the probe (``toolchains/readonly.py``) found inside a running image.

Passes when the service answered its health endpoint before and after the probe, no directory outside the data
volume took a write, and the data volume took one exactly when the service owns it (the service that initialises
it; a reader such as jessy-api must be refused) and could be read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Expectation:
    health_status: int
    uses_data: bool  # the service mounts the data volume
    owns_data: bool  # the service initialises (and writes) the data volume; the others only read it


def judge(output: str, expected: Expectation) -> tuple[bool, str]:
    """(passed, one line for the step table) from the probe's output lines."""
    health: dict[str, str] = {}
    denied: dict[str, str] = {}
    writable: list[str] = []
    data: tuple[bool, str] | None = None
    data_dir = "the data volume"
    readable: bool | None = None
    for line in output.splitlines():
        words = line.split(maxsplit=3)
        match words:
            case ["health", when, status]:
                health[when] = status
            case ["write", path, "writable"]:
                writable.append(path)
            case ["write", path, "denied", *reason]:
                denied[path] = " ".join(reason)
            case ["data", path, "writable"]:
                data, data_dir = (True, ""), path
            case ["data", path, "denied", *reason]:
                data, data_dir = (False, " ".join(reason)), path
            case ["read", _, state]:
                readable = state == "ok"
            case _:
                pass
    want = str(expected.health_status)
    problems: list[str] = []
    for when in ("before", "after"):
        got = health.get(when, "none")
        if got != want:
            problems.append(f"health {when} the writes: {got}, expected {want}")
    if writable:
        problems.append(f"writable outside the data volume: {', '.join(writable)}")
    if not denied and not writable:
        problems.append("the probe tried no directory")
    if expected.uses_data:
        if data is None or readable is None:
            problems.append(f"{data_dir}: not probed")
        else:
            if data[0] != expected.owns_data:
                problems.append(
                    f"{data_dir} is {'writable' if data[0] else 'not writable'}"
                    + (f" ({data[1]})" if data[1] else "")
                    + f", expected {'writable' if expected.owns_data else 'read-only'}"
                )
            if not readable:
                problems.append(f"{data_dir} cannot be read")
    if problems:
        return False, "; ".join(problems)
    reasons = sorted(set(denied.values()))
    detail = f"{len(denied)} directories refused a write ({', '.join(reasons)})"
    if expected.uses_data:
        detail += f"; {data_dir} {'writable' if expected.owns_data else 'read-only for it'}"
    return True, f"{detail}; health {want} before and after"
