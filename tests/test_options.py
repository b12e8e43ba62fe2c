"""Every option is declared once (jessy_ci.options) and checked once, at the edge, into a typed value; the same line
reads right from `jessy-ci` and from `dagger call` (both spell the option --name)."""

from __future__ import annotations

import math

import pytest

from jessy_ci import options
from jessy_ci.errors import UsageError


@pytest.mark.parametrize(("raw", "expected"), [("80", 80.0), ("0", 0.0), ("100", 100.0), (" 72.5 ", 72.5), (85, 85.0)])
def test_threshold_takes_0_to_100_from_either_command_line(raw: str | float, expected: float) -> None:
    assert options.THRESHOLD(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "", "-1", "100.1", "nan", "NaN", "inf", "80%", 101.0, math.nan])
def test_threshold_rejects_the_rest(raw: str | float) -> None:
    with pytest.raises(UsageError) as e:
        options.THRESHOLD(raw)
    assert str(e.value) == f"--threshold {raw!r}: expected a number from 0 to 100"
    assert e.value.exit_code == 2


def test_an_absent_threshold_or_regression_means_the_configured_one() -> None:
    assert options.THRESHOLD(None) is None and options.MAX_REGRESSION(None) is None


@pytest.mark.parametrize(("raw", "expected"), [("0", 0.0), ("10", 10.0), (" 2.5 ", 2.5), ("250", 250.0), (15, 15.0)])
def test_max_regression_takes_zero_or_more(raw: str | float, expected: float) -> None:
    assert options.MAX_REGRESSION(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "", "-0.1", "nan", "inf", "10%"])
def test_max_regression_rejects_the_rest(raw: str) -> None:
    with pytest.raises(UsageError) as e:
        options.MAX_REGRESSION(raw)
    assert str(e.value) == f"--max-regression {raw!r}: expected a number of percent, 0 or more"


@pytest.mark.parametrize(
    ("count", "seconds", "message"),
    [
        (4, 1.0, "--count 4: expected a whole number from 5 to 1000"),
        (1001, 1.0, "--count 1001: expected a whole number from 5 to 1000"),
        (5, 0.0, "--time 0: expected a number of seconds above 0, at most 3600"),
        (5, math.inf, "--time inf: expected a number of seconds above 0, at most 3600"),
    ],
)
def test_bench_settings_are_checked(count: int, seconds: float, message: str) -> None:
    with pytest.raises(UsageError, match=f"^{message}$"):
        options.bench_settings(count, seconds, "")
    assert options.bench_settings(5, 0.5, "4KiB") == options.BenchSettings(5, 0.5, "4KiB")


def test_platforms_urls_and_timeouts() -> None:
    assert options.PLATFORM(None) is None and options.PLATFORM([]) is None
    assert options.PLATFORM(["linux/amd64"]) == ("linux/amd64",)
    with pytest.raises(UsageError, match=r"^--platform: 'linux/x86' is not a platform; expected linux/amd64"):
        options.PLATFORM(["linux/x86"])
    assert options.URL("http://127.0.0.1:3000/") == "http://127.0.0.1:3000"
    with pytest.raises(UsageError, match=r"^--core-url 'ftp://x': expected an http\(s\) URL"):
        options.CORE_URL("ftp://x")
    assert options.CORE_URL("") is None
    with pytest.raises(UsageError, match=r"^--timeout 0: expected seconds, more than 0 and at most 3600$"):
        options.TIMEOUT(0)


def test_every_option_has_a_flag_and_help() -> None:
    declared = [value for value in vars(options).values() if isinstance(value, options.Option)]
    assert len(declared) >= 15
    for option in declared:
        assert option.flag.startswith("--") and option.help.endswith((".", ")")), option.name
