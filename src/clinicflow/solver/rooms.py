"""Exam-room assignment for a timed day.

Start times are fixed by then, so each in-person slot is an interval (its scheduled length plus
the mean turnover). CP-SAT gives every interval a room — procedure slots a procedure room — with
no two intervals overlapping in a room, and keeps each provider in as few rooms as it can
(MAs and patients find a provider in the same rooms all day).

The search has a *deterministic* budget (CP-SAT's own work units, half a unit a day), so the same
plan gets the same rooms on a busy machine or an idle one. It starts from a greedy assignment
(procedure slots first, then each slot to a free room its provider already uses) and keeps the
greedy one when CP-SAT does not improve on it: with one worker and a small budget CP-SAT does not
always keep a hint. The rooms are interchangeable, which keeps CP-SAT's bound far below its
solutions: the answer is a good assignment, not a proven optimum. On the family week the greedy
start took the objective (provider-room pairs, 4 per exam room and 1 per procedure room, plus 2
per regular visit in a procedure room) from 316 at one unit a day without it to 292 at half a
unit. The rooms do not change any simulated KPI: the simulated clinic gives out free rooms itself.

Past ``CPSAT_MAX_PAIRS`` (in-person slots × rooms in a day) the greedy assignment is published without
a CP-SAT solve. CP-SAT improves the greedy start on 2 days of 5 on the family week (at most 1,400 pairs
a day: 95 → 63, 65 → 61) and at twice its size (3,900–5,500 pairs: 197 → 189, 119 → 110), so those
keep it; at 4× (14,000–21,500 pairs) it improved no day of 5 and spent 2.5–3.8 CPU s a day building
and searching the model (24 CPU s a week at 8×).
"""

from __future__ import annotations

from ..domain.scenario import Scenario
from ..errors import InfeasibleError
from . import cpsat

#: in-person slots × rooms in a day above which CP-SAT is not tried (the greedy rooms stand)
CPSAT_MAX_PAIRS = 8000


def assign_rooms(
    scenario: Scenario,
    intervals: list[tuple[str, int, int, bool]],
    *,
    label: str,
    time_limit: float = 10.0,
    deterministic_time: float = 0.5,
    seed: int = 0,
) -> list[str]:
    """Rooms for ``(provider, start, end, procedure)`` intervals of one day, in input order."""
    rooms = scenario.rooms.room_ids
    proc = set(scenario.rooms.procedure_rooms)
    if not intervals:
        return []
    if len(intervals) * len(rooms) > CPSAT_MAX_PAIRS:
        greedy = _greedy(intervals, rooms, proc)
        if greedy:
            return greedy
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
    # The literals of each (provider, room) pair, gathered in one pass over x (interval order within
    # a pair, as before): scanning every interval for every pair was providers × rooms × intervals,
    # cubic in the practice's size (5 s a week at 8x the family practice).
    lits_of: dict = {}
    for (i, r), lit in x.items():
        lits_of.setdefault((intervals[i][0], r), []).append(lit)
    uses = []
    use_of: dict = {}
    for p in providers:
        for r in rooms:
            lits = lits_of.get((p, r))
            if not lits:
                continue
            u = m.new_bool_var(f"use[{p},{r}]")
            use_of[(p, r)] = u
            for lit in lits:
                m.add_implication(lit, u)
            # procedure rooms are shared by design: using one costs less than a new exam room
            uses.append((1 if r in proc else 4) * u)
    # Regular visits stay out of procedure rooms when they can.
    m.minimize(sum(uses) + sum(2 * lit for (i, r), lit in x.items() if r in proc and not intervals[i][3]))
    greedy = _greedy(intervals, rooms, proc)
    hint = None
    if greedy:  # a complete hint (the use flags too), so CP-SAT starts from a solution
        hint = {lit: int(greedy[i] == r) for (i, r), lit in x.items()}
        used = {(intervals[i][0], r) for i, r in enumerate(greedy)}
        hint.update({u: int(key in used) for key, u in use_of.items()})
    res = cpsat.solve(
        m, x, time_limit=time_limit, deterministic_time=deterministic_time, seed=seed, workers=1, hint=hint
    )
    if not res.has_solution and greedy:
        # CP-SAT found nothing in its budget (a big day: slots × rooms literals) but the greedy
        # assignment is complete and valid: publish it rather than refuse a day that has rooms.
        return greedy
    if not res.has_solution:
        raise InfeasibleError(
            f"no exam-room assignment exists on {label}",
            [
                f"{len(intervals)} in-person slots need {len(rooms)} rooms "
                f"({len(proc)} procedure rooms) with turnover; more slots overlap than there are rooms"
            ],
        )
    out = [next(r for r in rooms if res.values.get((i, r))) for i in range(len(intervals))]
    if greedy and _cost(intervals, greedy, proc) <= _cost(intervals, out, proc):
        return greedy  # CP-SAT does not always keep a hint (with one worker, in a small budget)
    return out


def _cost(intervals, assigned: list[str], proc: set[str]) -> int:
    """The model's objective for an assignment."""
    pairs = {(iv[0], r) for iv, r in zip(intervals, assigned, strict=True)}
    misuse = sum(1 for iv, r in zip(intervals, assigned, strict=True) if r in proc and not iv[3])
    return sum(1 if r in proc else 4 for _, r in pairs) + 2 * misuse


def _greedy(
    intervals: list[tuple[str, int, int, bool]], rooms: list[str], proc: set[str]
) -> list[str] | None:
    """A first assignment: procedure slots first (they can only go to procedure rooms), then the
    rest in start order, each to a free room this provider already uses, else a free room nobody
    uses yet, else the free room with fewest providers — regular visits in a procedure room only
    when no exam room is free. None if some slot finds no free room."""
    busy: dict[str, list[tuple[int, int]]] = {r: [] for r in rooms}
    users: dict[str, set] = {r: set() for r in rooms}
    out: list[str | None] = [None] * len(intervals)
    order = sorted(
        range(len(intervals)), key=lambda i: (not intervals[i][3], intervals[i][1], intervals[i][2])
    )
    for i in order:
        p, s, e, is_proc = intervals[i]
        ok = [r for r in rooms if (not is_proc or r in proc) and all(e <= a or b <= s for a, b in busy[r])]
        if not ok:
            return None
        r = min(
            ok, key=lambda r: (r in proc and not is_proc, p not in users[r], len(users[r]), rooms.index(r))
        )
        out[i] = r
        busy[r].append((s, e))
        users[r].add(p)
    return out  # type: ignore[return-value]
