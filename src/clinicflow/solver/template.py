"""Appointment templates: how many slots of which type go in each part of each provider-session.

A CP-SAT model over integer counts ``n[session, segment, type]`` and hold counts
``h[session, segment]``. Exact start times are the timing model's job (``timing.py``); here a
segment only has to hold its slots end to end at their scheduled lengths, which is what makes the
timing model feasible afterwards. Template rules each carry an *assumption literal* so that an
infeasible week can be explained by the rules that conflict (``diagnose.py``).

Objective (lexicographic by weights): weighted shortfall against each demand row first, then a
small price on slots beyond demand, on each provider's share of pooled demand drifting from its
share of capacity, and on sessions loaded unevenly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..domain.scenario import Scenario
from . import cpsat
from .week import ProviderSession, hold_type, ma_by_minute, type_allowed_in

SHORTFALL = 1000  # per slot, times the demand weight
EXCESS = 20  # per slot beyond demand
SHARE = 10  # per slot off the provider's capacity share
BALANCE = 1  # per minute off the session's even load
OVERBOOK = 8  # per minute of slots beyond a segment's length (a 20-min slot: 160 < a missing slot)
MAX_OVERBOOK = 0.25  # overbooked minutes at most this share of a segment


@dataclass(frozen=True)
class Rule:
    """A template rule that can be switched off to explain infeasibility."""

    kind: str  # "holds" | "min_per_session" | "window" | "max_per_session"
    session: ProviderSession | None = None
    type_id: str | None = None
    value: int | None = None


@dataclass(frozen=True)
class TemplateResult:
    """Slot counts per provider-session and segment, with the solve's status and bound.

    ``counts[session_key][segment_index]`` maps type id to slot count; holds are under
    ``"__hold__"``. ``coverage`` gives, per demand row, ``(weekly, planned)``.
    """

    status: str
    objective: float | None
    bound: float | None
    wall_time: float
    counts: dict = field(default_factory=dict)
    coverage: list = field(default_factory=list)
    core: tuple = ()


HOLD = "__hold__"


def footprints(scenario: Scenario, provider_id: str, grid: int = 5) -> dict[str, int]:
    """Minutes a slot takes when a segment is packed end to end on the timing grid: its scheduled
    length, plus the room turnover for a provider who works from one room (the next patient
    cannot be roomed until the room is reset), rounded up to the grid. A template that packs
    with these footprints always leaves the timing model a feasible start."""
    one_room = scenario.provider_by_id[provider_id].rooms_at_once == 1
    turnover = math.ceil(scenario.rooms.turnover_min.mean - 1e-9)
    out = {}
    for t in scenario.appointment_types:
        raw = t.scheduled_min + (turnover if one_room and t.needs_room else 0)
        out[t.id] = -(-raw // grid) * grid
    return out


def demand_rows(scenario: Scenario):
    """Demand rows with the providers each one pools over (provider-specific rows win)."""
    specific = {(d.type, d.provider) for d in scenario.demand if d.provider is not None}
    rows = []
    for d in scenario.demand:
        if d.provider is not None:
            provs = [d.provider]
        else:
            provs = [
                p.id
                for p in scenario.providers
                if d.type in p.appointment_types and (d.type, p.id) not in specific
            ]
        rows.append((d, provs))
    return rows


SHARED_SLACK = 0.85  # plan shared procedure rooms and MAs to at most this share of their minutes
DEFAULT_SHARE = (1.0, SHARED_SLACK)  # (exam rooms, procedure rooms and MAs)


def _upper(v) -> int:
    """A count variable's upper bound. (OR-Tools 9.15's repeated proto field reads ``domain[-1]`` as
    0, which silently switched the shared-capacity rows below off; index from the front.)"""
    dom = v.proto.domain
    return int(dom[len(dom) - 1])


def _shared_capacity(
    m,
    scenario: Scenario,
    sessions: list[ProviderSession],
    n: dict,
    h: dict,
    grid: int = 5,
    share: tuple[float, float] = DEFAULT_SHARE,
) -> None:
    """Exam rooms, procedure rooms and MAs are shared across providers: for every stretch of a day
    between two segment boundaries, the slots of the segments inside it need no more room, procedure
    room and rooming minutes (rounded up to the grid) than the stretch offers. Exam rooms are planned
    to ``share[0]`` of their minutes, procedure rooms and MAs to ``share[1]`` (``SHARED_SLACK``):
    sessions are timed one after another, and intervals on a grid never tile a resource perfectly;
    ``plan_week`` lowers the shares when a day then cannot be timed. (Necessary conditions; the timing model
    then places slots minute by minute.)"""
    types = scenario.type_by_id
    turnover, n_proc = room_turnover_and_procedure_rooms(scenario)
    for day, ma_cum in days_with_ma(scenario, sessions):
        # (segment start, segment end, room min, procedure min, expected rooming tenths) per count var
        items = []
        for ps in day:
            ht = hold_type(scenario, ps.provider)
            for j, seg in enumerate(ps.segments):
                for tid, var in [
                    (t, n[(ps.key, j, t)]) for t in scenario.provider_by_id[ps.provider].appointment_types
                ] + [(ht, h[(ps.key, j)])]:
                    t = types[tid]
                    room = -(-(t.scheduled_min + turnover) // grid) * grid if t.needs_room else 0
                    # MAs: the expected rooming minutes in tenths (the patient comes with probability
                    # 1 - no-show - late cancel), as the timing model's limit on expected MA load
                    show = 1.0 - min(1.0, t.no_show + t.late_cancel)
                    rooming = round(10 * show * t.rooming_min.mean) if t.needs_ma else 0
                    items.append((seg.start, seg.end, room, room if t.procedure else 0, rooming, var))
        for k, cap, inside in capacity_windows(items, scenario, share, n_proc, turnover, ma_cum):
            terms = [(it[k], it[5]) for it in inside if it[k]]
            if terms and sum(c * _upper(v) for c, v in terms) > cap:
                m.add(sum(c * v for c, v in terms) <= cap)


def room_turnover_and_procedure_rooms(scenario: Scenario) -> tuple[int, int]:
    """A room's mean turnover rounded up to whole minutes, and the number of procedure rooms."""
    return math.ceil(scenario.rooms.turnover_min.mean - 1e-9), len(scenario.rooms.procedure_rooms)


def days_with_ma(scenario: Scenario, sessions: list[ProviderSession]):
    """Each day's provider-sessions with the cumulative MA-minutes on duty by minute of that day."""
    by_date: dict = {}
    for ps in sessions:
        by_date.setdefault(ps.date, []).append(ps)
    for day in by_date.values():
        yield day, np.concatenate([[0], np.cumsum(ma_by_minute(scenario, day[0].weekday), dtype=np.int64)])


def capacity_windows(items: list[tuple], scenario: Scenario, share, n_proc: int, turnover: int, ma_cum):
    """The day's shared-capacity rows: for every window between two item bounds, each resource
    (``k`` = 2 exam rooms, 3 procedure rooms, 4 MA-minutes on duty in tenths), its capacity at the
    ``share`` and the items that lie inside. ``items`` are ``(start, end, room, procedure room,
    rooming tenths, variable or None)``; the whole-week model and the by-day master (template_days)
    both add their rows from here, so the two relax the same constraints."""
    bounds = sorted({x for it in items for x in it[:2]})
    for a_i, t1 in enumerate(bounds):
        for t2 in bounds[a_i + 1 :]:
            inside = [it for it in items if t1 <= it[0] and it[1] <= t2]
            if not inside:
                continue
            span = t2 - t1
            yield 2, int(share[0] * scenario.rooms.n * (span + turnover)), inside
            yield 3, int(share[1] * n_proc * (span + turnover)), inside
            yield 4, int(10 * share[1] * (ma_cum[t2] - ma_cum[t1])), inside


def _solve(scenario, sessions, grid, time_limit, seed, *, overbook, share=DEFAULT_SHARE):
    m, variables, _rules, _exprs = build_template(
        scenario, sessions, grid=grid, overbook=overbook, share=share
    )
    # One worker and a deterministic budget: the same seed gives the same template on any machine.
    return cpsat.solve(
        m, variables, time_limit=60 * time_limit + 10, seed=seed, workers=1, deterministic_time=time_limit
    )


def _short(scenario: Scenario, values: dict) -> bool:
    """Whether any demand row gets fewer slots than requested."""
    for d, provs in demand_rows(scenario):
        planned = sum(
            v
            for (kind, skey, _j, *rest), v in values.items()
            if kind == "n" and rest[0] == d.type and skey[1] in provs
        )
        if planned < round(d.weekly):
            return True
    return False


@dataclass(frozen=True)
class Target:
    """One demand row as the objective prices it: ``want`` slots of ``type`` over ``providers``
    (shortfall at ``weight`` times ``SHORTFALL``, excess at ``EXCESS``), and each provider's
    ``shares`` of them (``SHARE`` per slot off)."""

    type: str
    providers: tuple[str, ...]
    want: int
    weight: float
    shares: dict


def week_targets(scenario: Scenario, sessions: list[ProviderSession]) -> list[Target]:
    """The week's demand rows, each provider's share in proportion to its session minutes."""
    cap = {p.id: sum(ps.minutes for ps in sessions if ps.provider == p.id) for p in scenario.providers}
    out = []
    for d, provs in demand_rows(scenario):
        total_cap = sum(cap[p] for p in provs) or 1
        shares = {p: round(d.weekly * cap[p] / total_cap) for p in provs}
        out.append(Target(d.type, tuple(provs), round(d.weekly), d.weight, shares))
    return out


def even_load(scenario: Scenario, sessions: list[ProviderSession]) -> float:
    """The share of its minutes each session would hold if the week's wanted minutes (demand and
    holds) were spread evenly: the balance term's target."""
    types = scenario.type_by_id
    total_min = sum(ps.minutes for ps in sessions) or 1
    wanted_min = sum(d.weekly * types[d.type].scheduled_min for d in scenario.demand) + sum(
        ps.holds * types[hold_type(scenario, ps.provider)].scheduled_min for ps in sessions
    )
    return min(1.0, wanted_min / total_min)


def per_session_bounds(scenario: Scenario, provider_id: str, type_id: str) -> tuple[int | None, int | None]:
    """min/max slots of a type per session for a provider (the tightest demand rows that apply)."""
    lo, hi = None, None
    for d, provs in demand_rows(scenario):
        if d.type != type_id or provider_id not in provs:
            continue
        if d.min_per_session is not None:
            lo = max(lo or 0, d.min_per_session)
        if d.max_per_session is not None:
            hi = d.max_per_session if hi is None else min(hi, d.max_per_session)
    return lo, hi


def build_template(
    scenario: Scenario,
    sessions: list[ProviderSession],
    *,
    assumptions: bool = False,
    grid: int = 5,
    overbook: bool = False,
    share: tuple[float, float] = DEFAULT_SHARE,
    targets: list[Target] | None = None,
    rho: float | None = None,
) -> tuple[cpsat.CpModel, dict, dict, dict]:
    """The template model: returns (model, count variables, assumption literal -> Rule, demand exprs).
    ``share``: the shares of exam-room and of procedure-room and MA minutes it may plan.
    ``targets`` (default ``week_targets``) are the demand rows the objective prices and ``rho`` the
    even load of a session (default: the week's wanted minutes over its session minutes); a day of
    a decomposed week gets its share of both (``solve_template_by_day``)."""
    m = cpsat.CpModel()
    types = scenario.type_by_id
    n: dict = {}
    h: dict = {}
    rules: dict = {}

    def rule_literal(rule: Rule):
        if not assumptions:
            return None
        lit = m.new_bool_var(f"rule_{rule.kind}_{len(rules)}")
        rules[lit.index] = rule
        m.add_assumption(lit)
        return lit

    window_lit = {}
    for t in types.values():
        if t.allowed_windows:
            window_lit[t.id] = rule_literal(Rule("window", None, t.id))

    load_by_session = {}
    overbook_terms: list = []
    absent = {t.id: min(1.0, t.no_show + t.late_cancel) for t in scenario.appointment_types}
    for ps in sessions:
        prov = scenario.provider_by_id[ps.provider]
        ht = hold_type(scenario, ps.provider)
        foot = footprints(scenario, ps.provider, grid)
        hold_len = foot[ht]
        segs = ps.segments
        for j, seg in enumerate(segs):
            # Overbooking: slots may exceed the segment's minutes as long as the *expected* shown
            # minutes fit (no-shows and late cancellations free the rest), at a price below a
            # missing slot, so it is used only when demand exceeds capacity. The extra patients
            # share start times (double-booked slots) in the timing model; a provider who works
            # from one room cannot double-book.
            max_ob = int(MAX_OVERBOOK * seg.minutes) if overbook and prov.rooms_at_once >= 2 else 0
            for t in prov.appointment_types:
                ub = (seg.minutes + max_ob) // foot[t]
                v = m.new_int_var(0, ub, f"n[{ps.key},{j},{t}]")
                n[(ps.key, j, t)] = v
                if not type_allowed_in(scenario, t, seg):
                    lit = window_lit.get(t)
                    if lit is None:
                        m.add(v == 0)
                    else:
                        m.add(v == 0).only_enforce_if(lit)
            hv = m.new_int_var(0, seg.minutes // hold_len, f"h[{ps.key},{j}]")
            h[(ps.key, j)] = hv
            if not type_allowed_in(scenario, ht, seg):  # a hold is a slot of its type, in its windows
                lit = window_lit.get(ht)
                if lit is None:
                    m.add(hv == 0)
                else:
                    m.add(hv == 0).only_enforce_if(lit)
            seg_n = [n[(ps.key, j, t)] for t in prov.appointment_types]
            minutes = sum(foot[t] * n[(ps.key, j, t)] for t in prov.appointment_types) + hold_len * hv
            if max_ob == 0:
                m.add(minutes <= seg.minutes)
            else:
                ob = m.new_int_var(0, max_ob, f"ob[{ps.key},{j}]")
                m.add(minutes <= seg.minutes + ob)
                overbook_terms.append(OVERBOOK * ob)
                shown = (
                    sum(
                        round(100 * foot[t] * (1 - absent[t])) * n[(ps.key, j, t)]
                        for t in prov.appointment_types
                    )
                    + round(100 * hold_len * (1 - absent[ht])) * hv
                )
                m.add(shown <= 100 * seg.minutes)
                # at most two patients per start time on the grid
                starts = max(1, (seg.minutes - min(foot.values())) // grid + 1)
                m.add(sum(seg_n) + hv <= 2 * starts)
        holds_expr = sum(h[(ps.key, j)] for j in range(len(segs)))
        lit = rule_literal(Rule("holds", ps, None, ps.holds))
        if lit is None:
            m.add(holds_expr == ps.holds)
        else:
            m.add(holds_expr == ps.holds).only_enforce_if(lit)
        for t in prov.appointment_types:
            lo, hi = per_session_bounds(scenario, ps.provider, t)
            cnt = sum(n[(ps.key, j, t)] for j in range(len(segs)))
            if lo:
                lit = rule_literal(Rule("min_per_session", ps, t, lo))
                if lit is None:
                    m.add(cnt >= lo)
                else:
                    m.add(cnt >= lo).only_enforce_if(lit)
            if hi is not None:
                lit = rule_literal(Rule("max_per_session", ps, t, hi))
                if lit is None:
                    m.add(cnt <= hi)
                else:
                    m.add(cnt <= hi).only_enforce_if(lit)
        load_by_session[ps.key] = (
            sum(
                types[t].scheduled_min * n[(ps.key, j, t)]
                for j in range(len(segs))
                for t in prov.appointment_types
            )
            + hold_len * holds_expr
        )

    _shared_capacity(m, scenario, sessions, n, h, grid, share)

    # -- objective ------------------------------------------------------------------------------
    terms = []
    demand_exprs = {}
    for i, tg in enumerate(week_targets(scenario, sessions) if targets is None else targets):
        expr = sum(v for (key, _j, t), v in n.items() if t == tg.type and key[1] in tg.providers)
        demand_exprs[i] = expr
        short = m.new_int_var(0, max(tg.want, 0), f"short[{i}]")
        excess = m.new_int_var(0, 10_000, f"excess[{i}]")
        m.add(expr - tg.want == excess - short)
        terms.append(round(SHORTFALL * tg.weight) * short + EXCESS * excess)
        for p, share in tg.shares.items():
            pe = sum(v for (key, _j, t), v in n.items() if t == tg.type and key[1] == p)
            # |slots - share| is at most the share itself when the provider gets no slot of the type
            dev = m.new_int_var(0, max(10_000, share), f"share_dev[{i},{p}]")
            m.add_abs_equality(dev, pe - share)
            terms.append(SHARE * dev)
    if rho is None:
        rho = even_load(scenario, sessions)
    for ps in sessions:
        dev = m.new_int_var(0, ps.minutes, f"balance[{ps.key}]")
        m.add_abs_equality(dev, load_by_session[ps.key] - round(rho * ps.minutes))
        terms.append(BALANCE * dev)
    m.minimize(sum(terms) + sum(overbook_terms))
    variables = {("n", *k): v for k, v in n.items()} | {("h", *k): v for k, v in h.items()}
    return m, variables, rules, demand_exprs


#: how much each retry of a template solve that found nothing multiplies its budget by
ESCALATE = 4.0


def escalated_budgets(first: float, ceiling: float | None) -> list[float]:
    """The budgets of the retries after a first solve of ``first`` deterministic seconds found no
    solution: ``ESCALATE`` times more each time, the last one clipped to ``ceiling`` (none without)."""
    out: list[float] = []
    budget = first
    while ceiling is not None and budget < ceiling:
        budget = min(ceiling, ESCALATE * budget)
        out.append(budget)
    return out


def solve_template(
    scenario: Scenario,
    sessions: list[ProviderSession],
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int = 2,
    grid: int = 5,
    overbooking: bool | None = None,
    share: tuple[float, float] = DEFAULT_SHARE,
    max_time_limit: float | None = None,
    by_day: bool = False,
) -> TemplateResult:
    """Solve the template model. On infeasibility, re-solve with rule assumptions to find a core.

    ``overbooking``: None overbooks only when demand exceeds what the sessions hold end to end;
    True also tries an overbooked template otherwise and keeps it when it scores better; False never
    overbooks (the practice's policy forbids it).

    ``max_time_limit``: when the first solve finds no template in ``time_limit`` (deterministic
    seconds), it is solved again with ``ESCALATE`` times the budget, up to this ceiling. A practice
    several times the family practice's size (216 provider-sessions and more) finds no template in
    the 0.6 s a 60 s plan gives it, and was refused outright; a solve that found a template the first
    time is kept as it was, so a seed plans the same week as before.

    ``by_day``: split the demand over (provider, day) in a master linear program, then solve each
    day's template on its own (``template_days.solve_by_day``; ``time_limit`` is then each day's first
    budget); when a day finds no template even at the ceiling, or is infeasible, the week is solved
    whole as without it."""
    if by_day:
        from .template_days import solve_by_day  # it builds on this module

        def solve(budget: float, overbook: bool) -> cpsat.SolveResult:
            return solve_by_day(
                scenario,
                sessions,
                time_limit=budget,
                max_time_limit=max_time_limit,
                seed=seed,
                workers=workers,
                grid=grid,
                overbook=overbook,
                share=share,
            )

        res = solve(time_limit, False)
        if not res.has_solution:  # a day without a template: the whole week explains why
            return solve_template(
                scenario,
                sessions,
                time_limit=time_limit,
                seed=seed,
                workers=workers,
                grid=grid,
                overbooking=overbooking,
                share=share,
                max_time_limit=max_time_limit,
            )
    else:

        def solve(budget: float, overbook: bool) -> cpsat.SolveResult:
            return _solve(scenario, sessions, grid, budget, seed, overbook=overbook, share=share)

        res = solve(time_limit, False)
        for budget in escalated_budgets(time_limit, max_time_limit):
            if res.status != "unknown":
                break
            res = solve(budget, False)
    if not res.has_solution:
        core: tuple = ()
        if res.status == "infeasible":
            m2, v2, rules, _ = build_template(scenario, sessions, assumptions=True, grid=grid)
            r2 = cpsat.solve(m2, v2, time_limit=time_limit, seed=seed, workers=1, assumption_names=rules)
            core = r2.core
        return TemplateResult(res.status, None, None, res.wall_time, {}, [], core)
    if overbooking is not False and (overbooking or _short(scenario, res.values)):
        # Demand exceeds what the sessions hold end to end: allow overbooking and keep it if better.
        ob = solve(time_limit, True)
        if ob.has_solution and ob.objective < res.objective:
            ob = cpsat.SolveResult(ob.status, ob.objective, ob.bound, ob.values, ob.wall_time + res.wall_time)
            res = ob
    counts: dict = {}
    for key, val in res.values.items():
        if val <= 0:
            continue
        kind, skey, j, *rest = key
        seg_counts = counts.setdefault(skey, {}).setdefault(j, {})
        seg_counts[HOLD if kind == "h" else rest[0]] = val
    coverage = []
    for _i, (d, provs) in enumerate(demand_rows(scenario)):
        planned = sum(
            v
            for (kind, skey, _j, *rest), v in res.values.items()
            if kind == "n" and rest[0] == d.type and skey[1] in provs
        )
        coverage.append({"type": d.type, "provider": d.provider, "weekly": d.weekly, "planned": planned})
    return TemplateResult(res.status, res.objective, res.bound, res.wall_time, counts, coverage)
