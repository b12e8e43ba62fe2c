"""The latency-over-time plot of a load run, as SVG, with matplotlib (Agg, no display): latency quantiles per time
bucket above, requests per bucket (successes and failures) below.

matplotlib is imported only when a plot is made. Runs in-process (``render``), or in a python container as
``python -m jessy_ci.verbs.load_plot OUT.svg`` with the series in ``$JESSY_LOAD_SERIES`` (toolchains/plot.py), where
the calling process has no matplotlib. Standard library, matplotlib and the package sources only: nothing else is
installed there.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from jessy_ci.toolchains.plot import SERIES_ENV

_LINES = (("p50", "#1f77b4", "-"), ("p95", "#ff7f0e", "-"), ("p99", "#d62728", "-"), ("max", "#7f7f7f", ":"))


def _numbers(series: Mapping[str, Any], key: str) -> list[float]:
    return [float(v) for v in cast(list[Any], series.get(key) or [])]


def render(series: Mapping[str, Any]) -> bytes:
    """The SVG of a series (``gates.load.series_json``). Raises ImportError where matplotlib is not installed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "jessy-ci-load"  # the same series gives the same file
    t = _numbers(series, "t")
    width = float(series.get("bucket_s") or 1.0)
    requests = _numbers(series, "requests")
    errors = _numbers(series, "errors")
    ok = [r - e for r, e in zip(requests, errors, strict=False)]
    figure = Figure(figsize=(9, 6), layout="constrained")
    latency, counts = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    middles = [x + width / 2 for x in t]
    for key, colour, style in _LINES:
        latency.plot(middles, _numbers(series, key), color=colour, linestyle=style, marker=".", label=key)
    latency.set_ylabel("latency (ms)")
    latency.set_ylim(bottom=0)
    latency.grid(alpha=0.3)
    latency.legend(loc="upper left", ncols=4)
    counts.bar(t, ok, width=width, align="edge", color="#2ca02c", label="ok")
    counts.bar(t, errors, width=width, align="edge", bottom=ok, color="#d62728", label="failed")
    counts.set_ylabel(f"requests / {width:g} s")
    counts.set_xlabel("seconds since the first request")
    counts.grid(alpha=0.3)
    counts.legend(loc="upper left", ncols=2)
    untyped: Any = figure  # matplotlib leaves the **kwargs of suptitle and savefig untyped
    untyped.suptitle(str(series.get("title") or "latency over time"))
    out = io.BytesIO()
    untyped.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _main(argv: list[str]) -> int:
    """In a container: ``python -m jessy_ci.verbs.load_plot OUT.svg`` with the series in ``$JESSY_LOAD_SERIES``."""
    series = cast(dict[str, Any], json.loads(os.environ[SERIES_ENV]))
    Path(argv[0]).write_bytes(render(series))
    print(f"wrote {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
