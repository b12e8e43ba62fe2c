"""Every option of jessy-ci, declared once: its name, help, placeholder and check. The CLI (its flags,
``cli/grammar.py``) and the Dagger module (function arguments) are both built from these declarations, and both turn
the raw values into typed ones here, once, at the edge. Error messages name the option as both command lines spell
it (``--threshold``).

Pure and light: no argparse, no Dagger SDK (``jessy-ci --help`` stays fast).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from jessy_ci.errors import UsageError
from jessy_ci.imagerefs import check_platform
from jessy_ci.steps import (
    MAX_LOAD_CONCURRENCY,
    MAX_LOAD_INSTANCES,
    MAX_LOAD_RATE,
    MAX_LOAD_REQUESTS,
    MAX_LOAD_SECONDS,
    BenchSettings,
    LoadSettings,
)

if TYPE_CHECKING:
    from jessy_ci.config import Component, Environment, Project
    from jessy_ci.gates.bench import Baseline
    from jessy_ci.gates.load import LoadGate

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


def _checked(name: str, raw: object, ok: Callable[[float], bool], expected: str) -> float:
    """``raw`` as a number that ``ok`` accepts (NaN fails every comparison), else a UsageError naming the input."""
    value = _number(name, raw)
    if not ok(value):
        raise UsageError(f"--{name} {raw!r}: expected {expected}")
    return value


def _percent(raw: object) -> float:
    return _checked("threshold", raw, lambda v: 0 <= v <= 100, "a number from 0 to 100")


def _max_regression(raw: object) -> float:
    return _checked("max-regression", raw, lambda v: math.isfinite(v) and v >= 0, "a number of percent, 0 or more")


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


def _whole(name: str, raw: object, low: int, high: int) -> int:
    value = _number(name, raw)
    if not (value.is_integer() and low <= value <= high):  # NaN is no integer
        raise UsageError(f"--{name} {raw!r}: expected a whole number from {low} to {high}")
    return int(value)


def _above_zero(name: str, raw: object, unit: str, high: float = math.inf) -> float:
    limit = f", at most {high:g}" if math.isfinite(high) else ""
    return _checked(name, raw, lambda v: math.isfinite(v) and 0 < v <= high, f"{unit} above 0{limit}")


def _fraction(raw: object) -> float:
    return _checked("max-error-rate", raw, lambda v: 0 <= v <= 1, "a fraction from 0 to 1, e.g. 0.01 for 1%")


def _rps(raw: object) -> float:
    return _checked("min-rps", raw, lambda v: math.isfinite(v) and v >= 0, "requests per second, 0 or more")


INSTANCES = Option[int | None](
    "instances",
    f"Instances of the target the load is spread over (1-{MAX_LOAD_INSTANCES}). Default: [load] instances, else 2.",
    lambda raw: None if raw is None else _whole("instances", raw, 1, MAX_LOAD_INSTANCES),
    "N",
)
RATE = Option[int | None](
    "rate",
    f"Requests per second, sent at a constant rate (1-{MAX_LOAD_RATE}). Default: [load] rate, else 50.",
    lambda raw: None if raw is None else _whole("rate", raw, 1, MAX_LOAD_RATE),
    "R",
)
DURATION = Option[float | None](
    "duration",
    f"Seconds of load (at most {MAX_LOAD_SECONDS:g}). Default: [load] duration, else 10.",
    lambda raw: None if raw is None else _above_zero("duration", raw, "seconds", MAX_LOAD_SECONDS),
    "SECONDS",
)
CONCURRENCY = Option[int | None](
    "concurrency",
    f"At most this many requests in flight (vegeta's workers, 1-{MAX_LOAD_CONCURRENCY}). "
    "Default: [load] concurrency, else 10.",
    lambda raw: None if raw is None else _whole("concurrency", raw, 1, MAX_LOAD_CONCURRENCY),
    "C",
)
P95_MS = Option[float | None](
    "p95-ms",
    "Fail when the 95th percentile latency is above this many milliseconds. Default: [load] p95_ms (none: no limit).",
    lambda raw: None if raw is None else _above_zero("p95-ms", raw, "milliseconds"),
    "MS",
)
P99_MS = Option[float | None](
    "p99-ms",
    "Fail when the 99th percentile latency is above this many milliseconds. Default: [load] p99_ms (none: no limit).",
    lambda raw: None if raw is None else _above_zero("p99-ms", raw, "milliseconds"),
    "MS",
)
MAX_ERROR_RATE = Option[float | None](
    "max-error-rate",
    "Fail when a larger fraction of the requests fail (0-1, e.g. 0.01). Default: [load] max_error_rate (none: no "
    "limit).",
    lambda raw: None if raw is None else _fraction(raw),
    "F",
)
MIN_RPS = Option[float | None](
    "min-rps",
    "Fail when fewer successful requests per second come back (vegeta's throughput). Default: [load] min_rps (none: "
    "no limit).",
    lambda raw: None if raw is None else _rps(raw),
    "R",
)


def _chosen(*values: T | None) -> T | None:
    """The first value that is set, if any."""
    return next((v for v in values if v is not None), None)


def _first(*values: T | None) -> T:
    """The first value that is set (the last one, a default, always is)."""
    return cast(T, _chosen(*values))


def load_settings(
    project: Project,
    environment: Environment | None,
    *,
    instances: object = None,
    rate: object = None,
    duration: object = None,
    concurrency: object = None,
) -> LoadSettings:
    """The load run: each option (checked here), else the environment's [load], else jessy-ci.toml's [load], else
    the default. A run of more than MAX_LOAD_REQUESTS requests (rate x duration) is bad input."""
    default = LoadSettings()
    own = project.load
    env = environment.load if environment is not None else own  # no environment: jessy-ci.toml's twice
    settings = LoadSettings(
        target=_first(env.target, own.target, default.target),
        instances=_first(INSTANCES(instances), env.instances, own.instances, default.instances),
        rate=_first(RATE(rate), env.rate, own.rate, default.rate),
        seconds=_first(DURATION(duration), env.duration, own.duration, default.seconds),
        concurrency=_first(CONCURRENCY(concurrency), env.concurrency, own.concurrency, default.concurrency),
        mix=_first(env.mix, own.mix, default.mix),
        seed_layers=_first(env.seed_layers, own.seed_layers, default.seed_layers),
        layer_bytes=_first(env.layer_bytes, own.layer_bytes, default.layer_bytes),
        layers_path=_first(env.layers_path, own.layers_path, default.layers_path),
        sample_seconds=_first(env.sample_interval, own.sample_interval, default.sample_seconds),
    )
    if not 1 <= settings.requests <= MAX_LOAD_REQUESTS:
        raise UsageError(
            f"--rate {settings.rate} and --duration {settings.seconds:g}: {settings.requests} requests; expected from "
            f"1 to {MAX_LOAD_REQUESTS} in one run (a lower rate or a shorter duration)"
        )
    return settings


def load_gate(
    project: Project,
    environment: Environment | None,
    settings: LoadSettings,
    *,
    p95_ms: object = None,
    p99_ms: object = None,
    max_error_rate: object = None,
    min_rps: object = None,
) -> LoadGate:
    """The limits of the load gate: each option (checked here), else the environment's [load], else jessy-ci.toml's
    [load]; unset: not gated. A minimum throughput above the rate could never pass: bad input."""
    from jessy_ci.gates.load import LoadGate

    own = project.load
    env = environment.load if environment is not None else own
    floors = [(MIN_RPS(min_rps), MIN_RPS.flag)]
    if environment is not None:
        floors.append((env.min_rps, f"environments/{environment.name}.toml: load.min_rps"))
    floors.append((own.min_rps, "jessy-ci.toml: load.min_rps"))
    floor, source = next(((v, where) for v, where in floors if v is not None), (None, ""))
    if floor is not None and floor > settings.rate:
        raise UsageError(
            f"{source} {floor:g}: above the rate of {settings.rate} requests/s; expected at most the rate "
            "(successful requests per second never exceed it)"
        )
    return LoadGate(
        p95_ms=_chosen(P95_MS(p95_ms), env.p95_ms, own.p95_ms),
        p99_ms=_chosen(P99_MS(p99_ms), env.p99_ms, own.p99_ms),
        max_error_rate=_chosen(MAX_ERROR_RATE(max_error_rate), env.max_error_rate, own.max_error_rate),
        min_rps=floor,
    )


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
