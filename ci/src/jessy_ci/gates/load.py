"""The figures of a load run and its gate, from vegeta's own JSON and the services' resource samples. Pure: text in,
data, documents and verdicts out.

- ``vegeta report -type=json``: the headline figures (throughput, latency quantiles, success ratio, status codes);
- ``vegeta encode --to json``: one object per request, for the counts per instance and per scenario and the latency
  over time;
- the resource samples of every service process (``toolchains/resources.py`` writes them from ``/proc``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from jessy_ci.steps import LoadSettings

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
RESULT_VERSION = 1
QUANTILES = (("p50", "50th"), ("p90", "90th"), ("p95", "95th"), ("p99", "99th"), ("max", "max"))
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


@dataclass(frozen=True)
class LoadGate:
    """The limits a load run must keep; None: not gated."""

    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None

    def describe(self) -> str:
        parts = [
            *([f"p95 ≤ {self.p95_ms:g} ms"] if self.p95_ms is not None else []),
            *([f"p99 ≤ {self.p99_ms:g} ms"] if self.p99_ms is not None else []),
            *([f"error rate ≤ {self.max_error_rate:g}"] if self.max_error_rate is not None else []),
            *([f"rps ≥ {self.min_rps:g}"] if self.min_rps is not None else []),
        ]
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Summary:
    """``vegeta report -type=json``: ``rps`` is vegeta's throughput (successful responses per second, the wait for
    the last responses included), ``rate`` what was sent per second; latencies in milliseconds."""

    requests: int
    rate: float
    rps: float
    seconds: float
    latency_ms: Mapping[str, float]
    error_rate: float
    status_codes: Mapping[str, int]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """One request of ``vegeta encode --to json``; ``seconds`` since the first request was sent."""

    seconds: float
    code: int
    latency_ms: float
    method: str
    url: str

    @property
    def ok(self) -> bool:
        """vegeta's success: a response with a status code from 200 to 399."""
        return 200 <= self.code < 400


@dataclass(frozen=True)
class Counts:
    """Requests, failed ones among them, and their latency quantiles (nearest rank), in milliseconds."""

    requests: int = 0
    errors: int = 0
    latency_ms: Mapping[str, float] = field(default_factory=dict[str, float])


@dataclass(frozen=True)
class Bucket:
    """The requests sent in ``[start, start + width)`` seconds."""

    start: float
    requests: int
    errors: int
    latency_ms: Mapping[str, float]


@dataclass(frozen=True)
class Sample:
    """One look at a process: seconds since the first look, CPU seconds used since it started (user + system),
    peak and current resident memory (VmHWM, VmRSS) in kB, open file descriptors."""

    seconds: float
    cpu_seconds: float
    peak_rss_kb: int
    rss_kb: int
    open_files: int


@dataclass(frozen=True)
class Resources:
    """The samples of one service process, every ``interval`` seconds."""

    service: str
    interval: float
    samples: tuple[Sample, ...]

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds used while it was sampled."""
        return self.samples[-1].cpu_seconds - self.samples[0].cpu_seconds if self.samples else 0.0

    @property
    def peak_cpu_percent(self) -> float:
        """The busiest interval: CPU seconds per second, in percent of one core."""
        pairs = zip(self.samples, self.samples[1:], strict=False)
        rates = [(b.cpu_seconds - a.cpu_seconds) / (b.seconds - a.seconds) for a, b in pairs if b.seconds > a.seconds]
        return 100 * max(rates, default=0.0)

    @property
    def peak_rss_kb(self) -> int:
        return max((s.peak_rss_kb for s in self.samples), default=0)

    @property
    def max_open_files(self) -> int:
        return max((s.open_files for s in self.samples), default=0)


@dataclass(frozen=True)
class LoadResult:
    """Everything a load run measured. ``strays``: URLs that requests went to other than the run's own instances
    (never expected: the gate fails on any)."""

    summary: Summary
    instances: Mapping[str, Counts]
    scenarios: Mapping[str, Counts]
    series: tuple[Bucket, ...]
    bucket_seconds: float
    resources: tuple[Resources, ...]
    strays: tuple[str, ...] = ()
    seed: Summary | None = None


# --- parsing ----------------------------------------------------------------------------------------------------


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected a JSON object")
    return cast(dict[str, Any], value)


def _float(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what}: expected a number, got {value!r}")
    return float(value)


def parse_report(text: str) -> Summary:
    """``vegeta report -type=json``; ValueError when it is not one."""
    try:
        data = _object(json.loads(text), "vegeta report")
    except json.JSONDecodeError as e:
        raise ValueError(f"vegeta report: not JSON ({e})") from None
    latencies = _object(data.get("latencies"), "vegeta report latencies")
    codes = _object(data.get("status_codes") or {}, "vegeta report status_codes")
    errors: object = data.get("errors") or []
    duration = _float(data.get("duration", 0), "vegeta report duration") + _float(data.get("wait", 0), "wait")
    latency = {name: _float(latencies.get(key), f"latencies.{key}") / NS_PER_MS for name, key in QUANTILES}
    latency["mean"] = _float(latencies.get("mean", 0), "latencies.mean") / NS_PER_MS
    return Summary(
        requests=int(_float(data.get("requests"), "vegeta report requests")),
        rate=_float(data.get("rate", 0), "vegeta report rate"),
        rps=_float(data.get("throughput", 0), "vegeta report throughput"),
        seconds=duration / NS_PER_S,
        latency_ms=latency,
        error_rate=1.0 - _float(data.get("success", 0), "vegeta report success"),
        status_codes={str(code): int(_float(n, f"status_codes.{code}")) for code, n in codes.items()},
        errors=tuple(str(e) for e in cast(list[object], errors)) if isinstance(errors, list) else (),
    )


def _timestamp_ns(text: str) -> int:
    """RFC 3339 with up to nanoseconds (Go's time.Time in JSON) → nanoseconds since the epoch."""
    m = _TIMESTAMP.match(text)
    if m is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    whole = datetime.fromisoformat(m.group(1) + zone)
    fraction = (m.group(2) or "0")[:9].ljust(9, "0")
    return int(whole.timestamp()) * NS_PER_S + int(fraction)


def parse_results(text: str) -> list[Hit]:
    """``vegeta encode --to json``: one JSON object per line; ValueError for a line that is not a result."""
    raw: list[tuple[int, int, float, str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = _object(json.loads(line), f"result line {number}")
            raw.append(
                (
                    _timestamp_ns(str(data.get("timestamp"))),
                    int(_float(data.get("code"), "code")),
                    _float(data.get("latency"), "latency") / NS_PER_MS,
                    str(data.get("method", "")),
                    str(data.get("url", "")),
                )
            )
        except (json.JSONDecodeError, ValueError) as e:
            raise ValueError(f"vegeta results line {number}: {e}") from None
    first = min((r[0] for r in raw), default=0)
    hits = [Hit((ts - first) / NS_PER_S, code, latency, method, url) for ts, code, latency, method, url in raw]
    return sorted(hits, key=lambda h: h.seconds)


def parse_instances(text: str) -> dict[str, str]:
    """``NAME<TAB>URL`` lines: every instance the load script was given."""
    instances: dict[str, str] = {}
    for line in text.splitlines():
        name, _, url = line.partition("\t")
        if name and url:
            instances[name] = url.rstrip("/")
    return instances


def parse_samples(service: str, text: str) -> Resources:
    """The sampler's lines (``uptime utime stime VmHWM VmRSS fds comm``, after a ``# … clk_tck=N interval=S``
    header). Looks taken before the process became the service (another comm) or after it ended (no memory) are
    left out."""
    tck, interval = 100.0, 0.0
    rows: list[tuple[float, float, int, int, int, str]] = []
    for line in text.splitlines():
        if line.startswith("#"):
            settings = dict(part.split("=", 1) for part in line.split() if "=" in part)
            tck = float(settings.get("clk_tck", tck)) or 100.0
            interval = float(settings.get("interval", interval))
            continue
        parts = line.split(maxsplit=6)
        if len(parts) < 6:
            continue  # a line cut short when the process ended
        try:
            up, utime, stime, hwm, rss, fds = (float(parts[0]), *(int(p) for p in parts[1:6]))
        except ValueError:
            continue
        if rss > 0:
            rows.append((up, (utime + stime) / tck, hwm, rss, fds, parts[6] if len(parts) > 6 else ""))
    comm = rows[-1][5] if rows else ""
    rows = [r for r in rows if r[5] == comm]
    start = rows[0][0] if rows else 0.0
    samples = tuple(Sample(round(up - start, 3), cpu, hwm, rss, fds) for up, cpu, hwm, rss, fds, _ in rows)
    return Resources(service, interval, samples)


@dataclass(frozen=True)
class AppliedLimits:
    """What a service's cgroups held while it ran (read back by the host runner); None: no limit there."""

    cgroup: str
    paths: Mapping[str, str]
    memory_bytes: int | None
    swap_bytes: int | None
    cpu_quota_us: int | None
    cpu_period_us: int | None

    @property
    def cpus(self) -> float | None:
        if self.cpu_quota_us is None or not self.cpu_period_us:
            return None
        return self.cpu_quota_us / self.cpu_period_us


@dataclass(frozen=True)
class ServiceLimits:
    """``limits/<service>.json`` of a run: what the service was asked to keep to, what its cgroups held (None: not
    applied, ``note`` says why) and the runner's note."""

    service: str
    cpus: float | None
    memory_mb: int | None
    applied: AppliedLimits | None
    note: str

    def asked(self) -> str:
        parts = [
            *([f"{self.cpus:g} CPU"] if self.cpus is not None else []),
            *([f"{self.memory_mb} MB"] if self.memory_mb is not None else []),
        ]
        return ", ".join(parts) or "none"


def _opt_int(data: Mapping[str, object], key: str, what: str) -> int | None:
    value = data.get(key)
    return None if value is None else int(_float(value, f"{what}.{key}"))


def parse_limits(service: str, text: str) -> ServiceLimits:
    """One ``limits/<service>.json``; ValueError when it is not one."""
    what = f"limits/{service}.json"
    try:
        data = _object(json.loads(text), what)
    except json.JSONDecodeError as e:
        raise ValueError(f"{what}: not JSON ({e})") from None
    requested = _object(data.get("requested") or {}, f"{what} requested")
    cpus = requested.get("cpus")
    raw: object = data.get("applied")
    applied = None
    if raw is not None:
        figures = _object(raw, f"{what} applied")
        paths = _object(figures.get("paths") or {}, f"{what} applied.paths")
        applied = AppliedLimits(
            cgroup=str(figures.get("cgroup", "")),
            paths={str(k): str(v) for k, v in paths.items()},
            memory_bytes=_opt_int(figures, "memory_bytes", what),
            swap_bytes=_opt_int(figures, "swap_bytes", what),
            cpu_quota_us=_opt_int(figures, "cpu_quota_us", what),
            cpu_period_us=_opt_int(figures, "cpu_period_us", what),
        )
    return ServiceLimits(
        service=service,
        cpus=None if cpus is None else _float(cpus, f"{what} requested.cpus"),
        memory_mb=_opt_int(requested, "memory_mb", what),
        applied=applied,
        note=str(data.get("note", "")),
    )


# --- figures ----------------------------------------------------------------------------------------------------


def quantiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p90, p95, p99 and max by nearest rank (empty: none)."""
    if not values:
        return {}
    ordered = sorted(values)
    n = len(ordered)
    rank = {name: q for name, q in (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99))}
    found = {name: ordered[max(math.ceil(q * n) - 1, 0)] for name, q in rank.items()}
    return {**found, "max": ordered[-1]}


def counts(hits: Iterable[Hit]) -> Counts:
    chosen = list(hits)
    return Counts(len(chosen), sum(1 for h in chosen if not h.ok), quantiles([h.latency_ms for h in chosen]))


def path_of(url: str) -> str:
    """The path of an absolute URL (``http://host:port/path?query`` → ``/path``)."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:].split("?", 1)[0] if slash >= 0 else "/"


def scenario(hit: Hit, layers_path: str, health_path: str) -> str:
    """read, write, health (or other) from the request's method and path."""
    path = path_of(hit.url)
    if path == health_path:
        return "health"
    if path.startswith(layers_path.rstrip("/") + "/"):
        return "write" if hit.method == "PUT" else "read"
    return "other"


def instance_of(url: str, instances: Mapping[str, str]) -> str | None:
    for name, base in instances.items():
        if url == base or url.startswith(base + "/"):
            return name
    return None


def series(hits: Sequence[Hit], width: float) -> tuple[Bucket, ...]:
    """Requests grouped by when they were sent, ``width`` seconds a bucket, with their latency quantiles."""
    if not hits:
        return ()
    groups: dict[int, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(int(hit.seconds // width), []).append(hit)
    return tuple(
        Bucket(round(index * width, 6), len(group), sum(1 for h in group if not h.ok), counts(group).latency_ms)
        for index, group in sorted(groups.items())
    )


def bucket_width(seconds: float) -> float:
    """About 30 points over the run, on a round width (0.1 s … 10 s)."""
    for width in (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0):
        if seconds / width <= 30:
            return width
    return 10.0


def analyse(
    report: str,
    results: str,
    instances: str,
    samples: Mapping[str, str],
    *,
    layers_path: str,
    health_path: str,
    seconds: float,
    seed: str | None = None,
) -> LoadResult:
    """Every figure of a run from the files its step left (``samples``: service → sampler text); ValueError when
    vegeta's files are malformed."""
    summary = parse_report(report)
    hits = parse_results(results)
    known = parse_instances(instances)
    per_instance: dict[str, list[Hit]] = {name: [] for name in known}
    per_scenario: dict[str, list[Hit]] = {}
    strays: list[str] = []
    for hit in hits:
        name = instance_of(hit.url, known)
        if name is None:
            strays.append(hit.url)
        else:
            per_instance[name].append(hit)
        per_scenario.setdefault(scenario(hit, layers_path, health_path), []).append(hit)
    width = bucket_width(seconds)
    return LoadResult(
        summary=summary,
        instances={name: counts(group) for name, group in per_instance.items()},
        scenarios={name: counts(per_scenario[name]) for name in sorted(per_scenario)},
        series=series(hits, width),
        bucket_seconds=width,
        resources=tuple(parse_samples(service, text) for service, text in sorted(samples.items())),
        strays=tuple(sorted(set(strays))),
        seed=parse_report(seed) if seed is not None else None,
    )


# --- the gate ---------------------------------------------------------------------------------------------------


def ms(value: float) -> str:
    """Milliseconds for a person: 41.3, 0.412, 1234."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.3f}"


def evaluate(result: LoadResult, gate: LoadGate) -> list[str]:
    """One line per breached limit, naming the figure, its value and its limit (``load p95: 41.3 ms > 20 ms``);
    a run that sent nothing, an instance that got nothing, or a request to anything but the run's own instances
    fails too."""
    s = result.summary
    failures: list[str] = []
    if s.requests == 0:
        return ["load: no request was sent"]
    for name in ("p95", "p99"):
        limit = gate.p95_ms if name == "p95" else gate.p99_ms
        value = s.latency_ms[name]
        if limit is not None and value > limit:
            failures.append(f"load {name}: {ms(value)} ms > {limit:g} ms")
    if gate.max_error_rate is not None and s.error_rate > gate.max_error_rate:
        failures.append(f"load error rate: {s.error_rate:.4g} > {gate.max_error_rate:g}")
    if gate.min_rps is not None and s.rps < gate.min_rps:
        failures.append(f"load rps: {s.rps:.1f} < {gate.min_rps:g}")
    failures += [f"load {name}: no request reached it" for name, c in result.instances.items() if c.requests == 0]
    failures += [f"load: a request went to {url}, not to an instance this run started" for url in result.strays]
    return failures


# --- documents --------------------------------------------------------------------------------------------------


def _round(values: Mapping[str, float], digits: int = 3) -> dict[str, float]:
    return {k: round(v, digits) for k, v in values.items()}


def _counts_json(c: Counts) -> dict[str, object]:
    return {"requests": c.requests, "errors": c.errors, "latency_ms": _round(c.latency_ms)}


def settings_json(settings: LoadSettings) -> dict[str, object]:
    return {
        "target": settings.target,
        "instances": settings.instances,
        "rate": settings.rate,
        "duration_s": settings.seconds,
        "concurrency": settings.concurrency,
        "mix": {"read": settings.mix.read, "write": settings.mix.write, "health": settings.mix.health},
        "seed_layers": settings.seed_layers,
        "layer_bytes": settings.layer_bytes,
        "sample_interval_s": settings.sample_seconds,
    }


def limits_json(limits: Sequence[ServiceLimits]) -> dict[str, object]:
    """Per service: the limits asked, what its cgroups held while the run went (None: not applied) and why."""
    out: dict[str, object] = {}
    for item in limits:
        applied = item.applied
        out[item.service] = {
            "requested": {"cpus": item.cpus, "memory_mb": item.memory_mb},
            "applied": None
            if applied is None
            else {
                "cgroup": applied.cgroup,
                "paths": dict(applied.paths),
                "memory_bytes": applied.memory_bytes,
                "swap_bytes": applied.swap_bytes,
                "cpu_quota_us": applied.cpu_quota_us,
                "cpu_period_us": applied.cpu_period_us,
                "cpus": applied.cpus,
            },
            "note": item.note,
        }
    return out


def to_json(
    result: LoadResult,
    settings: LoadSettings,
    gate: LoadGate,
    failures: Sequence[str],
    limits: Sequence[ServiceLimits] = (),
) -> bytes:
    """``load/result.json``; ``limits``: the services' resource limits (none: the run had none)."""
    s = result.summary
    document: dict[str, object] = {
        "version": RESULT_VERSION,
        "settings": settings_json(settings),
        "requests": s.requests,
        "rate": round(s.rate, 3),
        "rps": round(s.rps, 3),
        "seconds": round(s.seconds, 3),
        "latency_ms": _round({k: s.latency_ms[k] for k in ("p50", "p90", "p95", "p99", "max", "mean")}),
        "p50": round(s.latency_ms["p50"], 3),
        "p95": round(s.latency_ms["p95"], 3),
        "p99": round(s.latency_ms["p99"], 3),
        "max": round(s.latency_ms["max"], 3),
        "error_rate": round(s.error_rate, 6),
        "status_codes": dict(sorted(s.status_codes.items())),
        "errors": list(s.errors[:20]),
        "instances": {name: _counts_json(c) for name, c in result.instances.items()},
        "scenarios": {name: _counts_json(c) for name, c in result.scenarios.items()},
        "seed": None if result.seed is None else {"requests": result.seed.requests, "errors": seed_errors(result)},
        "series": {
            "bucket_s": result.bucket_seconds,
            "buckets": [
                {"start_s": b.start, "requests": b.requests, "errors": b.errors, "latency_ms": _round(b.latency_ms)}
                for b in result.series
            ],
        },
        "resources": {
            r.service: {
                "interval_s": r.interval,
                "cpu_seconds": round(r.cpu_seconds, 3),
                "peak_cpu_percent": round(r.peak_cpu_percent, 1),
                "peak_rss_kb": r.peak_rss_kb,
                "max_open_files": r.max_open_files,
                "samples": [
                    {
                        "t_s": x.seconds,
                        "cpu_s": round(x.cpu_seconds, 3),
                        "hwm_kb": x.peak_rss_kb,
                        "rss_kb": x.rss_kb,
                        "fds": x.open_files,
                    }
                    for x in r.samples
                ],
            }
            for r in result.resources
        },
        "limits": limits_json(limits),
        "gate": {
            "p95_ms": gate.p95_ms,
            "p99_ms": gate.p99_ms,
            "max_error_rate": gate.max_error_rate,
            "min_rps": gate.min_rps,
            "passed": not failures,
            "failures": list(failures),
        },
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def seed_errors(result: LoadResult) -> int:
    """Seeding writes that did not succeed."""
    seed = result.seed
    return 0 if seed is None else round(seed.error_rate * seed.requests)


def series_json(result: LoadResult, title: str) -> str:
    """What the latency plot needs, as compact JSON (it may travel in an env variable to a plot container)."""
    return json.dumps(
        {
            "title": title,
            "bucket_s": result.bucket_seconds,
            "t": [b.start for b in result.series],
            "requests": [b.requests for b in result.series],
            "errors": [b.errors for b in result.series],
            **{q: [round(b.latency_ms.get(q, 0.0), 3) for b in result.series] for q in ("p50", "p95", "p99", "max")},
        },
        separators=(",", ":"),
    )


def _kb(value: int) -> str:
    return f"{value / 1024:.1f} MiB" if value >= 1024 else f"{value} kB"


def _check(value: float, limit: float | None, above: bool, unit: str = "") -> str:
    """The gate's column: ``≤ 250 ms ✔`` (``above``: the limit is a maximum)."""
    if limit is None:
        return ""
    passed = value <= limit if above else value >= limit
    return f"{'≤' if above else '≥'} {limit:g}{unit} {'✔' if passed else '✘'}"


def _applied(item: ServiceLimits) -> str:
    """The limits column: what the cgroups held, or why nothing was applied."""
    applied = item.applied
    if applied is None:
        return item.note or "not applied"
    parts: list[str] = []
    if applied.memory_bytes is not None:
        swap = " (swap off)" if applied.swap_bytes == 0 else ""
        parts.append(f"{applied.memory_bytes / 1024 / 1024:g} MiB{swap}")
    if applied.cpus is not None:
        parts.append(f"{applied.cpus:g} CPU ({applied.cpu_quota_us}/{applied.cpu_period_us} µs)")
    return ", ".join([*parts, f"cgroup {applied.cgroup}"])


def limits_markdown(limits: Sequence[ServiceLimits]) -> list[str]:
    """The limits table of ``load.md`` (no lines when the run had none)."""
    if not limits:
        return []
    return [
        "Resource limits of every service process (the environment's `[limits]`), as read back from its cgroups "
        "while the run went:",
        "",
        "| service | asked | applied |",
        "|---|---|---|",
        *(f"| {item.service} | {item.asked()} | {_applied(item)} |" for item in limits),
        "",
    ]


def limits_note(limits: Sequence[ServiceLimits]) -> str | None:
    """One line for the summary: the limits the run's services were under, or why they were not applied."""
    if not limits:
        return None
    asked = sorted({item.asked() for item in limits})
    unapplied = [item for item in limits if item.applied is None]
    if unapplied:
        why = sorted({item.note or "not applied" for item in unapplied})
        names = ", ".join(item.service for item in unapplied)
        return f"limits ({' / '.join(asked)} per service): {'; '.join(why)} ({names})"
    cgroups = ", ".join(sorted({item.applied.cgroup for item in limits if item.applied is not None}))
    return f"limits: {' / '.join(asked)} per service, applied through cgroup {cgroups} (read back: load/result.json)"


def to_markdown(
    result: LoadResult,
    settings: LoadSettings,
    gate: LoadGate,
    failures: Sequence[str],
    services: Sequence[str],
    limits: Sequence[ServiceLimits] = (),
) -> str:
    """``load/load.md``: the settings, the figures against the gate, per instance, per scenario, the resources and
    the limits they ran under."""
    s = result.summary
    mix = settings.mix
    lines = [
        f"## jessy-ci load: {'passed' if not failures else 'failed'}",
        "",
        f"{settings.instances} x {settings.target} ({', '.join(result.instances)}) with "
        f"{', '.join(services) or 'nothing else'}: {settings.rate} requests/s for {settings.seconds:g} s, at most "
        f"{settings.concurrency} in flight; mix read {mix.read} / write {mix.write} / health {mix.health}; "
        f"{settings.seed_layers} layers of {settings.layer_bytes} bytes seeded"
        + (f" ({seed_errors(result)} failed)" if seed_errors(result) else "")
        + ".",
        "",
        "| figure | value | gate |",
        "|---|---|---|",
        f"| requests | {s.requests} in {s.seconds:.1f} s | |",
        f"| throughput | {s.rps:.1f} rps | {_check(s.rps, gate.min_rps, above=False)} |",
        *(
            f"| {name} | {ms(s.latency_ms[name])} ms | "
            f"{_check(s.latency_ms[name], {'p95': gate.p95_ms, 'p99': gate.p99_ms}.get(name), True, ' ms')} |"
            for name in ("p50", "p90", "p95", "p99", "max")
        ),
        f"| error rate | {s.error_rate:.4g} | {_check(s.error_rate, gate.max_error_rate, above=True)} |",
        "",
        "Status codes: " + ", ".join(f"{code} x {n}" for code, n in sorted(s.status_codes.items())),
        "",
        "| instance | requests | errors | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {c.requests} | {c.errors} | " + " | ".join(_q(c, q) for q in ("p50", "p95", "p99")) + " |"
            for name, c in result.instances.items()
        ),
        "",
        "| scenario | requests | errors | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {c.requests} | {c.errors} | " + " | ".join(_q(c, q) for q in ("p50", "p95", "p99")) + " |"
            for name, c in result.scenarios.items()
        ),
        "",
        f"Resources of every service process, sampled every {settings.sample_seconds:g} s from /proc:",
        "",
        "| service | CPU seconds | peak CPU | peak RSS | open files (max) | samples |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.service} | {r.cpu_seconds:.2f} | {r.peak_cpu_percent:.0f} % | {_kb(r.peak_rss_kb)} | "
            f"{r.max_open_files} | {len(r.samples)} |"
            for r in result.resources
        ),
        "",
        *limits_markdown(limits),
        "![latency over time](latency.svg)",
        "",
    ]
    if failures:
        lines += ["Failures:", "", *(f"- {f}" for f in failures), ""]
    lines.append("Instance and scenario quantiles: nearest rank over every request; the headline ones are vegeta's.")
    return "\n".join(lines) + "\n"


def _q(c: Counts, name: str) -> str:
    value = c.latency_ms.get(name)
    return "" if value is None else f"{ms(value)} ms"
