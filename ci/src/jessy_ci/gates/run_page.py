"""The HTML run report, ``index.html``: the RunView through a Jinja2 template (autoescaped), with the benchmark charts
as inline SVG drawn by pygal. One self-contained file: inline CSS and SVG, no script, nothing fetched.

Jinja2 and pygal are imported only here and only when a page is rendered, so ``jessy-ci --help`` never loads them.
pygal is pure Python (no numpy): it is installed into the Dagger module's runtime on every cold load, where the page
is rendered too.
"""

from __future__ import annotations

import functools
import importlib
import xml.etree.ElementTree as ET
from typing import Any

from jessy_ci.gates import bench
from jessy_ci.gates.run_view import BenchRow, RunView

PAGE = "index.html"
TEMPLATE = "report.html.j2"
BASELINE_COLOUR, CURRENT_COLOUR, REGRESSION_COLOUR = "#8a94a6", "#2f6fdf", "#d1242f"


def bench_chart(row: BenchRow) -> str:
    """One benchmark's box plot (median, quartiles, Tukey whiskers, outliers) of the baseline's samples beside this
    run's, as an ``<svg>`` element; this run's box is red when it is a regression."""
    pygal: Any = importlib.import_module("pygal")
    style: Any = importlib.import_module("pygal.style")
    colour = REGRESSION_COLOUR if row.failed else CURRENT_COLOUR

    def value(number: float) -> str:
        return bench.format_value(number, row.unit)

    chart = pygal.Box(
        box_mode="tukey",
        width=360,
        height=240,
        js=[],  # pygal's tooltips are a script from the web: none, the page opens offline and runs no script
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        title=None,
        y_title=row.unit,
        value_formatter=value,
        style=style.Style(
            background="white",
            plot_background="white",
            colors=(BASELINE_COLOUR, colour) if row.baseline else (colour,),
            font_family="system-ui, sans-serif",
            label_font_size=11,
            major_label_font_size=11,
            title_font_size=12,
        ),
        margin=8,
    )
    if row.baseline:
        chart.add("baseline", list(row.baseline))
    chart.add("regression" if row.failed else "current", list(row.current))
    tree: ET.Element = chart.render_tree()
    for parent in tree.iter():  # pygal always adds a <script> with its tooltips' config: no script on this page
        for child in [c for c in parent if c.tag == "script"]:
            parent.remove(child)
    return ET.tostring(tree, encoding="unicode")


@functools.cache
def _template() -> Any:
    """The compiled page template (once per process)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("jessy_ci", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(TEMPLATE)


def preload() -> None:
    """Import Jinja2 and compile the template: what rendering costs before it renders. The verbs call it in a worker
    thread while their steps run, so the page costs the run next to nothing at its end. pygal is imported when a
    page has charts (benchmark runs, minutes long), not by every run."""
    _template()


def render(run: RunView) -> str:
    """The page for a RunView."""
    from markupsafe import Markup

    charts = [Markup(bench_chart(row)) for row in run.benchmarks.rows] if run.benchmarks else []
    return _template().render(run=run, charts=charts)
