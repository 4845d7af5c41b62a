"""Booking pending requests into the week's slots: an assignment into groups of interchangeable
slots, solved as a min-cost flow when every patient asks once, with CP-SAT when one asks twice.

A request may take an open template slot of its own type with a provider who sees it, on a date
between its earliest and latest dates; an urgent request may also take a same-day hold whose
length fits it (any request, once the hold is released: ``book --release-holds``). The objective
books as many requests as it can weighted by urgency, then keeps patients with their preferred
provider, then honours morning/afternoon preferences, and books urgent and soon requests earlier;
among bookings equal on all that, earlier slots first and holds kept open. A patient gets at most
one booking per day. Every request left unbooked gets a reason in plain words.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..domain.clock import format_hhmm, monday_of
from ..domain.requests import NOON, Request
from ..domain.scenario import Scenario
from . import cpsat
from .week import ceil_min

URGENCY_WEIGHT = {"urgent": 1000, "soon": 400, "routine": 100}
#: Added to a rebooked patient's weight (``Request.rebook``): the practice cancelled a visit it had
#: promised, so that patient comes before new routine and soon requests, not before urgent ones.
REBOOK = 500
OWN_PROVIDER = 60
TIME_OF_DAY = 15
EARLY_PER_DAY = {"urgent": 30, "soon": 8, "routine": 0}
#: Among bookings equally good by the score, the one that takes earlier slots and leaves same-day
#: holds open (``_tiebreak``): first available, as practices book — a slot is lost once its day
#: passes while a later one can still take a later request, no-shows rise with lead time (the
#: no-show model's lead-time bands: 11% booked the same day, 31% past 60 days), and a hold an
#: urgent request known in advance does not need stays open for the day's phone triage. A tie-break
#: only (lexicographic): it never costs any patient a booking, their provider or their time of day.
#: Per booked request it lies in ``[-TIE_SPAN, 0]``.
TIE_SPAN = 8


@dataclass(frozen=True)
class BookingResult:
    """Which request took which schedule row, and why the others did not get one."""

    status: str
    objective: float | None
    bound: float | None
    wall_time: float
    assignments: dict = field(default_factory=dict)  # request index -> schedule row index
    unbooked: pd.DataFrame = field(default_factory=pd.DataFrame)
    requests: int = 0

    @property
    def booked(self) -> int:
        return len(self.assignments)

    def by_urgency(self, requests: list[Request]) -> dict:
        out = {}
        for u in ("urgent", "soon", "routine"):
            idx = [i for i, r in enumerate(requests) if r.urgency == u and not r.rebook]
            out[u] = (sum(1 for i in idx if i in self.assignments), len(idx))
        return out


def _fits(
    scenario: Scenario,
    req: Request,
    row,
    release_through: dt.date | None = None,
    sees: dict[str, frozenset[str]] | None = None,
) -> bool:
    """Whether ``req`` may take ``row``: its type with a provider who sees it on one of its dates,
    or a same-day hold it fits — an urgent request's, or anyone's once the hold is released (its
    day no later than ``release_through``). ``sees``: each provider's types (``_sees``), given by a
    caller that asks many times (``Scenario.provider_by_id`` builds its dict on every call)."""
    if not (req.earliest <= row.date <= req.latest):
        return False
    types = (sees or _sees(scenario))[row.provider]
    if req.appointment_type not in types:
        return False
    if row.kind == "template":
        return row.appointment_type == req.appointment_type
    released = release_through is not None and row.date <= release_through
    if row.kind == "hold" and (req.urgency == "urgent" or released):
        return hold_fits(
            scenario, req.appointment_type, row.appointment_type, int(row.start_min), row.weekday
        )
    return False


def _sees(scenario: Scenario) -> dict[str, frozenset[str]]:
    return {p.id: frozenset(p.appointment_types) for p in scenario.providers}


def hold_fits(scenario: Scenario, type_id: str, hold_type_id: str, start: int, weekday: str) -> bool:
    """Whether a visit of ``type_id`` fits a hold reserved as ``hold_type_id`` at ``start``: no
    longer, no more room, MA or procedure-room time than the hold was timed with, and inside the
    type's allowed windows."""
    need, have = scenario.type_by_id[type_id], scenario.type_by_id[hold_type_id]
    if need.scheduled_min > have.scheduled_min:
        return False
    if need.procedure and not have.procedure:
        return False
    if need.needs_room and not have.needs_room:
        return False
    if need.needs_ma and (
        not have.needs_ma or ceil_min(need.rooming_min.mean) > ceil_min(have.rooming_min.mean)
    ):
        return False
    return need.allowed_in(weekday, start, start + need.scheduled_min)


def _score(req: Request, row) -> int:
    s = _weight(req)
    if req.preferred_provider is not None and row.provider == req.preferred_provider:
        s += OWN_PROVIDER
    if req.time_of_day == "any" or (req.time_of_day == "morning") == (row.start_min < NOON):
        s += TIME_OF_DAY
    s -= EARLY_PER_DAY[req.urgency] * (row.date - req.earliest).days
    return max(1, s)


def _tiebreak(row, monday: dt.date) -> int:
    """The slot's own second-order value (the same for every request): minus its day of the week,
    minus one for a same-day hold (see ``TIE_SPAN``)."""
    return -min(6, max(0, (row.date - monday).days)) - (row.kind == "hold")


def book_requests(
    scenario: Scenario,
    schedule: pd.DataFrame,
    requests: list[Request],
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int = 1,  # one CP-SAT worker: 2 raced to different equally good bookings for a seed
    release_through: dt.date | None = None,
) -> BookingResult:
    """Assign ``requests`` to rows of ``schedule`` (kinds template and hold).

    ``release_through`` (``book --release-holds``): same-day holds on that day and before are
    released, open to every request their visit fits rather than to urgent ones only — as practices
    release the next day's unfilled holds, so a slot kept for calls that did not come is not lost.

    Rows already booked stay as they are, and their patients are not given a second visit on
    the same day: booking more requests into a week that is partly booked (``clinicflow book``)
    is the same problem with fewer open rows."""
    open_rows = [r for r in schedule.itertuples() if r.kind in ("template", "hold")]
    already = already_booked_days(schedule)
    classes = slot_classes(scenario, open_rows)
    # per request: the classes it may take (a class's rows all fit it or none does), and the rows
    # that fit it on a day the patient is already booked (for the reason it was not booked). Only
    # the classes of its own type and the holds are tried: a template slot of another type never fits.
    sees = _sees(scenario)
    by_type: dict[str, list] = {}
    holds = []
    for k, rows in classes.items():
        (holds if rows[0].kind == "hold" else by_type.setdefault(rows[0].appointment_type, [])).append(k)
    fit: dict[int, list] = {i: [] for i in range(len(requests))}
    busy: dict[int, list] = {i: [] for i in range(len(requests))}
    for i, req in enumerate(requests):
        for k in (*by_type.get(req.appointment_type, ()), *holds):
            rep = classes[k][0]
            if _fits(scenario, req, rep, release_through, sees):
                if (req.patient_ref, rep.date) in already:
                    busy[i].extend(classes[k])
                else:
                    fit[i].append(k)
    # the score of a request in a class (all its rows score alike), then the objective's weight:
    # the score first, the tie-break only among equal scores — one objective, the score scaled past
    # the most the tie-breaks of all requests together can add up to
    gscore = {(i, k): _score(requests[i], classes[k][0]) for i, ks in fit.items() for k in ks}
    scale = TIE_SPAN * len(requests) + 1
    monday = _monday(open_rows)
    tie = {k: _tiebreak(rows[0], monday) for k, rows in classes.items()}
    weight = {(i, k): scale * sc + tie[k] for (i, k), sc in gscore.items()}
    class_of = {r.Index: k for k, rows in classes.items() for r in rows}

    def rows_score() -> tuple[dict, dict]:
        """Every fitting row of each request, and its score (the greedy booking's input)."""
        cand = {i: [r for k in ks for r in classes[k]] for i, ks in fit.items()}
        return cand, {(i, r.Index): gscore[(i, class_of[r.Index])] for i, rows in cand.items() for r in rows}

    sizes = {k: len(rows) for k, rows in classes.items()}
    patients = [requests[i].patient_ref for i, ks in fit.items() if ks]
    if len(set(patients)) == len(patients):
        # one request per patient: no patient-day rule left to keep (days already booked were
        # taken out above), and the problem is a transportation problem — a min-cost flow
        # solves it exactly, in a fraction of CP-SAT's time on a big practice
        chosen, res = _by_flow(fit, sizes, weight)
    else:
        cand, score = rows_score()
        greedy = _greedy(requests, cand, schedule, score)
        hint = {key for key in weight if key[0] in greedy and class_of[greedy[key[0]]] == key[1]}
        chosen, res = _by_cpsat(requests, fit, classes, weight, hint, time_limit, seed, workers)
    if res.has_solution:
        assignments = _within_classes(requests, classes, chosen)
        # reported in score points, the tie-breaks left out (the bound: the most the score can be)
        res = cpsat.SolveResult(
            res.status,
            float(sum(gscore[(i, class_of[r])] for i, r in assignments.items())),
            None if res.bound is None else float(math.floor((res.bound + TIE_SPAN * len(requests)) / scale)),
            res.values,
            res.wall_time,
        )
    else:
        # No solution within the time limit (a loaded machine): the greedy booking is feasible by
        # construction, so the coordinator still gets a booked week, reported as such.
        cand, score = rows_score()
        greedy = _greedy(requests, cand, schedule, score)
        assignments = dict(greedy)
        res = cpsat.SolveResult(
            "greedy", float(sum(score[(i, r)] for i, r in greedy.items())), None, {}, res.wall_time
        )
    taken = set(assignments.values())
    reasons = []
    for i, req in enumerate(requests):
        if i in assignments:
            continue
        reasons.append(
            {
                "patient_ref": req.patient_ref,
                "appointment_type": req.appointment_type,
                "urgency": "rebook" if req.rebook else req.urgency,
                "reason": _reason(
                    scenario, schedule, req, [r for k in fit[i] for r in classes[k]], taken, busy[i]
                ),
            }
        )
    unbooked = pd.DataFrame(reasons, columns=["patient_ref", "appointment_type", "urgency", "reason"])
    return BookingResult(
        res.status, res.objective, res.bound, res.wall_time, assignments, unbooked, len(requests)
    )


def _by_flow(fit: dict, sizes: dict, weight: dict) -> tuple[dict, cpsat.SolveResult]:
    """The best booking as a min-cost flow (OR-Tools): source → request (1) → group of slots (its
    weight) → sink (the group's size), and request → sink at no cost for a request left unbooked.
    Integral and optimal by construction; ``chosen``: group → requests."""
    from ortools.graph.python import min_cost_flow

    t0 = time.perf_counter()
    reqs = [i for i, ks in fit.items() if ks]
    groups = list(sizes)
    node = {("r", i): 2 + j for j, i in enumerate(reqs)}
    node.update({("g", k): 2 + len(reqs) + j for j, k in enumerate(groups)})
    tails, heads, caps, costs = [], [], [], []
    for i in reqs:
        tails += [0, node[("r", i)]]
        heads += [node[("r", i)], 1]
        caps += [1, 1]
        costs += [0, 0]
    pairs = list(weight)
    for i, k in pairs:
        tails.append(node[("r", i)])
        heads.append(node[("g", k)])
        caps.append(1)
        costs.append(-weight[(i, k)])
    for k in groups:
        tails.append(node[("g", k)])
        heads.append(1)
        caps.append(sizes[k])
        costs.append(0)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int32),
        np.array(heads, dtype=np.int32),
        np.array(caps, dtype=np.int64),
        np.array(costs, dtype=np.int64),
    )
    flow.set_node_supply(0, len(reqs))
    flow.set_node_supply(1, -len(reqs))
    status = flow.solve()
    wall = time.perf_counter() - t0
    if status != flow.OPTIMAL:  # cannot happen with these capacities; CP-SAT's fallback says so
        return {}, cpsat.SolveResult("unknown", None, None, {}, wall)
    first = 2 * len(reqs)  # the pair arcs follow the two arcs of every request
    used = flow.flows(np.arange(first, first + len(pairs)))
    chosen: dict = {}
    for (i, k), f in zip(pairs, used, strict=True):
        if f:
            chosen.setdefault(k, []).append(i)
    best = float(-flow.optimal_cost())
    return chosen, cpsat.SolveResult("optimal", best, best, {}, wall)


def _by_cpsat(
    requests: list[Request],
    fit: dict,
    classes: dict,
    weight: dict,
    hint: set,
    time_limit: float,
    seed: int,
    workers: int,
) -> tuple[dict, cpsat.SolveResult]:
    """The best booking with CP-SAT when a patient has more than one request (at most one booking a
    patient and day couples them, which a flow cannot say); ``chosen``: group → requests."""
    m = cpsat.CpModel()
    y = {key: m.new_bool_var(f"y[{key[0]},{j}]") for j, key in enumerate(weight)}
    by_class: dict = {}
    by_patient_day: dict = {}
    for (i, k), v in y.items():
        by_class.setdefault(k, []).append(v)
        by_patient_day.setdefault((requests[i].patient_ref, classes[k][0].date), []).append(v)
    for i, ks in fit.items():
        if len(ks) > 1:
            m.add_at_most_one(y[(i, k)] for k in ks)
    for k, lits in by_class.items():
        if len(lits) > len(classes[k]):
            m.add(sum(lits) <= len(classes[k]))
    for lits in by_patient_day.values():
        if len(lits) > 1:
            m.add_at_most_one(lits)
    m.maximize(sum(weight[key] * v for key, v in y.items()))
    res = cpsat.solve(
        m,
        y,
        # a deterministic budget (the wall clock only a net far above it): the same booking for a
        # seed on a busy machine, where a wall-clock limit could stop the search early
        time_limit=60 * time_limit + 10,
        deterministic_time=time_limit,
        seed=seed,
        workers=workers,
        hint={v: int(key in hint) for key, v in y.items()},
    )
    chosen: dict = {}
    for (i, k), val in res.values.items():
        if val:
            chosen.setdefault(k, []).append(i)
    return chosen, res


def _monday(rows: list) -> dt.date:
    """The Monday of the week the open rows are in (the first row's; the schedule holds one week)."""
    return monday_of(min(r.date for r in rows)) if rows else dt.date.min


def slot_classes(scenario: Scenario, rows: list) -> dict[tuple, list]:
    """Open rows grouped so that every request fits all rows of a group or none, at the same score:
    same date, provider, kind and type, same half of the day, and for a hold the same visit types
    that fit it. Rows in a group are in start order.

    Why: the solver then chooses how many requests each group takes, not which of its
    interchangeable slots, so the orbits of identical slots (up to 27 in the family week) that made
    a row-by-row CP-SAT model slow are gone (about eight times faster, at the same optimum), and
    the groups are the nodes of the min-cost flow."""
    types = scenario.appointment_types
    out: dict[tuple, list] = {}
    for r in rows:
        key: tuple = (r.date, r.provider, r.kind, r.appointment_type, bool(r.start_min < NOON))
        if r.kind == "hold":
            key += tuple(
                hold_fits(scenario, t.id, r.appointment_type, int(r.start_min), r.weekday) for t in types
            )
        out.setdefault(key, []).append(r)
    for group in out.values():
        group.sort(key=lambda r: (r.start_min, r.Index))
    return out


def _within_classes(requests: list[Request], classes: dict, chosen: dict) -> dict[int, int]:
    """Rows for the requests each group took: the earliest slot to the most urgent request (then a
    rebooked patient, the nearest deadline, the file's order), so the slots a group keeps open are
    its latest ones."""
    out = {}
    for k, idx in chosen.items():
        order = sorted(idx, key=lambda i: (-_weight(requests[i]), requests[i].latest, i))
        for i, row in zip(order, classes[k], strict=False):
            out[i] = row.Index
    return dict(sorted(out.items()))


def _weight(req: Request) -> int:
    return URGENCY_WEIGHT[req.urgency] + (REBOOK if req.rebook else 0)


def _greedy(requests: list[Request], cand: dict, schedule: pd.DataFrame, score: dict) -> dict[int, int]:
    """Urgent and high-scoring requests first, each into its best free slot (one per patient and day)."""
    order = sorted(cand, key=lambda i: -max((score[(i, r.Index)] for r in cand[i]), default=0))
    taken: set = set()
    patient_days: set = set()
    out: dict[int, int] = {}
    for i in order:
        for row in sorted(cand[i], key=lambda r: -score[(i, r.Index)]):
            pd_key = (requests[i].patient_ref, row.date)
            if row.Index not in taken and pd_key not in patient_days:
                out[i] = row.Index
                taken.add(row.Index)
                patient_days.add(pd_key)
                break
    return out


def _booked_before(scenario: Scenario, schedule: pd.DataFrame, req: Request) -> int:
    """Rows of the request's type and dates already booked when the booking started."""
    booked = schedule[
        (schedule["kind"] == "booked")
        & (schedule["appointment_type"] == req.appointment_type)
        & (schedule["date"] >= req.earliest)
        & (schedule["date"] <= req.latest)
    ]
    return int(
        sum(req.appointment_type in scenario.provider_by_id[p].appointment_types for p in booked["provider"])
    )


def already_booked_days(schedule: pd.DataFrame) -> set:
    """(patient reference, date) of the rows already booked: a patient's visit that day is taken."""
    booked = schedule[schedule["kind"] == "booked"]
    return {
        (ref, date)
        for ref, date in zip(booked["patient_ref"], booked["date"], strict=True)
        if isinstance(ref, str) and ref
    }


def _reason(
    scenario: Scenario, schedule: pd.DataFrame, req: Request, cand: list, taken: set, busy: list = ()
) -> str:
    t = req.appointment_type
    span = f"{req.earliest.isoformat()}..{req.latest.isoformat()}"
    if not any(t in p.appointment_types for p in scenario.providers):
        return f"no provider sees {t}"
    if schedule.empty or req.latest < min(schedule["date"]) or req.earliest > max(schedule["date"]):
        return f"its dates {span} are outside the planned week"
    if not cand and busy:
        days = ", ".join(sorted({r.date.isoformat() for r in busy}))
        return f"the patient already has a booked visit on every day with a matching slot ({days})"
    if not cand:
        what = f"{t} slot or same-day hold" if req.urgency == "urgent" else f"{t} slot"
        full = _booked_before(scenario, schedule, req)
        if full:  # a week booked before (clinicflow book): the slots exist, all taken
            return f"all {full} {t} slot(s) between {span} with a provider who sees {t} were already booked"
        return f"no {what} between {span} with a provider who sees {t}"
    if all(r.Index in taken for r in cand):
        return (
            f"all {len(cand)} matching slot(s) between {span} went to other requests "
            "(more urgent, or a better provider/time fit)"
        )
    return (
        "booking it would give the same patient two visits on one day "
        f"(other matching slots, e.g. {format_hhmm(cand[0].start_min)}, conflict)"
    )


def apply_booking(
    scenario: Scenario, schedule: pd.DataFrame, requests: list[Request], booking: BookingResult
) -> pd.DataFrame:
    """The schedule with booked rows filled in (kind ``booked``, patient reference, the request's type)."""
    df = schedule.copy()
    types = scenario.type_by_id
    for i, ridx in booking.assignments.items():
        req = requests[i]
        df.at[ridx, "kind"] = "booked"
        df.at[ridx, "patient_ref"] = req.patient_ref
        if df.at[ridx, "appointment_type"] != req.appointment_type:
            t = types[req.appointment_type]
            df.at[ridx, "appointment_type"] = t.id
            df.at[ridx, "end_min"] = int(df.at[ridx, "start_min"] + t.scheduled_min)
            df.at[ridx, "end"] = format_hhmm(df.at[ridx, "end_min"])
        # the patient's own score (calibrate --requests), else empty: the booked type's rate
        df.at[ridx, "no_show_prob"] = req.no_show_prob if req.no_show_prob is not None else float("nan")
    return df


def expected_attendance(scenario: Scenario, schedule: pd.DataFrame) -> dict:
    """How many booked patients are expected to come: by each row's ``no_show_prob`` (a patient's
    own score where the request carried one) and by the appointment types' rates alone.

    The coordinator's check on the week the scores describe: with scored patients the two differ,
    and the first is what the simulator of the booked schedule draws from."""
    booked = schedule[schedule["kind"] == "booked"]
    types = scenario.type_by_id
    by_type = sum(types[t].show_probability() for t in booked["appointment_type"])
    own = sum(
        types[t].show_probability(None if pd.isna(p) else float(p))
        for t, p in zip(booked["appointment_type"], booked["no_show_prob"], strict=True)
    )
    return {
        "booked_patients": len(booked),
        "expected_to_come": round(own, 1),
        "expected_to_come_at_type_rates": round(by_type, 1),
    }
