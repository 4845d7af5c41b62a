"""The first-come-first-served baseline the optimized week is measured against.

What a coordinator does by hand: take cases in order of request and put each into the first
block (by date, then room) where it fits by mean duration — appended after the cases already
there, with the planned turnover between them. It respects every hard rule the optimizer does
(authorization, windows, deadlines, eligibility, equipment counts, surgeon in one place) except
the overtime-risk limit, which a mean-based coordinator does not see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ..domain.cases import SurgicalCase
from ..domain.scenario import Scenario
from ..domain.surgery_schedule import RoomDay
from .surgery import Booking, SurgeryPlan, _prepare, equipment_fits, room_day_risks


def first_come_first_served(scenario: Scenario, cases: list[SurgicalCase], week: dt.date) -> SurgeryPlan:
    """Book in request order (``requested_date``, then file order) into the first block that fits
    by mean duration."""
    data = _prepare(scenario, cases, week)
    sg = scenario.surgery
    assert sg is not None
    counts = {f.id: f.equipment for f in sg.facilities}
    end_of: dict[RoomDay, int] = {}
    n_in: dict[RoomDay, int] = defaultdict(int)
    surgeon_busy: dict[tuple[str, dt.date], list[tuple[int, int, str]]] = defaultdict(list)
    in_use: dict[tuple[str, dt.date], list[tuple]] = defaultdict(list)  # (start, end, needs)
    bookings: list[Booking] = []
    unbooked: dict[str, str] = dict(data.unbookable)
    ordered = sorted(cases, key=lambda c: (c.requested_date or dt.date.max, c.order))
    for c in ordered:
        if c.case_id not in data.options:
            continue
        f = data.facts[c.case_id]
        placed = False
        for r in sorted(data.options[c.case_id]):
            t_plan = data.turnover[r.facility][2]
            start = end_of.get(r, r.start - t_plan) + t_plan if n_in[r] else r.start
            end = start + f.planned
            if end > r.end:
                continue
            busy = surgeon_busy[c.surgeon, r.date]
            if any(s < end and start < t for s, t, _ in busy):
                continue
            if any(fac != r.facility for _, _, fac in busy):
                continue
            if not equipment_fits(counts[r.facility], f.needs, start, end, in_use[r.facility, r.date]):
                continue
            bookings.append(Booking(c.case_id, r, start, end, n_in[r] + 1))
            end_of[r] = end
            n_in[r] += 1
            busy.append((start, end, r.facility))
            in_use[r.facility, r.date].append((start, end, f.needs))
            placed = True
            break
        if not placed:
            unbooked[c.case_id] = "first-come baseline: no block had room by mean duration"
    plan = SurgeryPlan(
        status="HEURISTIC",
        objective=float("nan"),
        bound=float("nan"),
        wall_time=0.0,
        week=data.week,
        room_days=data.room_days,
        bookings=sorted(bookings, key=lambda b: (b.room_day, b.start)),
        unbooked={c.case_id: unbooked[c.case_id] for c in cases if c.case_id in unbooked},
        facts=data.facts,
    )
    plan.risks = room_day_risks(scenario, plan.room_days, plan.bookings, data.facts)
    return plan
