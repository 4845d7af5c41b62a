"""Exam-room assignment for a timed day.

Start times are fixed by then, so each in-person slot is an interval (its scheduled length plus
the mean turnover). CP-SAT gives every interval a room — procedure slots a procedure room — with
no two intervals overlapping in a room, and keeps each provider in as few rooms as it can
(MAs and patients find a provider in the same rooms all day).

The search has a *deterministic* budget (CP-SAT's own work units, about a second), so the same plan
gets the same rooms on a busy machine or an idle one. The rooms are interchangeable, which keeps
CP-SAT's bound far below its solutions: the answer is a good assignment, not a proven optimum
(10 s of wall time per day found ~10% fewer provider-room pairs on the family practice; the
rooms do not change any simulated KPI, since the simulated clinic gives out free rooms itself).
"""

from __future__ import annotations

from ..domain.scenario import Scenario
from ..errors import InfeasibleError
from . import cpsat


def assign_rooms(
    scenario: Scenario,
    intervals: list[tuple[str, int, int, bool]],
    *,
    label: str,
    time_limit: float = 10.0,
    deterministic_time: float = 1.0,
    seed: int = 0,
) -> list[str]:
    """Rooms for ``(provider, start, end, procedure)`` intervals of one day, in input order."""
    rooms = scenario.rooms.room_ids
    proc = set(scenario.rooms.procedure_rooms)
    if not intervals:
        return []
    m = cpsat.CpModel()
    x: dict = {}
    by_room: dict = {r: [] for r in rooms}
    for i, (_p, s, e, is_proc) in enumerate(intervals):
        allowed = [r for r in rooms if r in proc] if is_proc else rooms
        lits = []
        for r in allowed:
            lit = m.new_bool_var(f"x[{i},{r}]")
            x[(i, r)] = lit
            lits.append(lit)
            by_room[r].append(m.new_optional_fixed_size_interval_var(s, e - s, lit, f"iv[{i},{r}]"))
        m.add_exactly_one(lits)
    for ivs in by_room.values():
        if len(ivs) > 1:
            m.add_no_overlap(ivs)
    providers = sorted({p for p, *_ in intervals})
    uses = []
    for p in providers:
        for r in rooms:
            lits = [x[(i, r)] for i, iv in enumerate(intervals) if iv[0] == p and (i, r) in x]
            if not lits:
                continue
            u = m.new_bool_var(f"use[{p},{r}]")
            for lit in lits:
                m.add_implication(lit, u)
            # procedure rooms are shared by design: using one costs less than a new exam room
            uses.append((1 if r in proc else 4) * u)
    # Regular visits stay out of procedure rooms when they can.
    m.minimize(sum(uses) + sum(2 * lit for (i, r), lit in x.items() if r in proc and not intervals[i][3]))
    res = cpsat.solve(
        m, x, time_limit=time_limit, deterministic_time=deterministic_time, seed=seed, workers=1
    )
    if not res.has_solution:
        raise InfeasibleError(
            f"no exam-room assignment exists on {label}",
            [
                f"{len(intervals)} in-person slots need {len(rooms)} rooms "
                f"({len(proc)} procedure rooms) with turnover; more slots overlap than there are rooms"
            ],
        )
    out = []
    for i in range(len(intervals)):
        out.append(next(r for r in rooms if res.values.get((i, r))))
    return out
