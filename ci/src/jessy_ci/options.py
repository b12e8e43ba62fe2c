"""Every option of jessy-ci, declared once: its name, help, placeholder and check. The CLI (typer flags) and the Dagger
module (function arguments) are both built from these declarations, and both turn the raw values into typed ones
here, once, at the edge. Error messages name the option as both command lines spell it (``--threshold``).

Pure and light: no typer, no Dagger SDK (``jessy-ci --help`` stays fast).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

from jessy_ci.errors import UsageError
from jessy_ci.imagerefs import check_platform
from jessy_ci.steps import BenchSettings

if TYPE_CHECKING:
    from jessy_ci.config import Component, Project
    from jessy_ci.gates.bench import Baseline

T = TypeVar("T")
BENCH = BenchSettings()
MIN_BENCH_COUNT = 5  # the comparison needs 5 samples a side (gates.bench.compare_benchmarks' min_samples)
MAX_SMOKE_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Option(Generic[T]):
    """One option: ``--name`` on both command lines, documented by ``help``, its raw value made typed by ``check``."""

    name: str
    help: str
    check: Callable[[Any], T]
    metavar: str = ""

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    def __call__(self, raw: Any) -> T:
        return self.check(raw)


def _number(name: str, raw: object) -> float:
    try:
        return float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
    except ValueError:
        return math.nan


def _percent(raw: object) -> float:
    value = _number("threshold", raw)
    if not 0 <= value <= 100:  # NaN fails every comparison
        raise UsageError(f"--threshold {raw!r}: expected a number from 0 to 100")
    return value


def _max_regression(raw: object) -> float:
    value = _number("max-regression", raw)
    if not (math.isfinite(value) and value >= 0):
        raise UsageError(f"--max-regression {raw!r}: expected a number of percent, 0 or more")
    return value


def _count(raw: int) -> int:
    if not MIN_BENCH_COUNT <= raw <= 1000:
        raise UsageError(f"--count {raw}: expected a whole number from {MIN_BENCH_COUNT} to 1000")
    return raw


def _seconds(raw: float) -> float:
    if not (math.isfinite(raw) and 0 < raw <= 3600):
        raise UsageError(f"--time {raw:g}: expected a number of seconds above 0, at most 3600")
    return raw


def _platforms(raw: Sequence[str] | None) -> tuple[str, ...] | None:
    return tuple(check_platform(p, "--platform") for p in raw) if raw else None


def url(raw: str, flag: str = "--url") -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"{flag} {raw!r}: expected an http(s) URL such as http://127.0.0.1:3000")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"{flag} {raw!r}: expected an http(s) URL with a valid port") from None
    return raw.rstrip("/")


def _timeout(raw: float) -> float:
    if not 0 < raw <= MAX_SMOKE_TIMEOUT:
        raise UsageError(f"--timeout {raw:g}: expected seconds, more than 0 and at most {MAX_SMOKE_TIMEOUT:g}")
    return raw


def _text(raw: str | None) -> str | None:
    return raw


def _flag(raw: bool) -> bool:
    return bool(raw)


COMPONENT = Option[list[str]](
    "component",
    "Only this component (repeatable). Default: every component of jessy-ci.toml.",
    lambda raw: list(raw or []),
    "NAME",
)
THRESHOLD = Option[float | None](
    "threshold",
    "Minimum line coverage in percent, per component and in total (0-100). Default: [thresholds] coverage.",
    lambda raw: None if raw is None else _percent(raw),
    "PCT",
)
MAX_REGRESSION = Option[float | None](
    "max-regression",
    "Fail when a benchmark is significantly slower by more than PCT percent. Default: [thresholds] max_regression.",
    lambda raw: None if raw is None else _max_regression(raw),
    "PCT",
)
COUNT = Option[int]("count", "Samples per benchmark (Go -count; criterion at least 10).", _count, "N")
TIME = Option[float]("time", "Measurement time per benchmark, in seconds.", _seconds, "SECONDS")
FILTER = Option[str]("filter", "Only benchmarks whose name matches this regular expression.", str, "REGEX")
PLATFORM = Option[tuple[str, ...] | None](
    "platform",
    "Platform of the images, e.g. linux/amd64 (repeatable). Default: [images] platforms of jessy-ci.toml.",
    _platforms,
    "OS/ARCH",
)
SEVERITY = Option[str | None](
    "severity",
    "Severities that fail the scan gate, e.g. CRITICAL,HIGH. Default: [thresholds] severity of jessy-ci.toml.",
    _text,
    "LIST",
)
IGNORE_UNFIXED = Option[bool]("ignore-unfixed", "Vulnerabilities without a fixed version do not fail the gate.", _flag)
TRIVY_DB = Option[None](
    "trivy-db",
    "A prepared Trivy cache folder (db/trivy.db, db/metadata.json): every scanner runs on it, nothing is downloaded "
    "(air-gapped; on the host it adds the vulnerability scanner).",
    lambda raw: None,
    "DIR",
)
TAG = Option[str]("tag", "vMAJOR.MINOR[.PATCH][-PRERELEASE], e.g. v1.2.", str, "TAG")
REGISTRY = Option[str | None]("registry", "e.g. ghcr.io/OWNER. Default: [registry] address.", _text, "ADDRESS")
USERNAME = Option[str | None]("username", "Registry user. Default: [registry] username.", _text, "USER")
PASSWORD = Option[None](
    "password", "The registry password or token as a secret reference: env://VAR or file://PATH.", lambda raw: None
)
DRY_RUN = Option[bool]("dry-run", "Everything but the push.", _flag)
URL = Option[str]("url", "The api's base URL.", url, "URL")
CORE_URL = Option[str | None](
    "core-url", "The core's URL, to delete the scratch layer.", lambda raw: url(raw, "--core-url") if raw else None
)
TIMEOUT = Option[float]("timeout", "Seconds to retry while a deployment settles.", _timeout, "SECONDS")


def baseline(text: str, source: str) -> Baseline:
    """A benchmark baseline (``bench --save`` or ``bench/<component>.json``); bad input names ``source``."""
    from jessy_ci.gates.bench import load_baseline

    return load_baseline(text, source)


def baseline_file(path: Path) -> Baseline:
    """``--baseline FILE``: read and parsed; UsageError (one line) when it cannot be read or is not a baseline."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise UsageError(f"--baseline {path}: cannot read ({reason}); expected a file from bench --save") from None
    return baseline(text, f"--baseline {path}")


def bench_settings(count: int, seconds: float, filter_: str) -> BenchSettings:
    return BenchSettings(COUNT(count), TIME(seconds), FILTER(filter_))


def components(project: Project, names: Sequence[str] | None) -> list[Component]:
    """The named components (every one when none is named), in config order; an unknown name is bad input."""
    return project.select(COMPONENT(names))
