"""Surgical case scheduling: which case goes to which OR block, in what order, at what time.

Two CP-SAT solves, in the order of the OR-Tools samples (data → variables → constraints →
objective → solve → report):

1. **Assignment.** A boolean per (case, eligible room-day) with an optional interval at its
   booked time. Hard constraints: one room-day per case at most; cases and their turnovers do
   not overlap within a room and end by the block end; a surgeon is never in two rooms at once
   and works at one facility a day; equipment in use never exceeds the facility's count
   (cumulative per facility, date and item); eligibility, windows, deadlines and authorization
   dates hold (only eligible pairs get a variable, see ``surgery_eligibility``); and the
   **overtime chance constraint**: each room-day's total busy time at its ``1 - overtime_target``
   quantile fits the block, via the Fenton–Wilkinson lognormal (``overtime.py``), stated on the
   room-day's summed mean ``M`` and variance ``V`` as a disjunction of linear pieces under
   ``V <= Vmax(M)`` (conservative). Room-days whose timing cannot interact with another room
   (no shared surgeon or scarce equipment) get no start variables: their cases fit exactly when
   planned minutes and turnovers do. Objective: priority-weighted cases booked, plus booked
   minutes (utilization) valued at the idle cost they avoid, minus expected overtime valued at
   the overtime cost — from tangent planes of ``E[(T - C)+]`` in (M, S), ``S >= sqrt(V)``.
   The search starts from a greedy plan that keeps every rule.
2. **Sequencing.** With the assignment fixed, order the cases of each room-day to limit how
   late later cases start against their booked time: minimize the sum over cases of the
   standard deviation of everything before it in the room (the delay of a case started "to
   follow" grows with that spread). Without other constraints this is smallest-variance-first
   (Denton, Viapiano & Vogl 2007); with equipment and surgeon constraints the solver trades off.

The result is a typed ``SurgeryPlan``: status, objective, bound, wall time, bookings, the reason
for every case not booked, and each room-day's overtime risk.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from ..domain.cases import SurgicalCase
from ..domain.scenario import Scenario
from ..domain.surgery_schedule import RoomDay, week_room_days, week_start_of
from ..errors import InputError
from .overtime import (
    expected_overtime_planes,
    max_variance_table,
    variance_chord,
    variance_segments,
    within_segments,
)
from .surgery_eligibility import CaseFacts, candidates, case_facts, equipment_name
from .surgery_plan import Booking, RoomDayRisk, SurgeryPlan, room_day_risks

__all__ = ["Booking", "RoomDayRisk", "SurgeryPlan", "equipment_fits", "room_day_risks", "solve_surgery"]

#: Objective points per unit of priority weight for a booked case (in tenths of a cost-minute):
#: 1,000 cost-minutes, more than any one case's utilization value, so priority comes first.
PRIORITY_POINTS = 10_000

Progress = Callable[[str, float, float, float], None]
"""on_progress(phase, objective, bound, seconds) — called at each improving solution."""


# ---------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class _Data:
    scenario: Scenario
    week: tuple[dt.date, dt.date]
    room_days: list[RoomDay]
    facts: dict[str, CaseFacts]
    options: dict[str, list[RoomDay]]  # case -> eligible room-days
    unbookable: dict[str, str]  # case -> reason (no eligible room-day)
    turnover: dict[str, tuple[float, float, int]]  # facility -> (mean, var, planned minutes)
    segments: dict[RoomDay, tuple]  # room-day -> risk-limit segments (variance_segments)


def _prepare(scenario: Scenario, cases: list[SurgicalCase], week: dt.date) -> _Data:
    if scenario.surgery is None:
        raise InputError(None, "surgery", "the scenario has no surgery section")
    monday = week_start_of(week)
    span = (monday, monday + dt.timedelta(days=6))
    room_days = week_room_days(scenario, monday)
    facts = {c.case_id: case_facts(c, scenario, span[1]) for c in cases}
    options: dict[str, list[RoomDay]] = {}
    unbookable: dict[str, str] = {}
    for cid, f in facts.items():
        rds, reason = candidates(f, room_days, scenario, span)
        if reason is not None:
            unbookable[cid] = reason
        else:
            options[cid] = rds
    turnover = {
        fac.id: (fac.turnover_min.mean, fac.turnover_min.sd**2, round(fac.turnover_min.mean))
        for fac in scenario.surgery.facilities
    }
    segments = {}
    for r in room_days:
        ids = [cid for cid, rds in options.items() if r in rds]
        t_var = turnover[r.facility][1]
        var_cap = sum(_imean(facts[c].var) for c in ids) + _imean(t_var) * max(0, len(ids) - 1)
        segments[r] = variance_segments(r.minutes, scenario.surgery.overtime_target, _var_key(var_cap))
    return _Data(scenario, span, room_days, facts, options, unbookable, turnover, segments)


def _var_key(var_cap: float) -> int:
    """Variance caps rounded up to a thousand, so room-days share cached segment tables."""
    return 1000 * max(1, math.ceil(var_cap / 1000))


def _imean(x: float) -> int:
    return math.ceil(x - 1e-9)


# ---------------------------------------------------------------------------------------------
# Warm start


def equipment_fits(
    counts: dict[str, int], needs: tuple[str, ...], start: int, end: int, others: list[tuple]
) -> bool:
    """Would a case needing ``needs`` during [start, end) keep every item within its count, given
    ``others`` = [(start, end, needs), ...] already placed at the facility that day?"""
    for e in needs:
        active = [(s, t) for s, t, n in others if e in n and s < end and start < t]
        points = sorted({start, *[s for s, _ in active if s > start]})
        if any(1 + sum(1 for s, t in active if s <= p < t) > counts.get(e, 0) for p in points):
            return False
    return True


def _greedy(data: _Data) -> dict[str, tuple[RoomDay, int]]:
    """A feasible plan to start the search from: highest weight first, each case appended to the
    first room-day where every hard constraint (the risk limit included, with the model's
    rounding) still holds."""
    sg = data.scenario.surgery
    assert sg is not None
    counts = {f.id: f.equipment for f in sg.facilities}
    state: dict[RoomDay, list] = defaultdict(lambda: [0, 0, 0, 0])  # n, end, M, V
    busy: dict[tuple[str, dt.date], list] = defaultdict(list)
    in_use: dict[tuple[str, dt.date], list] = defaultdict(list)
    chosen: dict[str, tuple[RoomDay, int]] = {}
    order = sorted(
        data.options, key=lambda c: (-data.facts[c].weight, len(data.options[c]), -data.facts[c].planned)
    )
    for cid in order:
        f = data.facts[cid]
        for r in data.options[cid]:
            t_mean, t_var, t_plan = data.turnover[r.facility]
            n, end_, m, v = state[r]
            start = end_ + t_plan if n else r.start
            end = start + f.planned
            m2 = m + _imean(f.mean) + (_imean(t_mean) if n else 0)
            v2 = v + _imean(f.var) + (_imean(t_var) if n else 0)
            if end > r.end or not within_segments(m2, v2, data.segments[r]):
                continue
            b = busy[f.case.surgeon, r.date]
            if any((s < end and start < e) or fac != r.facility for s, e, fac in b):
                continue
            if not equipment_fits(counts[r.facility], f.needs, start, end, in_use[r.facility, r.date]):
                continue
            state[r] = [n + 1, end, m2, v2]
            b.append((start, end, r.facility))
            in_use[r.facility, r.date].append((start, end, f.needs))
            chosen[cid] = (r, start)
            break
    return chosen


# ---------------------------------------------------------------------------------------------
# Phase 1: assignment


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, phase: str, on_progress: Progress | None, sign: float = 1.0):
        super().__init__()
        self.phase, self.on_progress, self.sign = phase, on_progress, sign

    def on_solution_callback(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                self.phase,
                self.sign * self.objective_value,
                self.sign * self.best_objective_bound,
                self.wall_time,
            )


#: CP-SAT deterministic time units granted per second of ``--time-limit``, by stage. A wall-clock
#: limit made the plan depend on how busy the machine was (three runs of the README command booked
#: three different weeks); a deterministic budget gives the same plan for the same seed on any load.
#: A unit's wall time differs by model, so each stage's rate makes its share of the limit about that
#: many seconds on a 2-core machine (``benchmarks/surgery_speed.py``). The assignment stages interleave
#: two workers (reproducibly); sequencing runs one worker, which on the 2x benchmark found better
#: orders than two interleaved ones did in more time (interleaved search runs its subsolvers in
#: batches, too coarse for a budget of a unit or two).
DET_PER_SECOND = {"assign": 0.33, "balance": 0.6, "sequence": 0.3}
#: The wall-clock safety net, as a multiple of a stage's share of ``--time-limit`` (plus 5 s): it only
#: stops a run on a machine several times slower or busier than that one.
WALL_NET = 4.0


def _solver(stage: str, seconds: float, workers: int, seed: int) -> cp_model.CpSolver:
    """A solver for a stage given ``seconds`` of the time limit, reproducible for a seed."""
    s = cp_model.CpSolver()
    seconds = max(0.5, seconds)
    s.parameters.max_deterministic_time = DET_PER_SECOND[stage] * seconds
    s.parameters.max_time_in_seconds = WALL_NET * seconds + 5
    s.parameters.num_workers = workers
    s.parameters.interleave_search = workers > 1  # parallel workers, in a reproducible order
    s.parameters.random_seed = seed
    return s


def _room_day_sums(model, data: _Data, r: RoomDay, xs: list[tuple[str, cp_model.IntVar]]):
    """Integer (ceil) summed mean M and variance V of a room-day's busy time, as expressions."""
    t_mean, t_var, _ = data.turnover[r.facility]
    used = model.new_bool_var(f"used[{r.key}]")
    for _, x in xs:
        model.add_implication(x, used)
    model.add(sum(x for _, x in xs) >= used)
    n = sum(x for _, x in xs)
    mean = sum(_imean(data.facts[c].mean) * x for c, x in xs) + _imean(t_mean) * (n - used)
    var = sum(_imean(data.facts[c].var) * x for c, x in xs) + _imean(t_var) * (n - used)
    var_cap = sum(_imean(data.facts[c].var) for c, _ in xs) + _imean(t_var) * max(0, len(xs) - 1)
    return mean, var, var_cap


def _assign_model(data: _Data, with_overtime: bool):
    """The assignment model; ``with_overtime`` adds the expected-overtime estimate (the costly part
    of the model: a product constraint and tangent planes per room-day)."""
    sc = data.scenario
    sg = sc.surgery
    assert sg is not None
    model = cp_model.CpModel()
    x: dict[tuple[str, RoomDay], cp_model.IntVar] = {}
    start: dict[tuple[str, RoomDay], cp_model.IntVar] = {}
    case_iv: dict[tuple[str, RoomDay], cp_model.IntervalVar] = {}
    by_rd: dict[RoomDay, list[tuple[str, cp_model.IntVar]]] = defaultdict(list)
    room_ivs: dict[RoomDay, list] = defaultdict(list)

    counts = {fac.id: fac.equipment for fac in sg.facilities}
    keys = [(cid, r) for cid, rds in data.options.items() for r in rds]
    # Timing matters only where rooms interact: a surgeon with options in two rooms of one facility
    # on one date, or more room-days sharing an item than the facility has of it. Elsewhere a
    # room-day's cases fit exactly when their planned minutes and turnovers do (one machine, no
    # release times), so those room-days get no start variables at all.
    by_surgeon_day: dict[tuple[str, dt.date, str], list[tuple[str, RoomDay]]] = defaultdict(list)
    by_equipment: dict[tuple[str, dt.date, str], list[tuple[str, RoomDay]]] = defaultdict(list)
    for k in keys:
        by_surgeon_day[data.facts[k[0]].case.surgeon, k[1].date, k[1].facility].append(k)
        for e in data.facts[k[0]].needs:
            by_equipment[k[1].facility, k[1].date, e].append(k)
    surgeon_groups = [ks for ks in by_surgeon_day.values() if len({k[1] for k in ks}) > 1]
    equipment_groups = [
        (ks, counts[fac].get(e, 0))
        for (fac, _d, e), ks in by_equipment.items()
        if len({k[1] for k in ks}) > counts[fac].get(e, 0)
    ]
    timed = {k[1] for ks in surgeon_groups for k in ks} | {k[1] for ks, _ in equipment_groups for k in ks}

    # -- variables
    for cid, r in keys:
        f = data.facts[cid]
        k = (cid, r)
        x[k] = model.new_bool_var(f"x[{cid},{r.key}]")
        by_rd[r].append((cid, x[k]))
        if r in timed:
            t_plan = data.turnover[r.facility][2]
            start[k] = model.new_int_var(r.start, r.end - f.planned, f"start[{cid},{r.key}]")
            case_iv[k] = model.new_optional_fixed_size_interval_var(
                start[k], f.planned, x[k], f"case[{cid},{r.key}]"
            )
            room_ivs[r].append(
                model.new_optional_fixed_size_interval_var(
                    start[k], f.planned + t_plan, x[k], f"room[{cid},{r.key}]"
                )
            )

    # -- constraints: one room-day per case
    for cid, rds in data.options.items():
        model.add_at_most_one(x[cid, r] for r in rds)
    # rooms: cases and turnovers never overlap, within the block (start domains); untimed room-days
    # are held by the planned-minutes capacity below
    for _r, ivs in room_ivs.items():
        model.add_no_overlap(ivs)
    # surgeons: never in two rooms at once; one facility per day
    for ks in surgeon_groups:
        model.add_no_overlap([case_iv[k] for k in ks])
    by_day: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for surgeon, date, fac in by_surgeon_day:
        by_day[surgeon, date].add(fac)
    for (surgeon, date), facilities in by_day.items():
        if len(facilities) > 1:
            at = {fac: model.new_bool_var(f"at[{surgeon},{date},{fac}]") for fac in sorted(facilities)}
            for fac in facilities:
                for k in by_surgeon_day[surgeon, date, fac]:
                    model.add_implication(x[k], at[fac])
            model.add_at_most_one(at.values())
    # equipment: in use at every moment <= the facility's count
    for ks, count in equipment_groups:
        model.add_cumulative([case_iv[k] for k in ks], [1] * len(ks), count)

    # overtime chance constraint (exact on integer minutes, rounded up) and expected overtime
    idle = sc.costs.idle_per_min
    overtime_w = max(1, round(sc.costs.overtime_per_min))
    eo_terms = []
    for r, xs in by_rd.items():
        mean, var, var_cap = _room_day_sums(model, data, r, xs)
        cap = r.minutes
        m = model.new_int_var(0, cap, f"M[{r.key}]")
        model.add(m == mean)
        v = model.new_int_var(0, max(0, var_cap), f"V[{r.key}]")
        model.add(v == var)
        # the chance constraint: one segment of the piecewise-linear inner approximation of
        # V <= Vmax(M) holds (conservative; see overtime.variance_segments)
        segs = variance_segments(cap, sg.overtime_target, _var_key(var_cap))
        pick = [model.new_bool_var(f"seg[{r.key},{j}]") for j in range(len(segs))]
        model.add_exactly_one(pick)
        for b, (lo, hi, a, c) in zip(pick, segs, strict=True):
            model.add(m >= lo).only_enforce_if(b)
            model.add(m <= hi).only_enforce_if(b)
            model.add(1000 * v <= math.floor(1000 * a) * m + math.floor(1000 * c)).only_enforce_if(b)
        # redundant linear forms of the same limits, for the LP bound
        m0, slope = variance_chord(max_variance_table(cap, sg.overtime_target, max(0, var_cap)), var_cap)
        if m0 < cap:
            model.add(1000 * v <= math.ceil(1000 * slope) * (cap - m))
        t_plan = data.turnover[r.facility][2]
        model.add(sum((data.facts[c].planned + t_plan) * xv for c, xv in xs) <= cap + t_plan)
        if not with_overtime:
            continue
        # expected overtime, from tangent planes in (M, S) with S >= sqrt(V) in tenths of a minute
        s_top = math.ceil(10 * math.sqrt(max(1, var_cap)))
        sd = model.new_int_var(0, s_top, f"S10[{r.key}]")
        sq = model.new_int_var(0, s_top * s_top, f"S10sq[{r.key}]")
        model.add_multiplication_equality(sq, [sd, sd])
        model.add(sq >= 100 * v)
        eo = model.new_int_var(0, 10 * cap, f"EO10[{r.key}]")  # tenths of a minute
        for a, b, c in expected_overtime_planes(cap, sg.overtime_target, 1000 * math.ceil(var_cap / 1000)):
            model.add(100 * eo >= round(1000 * a) * m + round(100 * b) * sd + round(1000 * c))
        eo_terms.append(eo)

    # -- objective terms
    gain = sum(
        (PRIORITY_POINTS * data.facts[k[0]].weight + round(10 * idle * data.facts[k[0]].planned)) * var_
        for k, var_ in x.items()
    )
    return model, x, start, gain, overtime_w * sum(eo_terms), timed


def _assign(data: _Data, time_limit: float, workers: int, seed: int, on_progress: Progress | None):
    """Lexicographic: first the most priority-weighted booking and utilization (a model without
    the overtime estimate, which CP-SAT usually proves optimal quickly), then, keeping at least that
    value, the same plus the expected-overtime term, from the first stage's plan."""
    # stage 1: booking value, warm-started from a greedy plan that keeps every hard constraint
    model, x, start, gain, _, timed = _assign_model(data, with_overtime=False)
    model.maximize(gain)
    warm = {cid: hit for cid, hit in _greedy(data).items()}
    _hint(model, x, start, warm)
    solver = _solver("assign", 0.6 * time_limit, workers, seed)
    status1 = solver.solve(model, _Callback("assign", on_progress))
    if status1 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}, solver.status_name(status1), 0.0, solver.best_objective_bound, {}
    best_gain = round(solver.objective_value)
    s1 = solver.status_name(status1)
    stage1 = _chosen(data, x, start, solver, timed)

    # stage 2: keep that booking value, trade utilization against expected overtime
    model, x, start, gain, overtime, timed = _assign_model(data, with_overtime=True)
    model.add(gain >= best_gain)
    model.maximize(gain - overtime)
    _hint(model, x, start, stage1)
    solver = _solver("balance", 0.4 * time_limit, workers, seed)  # a fixed share: the same budget on any load
    status2 = solver.solve(model, _Callback("balance", on_progress))
    if status2 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        stages = {"booking": s1, "overtime_balance": solver.status_name(status2)}
        return stage1, s1, float(best_gain), float(best_gain), stages
    stages = {"booking": s1, "overtime_balance": solver.status_name(status2)}
    both = "OPTIMAL" if status1 == status2 == cp_model.OPTIMAL else "FEASIBLE"
    return (
        _chosen(data, x, start, solver, timed),
        both,
        solver.objective_value,
        solver.best_objective_bound,
        stages,
    )


def _hint(model, x, start, plan: dict) -> None:
    for k, var_ in x.items():
        hit = plan.get(k[0])
        model.add_hint(var_, int(hit is not None and hit[0] == k[1]))
        if hit is not None and hit[0] == k[1] and k in start:
            model.add_hint(start[k], hit[1])


def _chosen(data: _Data, x, start, solver, timed) -> dict[str, tuple[RoomDay, int]]:
    chosen = {}
    for k, var_ in x.items():
        if solver.boolean_value(var_):
            chosen[k[0]] = (k[1], solver.value(start[k]) if k in start else k[1].start)
    # untimed room-days: cases in the order given (what sequencing then improves on)
    nxt: dict[RoomDay, int] = {}
    for cid in data.options:
        if cid in chosen and chosen[cid][0] not in timed:
            r = chosen[cid][0]
            s0 = nxt.get(r, r.start)
            chosen[cid] = (r, s0)
            nxt[r] = s0 + data.facts[cid].planned + data.turnover[r.facility][2]
    return chosen


# ---------------------------------------------------------------------------------------------
# Phase 2: sequencing


def _pred_sd(order: list[str], data: _Data, t_var: float) -> float:
    """Sum over cases of the sd of everything before them in the room (the delay proxy, minutes)."""
    total, acc = 0.0, 0.0
    for cid in order:
        total += math.sqrt(acc)
        acc += data.facts[cid].var + t_var
    return total


def _sequence(data: _Data, chosen: dict, time_limit: float, seed: int, on_progress):
    sg = data.scenario.surgery
    assert sg is not None
    model = cp_model.CpModel()
    start, case_iv = {}, {}
    by_rd: dict[RoomDay, list[str]] = defaultdict(list)
    for cid, (r, s0) in chosen.items():
        f = data.facts[cid]
        t_plan = data.turnover[r.facility][2]
        start[cid] = model.new_int_var(r.start, r.end - f.planned, f"start[{cid}]")
        model.add_hint(start[cid], s0)
        case_iv[cid] = model.new_fixed_size_interval_var(start[cid], f.planned, f"case[{cid}]")
        by_rd[r].append(cid)
    for r, ids in by_rd.items():
        t_plan = data.turnover[r.facility][2]
        model.add_no_overlap(
            [
                model.new_fixed_size_interval_var(start[c], data.facts[c].planned + t_plan, f"room[{c}]")
                for c in ids
            ]
        )
    by_surgeon_day = defaultdict(list)
    for cid, (r, _) in chosen.items():
        by_surgeon_day[data.facts[cid].case.surgeon, r.date].append(cid)
    for ids in by_surgeon_day.values():
        if len({chosen[c][0] for c in ids}) > 1:
            model.add_no_overlap([case_iv[c] for c in ids])
    counts = {fac.id: fac.equipment for fac in sg.facilities}
    by_equipment = defaultdict(list)
    for cid, (r, _) in chosen.items():
        for e in data.facts[cid].needs:
            by_equipment[r.facility, r.date, e].append(cid)
    for (fac, _d, e), ids in by_equipment.items():
        if len(ids) > counts[fac].get(e, 0):
            model.add_cumulative([case_iv[c] for c in ids], [1] * len(ids), counts[fac].get(e, 0))

    sd_terms, slack_terms = [], []
    for r, ids in by_rd.items():
        _t_mean, t_var, t_plan = data.turnover[r.facility]
        before = {}
        for i in ids:
            for j in ids:
                if i < j:
                    b = model.new_bool_var(f"before[{i},{j}]")
                    before[i, j], before[j, i] = b, ~b
                    model.add(start[j] >= start[i] + data.facts[i].planned + t_plan).only_enforce_if(b)
                    model.add(start[i] >= start[j] + data.facts[j].planned + t_plan).only_enforce_if(~b)
        for i in ids:
            pv = sum(_imean(data.facts[j].var + t_var) * before[j, i] for j in ids if j != i)
            top = sum(_imean(data.facts[j].var + t_var) for j in ids if j != i)
            sd10 = model.new_int_var(0, math.ceil(10 * math.sqrt(top)) + 1, f"sd[{i}]")
            sq = model.new_int_var(0, (math.ceil(10 * math.sqrt(top)) + 1) ** 2, f"sq[{i}]")
            model.add_multiplication_equality(sq, [sd10, sd10])
            model.add(sq >= 100 * pv)
            sd_terms.append(sd10)
            slack_terms.append(start[i] - r.start)
    # delay spread first (tenths of a minute), then compact days as a tie-break
    model.minimize(100 * sum(sd_terms) + sum(slack_terms))
    solver = _solver("sequence", time_limit, 1, seed)  # see DET_PER_SECOND
    status = solver.solve(model, _Callback("sequence", on_progress))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {cid: s0 for cid, (_, s0) in chosen.items()}
    return {cid: solver.value(v) for cid, v in start.items()}


# ---------------------------------------------------------------------------------------------
# Public API


def solve_surgery(
    scenario: Scenario,
    cases: list[SurgicalCase],
    week: dt.date,
    *,
    time_limit: float = 20.0,
    workers: int = 2,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> SurgeryPlan:
    """Book the week's cases; return a checked, typed plan."""
    t0 = time.perf_counter()
    data = _prepare(scenario, cases, week)
    chosen: dict[str, tuple[RoomDay, int]] = {}
    status, objective, bound, stages = "OPTIMAL", 0.0, 0.0, {}
    if data.options:
        chosen, status, objective, bound, stages = _assign(data, 0.7 * time_limit, workers, seed, on_progress)
    first_order = {cid: s for cid, (_, s) in chosen.items()}
    starts = _sequence(data, chosen, max(1.0, 0.2 * time_limit), seed, on_progress) if chosen else {}
    bookings = _bookings(data, chosen, starts)
    unbooked = dict(data.unbookable)
    for cid in data.options:
        if cid not in chosen:
            unbooked[cid] = _why_not_booked(data, cid, bookings, status)
    order = [c.case_id for c in cases]
    unbooked = {cid: unbooked[cid] for cid in order if cid in unbooked}
    plan = SurgeryPlan(
        status=status,
        objective=objective / 10,
        bound=bound / 10,
        wall_time=time.perf_counter() - t0,
        week=data.week,
        room_days=data.room_days,
        bookings=bookings,
        unbooked=unbooked,
        facts=data.facts,
        stages=stages,
    )
    plan.risks = room_day_risks(scenario, plan.room_days, bookings, data.facts)
    plan.unsequenced = _bookings(data, chosen, first_order)
    plan.delay_proxy = {
        "assignment_order": _delay_proxy(data, chosen, first_order),
        "sequenced": _delay_proxy(data, chosen, starts),
    }
    return plan


def _delay_proxy(data: _Data, chosen: dict, starts: dict) -> float:
    by_rd = defaultdict(list)
    for cid, (r, _) in chosen.items():
        by_rd[r].append(cid)
    return sum(
        _pred_sd(sorted(ids, key=lambda c: starts[c]), data, data.turnover[r.facility][1])
        for r, ids in by_rd.items()
    )


def _bookings(data: _Data, chosen: dict, starts: dict) -> list[Booking]:
    by_rd = defaultdict(list)
    for cid, (r, _) in chosen.items():
        by_rd[r].append(cid)
    out = []
    for r, ids in by_rd.items():
        for seq, cid in enumerate(sorted(ids, key=lambda c: starts[c]), start=1):
            s = starts[cid]
            out.append(Booking(cid, r, s, s + data.facts[cid].planned, seq))
    return sorted(out, key=lambda b: (b.room_day, b.start))


def _why_not_booked(data: _Data, cid: str, bookings: list[Booking], status: str) -> str:
    """Plain words for an eligible case the optimizer left out."""
    sg = data.scenario.surgery
    assert sg is not None
    f = data.facts[cid]
    q = 1 - sg.overtime_target
    fits = []
    for r in data.options[cid]:
        ids = [b.case_id for b in bookings if b.room_day == r]
        t_mean, t_var, t_plan = data.turnover[r.facility]
        n = len(ids) + 1
        mean = sum(_imean(data.facts[c].mean) for c in [*ids, cid]) + (n - 1) * _imean(t_mean)
        var = sum(_imean(data.facts[c].var) for c in [*ids, cid]) + (n - 1) * _imean(t_var)
        planned = sum(data.facts[c].planned for c in ids) + f.planned + (n - 1) * t_plan
        if mean <= r.minutes and within_segments(mean, var, data.segments[r]) and planned <= r.minutes:
            fits.append(r)
    labels = [r.label() for r in data.options[cid]]
    shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
    if not fits:
        return (
            f"eligible blocks full: adding it to {shown} would break the {q:.0%} overtime limit "
            "(the optimizer filled them with other cases worth more in total)"
        )
    note = (
        " (solver stopped at its time limit; a longer --time-limit may book it)"
        if status != "OPTIMAL"
        else ""
    )
    needs = f", {'/'.join(equipment_name(e) for e in f.needs)} in use" if f.needs else ""
    return (
        f"fits {fits[0].label()} by length but not beside its booked cases (surgeon at another facility "
        f"or in another room{needs}){note}"
    )
