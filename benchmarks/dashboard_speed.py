"""Benchmark: how fast the dashboard answers (issue 8's goals: first page <= 3 s after the server is up;
a 100-replication what-if on the example practice <= 15 s on 2 cores).

Starts ``clinicflow dashboard`` on a free localhost port, opens the first page and the what-if page (which
runs a 100-replication base-versus-variant comparison on open) in Debian's headless Chromium, and prints the
times. Also times the same comparison called directly, without the browser.

    python benchmarks/dashboard_speed.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from clinicflow import load_scenario
    from clinicflow.dashboard_server import CHROMIUM_FLAGS, free_port
    from clinicflow.whatif import Variant, apply_variant, compare

    print(f"cores={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    base = load_scenario(ROOT / "scenarios" / "family-practice.yaml")
    v = Variant(name="one more MA on Tue/Thu", extra_mas_on={"tue": 1, "thu": 1})
    t0 = time.perf_counter()
    compare(base, [(v.name, v, apply_variant(base, v))], replications=100, seed=1, workers=2)
    print(
        f"what-if, 100 replications x 2 arms, called directly: {time.perf_counter() - t0:.1f} s (goal 15 s)"
    )

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "clinicflow", "dashboard", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            for name, path, selector in (
                ("first page (Practice), cold", "", ".js-plotly-plot"),
                ("first page (Practice), warm", "", ".js-plotly-plot"),
                ("what-if page, 100-replication comparison", "/whatif", "text=Variant against the base"),
            ):
                page = b.new_page()
                t0 = time.perf_counter()
                page.goto(url + path, wait_until="domcontentloaded")
                page.wait_for_selector(selector, timeout=180_000)
                print(f"{name}: {time.perf_counter() - t0:.1f} s")
                page.close()
            b.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
