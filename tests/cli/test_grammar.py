"""The command line's grammar on a small command set: flags fill keyword parameters, a flag left out leaves the
function's default, and every parse error is one UsageError line naming the input and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from jessy_ci.cli.grammar import NUMBER, PATH, WHOLE, Flag, Group
from jessy_ci.errors import UsageError


def commands(calls: list[dict[str, object]]) -> Group:
    app = Group("tool", "A tool.")

    @app.command(
        Flag(("--name", "-n"), "A name (repeatable).", "NAME", repeat=True),
        Flag(("--count",), "How many.", "N", convert=WHOLE),
        Flag(("--ratio",), "A ratio.", "R", convert=NUMBER),
        Flag(("--out",), "A folder.", "DIR", convert=PATH),
        Flag(("--fast",), "Go fast.", switch=True),
        Flag(("--time",), "Seconds.", "S", convert=NUMBER, parameter="seconds"),
    )
    def run(
        name: list[str] | None = None,
        count: int = 7,
        ratio: float = 0.5,
        out: Path = Path("reports"),
        fast: bool = False,
        seconds: float = 1.0,
    ) -> None:
        """Run it.

        More words."""
        calls.append({"name": name, "count": count, "ratio": ratio, "out": out, "fast": fast, "seconds": seconds})

    @app.command(Flag(("--tag",), "vMAJOR.MINOR, e.g. v1.2.", "TAG", required=True))
    def publish(tag: str) -> None:
        """Publish."""
        calls.append({"tag": tag})

    hooks = app.group("hooks", "Hooks.")

    @hooks.command()
    def install() -> None:
        """Install."""
        calls.append({"hooks": "install"})

    return app


def test_flags_fill_parameters_and_absent_flags_keep_the_functions_defaults() -> None:
    calls: list[dict[str, object]] = []
    app = commands(calls)
    app.run(["run"], prog="tool")
    app.run(["run", "-n", "a", "--name", "b", "--count", "3", "--ratio", "0.25", "--out", "x", "--fast"], prog="tool")
    app.run(["run", "--time", "2.5"], prog="tool")
    app.run(["hooks", "install"], prog="tool")
    assert calls == [
        {"name": None, "count": 7, "ratio": 0.5, "out": Path("reports"), "fast": False, "seconds": 1.0},
        {"name": ["a", "b"], "count": 3, "ratio": 0.25, "out": Path("x"), "fast": True, "seconds": 1.0},
        {"name": None, "count": 7, "ratio": 0.5, "out": Path("reports"), "fast": False, "seconds": 2.5},
        {"hooks": "install"},
    ]


def test_help_prints_and_returns_without_running_anything(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[dict[str, object]] = []
    app = commands(calls)
    app.run(["--help"], prog="tool")
    app.run(["run", "--help"], prog="tool")
    app.run(["hooks"], prog="tool")  # a group alone shows its help
    out = capsys.readouterr().out
    assert "run " in out and "Run it." in out and "--count N" in out and "install" in out
    assert calls == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deploy"], "No such command 'deploy'; expected one of: run, publish, hooks"),
        (["run", "--nope"], "No such option: --nope"),
        (["run", "--cou", "3"], "No such option: --cou"),
        (["run", "--count", "x"], "--count 'x': expected a whole number"),
        (["run", "--ratio", "nan"], "--ratio 'nan': expected a number"),
        (["run", "--count"], "--count: expected one argument"),
        (["publish"], "--tag: missing; expected vMAJOR.MINOR, e.g. v1.2."),
    ],
)
def test_every_parse_error_is_one_line_naming_the_input(argv: list[str], message: str) -> None:
    calls: list[dict[str, object]] = []
    with pytest.raises(UsageError) as raised:
        commands(calls).run(argv, prog="tool")
    assert str(raised.value) == message
    assert calls == []
