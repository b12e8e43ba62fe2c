"""The HTML run report in a real browser: Debian's chromium driven by Playwright (its own browser download is never
used). Marker ``browser``; without a chromium binary every test here is skipped, saying which binary is missing.

The page is written the way every verb writes it: ``finish`` renders it from the Report and the CLI writes the
reports folder; the browser opens it from disk (file://), as someone who downloaded the artifact would.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jessy_ci.cli import write_reports
from jessy_ci.report import Report
from jessy_ci.verbs.execute import finish
from tests.support.run_reports import FAILING_TEST, failing_run, passing_run

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("JESSY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium not found on PATH (Debian: apt-get install chromium; or set JESSY_CHROMIUM)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def _written(report: Report, folder: Path) -> Path:
    write_reports(folder, finish(report))
    return folder / "index.html"


def _open(browser: Any, page_file: Path) -> tuple[Any, list[str]]:
    """The page, and every console error, page error, failed request and request that left the folder."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    local = ("file://", "data:")
    page.on("request", lambda r: None if r.url.startswith(local) else problems.append(f"fetched {r.url}"))
    page.goto(page_file.as_uri(), wait_until="load")
    return page, problems


@pytest.mark.parametrize("run", [failing_run, passing_run], ids=["failing", "passing"])
def test_the_report_opens_from_disk_with_no_console_error(browser: Any, tmp_path: Path, run: Any) -> None:
    page, problems = _open(browser, _written(run(), tmp_path))
    assert problems == []
    report = run()
    assert page.inner_text("#verdict") == ("passed" if report.passed else "failed")
    rows = page.locator("#steps tbody tr")
    assert rows.count() == len(report.steps)
    page.close()


def test_a_run_with_a_failing_test_shows_that_test_first(browser: Any, tmp_path: Path) -> None:
    page_file = _written(failing_run(), tmp_path / "reports")
    page, problems = _open(browser, page_file)
    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot))
    print(f"screenshot: {screenshot}")  # the evidence, kept in the test's tmp dir
    assert problems == []
    first = page.locator("li.test").first
    assert FAILING_TEST in first.inner_text()
    assert "AssertionError: service is 'jessy-core', expected 'jessy-kernel'" in first.inner_text()
    box, steps = first.bounding_box(), page.locator("#steps").bounding_box()
    assert box is not None and steps is not None
    assert box["y"] < steps["y"]  # above the step table
    assert box["y"] < 900  # on the first screen, without scrolling
    body = page.inner_text("body")
    assert body.index(FAILING_TEST) < body.index("jessy-core:unit")
    # what else a reader sees: the regression marked on its chart, the embedded load chart drawn
    assert "regression" in page.locator("figure.bench.regression figcaption").inner_text()
    assert page.eval_on_selector("img.latency", "img => img.naturalWidth") > 0
    assert screenshot.stat().st_size > 10_000
    page.close()
