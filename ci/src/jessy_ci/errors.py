"""The two ways a run ends badly: bad input (exit 2) and failed checks (exit 1)."""


class UsageError(Exception):
    """Bad input or configuration: exit code 2, one line naming the input and what was expected."""

    exit_code = 2


class ChecksFailed(Exception):
    """A check or gate failed: exit code 1. The message lists every failure."""

    exit_code = 1


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it says nothing): what a step table shows."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
