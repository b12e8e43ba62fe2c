"""The command line's grammar: commands, their flags and groups, parsed with the standard library's argparse.

A command is a plain function whose keyword parameters are its flags; its help is its docstring. A flag left out of
the command line is left out of the call, so the function's own default applies (declared once, in its signature).
Every parse error is a UsageError with one line naming the input (exit 2), as for any other bad input.

argparse, not typer/click: loading and building a typer app cost 50-90 ms of every command, before any tool ran.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from jessy_ci.errors import UsageError
from jessy_ci.options import Option

Handler = Callable[..., None]
_COMMAND = "_jessy_ci_command"  # where the parsed namespace keeps the chosen command's handler


def _whole(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r}: expected a whole number") from None


def _number(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{raw!r}: expected a number")
    return value


WHOLE: Callable[[str], Any] = _whole
NUMBER: Callable[[str], Any] = _number
PATH: Callable[[str], Any] = Path


@dataclass(frozen=True)
class Flag:
    """One flag of a command: ``--name`` (and short forms) filling the keyword parameter ``dest``. ``repeat``: may be
    given more than once (a list); ``switch``: takes no value (True when given); ``convert``: how the text becomes
    the value (WHOLE, NUMBER, PATH; text by default)."""

    names: tuple[str, ...]
    help: str
    metavar: str = ""
    repeat: bool = False
    switch: bool = False
    convert: Callable[[str], Any] | None = None
    required: bool = False
    parameter: str = ""  # the keyword parameter it fills; default: its long name with '_' for '-'

    @property
    def dest(self) -> str:
        return self.parameter or self.names[0].removeprefix("--").replace("-", "_")


def flag(
    option: Option[Any],
    *short: str,
    repeat: bool = False,
    switch: bool = False,
    convert: Callable[[str], Any] | None = None,
    required: bool = False,
    parameter: str = "",
) -> Flag:
    """The flag of a shared option: its name, help and placeholder come from ``jessy_ci.options``."""
    return Flag((option.flag, *short), option.help, option.metavar, repeat, switch, convert, required, parameter)


@dataclass
class Group:
    """A command with sub-commands (``jessy-ci``, ``jessy-ci hooks``); alone, it shows its help."""

    name: str
    help: str
    commands: dict[str, tuple[Handler, tuple[Flag, ...]]] = field(default_factory=lambda: {})
    groups: dict[str, Group] = field(default_factory=lambda: {})

    def command(self, *flags: Flag, name: str | None = None) -> Callable[[Handler], Handler]:
        """Register the decorated function as a command taking ``flags``."""

        def register(handler: Handler) -> Handler:
            self.commands[name or handler.__name__] = (handler, flags)
            return handler

        return register

    def group(self, name: str, help: str) -> Group:
        self.groups[name] = Group(name, help)
        return self.groups[name]

    def run(self, argv: Sequence[str], prog: str) -> None:
        """Parse ``argv`` and call the chosen command; ``--help`` prints help and returns."""
        parser = _Parser(prog=prog, description=self.help)
        self._fill(parser, argv)
        try:
            namespace = parser.parse_args(argv)
        except _HelpShown:
            return
        values = vars(namespace)
        handler = values.pop(_COMMAND)
        handler(**{k: v for k, v in values.items() if not k.startswith("_")})

    def _fill(self, parser: _Parser, argv: Sequence[str]) -> None:
        """The parser of this group. When ``argv`` names one of its commands, only that command's parser is built
        (a command line names one; building all of them is for the group's help and its errors)."""
        parser.set_defaults(**{_COMMAND: lambda: parser.print_help()})
        if not self.commands and not self.groups:
            return
        choices = parser.add_subparsers(title="commands", metavar="COMMAND", dest=f"_{self.name}", parser_class=_Parser)
        named = argv[0] if argv and (argv[0] in self.commands or argv[0] in self.groups) else None
        for name, (handler, flags) in self.commands.items():
            if named not in (None, name):
                continue
            summary = _summary(handler.__doc__)
            sub = choices.add_parser(name, help=summary, description=(handler.__doc__ or "").strip() or None)
            for f in flags:
                _add(sub, f)
            sub.set_defaults(**{_COMMAND: handler})
        for name, group in self.groups.items():
            if named in (None, name):
                group._fill(choices.add_parser(name, help=group.help, description=group.help), argv[1:])


def _summary(doc: str | None) -> str:
    """A command's summary in the list of commands: its docstring's first paragraph, on one line."""
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _add(parser: argparse.ArgumentParser, f: Flag) -> None:
    common: dict[str, Any] = {"dest": f.dest, "help": f.help, "default": argparse.SUPPRESS}
    if f.switch:
        parser.add_argument(*f.names, action="store_true", **common)
        return
    parser.add_argument(
        *f.names,
        action="append" if f.repeat else "store",
        type=f.convert or str,
        metavar=f.metavar or "TEXT",
        required=f.required,
        **common,
    )


class _HelpShown(Exception):
    """``--help`` was printed: nothing else to do."""


_UNKNOWN = re.compile(r"unrecognized arguments: (\S+)")
_CHOICE = re.compile(r"argument \S+: invalid choice: '([^']*)' \(choose from (.*)\)")
_ARGUMENT = re.compile(r"argument ([^:]+): (.*)")
_REQUIRED = re.compile(r"the following arguments are required: (.*)")


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one-line UsageErrors (exit 2) and ``--help`` that returns instead of exiting; a
    flag is spelt in full (``--comp`` is no ``--component``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_abbrev=False, **kwargs)

    def error(self, message: str) -> NoReturn:
        if m := _REQUIRED.match(message.strip()):
            name = m[1].split("/")[0].split(",")[0]
            wanted = next((a.help for a in self._actions if name in a.option_strings and a.help), "a value")
            raise UsageError(f"{name}: missing; expected {wanted[0].lower()}{wanted[1:]}")
        raise UsageError(one_line(message))

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise UsageError(one_line(message or "bad input"))
        raise _HelpShown


def one_line(message: str) -> str:
    """argparse's error as the line jessy-ci prints: the input first, then what was expected."""
    message = message.strip()
    if m := _UNKNOWN.match(message):
        return f"No such option: {m[1]}"
    if m := _CHOICE.match(message):
        expected = ", ".join(c.strip("'") for c in m[2].split(", "))
        return f"No such command '{m[1]}'; expected one of: {expected}"
    if m := _ARGUMENT.match(message):
        name = m[1].split("/")[0]
        return f"{name} {m[2]}" if m[2].startswith("'") else f"{name}: {m[2]}"
    return message
