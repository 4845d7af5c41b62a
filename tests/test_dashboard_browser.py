"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

Starts ``clinicflow dashboard`` on a free localhost port, opens every page, checks that charts and
tables are shown and no exception block is rendered, and saves screenshots to ``test-artifacts/``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from clinicflow.dashboard_server import CHROMIUM_FLAGS, start_dashboard, stop_dashboard
from conftest import ROOT

#: One worker runs the module (``--dist loadgroup``): one dashboard server and one Chromium, not one
#: of each per xdist worker.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = CHROMIUM_FLAGS


@pytest.fixture(scope="module")
def server():
    try:
        proc, url, _ = start_dashboard(ROOT)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield url
    stop_dashboard(proc)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


#: Charts drawn: Plotly plots, and Vega-Lite charts whose marks are in the SVG.
CHARTS_DRAWN = (
    "document.querySelectorAll('.js-plotly-plot').length"
    " + document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] .marks .mark-rect').length"
)


#: Metric labels and values the browser cut short with an ellipsis ("18.0 …"): too many metrics in
#: one row for the page's width.
CUT_OFF = """[...document.querySelectorAll(
    '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,'
    + ' [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *'
)].filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""


def _cut_off(page) -> list[str]:
    return sorted(set(page.evaluate(CUT_OFF)))


def _open(browser, url: str, name: str, charts: int = 1, tables: bool = True, work_s: float = 60):
    """Open a page and wait for it; ``work_s`` is how long its computation on opening may take on a
    busy CI machine (the surgery page plans and simulates a week of OR cases before its metrics)."""
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    t0 = time.monotonic()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMetric"]', timeout=work_s * 1000)
    page.wait_for_function(f"{CHARTS_DRAWN} >= {charts}", timeout=90_000)
    elapsed = time.monotonic() - t0
    if tables:
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    page.wait_for_timeout(1500)  # let the last elements paint before the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _cut_off(page) == []
    return page, elapsed


def test_practice_page_renders_in_browser(server, browser):
    page, elapsed = _open(browser, server, "practice", charts=3)
    assert page.get_by_text("Maple Street Family Medicine").first.is_visible()
    assert page.locator('[data-testid="stMetricValue"]').count() == 5
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    # the charts drawn as SVG, with their bars, axis titles and legends
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() == 3
    sessions, capacity, staff = charts.nth(0), charts.nth(1), charts.nth(2)
    assert staff.locator(".mark-rect path").count() == 10  # five days × (front desk, MAs), one stretch each
    assert sessions.locator(".mark-rect path").count() >= 54  # one bar per session, plus breaks
    assert capacity.locator(".mark-rect path").count() == 6 + 7  # six providers, seven visit types
    for chart, texts in (
        (
            sessions,
            (
                "time of day (clinic time)",
                "weekday · provider",
                "09:00",
                "session",
                "break",
                "mon · dr_okafor",
            ),
        ),
        (capacity, ("minutes per week", "provider / appointment type", "12,285 min", "follow_up")),
        (staff, ("Front desk and MAs on duty", "wed · MAs", "front desk", "07:00")),
    ):
        svg_text = " ".join(chart.locator("svg text").all_text_contents())
        for t in texts:
            assert t in svg_text, (t, svg_text[:300])
    assert page.locator(".js-plotly-plot").count() == 0  # plotly.js is not loaded for the first page
    # the acceptance goal is 3 s on an idle machine; the suite runs in parallel, so allow slack
    assert elapsed < 15, f"first page took {elapsed:.1f} s"
    page.close()


def test_flow_page_runs_a_simulation_in_browser(server, browser):
    page, _ = _open(browser, server + "/flow", "flow", charts=7)
    assert page.get_by_text("The bottleneck is").first.is_visible()
    # the animated day plays: the slider's clock moves on and patients are drawn on the floor plan
    clock = page.locator("text=/^clinic time \\d\\d:\\d\\d$/").first
    start = clock.text_content()
    page.get_by_text("▶ play").first.click()
    page.wait_for_function(
        "t => [...document.querySelectorAll('text')].some(e => /^clinic time /.test(e.textContent)"
        " && e.textContent !== t)",
        arg=start,
        timeout=15_000,
    )
    assert clock.text_content() != start
    page.get_by_text("❚❚ pause").first.click()
    for label in ("waiting room", "exam rooms", "check-in desk", "with the provider"):
        assert page.get_by_text(label).first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "flow-animation.png"), full_page=True)
    page.close()


def test_whatif_page_in_browser(server, browser):
    t0 = time.monotonic()
    page, _ = _open(browser, server + "/whatif", "whatif", charts=1)
    elapsed = time.monotonic() - t0
    assert page.get_by_text("Variant against the base").first.is_visible()
    # a 100-replication what-if (base + variant) on the example practice; goal 15 s on an idle machine
    assert elapsed < 60, f"what-if took {elapsed:.1f} s"
    page.close()


def test_noshow_page_in_browser(server, browser):
    page, _ = _open(browser, server + "/noshow", "noshow", charts=9, tables=False)
    assert page.get_by_text("No-show model").first.is_visible()
    page.close()


def test_surgery_page_in_browser(server, browser):
    page, _ = _open(browser, server + "/surgery", "surgery", charts=2, work_s=300)
    assert page.get_by_text("Unscheduled cases and why").first.is_visible()
    page.close()


OWN = ROOT / "tests" / "data" / "late_ma_clinic.yaml"


@pytest.fixture(scope="module")
def own_server():
    """``clinicflow dashboard FILE`` through the real command line and the exec'd server."""
    try:
        proc, url, _ = start_dashboard(ROOT, scenarios=(str(OWN),))
    except RuntimeError as e:
        pytest.fail(str(e))
    yield url
    stop_dashboard(proc)


def test_dashboard_opens_on_a_scenario_given_on_its_command_line(own_server, browser):
    """The first page shows the given practice, not the bundled one."""
    page, _ = _open(browser, own_server, "practice-given-scenario", charts=3)
    assert page.get_by_text("Late MA (random clinic 2 of session 6)").first.is_visible()
    assert page.get_by_text("Maple Street Family Medicine").count() == 0
    page.close()


def test_schedule_page_plans_in_browser(own_server, browser):
    """Plan the week from the button. On the given one-provider clinic (seconds, where the family
    week took a minute in this test); the AppTests plan and book the family week itself."""
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(own_server + "/schedule", wait_until="domcontentloaded")
    page.get_by_role("button", name="Plan the week").click(timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 1", timeout=300_000)
    page.wait_for_selector('[data-testid="stDownloadButton"]', timeout=60_000)
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "schedule.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Expected week against the baselines").first.is_visible()
    assert page.get_by_text("Sessions most often running late (simulated)").first.is_visible()
    # schedule.csv, .xlsx, calendars, FHIR, sessions.csv (the booking box offers its own only once used)
    assert page.locator('[data-testid="stDownloadButton"]').count() == 5
    assert _cut_off(page) == []
    page.close()
