"""Import of a 110,000-row file in the public no-show layout, plus the no-show model fit.

Target (issue 6): import + fit in 10 s or less on 2 cores. Prints wall times of each step, in
process and through the CLI (which adds interpreter start-up and imports).

    python benchmarks/history_speed.py [--rows 110000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import duckdb  # noqa: E402

from clinicflow.data.noshow import fit_noshow  # noqa: E402
from clinicflow.data.store import import_history  # noqa: E402
from clinicflow.data.synthetic import generate_history, to_noshow_kaggle, write_history  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=110_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        f = tmp / "noshow.csv"
        t = time.perf_counter()
        frame = to_noshow_kaggle(generate_history(args.rows, seed=7, cancellations=False))
        write_history(frame, f)
        print(
            f"synthetic file: {args.rows:,} rows, {f.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - t:.1f} s, not timed)"
        )

        t0, c0 = time.perf_counter(), time.process_time()
        r = import_history(f, tmp / "a.duckdb", key_file=tmp / "key")
        t1 = time.perf_counter()
        con = duckdb.connect(str(tmp / "a.duckdb"), read_only=True)
        _, ev = fit_noshow(con)
        con.close()
        t2, c2 = time.perf_counter(), time.process_time()
        print(
            f"in process: import {t1 - t0:.2f} s ({r.rows_added:,} rows) + fit {t2 - t1:.2f} s "
            f"= {t2 - t0:.2f} s wall, {c2 - c0:.2f} s CPU"
        )
        print(
            f"  model: {ev['model']}; test ROC AUC {ev['test']['roc_auc']:.3f}, Brier {ev['test']['brier']:.4f}"
        )
        t = time.perf_counter()
        again = import_history(f, tmp / "a.duckdb", key_file=tmp / "key")
        print(f"  re-import: {time.perf_counter() - t:.2f} s, {again.rows_added} rows added")
        # a later export of the same appointments, one in ten statuses changed: the changed-row path
        # (the layout has no provider, type or visit times: those are kept from the store)
        later = frame.copy()
        flip = later.index[::10]
        later.loc[flip, "No-show"] = later.loc[flip, "No-show"].map({"Yes": "No", "No": "Yes"})
        write_history(later, tmp / "later.csv")
        t = time.perf_counter()
        upd = import_history(tmp / "later.csv", tmp / "a.duckdb", key_file=tmp / "key")
        print(
            f"  later export: {time.perf_counter() - t:.2f} s, {upd.rows_updated:,} updated, "
            f"{upd.rows_unchanged:,} unchanged"
        )

        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CLINICFLOW_KEY_FILE": str(tmp / "key")}
        cli = [sys.executable, "-m", "clinicflow", "history"]
        u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [*cli, "import", str(f), "--db", str(tmp / "b.duckdb")], check=True, env=env, capture_output=True
        )
        t1 = time.perf_counter()
        subprocess.run(
            [*cli, "fit", "--db", str(tmp / "b.duckdb"), "--json"], check=True, env=env, capture_output=True
        )
        t2 = time.perf_counter()
        u2 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = u2.ru_utime + u2.ru_stime - u0.ru_utime - u0.ru_stime
        print(
            f"CLI: history import {t1 - t0:.2f} s + history fit {t2 - t1:.2f} s = {t2 - t0:.2f} s wall, "
            f"{cpu:.2f} s CPU (target <= 10 s)"
        )
        print(f"load average now: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
