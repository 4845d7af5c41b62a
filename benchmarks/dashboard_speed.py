"""Benchmark: how fast the dashboard answers (issue 8's goals: first page <= 3 s after the server is up;
a 100-replication what-if on the example practice <= 15 s on 2 cores).

First page: starts ``clinicflow dashboard`` on a free localhost port and opens the Practice page in
Debian's headless Chromium, each time in a fresh browser profile (nothing cached), and records in the
page when each part of the first screen is drawn:

- ``html``: the page's HTML and its ~60 startup scripts loaded (DOMContentLoaded);
- ``app``: Streamlit's app frame; ``title``: the practice's name;
- ``metrics``: all five metrics; ``table``: the providers table drawn;
- ``charts``: the three charts drawn with their bars; ``first screen``: all of the above.

``cold`` is the first visit after a fresh server is up (a new server per run); ``warm`` is a later visit
to a running server. Each is run 3 times; the medians are printed. It also checks that the server
answers keep-alive requests without Nagle's ~40 ms delay, then (unless ``--first-page-only``) times the
what-if page and the comparison called directly.

    python benchmarks/dashboard_speed.py [--runs 3] [--first-page-only]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_PAGE_CHARTS = 3

#: Runs in the page before Streamlit's scripts: notes (performance.now(), ms since navigation start)
#: when each part of the first screen appears.
MARKS_JS = """
(() => {
  const marks = {};
  window.__clinicflowMarks = marks;
  const drawn = (c) =>
    c.matches('[data-testid="stVegaLiteChart"]') ? !!c.querySelector('.marks .mark-rect path')
                                                 : !!c.querySelector('.main-svg .trace');
  const checks = {
    app: () => document.querySelector('[data-testid="stApp"]'),
    title: () => document.querySelector('[data-testid="stMain"] h1'),
    metrics: () => document.querySelectorAll('[data-testid="stMetricValue"]').length >= 5,
    table: () => document.querySelector('[data-testid="stDataFrame"] canvas'),
    charts: () => {
      const cs = [...document.querySelectorAll('[data-testid="stVegaLiteChart"], .js-plotly-plot')];
      return cs.length >= CHARTS && cs.every(drawn);
    },
  };
  const tick = () => {
    const now = performance.now();
    for (const [k, f] of Object.entries(checks)) if (!(k in marks) && f()) marks[k] = now;
  };
  new MutationObserver(tick).observe(document, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', () => { marks.html = performance.now(); });
})();
""".replace("CHARTS", str(FIRST_PAGE_CHARTS))
PARTS = ("html", "app", "title", "metrics", "table", "charts", "first screen")


def start_server() -> tuple[subprocess.Popen, str, float]:
    """``clinicflow dashboard`` on a free port; returns the process, its URL and the start-up time."""
    from clinicflow.dashboard_server import start_dashboard

    return start_dashboard(ROOT)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def first_page(browser, url: str) -> dict[str, float]:
    """Open the first page in a fresh browser profile; seconds from navigation to each part."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(MARKS_JS)
    page = ctx.new_page()
    page.goto(url, wait_until="commit")
    page.wait_for_function(
        "(m => m && ['title', 'metrics', 'table', 'charts'].every(k => k in m))(window.__clinicflowMarks)",
        timeout=120_000,
        polling=50,
    )
    marks = {k: v / 1000 for k, v in page.evaluate("window.__clinicflowMarks").items()}
    ctx.close()
    marks["first screen"] = max(marks[k] for k in ("title", "metrics", "table", "charts"))
    return marks


def keep_alive_ms(url: str, n: int = 8) -> float:
    """Median time of static-file requests on one reused connection (~40 ms each under Nagle's delay)."""
    host, port = url.removeprefix("http://").split(":")
    with urllib.request.urlopen(url) as r:
        assets = re.findall(r'(?:src|href)="\.?/?(static/js/[^"]+)"', r.read().decode())[:n]
    conn = http.client.HTTPConnection(host, int(port))
    times = []
    for a in assets:
        t0 = time.perf_counter()
        conn.request("GET", "/" + a)
        conn.getresponse().read()
        times.append(time.perf_counter() - t0)
    conn.close()
    return 1000 * statistics.median(times[1:])


def report(name: str, runs: list[dict[str, float]]) -> None:
    print(f"{name} (median of {len(runs)}; each run in a fresh browser profile):")
    for part in PARTS:
        values = [r[part] for r in runs if part in r]
        each = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {part:13s} {statistics.median(values):5.2f} s   [{each}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--first-page-only", action="store_true", help="skip the what-if timings")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from clinicflow.dashboard_server import CHROMIUM_FLAGS

    print(f"cores={os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        cold, warm, startups = [], [], []
        for _ in range(args.runs):
            proc, url, startup = start_server()
            startups.append(startup)
            try:
                cold.append(first_page(browser, url))
            finally:
                stop_server(proc)
        proc, url, _ = start_server()
        try:
            first_page(browser, url)  # the cold visit, not counted
            for _ in range(args.runs):
                warm.append(first_page(browser, url))
            print(
                f"server start-up (until /_stcore/health answers): median {statistics.median(startups):.1f} s"
            )
            print(f"static file over a reused keep-alive connection: median {keep_alive_ms(url):.1f} ms")
            report("first page (Practice), cold: first visit after the server is up", cold)
            report("first page (Practice), warm: a later visit", warm)
            if not args.first_page_only:
                page = browser.new_page()
                t0 = time.perf_counter()
                page.goto(url + "/whatif", wait_until="domcontentloaded")
                page.wait_for_selector("text=Variant against the base", timeout=180_000)
                print(
                    f"what-if page, 100-replication comparison: {time.perf_counter() - t0:.1f} s (goal 15 s)"
                )
                page.close()
        finally:
            stop_server(proc)
        browser.close()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    if not args.first_page_only:
        from clinicflow import load_scenario
        from clinicflow.whatif import Variant, apply_variant, compare

        base = load_scenario(ROOT / "scenarios" / "family-practice.yaml")
        v = Variant(name="one more MA on Tue/Thu", extra_mas_on={"tue": 1, "thu": 1})
        t0 = time.perf_counter()
        compare(base, [(v.name, v, apply_variant(base, v))], replications=100, seed=1, workers=2)
        print(
            f"what-if, 100 replications x 2 arms, called directly: {time.perf_counter() - t0:.1f} s (goal 15 s)"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
