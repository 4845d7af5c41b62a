"""How clinicflow's commands scale with the size of the practice: wall time and peak memory.

    PYTHONPATH=src python benchmarks/scale.py [--sizes 1,2,4,8] [--shapes base,sixday,long]
        [--commands validate,plan,simulate,compare,sweep] [--time-limit 60] [--out /tmp/cf-scale]

Builds bigger practices from ``scenarios/family-practice.yaml`` and runs the CLI on each one under
``/usr/bin/time -v``, printing wall seconds and peak resident memory (MiB) per command and size. The
k× practice copies every provider k times with new ids (``dr_okafor_2``, …) and scales exam rooms
(procedure rooms too), front desk, MAs, walk-ins and weekly demand by k. Shapes:

* ``base``   — the family practice's week, k times over;
* ``sixday`` — open Monday to Saturday 07:30-21:00: every provider also works Saturday morning and a
  Tuesday and Thursday evening session (18:00-21:00), demand scaled with the provider-minutes;
* ``long``   — 12-hour days (07:00-19:00): every session stretched to 07:00-13:00 and 13:30-19:00,
  demand scaled with the provider-minutes (long sessions: more slots per timing block).

``history`` runs synthesize / import / report / fit and ``calibrate`` on ``--rows`` rows (default
500,000) of the 1× practice. Benchmarks print figures; they are not tests, and times on a shared
machine move with whatever else runs.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "family-practice.yaml"
WEEK = "2026-11-30"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _provider_minutes(data: dict) -> int:
    return sum(
        _minutes(s["end"]) - _minutes(s["start"])
        for p in data["providers"]
        for day in p["sessions"].values()
        for s in day
    )


def scaled_practice(k: int, shape: str = "base") -> dict:
    """The family practice's scenario dict with k copies of every provider and resources scaled by k."""
    data = yaml.safe_load(BASE.read_text())
    base_minutes = _provider_minutes(data)
    if shape == "sixday":
        data["clinic"]["days_open"] = ["mon", "tue", "wed", "thu", "fri", "sat"]
        data["clinic"]["closes"] = "21:00"
        for p in data["providers"]:
            p["sessions"]["sat"] = [{"start": "08:00", "end": "12:00", "holds": 1}]
            for d in ("tue", "thu"):
                p["sessions"].setdefault(d, []).append({"start": "18:00", "end": "21:00", "holds": 1})
    elif shape == "long":
        data["clinic"]["opens"] = "07:00"
        data["clinic"]["closes"] = "19:00"
        for p in data["providers"]:
            for d in p["sessions"]:
                p["sessions"][d] = [
                    {"start": "07:00", "end": "13:00", "holds": 2},
                    {"start": "13:30", "end": "19:00", "holds": 2},
                ]
    elif shape != "base":
        raise ValueError(f"unknown shape {shape!r}")
    load = _provider_minutes(data) / base_minutes
    providers = []
    for i in range(1, k + 1):
        for p in data["providers"]:
            q = copy.deepcopy(p)
            if i > 1:
                q["id"] = f"{p['id']}_{i}"
                q["name"] = f"{p['name']} ({i})"
            providers.append(q)
    data["providers"] = providers
    n_rooms = data["rooms"]["count"]
    proc = [int(r[1:]) for r in data["rooms"]["procedure_rooms"]]
    data["rooms"]["count"] = n_rooms * k
    data["rooms"]["procedure_rooms"] = [f"R{j * n_rooms + r:02d}" for j in range(k) for r in proc]
    staff = data["staff"]
    staff["front_desk"]["count"] *= k
    staff["medical_assistants"]["count"] *= k
    for over in staff.get("by_day", {}).values():
        for role in over:
            over[role] *= k
    arr = data["arrivals"]
    arr["walk_ins_per_hour"] *= k
    arr["walk_ins_by_hour"] = {h: r * k for h, r in arr["walk_ins_by_hour"].items()}
    for d in data["demand"]:
        d["weekly"] = round(d["weekly"] * k * load)
    data["clinic"]["name"] += f" x{k}" + ("" if shape == "base" else f" ({shape})")
    return data


def write_practice(k: int, shape: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"family-{shape}-x{k}.yaml"
    path.write_text(yaml.safe_dump(scaled_practice(k, shape), sort_keys=False))
    return path


VARIANT = """name: {name}
base: {base}
{body}
"""


def _variants(scenario: Path, k: int) -> list[Path]:
    """Two what-if variants of the scaled practice: k more MAs on Tuesday/Thursday, reminders."""
    out = []
    for name, body in (
        (f"{k} more MA(s) on Tuesday and Thursday", f"extra_mas_on: {{tue: {k}, thu: {k}}}"),
        ("Text reminders", "no_show_scale: 0.7"),
    ):
        p = scenario.with_name(f"{scenario.stem}-v{len(out)}.yaml")
        p.write_text(VARIANT.format(name=name, base=scenario.name, body=body))
        out.append(p)
    return out


def timed(args: list[str], log: Path) -> tuple[float, float, int]:
    """Run the CLI under /usr/bin/time -v: (wall s, peak RSS MiB, exit code)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t0 = time.perf_counter()
    with log.open("w") as fh:
        rc = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-m", "clinicflow", *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        ).returncode
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", log.read_text())
    return wall, (int(m.group(1)) / 1024 if m else float("nan")), rc


def stage_lines(log: Path) -> list[str]:
    """The plan's own summary lines (template status, sessions timed), for the stage times."""
    keep = ("template", "provider-sessions", "booked", "stage")
    return [ln.strip() for ln in log.read_text().splitlines() if any(w in ln for w in keep)][:4]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,2,4,8")
    ap.add_argument("--shapes", default="base")
    ap.add_argument("--commands", default="validate,simulate,compare,sweep,plan")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/cf-scale"))
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    cmds = args.commands.split(",")
    print(f"{'shape':7} {'k':>2} {'command':10} {'wall s':>8} {'peak MiB':>9} rc")
    for shape in args.shapes.split(","):
        for k in map(int, args.sizes.split(",")):
            sc = write_practice(k, shape, out)
            runs = {
                "validate": ["validate", str(sc)],
                "simulate": ["simulate", str(sc), "-n", "200", "--seed", "1", "--json"],
                "compare": ["compare", str(sc), *map(str, _variants(sc, k)), "-n", "100", "--seed", "1"],
                "sweep": [
                    "sweep",
                    str(sc),
                    "--vary",
                    f"mas={3 * k},{4 * k},{5 * k}",
                    "--vary",
                    f"desk={k},{2 * k},{3 * k}",
                    "-n",
                    "30",
                    "--seed",
                    "1",
                ],
                "plan": [
                    "plan",
                    str(sc),
                    "--week",
                    WEEK,
                    "--time-limit",
                    f"{args.time_limit:g}",
                    "--out",
                    str(out / f"plan-{shape}-x{k}"),
                ],
            }
            for c in cmds:
                if c not in runs:
                    continue
                log = out / f"{c}-{shape}-x{k}.log"
                wall, rss, rc = timed(runs[c], log)
                print(f"{shape:7} {k:2d} {c:10} {wall:8.1f} {rss:9.0f} {rc}", flush=True)
                if c == "plan":
                    for ln in stage_lines(log):
                        print(f"{'':22}{ln}")
    if "history" in cmds:
        csv, db = out / "history.csv", out / "history.duckdb"
        db.unlink(missing_ok=True)
        key = out / "key"
        hist = {
            "synthesize": [
                "history",
                "synthesize",
                str(csv),
                "--rows",
                str(args.rows),
                "--scenario",
                str(BASE),
                "--seed",
                "1",
            ],
            "import": ["history", "import", str(csv), "--db", str(db), "--key-file", str(key)],
            "report": ["history", "report", "--db", str(db)],
            "fit": ["history", "fit", "--db", str(db)],
            "calibrate": ["calibrate", str(BASE), "--db", str(db), "--out", str(out / "calibrated.yaml")],
        }
        for c, a in hist.items():
            wall, rss, rc = timed(a, out / f"history-{c}.log")
            print(f"{'history':7} {args.rows // 1000:>2}k {c:10} {wall:8.1f} {rss:9.0f} {rc}", flush=True)


if __name__ == "__main__":
    main()
