"""An independent checker of the surgery schedule's hard constraints.

Written from the issue's rules and the raw scenario, sharing no code with the solver: it reads
the schedule table (as written to surgery_schedule.csv) and recomputes blocks, eligibility,
equipment use, turnovers and the overtime-risk limit itself. Returns a list of violations.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict

import pandas as pd
from scipy import stats


def _hhmm(s) -> int:
    h, m = str(s).split(":")
    return int(h) * 60 + int(m)


def _weekday(d: dt.date) -> str:
    return ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.weekday()]


def _duration(case, sc):
    ct = next(t for t in sc.surgery.case_types if t.id == case.case_type)
    mean, sd = ct.duration.mean, ct.duration.sd
    if case.expected_duration is not None:
        cv = sd / mean if mean else 0.0
        mean, sd = case.expected_duration, case.expected_duration * cv
    return mean, sd, ct


def check_schedule(sc, cases, table: pd.DataFrame, week: dt.date) -> list[str]:
    bad: list[str] = []
    by_id = {c.case_id: c for c in cases}
    monday = week - dt.timedelta(days=week.weekday())
    sunday = monday + dt.timedelta(days=6)
    fac = {f.id: f for f in sc.surgery.facilities}
    target = sc.surgery.overtime_target
    rows = []
    for r in table.to_dict(orient="records"):
        d = r["date"] if isinstance(r["date"], dt.date) else dt.date.fromisoformat(str(r["date"]))
        rows.append({**r, "date": d, "s": _hhmm(r["start"]), "e": _hhmm(r["end"])})

    seen = set()
    for r in rows:
        cid = r["case_id"]
        if cid in seen:
            bad.append(f"{cid}: booked twice")
        seen.add(cid)
        c = by_id.get(cid)
        if c is None:
            bad.append(f"{cid}: unknown case")
            continue
        if c.surgeon != r["surgeon"]:
            bad.append(f"{cid}: wrong surgeon")
        d = r["date"]
        if c.auth_status != "approved":
            bad.append(f"{cid}: authorization {c.auth_status} but booked")
        elif c.auth_date is None or d < c.auth_date:
            bad.append(f"{cid}: booked {d} before authorization {c.auth_date}")
        if not (c.earliest_date <= d <= c.latest_date):
            bad.append(f"{cid}: {d} outside patient window")
        if c.deadline is not None and d > c.deadline:
            bad.append(f"{cid}: {d} after clinical deadline {c.deadline}")
        if not (monday <= d <= sunday):
            bad.append(f"{cid}: {d} outside the week")
        # the block exists on that date, in that room, and belongs to the surgeon or is open
        blocks = [
            b
            for b in sc.surgery.blocks
            if b.facility == r["facility"]
            and b.room == r["room"]
            and (b.date == d or (b.date is None and b.day == _weekday(d)))
            and b.start == _hhmm(r["block_start"])
            and b.end == _hhmm(r["block_end"])
        ]
        if not blocks:
            bad.append(f"{cid}: no such block {d} {r['room']} {r['block_start']}")
            continue
        b = blocks[0]
        if b.surgeon not in (None, c.surgeon):
            bad.append(f"{cid}: in {b.surgeon}'s block")
        if not (b.start <= r["s"] and r["e"] <= b.end):
            bad.append(f"{cid}: {r['start']}-{r['end']} outside the block")
        mean, _sd, ct = _duration(c, sc)
        if r["e"] - r["s"] != max(1, round(mean)):
            bad.append(f"{cid}: booked length {r['e'] - r['s']} is not its mean {mean:.0f}")
        f = fac[r["facility"]]
        if f.kind == "asc" and not (c.asc_ok and ct.asc_eligible):
            bad.append(f"{cid}: at an ASC but not ASC-eligible")
        needs = set(ct.equipment) | set(c.equipment)
        r["needs"] = needs
        for e in needs:
            if f.equipment.get(e, 0) < 1:
                bad.append(f"{cid}: needs {e}, which {f.id} lacks")

    # rooms: order with turnovers; overtime-risk limit
    by_room = defaultdict(list)
    for r in rows:
        by_room[r["date"], r["facility"], r["room"], r["block_start"]].append(r)
    z = stats.norm.isf(target) if target > 0 else 8.0
    for (d, f_id, room, _bs), rs in by_room.items():
        rs.sort(key=lambda r: r["s"])
        t = fac[f_id].turnover_min
        for a, b in itertools.pairwise(rs):
            if b["s"] < a["e"] + round(t.mean):
                bad.append(f"{room} {d}: {b['case_id']} starts before {a['case_id']}'s turnover ends")
        mean = sum(_duration(by_id[r["case_id"]], sc)[0] for r in rs) + (len(rs) - 1) * t.mean
        var = sum(_duration(by_id[r["case_id"]], sc)[1] ** 2 for r in rs) + (len(rs) - 1) * t.sd**2
        cap = _hhmm(rs[0]["block_end"]) - _hhmm(rs[0]["block_start"])
        sigma2 = math.log1p(var / mean**2)
        q = math.exp(math.log(mean) - sigma2 / 2 + z * math.sqrt(sigma2))
        if q > cap + 1e-6:
            bad.append(f"{room} {d}: total at its {1 - target:.0%} quantile {q:.1f} > block {cap}")

    # surgeons: one room at a time, one facility a day
    by_surgeon = defaultdict(list)
    for r in rows:
        by_surgeon[r["surgeon"], r["date"]].append(r)
    for (s, d), rs in by_surgeon.items():
        rs.sort(key=lambda r: r["s"])
        for a, b in itertools.pairwise(rs):
            if b["s"] < a["e"]:
                bad.append(f"{s} {d}: {a['case_id']} and {b['case_id']} overlap")
        if len({r["facility"] for r in rs}) > 1:
            bad.append(f"{s} {d}: at two facilities")

    # equipment in use at every moment
    by_fac_day = defaultdict(list)
    for r in rows:
        by_fac_day[r["facility"], r["date"]].append(r)
    for (f_id, d), rs in by_fac_day.items():
        for e, count in fac[f_id].equipment.items():
            users = [r for r in rs if e in r.get("needs", ())]
            for r in users:
                at = sum(1 for u in users if u["s"] <= r["s"] < u["e"])
                if at > count:
                    bad.append(f"{f_id} {d}: {at} cases use {e} at {r['start']} (count {count})")
    return bad
