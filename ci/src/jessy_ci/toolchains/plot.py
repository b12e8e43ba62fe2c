"""The latency plot of a load run, made in a python container where the calling process has no matplotlib (the
Dagger module's runtime): matplotlib pinned here and in the root pyproject.toml's dev extra, the rendering module
run from the package sources, the series handed over as JSON in the environment."""

from __future__ import annotations

from jessy_ci.steps import REPORTS_PLACEHOLDER, Step
from jessy_ci.toolchains import repo_step
from jessy_ci.toolchains.python import CACHES, IMAGE, pip_install
from jessy_ci.toolchains.repo import PACKAGE_SOURCES

MATPLOTLIB = "matplotlib==3.11.2"
PLOT_FILE = "latency.svg"  # in {reports}
SERIES_ENV = "JESSY_LOAD_SERIES"


def latency_plot(component: str, series: str, run_id: str) -> Step:
    """``python -m jessy_ci.verbs.load_plot`` with matplotlib: ``series`` (JSON) in, ``{reports}/latency.svg`` out."""
    return repo_step(
        component,
        "plot",
        toolchain="python",
        image=IMAGE,
        command=("python", "-m", "jessy_ci.verbs.load_plot", f"{REPORTS_PLACEHOLDER}/{PLOT_FILE}"),
        sources=(PACKAGE_SOURCES,),
        setup=(pip_install(MATPLOTLIB),),
        env={"PYTHONPATH": PACKAGE_SOURCES, SERIES_ENV: series, "JESSY_LOAD_RUN": run_id},
        caches=CACHES,
    )
