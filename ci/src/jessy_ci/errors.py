"""The two ways a run ends badly: bad input (exit 2) and failed checks (exit 1)."""


class UsageError(Exception):
    """Bad input or configuration: exit code 2, one line naming the input and what was expected."""

    exit_code = 2


class ChecksFailed(Exception):
    """A check or gate failed: exit code 1. The message lists every failure."""

    exit_code = 1
