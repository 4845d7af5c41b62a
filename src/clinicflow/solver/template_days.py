"""A big week's template, one day at a time.

Every hard rule of the template model (``template.build_template``) lies inside one day: a segment's
minutes, a session's holds and per-session minimum and maximum, a day's exam rooms, procedure rooms
and MAs. Only the objective couples the days, through the weekly demand rows and each provider's
share of them. So a big week is solved in two steps:

1. a *master* model splits each demand row over (provider, day): the template model with one
   count per provider-session and type instead of per segment, its minutes, windows, per-session
   rules and shared-resource rows summed over the session (a relaxation: every template of the week
   gives a feasible split, so the master's bound bounds the week's objective), the week's objective;
2. each day's template model, with the master's split of that day as its demand rows and shares
   and the week's even load, solved on its own (days side by side on ``workers`` threads, each
   solve single-threaded and deterministic, so a seed gives the same template whatever the
   threads).

The week's template is the days' templates together; it satisfies every hard rule because each
day's does. What it may lose is the master's split not fitting a day's segments exactly; the week's
objective of the result is computed from its counts (``week_objective``) so the two solves can be
compared. A day that finds no template, or is infeasible (then so is the week), sends the caller
back to the monolithic solve, whose core explains the infeasibility.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

from ..domain.scenario import Scenario
from . import cpsat
from .template import (
    BALANCE,
    DEFAULT_SHARE,
    EXCESS,
    MAX_OVERBOOK,
    OVERBOOK,
    SHARE,
    SHORTFALL,
    Target,
    build_template,
    capacity_windows,
    days_with_ma,
    escalated_budgets,
    even_load,
    footprints,
    per_session_bounds,
    room_turnover_and_procedure_rooms,
    week_targets,
)
from .week import ProviderSession, hold_type, type_allowed_in

#: the master's price of a slot off a provider's capacity share (the template's ``SHARE`` is 10)
MASTER_SHARE_PRICE = 10


def _item_minutes(scenario: Scenario, tid: str, grid: int) -> tuple[int, int, int]:
    """A slot's exam-room minutes, procedure-room minutes and expected rooming tenths, as the
    template's shared-capacity rows count them (``template._shared_capacity``)."""
    t = scenario.type_by_id[tid]
    turnover = math.ceil(scenario.rooms.turnover_min.mean - 1e-9)
    room = -(-(t.scheduled_min + turnover) // grid) * grid if t.needs_room else 0
    show = 1.0 - min(1.0, t.no_show + t.late_cancel)
    rooming = round(10 * show * t.rooming_min.mean) if t.needs_ma else 0
    return room, room if t.procedure else 0, rooming


class _LP:
    """The little of OR-Tools' linear solver (GLOP) the master needs, spelled like CP-SAT's models."""

    def __init__(self) -> None:
        from ortools.linear_solver import pywraplp

        self.solver = pywraplp.Solver.CreateSolver("GLOP")

    def var(self, lo: float, hi: float, name: str):
        return self.solver.NumVar(lo, hi, name)

    def add(self, constraint) -> None:
        if not isinstance(constraint, bool):  # a row of constants only (no slot could be there)
            self.solver.Add(constraint)

    def abs_dev(self, expr, target: float, hi: float, name: str):
        dev = self.var(0, hi, name)
        self.add(dev >= expr - target)
        self.add(dev >= target - expr)
        return dev


def solve_master(
    scenario: Scenario,
    sessions: list[ProviderSession],
    *,
    grid: int = 5,
    overbook: bool = False,
    share: tuple[float, float] = DEFAULT_SHARE,
) -> tuple[str, float | None, dict]:
    """The master: ``x[(session key, type)]``, slots of a type in a provider-session, under the
    template model's rules summed over each session, at the week's objective — as a linear program
    (GLOP: a vertex, the same one on every machine; a CP-SAT master on one worker took longer to
    find a first split at 8x than the days took to solve). Returns (status, objective, x values);
    the objective is a lower bound on the week's template objective."""
    lp = _LP()
    x: dict = {}
    load: dict = {}
    penalties: list = []
    absent = {t.id: min(1.0, t.no_show + t.late_cancel) for t in scenario.appointment_types}
    types = scenario.type_by_id
    for ps in sessions:
        prov = scenario.provider_by_id[ps.provider]
        foot = footprints(scenario, ps.provider, grid)
        ht = hold_type(scenario, ps.provider)
        hold_len = foot[ht]
        segs = ps.segments
        can_ob = overbook and prov.rooms_at_once >= 2
        ob_of = [int(MAX_OVERBOOK * seg.minutes) if can_ob else 0 for seg in segs]
        for t in prov.appointment_types:
            ub = sum(
                (seg.minutes + ob) // foot[t]
                for seg, ob in zip(segs, ob_of, strict=True)
                if type_allowed_in(scenario, t, seg)
            )
            lo, hi = per_session_bounds(scenario, ps.provider, t)
            x[(ps.key, t)] = lp.var(min(lo or 0, ub), ub if hi is None else min(ub, hi), f"x[{ps.key},{t}]")
        minutes = sum(foot[t] * x[(ps.key, t)] for t in prov.appointment_types) + hold_len * ps.holds
        if not can_ob:
            lp.add(minutes <= ps.minutes)
        else:
            ob = lp.var(0, sum(ob_of), f"ob[{ps.key}]")
            lp.add(minutes <= ps.minutes + ob)
            penalties.append(OVERBOOK * ob)
            shown = (
                sum(round(100 * foot[t] * (1 - absent[t])) * x[(ps.key, t)] for t in prov.appointment_types)
                + round(100 * hold_len * (1 - absent[ht])) * ps.holds
            )
            lp.add(shown <= 100 * ps.minutes)
        # the slots of the types kept to windows fit in the segments the windows allow
        windowed = [t for t in prov.appointment_types if types[t].allowed_windows]
        if windowed:
            room_in = sum(
                seg.minutes + ob
                for seg, ob in zip(segs, ob_of, strict=True)
                if any(type_allowed_in(scenario, t, seg) for t in windowed)
            )
            lp.add(sum(foot[t] * x[(ps.key, t)] for t in windowed) <= room_in)
        load[ps.key] = (
            sum(types[t].scheduled_min * x[(ps.key, t)] for t in prov.appointment_types) + hold_len * ps.holds
        )
    _master_shared_capacity(lp, scenario, sessions, x, grid, share)
    terms: list = []
    for i, tg in enumerate(week_targets(scenario, sessions)):
        mine = [v for (key, t), v in x.items() if t == tg.type and key[1] in tg.providers]
        if not mine:
            terms.append(round(SHORTFALL * tg.weight) * tg.want)
            continue
        short = lp.var(0, max(tg.want, 0), f"short[{i}]")
        excess = lp.var(0, 10_000, f"excess[{i}]")
        lp.add(sum(mine) - tg.want == excess - short)
        terms += [round(SHORTFALL * tg.weight) * short, EXCESS * excess]
        for p, sh in tg.shares.items():
            pe = [v for (key, t), v in x.items() if t == tg.type and key[1] == p]
            if pe:
                terms.append(
                    MASTER_SHARE_PRICE * lp.abs_dev(sum(pe), sh, max(10_000, sh), f"share_dev[{i},{p}]")
                )
            else:
                terms.append(MASTER_SHARE_PRICE * sh)
    rho = even_load(scenario, sessions)
    for ps in sessions:
        target = round(rho * ps.minutes)
        terms.append(BALANCE * lp.abs_dev(load[ps.key], target, ps.minutes, f"balance[{ps.key}]"))
    lp.solver.Minimize(sum(terms) + sum(penalties))
    from ortools.linear_solver import pywraplp

    code = lp.solver.Solve()
    if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return ("infeasible" if code == pywraplp.Solver.INFEASIBLE else "unknown"), None, {}
    return "optimal", lp.solver.Objective().Value(), {k: v.solution_value() for k, v in x.items()}


def _master_shared_capacity(lp: _LP, scenario, sessions, x, grid, share) -> None:
    """``template._shared_capacity`` over whole sessions: for every stretch of a day between two
    session boundaries, the slots of the sessions inside it (holds included) need no more exam-room,
    procedure-room and rooming minutes than it offers. Each row is the sum of the template's rows
    over the same stretch, so the master keeps every template of the week."""
    turnover, n_proc = room_turnover_and_procedure_rooms(scenario)
    for day, ma_cum in days_with_ma(scenario, sessions):
        items = []  # (start, end, room, procedure, rooming tenths, var or None for holds)
        for ps in day:
            for t in scenario.provider_by_id[ps.provider].appointment_types:
                items.append((ps.start, ps.end, *_item_minutes(scenario, t, grid), x[(ps.key, t)]))
            ht = hold_type(scenario, ps.provider)
            items.append((ps.start, ps.end, *(ps.holds * c for c in _item_minutes(scenario, ht, grid)), None))
        for k, cap, inside in capacity_windows(items, scenario, share, n_proc, turnover, ma_cum):
            fixed = sum(it[k] for it in inside if it[5] is None)
            terms = [(it[k], it[5]) for it in inside if it[k] and it[5] is not None]
            if terms and fixed + sum(c * v.ub() for c, v in terms) > cap:
                lp.add(sum(c * v for c, v in terms) <= cap - fixed)


def _largest_remainder(parts: dict, total: int) -> dict:
    """Whole numbers for the fractional ``parts`` (sorted keys break ties) adding up to ``total``."""
    base = {k: math.floor(v + 1e-6) for k, v in parts.items()}
    order = sorted(parts, key=lambda k: (-(parts[k] - base[k]), k))
    left = total - sum(base.values())
    for k in order[: max(0, left)]:
        base[k] += 1
    for k in reversed(order[len(order) + min(0, left) :] if left < 0 else []):
        base[k] -= 1
    return base


def split_days(scenario: Scenario, sessions: list[ProviderSession], x: dict) -> dict:
    """The master's fractional slots made whole, ``(provider, type, iso date) -> slots``: each demand
    row's total rounded, shared out over its providers, and each provider's over its days, by
    largest remainders — so the days' targets add up to the row's total, which a per-cell rounding
    missed by a slot or two at 8x (a slot short of demand)."""
    sums: dict = {}
    for (key, t), v in x.items():
        cell = sums.setdefault((key[1], t), {})
        cell[key[0]] = cell.get(key[0], 0.0) + v
    out: dict = {}
    for tg in week_targets(scenario, sessions):
        provs = {p: sum(sums.get((p, tg.type), {}).values()) for p in tg.providers}
        per_prov = _largest_remainder(provs, round(sum(provs.values()) + 1e-6))
        for p, n in per_prov.items():
            days = sums.get((p, tg.type), {})
            for d, k in _largest_remainder(days, n).items():
                out[(p, tg.type, d)] = k
    return out


def day_targets(
    scenario: Scenario, sessions: list[ProviderSession], split: dict
) -> dict[object, list[Target]]:
    """Per date, the week's demand rows cut to the master's ``split`` of that day: each row wants
    the day's sum of its providers' slots, each provider's share is its own."""
    week = week_targets(scenario, sessions)
    out: dict = {}
    for date in sorted({ps.date for ps in sessions}):
        day = [ps for ps in sessions if ps.date == date]
        working = {ps.provider for ps in day}
        rows = []
        for tg in week:
            provs = tuple(p for p in tg.providers if p in working)
            shares = {p: split.get((p, tg.type, date.isoformat()), 0) for p in provs}
            rows.append(Target(tg.type, provs, sum(shares.values()), tg.weight, shares))
        out[date] = rows
    return out


def week_objective(
    scenario: Scenario, sessions: list[ProviderSession], values: dict, *, grid: int = 5
) -> int:
    """The template model's objective (``build_template``, the whole week) of a solution's counts
    (``values`` keyed as ``solve``'s: ``("n", key, j, type)`` and ``("h", key, j)``): what the
    monolithic solve would have scored it."""
    types = scenario.type_by_id
    by_pt: dict = {}
    for (kind, key, _j, *rest), v in values.items():
        if kind == "n":
            by_pt[(key[1], rest[0])] = by_pt.get((key[1], rest[0]), 0) + v
    total = 0
    for tg in week_targets(scenario, sessions):
        planned = sum(by_pt.get((p, tg.type), 0) for p in tg.providers)
        total += round(SHORTFALL * tg.weight) * max(0, tg.want - planned)
        total += EXCESS * max(0, planned - tg.want)
        total += SHARE * sum(abs(by_pt.get((p, tg.type), 0) - sh) for p, sh in tg.shares.items())
    rho = even_load(scenario, sessions)
    for ps in sessions:
        prov = scenario.provider_by_id[ps.provider]
        foot = footprints(scenario, ps.provider, grid)
        ht = hold_type(scenario, ps.provider)
        load = 0
        for j, seg in enumerate(ps.segments):
            got = {t: values.get(("n", ps.key, j, t), 0) for t in prov.appointment_types}
            hv = values.get(("h", ps.key, j), 0)
            used = sum(foot[t] * c for t, c in got.items()) + foot[ht] * hv
            total += OVERBOOK * max(0, used - seg.minutes)
            load += sum(types[t].scheduled_min * c for t, c in got.items()) + foot[ht] * hv
        total += BALANCE * abs(load - round(rho * ps.minutes))
    return total


def short_of_targets(targets: list[Target], values: dict) -> bool:
    """Whether a day's template (``values``) plans fewer slots of some row than its target."""
    got: dict = {}
    for (kind, key, _j, *rest), v in values.items():
        if kind == "n":
            got[(key[1], rest[0])] = got.get((key[1], rest[0]), 0) + v
    return any(sum(got.get((p, tg.type), 0) for p in tg.providers) < tg.want for tg in targets)


def solve_by_day(
    scenario: Scenario,
    sessions: list[ProviderSession],
    *,
    time_limit: float,
    max_time_limit: float | None = None,
    seed: int = 0,
    workers: int = 2,
    grid: int = 5,
    overbook: bool = False,
    share: tuple[float, float] = DEFAULT_SHARE,
) -> cpsat.SolveResult:
    """The master, then every day's template in ``time_limit`` deterministic seconds. A day that
    finds no template, or one short of the master's split while not proven optimal, is solved
    again (from the template it found, as a hint) with ``ESCALATE`` times the budget, up to
    ``max_time_limit``. Returns the week's result: its values the days' together, its objective
    ``week_objective``, its bound the master's (a linear program, solved to optimality in about a
    second at 8x); the status of the first day without a template, if one has none."""
    t0 = time.perf_counter()
    status, bound, x = solve_master(scenario, sessions, grid=grid, overbook=overbook, share=share)
    if status != "optimal":
        return cpsat.SolveResult(status, None, None, {}, time.perf_counter() - t0)
    targets = day_targets(scenario, sessions, split_days(scenario, sessions, x))
    rho = even_load(scenario, sessions)
    dates = sorted(targets)

    def solve_day(date) -> cpsat.SolveResult:
        day = [ps for ps in sessions if ps.date == date]
        m, variables, _r, _e = build_template(
            scenario, day, grid=grid, overbook=overbook, share=share, targets=targets[date], rho=rho
        )
        res = None
        for budget in [time_limit, *escalated_budgets(time_limit, max_time_limit)]:
            hint = {variables[k]: v for k, v in res.values.items()} if res is not None else None
            res = cpsat.solve(
                m,
                variables,
                time_limit=60 * budget + 10,
                seed=seed,
                workers=1,
                deterministic_time=budget,
                hint=hint,
            )
            if res.status in ("optimal", "infeasible", "invalid"):
                break
            if res.has_solution and not short_of_targets(targets[date], res.values):
                break
        return res

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(solve_day, dates))
    for r in results:
        if not r.has_solution:
            return cpsat.SolveResult(r.status, None, None, {}, time.perf_counter() - t0)
    values: dict = {}
    for r in results:
        values.update(r.values)
    objective = week_objective(scenario, sessions, values, grid=grid)
    bound = min(math.floor(bound + 1e-6), objective)
    return cpsat.SolveResult("feasible", objective, bound, values, time.perf_counter() - t0)
