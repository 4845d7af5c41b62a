"""The week's plan: template, then slot timing per provider-session, then rooms, then booking.

Slot timing per block is CP-SAT's in-order SAA model (``timing.py``) on sampled days whose holds are
filled by the day's walk-ins (``holds.py``), then a local search under the clinic's service rule
and a choice on validation days (``refine.py``); docs/planning.md says why each step is there.

``plan_week`` is the one entry point the CLI and notebooks call. It returns a typed ``PlanResult``
holding the schedule table (``clinicflow.domain.schedule`` columns), every provider-session's
solve status and expected cost, and the timed blocks the baselines re-time.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..domain.clock import format_hhmm, next_monday
from ..domain.scenario import Scenario
from ..errors import InfeasibleError
from ..streams import keyed_generator
from . import diagnose
from .holds import day_walk_ins
from .refine import refine_block
from .rooms import assign_rooms
from .shared import Ledger, commit
from .template import ESCALATE, TemplateResult, solve_template
from .timing import BlockTiming, Slot, block_samples, block_slots, rule_hints, time_block
from .week import (
    DAY_NAMES,
    Block,
    ProviderSession,
    describe_cancellations,
    provider_sessions,
    week_cancellations,
)

OPTIMIZE_STREAM = "saa-optimize"
SEARCH_STREAM = "saa-search"  # the days the local search under the clinic's service rule fits
VALIDATE_STREAM = "saa-validate"  # the days the published timing is chosen on
TIMING_SHARE = 0.15  # of the time limit per CP-SAT timing solve of a block, times BUDGET_CORES / blocks
#: A short time limit does not starve a block: each timing solve gets at least 0.2 deterministic s,
#: or an equal share of ``MIN_TIMING_TOTAL`` when the week has more than 90 blocks (less past
#: ``BIG_WEEK_BLOCKS``), never below ``MIN_BLOCK_BUDGET`` (``block_budget``).
MIN_TIMING_TOTAL = 18.0
MIN_BLOCK_BUDGET = 0.02
#: The most of the time limit (deterministic seconds) the template may take when its first 1% finds
#: no template: big practices (4x the family practice) need several seconds (solve_template)
TEMPLATE_CEILING = 0.15
#: The most provider-sessions a template is found for in its first budget (1% of the time limit):
#: twice the family practice's 54. Each doubling past it starts the template's escalation one step
#: further up (``template_budget``).
TEMPLATE_SESSIONS = 108
#: Weeks of up to this many timing blocks (twice the family week's 55) time and refine each block on
#: all its sampled days; bigger weeks on proportionally fewer (``week_days``), down to these floors.
BIG_WEEK_BLOCKS = 110
MIN_SAMPLES = 20
MIN_SEARCH_DAYS = 100
MIN_VALIDATION_DAYS = 150
#: The cores the time limit is budgeted for (the issue's 2). Fixed, not ``workers``: the budgets are
#: deterministic, so a seed gives the same plan with 1 worker or 2, only slower.
BUDGET_CORES = 2
RULE_NAMES = ("back_to_back", "evenly_spaced", "bailey_welch")  # timing.rule_hints, in its order


@dataclass(frozen=True)
class TimedBlock:
    session: ProviderSession
    block: Block
    slots: list[Slot]
    starts: list[int]
    status: str  # of the CP-SAT in-order model (timing.py)
    objective: float  # that model's objective: mean cost on the optimizer's days, in order
    bound: float
    wall_time: float
    #: mean cost of ``starts`` on the validation days, the provider seeing the ready patient
    #: with the earliest appointment (refine.py); what the session is expected to cost
    validated_cost: float = 0.0
    source: str = "cp-sat"  # which timing was published (refine.Refined.source)


@dataclass(frozen=True)
class SessionReport:
    """One provider-session's timing solve, summed over its blocks."""

    date: dt.date
    provider: str
    start: int
    end: int
    slots: int
    holds: int
    overbooked: int
    status: str
    gap: float
    expected_cost: float  # of the published times, on validation days under the clinic's rule
    model_objective: float  # the CP-SAT in-order model's objective; ``gap`` and ``bound`` are its
    bound: float
    wall_time: float
    refined: int = 0  # blocks whose published times come from the local search (refine.py)

    def as_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "provider": self.provider,
            "start": format_hhmm(self.start),
            "end": format_hhmm(self.end),
            "slots": self.slots,
            "holds": self.holds,
            "overbooked": self.overbooked,
            "status": self.status,
            "gap": round(self.gap, 6),
            "expected_cost": round(self.expected_cost, 3),
            "model_objective": round(self.model_objective, 3),
            "bound": round(self.bound, 3),
            "refined_blocks": self.refined,
            "wall_time_s": round(self.wall_time, 3),
        }


@dataclass
class PlanResult:
    scenario: Scenario
    monday: dt.date
    seed: int
    samples: int
    grid: int
    template: TemplateResult
    blocks: list[TimedBlock]
    sessions: list[SessionReport]
    schedule: pd.DataFrame
    wall_time: float
    booking: object | None = None
    #: why each demand row the template could not fill is short (``diagnose.explain_shortfall``)
    shortfall: list[str] = field(default_factory=list)

    @property
    def proven_optimal(self) -> int:
        return sum(1 for s in self.sessions if s.status == "optimal")


Progress = Callable[[str, int, int], None]


def block_budget(time_limit: float, blocks: int) -> float:
    """The deterministic budget of one block's CP-SAT timing solve: ``TIMING_SHARE`` of the time limit
    on ``BUDGET_CORES`` cores shared by the week's blocks, and at least 0.2 s — but a floor of 0.2 a
    block held the time limit only up to 90 blocks (0.15 × 60 s × 2 / 0.2); at 4× the family practice
    (230 blocks) the timing alone took three times the limit. Past 90 blocks the floor is an equal
    share of ``MIN_TIMING_TOTAL``: at 4× with a 60 s limit the timing stage took 136 s instead of
    182 s, fewer models were proven optimal (100 of 216 sessions against 176) and the published times
    cost the same on validation days (31,738 against 31,749) and in the simulator (33,310 ± 360
    against 33,284). The family week (55 blocks) is unchanged.

    Past ``BIG_WEEK_BLOCKS`` (110, twice the family week) both totals shrink by the square root of
    110 / blocks (0.058 s a block at 4×, 0.0205 at 8× with a 60 s limit, against 0.082 and 0.05),
    never under ``MIN_BLOCK_BUDGET``: a solve also costs about 0.1 CPU s outside its budget (presolve,
    LP set-up), so an equal share of a fixed total still grew with the blocks, and the refinement
    re-times every block under the clinic's rule after it (4×, 20 sampled days: 0.11 CPU s a block
    at 0.02 deterministic s, 0.18 at 0.05)."""
    n = max(1, blocks)
    scale = math.sqrt(min(1.0, BIG_WEEK_BLOCKS / n))
    floor = max(MIN_BLOCK_BUDGET, min(0.2, scale * MIN_TIMING_TOTAL / n))
    return max(floor, scale * TIMING_SHARE * time_limit * BUDGET_CORES / n)


def template_budget(time_limit: float, sessions: int) -> float:
    """The template's first deterministic budget: 1% of the time limit (0.3 to 2 s), times
    ``ESCALATE`` for each doubling of the week's provider-sessions past ``TEMPLATE_SESSIONS``, up to
    ``TEMPLATE_CEILING`` of the limit. A first solve that finds nothing is solved again at ``ESCALATE``
    times the budget (``solve_template``), so a big week used to pay for the solves that were bound to
    fail: at 4x the family practice (216 sessions) 0.6 s found nothing and 2.4 s a template; at 8x
    (432) 0.6 s and 2.4 s found nothing and 9 s a template — 28 CPU s of 73 spent on the failures.
    The same budgets are reached, one solve each, so the same templates come out."""
    base = max(0.3, min(2.0, 0.01 * time_limit))
    steps = max(0, math.ceil(math.log2(max(1, sessions) / TEMPLATE_SESSIONS) - 1e-9))
    return min(base * ESCALATE**steps, max(base, TEMPLATE_CEILING * time_limit))


def week_days(
    time_limit: float, blocks: int, samples: int, search_days: int, validation_days: int
) -> tuple[int, int, int]:
    """The sampled days per block of the CP-SAT timing model, of the local search and of the
    validation (refine.py): all of them up to ``BIG_WEEK_BLOCKS`` blocks (more with a time limit above
    60 s); past it the CP-SAT days shrink in inverse proportion to the blocks and the refinement's in
    inverse proportion to their square root, never under ``MIN_SAMPLES``, ``MIN_SEARCH_DAYS`` and
    ``MIN_VALIDATION_DAYS`` (nor above what was asked). 4x the family practice: 20, 141 and 212
    days instead of 40, 200 and 300; 8x: 20, 100 and 150.

    Why: a timing solve costs about 0.12 CPU s outside its deterministic budget (presolve, LP
    set-up), growing with its sampled days, whatever the budget (4x: 0.13 CPU s a block at 0.005
    deterministic s, 0.30 at 0.05), and the refinement has no time budget of its own (a
    deterministic descent on fixed days) while its work grows with blocks × days (43 CPU s at 8x).
    The CP-SAT days cost little: the refinement re-times every block under the clinic's rule. The
    refinement's days cost more — at 8x, a quarter of them (50 and 75) made the simulated week 2.3%
    dearer (66,291 against 64,787) and half 1.8% — hence the square root. Each block draws its days
    from its own keyed stream, so a seed still gives the same plan."""
    r = min(1.0, BIG_WEEK_BLOCKS * max(1.0, time_limit / 60.0) / max(1, blocks))

    def scaled(k: int, share: float, floor: int) -> int:
        return max(min(k, floor), round(k * share))

    return (
        scaled(samples, r, MIN_SAMPLES),
        scaled(search_days, math.sqrt(r), MIN_SEARCH_DAYS),
        scaled(validation_days, math.sqrt(r), MIN_VALIDATION_DAYS),
    )


def later_slots(ps: ProviderSession, block: Block, counts: dict) -> bool:
    """Whether the session has slots after ``block`` (after a break): then the provider waits
    through ``block`` for them, and idle there counts to the block end, not to its last visit."""
    later = {j for j, seg in enumerate(ps.segments) if seg.start >= block.end}
    return any(c for j in later for c in counts.get(j, {}).values())


def ends_session(blocks: list[TimedBlock], tb: TimedBlock) -> bool:
    """Whether no later block of ``tb``'s session has slots (idle counts to its last visit)."""
    return not any(
        o.slots for o in blocks if o.session.key == tb.session.key and o.block.start >= tb.block.end
    )


def block_rng(seed: int, stream: str, ps: ProviderSession, block: Block) -> np.random.Generator:
    """The generator of one block's sampled days: keyed by date, provider and block, so a block
    draws the same days whatever else is in the week (common random numbers)."""
    return keyed_generator(
        np.random.SeedSequence(seed), stream, ps.date.isoformat(), ps.provider, block.start
    )


def walk_in_rng(seed: int, stream: str, date: dt.date) -> np.random.Generator:
    """The generator of one date's walk-ins on the sampled days: one per date, since walk-ins
    fill the holds of every provider that day."""
    return keyed_generator(np.random.SeedSequence(seed), stream, "walk-ins", date.isoformat())


#: (exam rooms, procedure rooms and MAs): the shares of their minutes the template may plan, tried
#: in turn when the blocks of a day cannot be timed or roomed in what the template left
SHARES = ((1.0, 0.85), (0.85, 0.7), (0.7, 0.55))


class _Packed(Exception):
    """A day could not be timed or roomed in the template's shared resources (``error`` says how)."""

    def __init__(self, error: InfeasibleError):
        super().__init__(str(error))
        self.error = error


def _reindex_holds(walk: dict | None, before: list[Slot], after: list[Slot]) -> dict | None:
    """The walk-ins drawn for the holds of ``before`` (keyed by slot index), keyed by the index of
    the same holds in ``after``, a reordering of it: holds are alike, so the k-th hold of one order
    is the k-th of the other."""
    if walk is None or before is after:
        return walk
    old = [i for i, s in enumerate(before) if s.hold]
    new = [i for i, s in enumerate(after) if s.hold]
    return {j: walk[i] for i, j in zip(old, new, strict=True) if i in walk}


def reference_starts(block: Block, slots: list[Slot], grid: int) -> list[int]:
    """Where a block's slots sit before they are timed — back to back at their scheduled lengths
    (the template as a coordinator reads it) when that fits the grid and windows, else evenly
    spaced at mean durations, else Bailey-Welch, else each slot's earliest start — to place the
    holds the day's walk-ins are drawn against (``holds.day_walk_ins``)."""
    if not slots:
        return []
    back, even, bw = rule_hints(block, slots, grid, 2)
    return back or even or bw or [s.lo for s in slots]


def plan_week(
    scenario: Scenario,
    monday: dt.date,
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    samples: int = 40,
    grid: int = 5,
    workers: int = 2,
    progress: Progress | None = None,
    overbooking: bool | None = None,
    search_days: int = 200,
    validation_days: int = 300,
) -> PlanResult:
    """Plan the week starting ``monday``. Raises ``InfeasibleError`` in plain words when it cannot.

    ``overbooking``: None = only when demand exceeds capacity; True = whenever it lowers the
    template's cost; False = never (see ``solve_template``). ``samples`` sampled days per block
    go into the CP-SAT timing model, ``search_days`` into the local search under the clinic's
    service rule, and ``validation_days`` into the choice of the published times (refine.py)."""
    t0 = time.perf_counter()
    sessions = provider_sessions(scenario, monday)
    if not sessions:
        gone = describe_cancellations(week_cancellations(scenario, monday))
        raise InfeasibleError(
            f"no provider has a session in the week of {monday.isoformat()}",
            gone or ["every provider's sessions fall on days the clinic is closed"],
        )
    diagnose.check_week(scenario, sessions)

    used_samples = [samples]  # the CP-SAT model's sampled days per block (week_days)
    # Past BIG_WEEK_BLOCKS the template is solved a day at a time (template_days), each day with the
    # first budget of a week its size; smaller weeks whole, as before.
    one_day_at_a_time = sum(len(ps.blocks) for ps in sessions) > BIG_WEEK_BLOCKS
    per_date: dict = {}
    for ps in sessions:
        per_date[ps.date] = per_date.get(ps.date, 0) + 1
    first_budget = template_budget(time_limit, max(per_date.values()) if one_day_at_a_time else len(sessions))

    def timed_week(share: tuple[float, float]):
        """The template at these shares of the shared resources, and its timed blocks."""
        if progress:
            progress("template", 0, 1)
        tmpl = solve_template(
            scenario,
            sessions,
            time_limit=first_budget,
            max_time_limit=TEMPLATE_CEILING * time_limit,
            seed=seed,
            workers=workers,
            grid=grid,
            overbooking=overbooking,
            share=share,
            by_day=one_day_at_a_time,
        )
        if tmpl.status not in ("optimal", "feasible"):
            if tmpl.status == "infeasible":
                raise diagnose.explain_template_core(scenario, tmpl.core)
            raise InfeasibleError(
                f"no template found within the time limit ({time_limit:g} s)",
                ["raise --time-limit; the template model found no solution in its share of the time"],
            )
        if progress:
            progress("template", 1, 1)

        todo = [(ps, b) for ps in sessions for b in ps.blocks]
        by_day: dict[dt.date, list] = {}
        for ps, b in todo:
            by_day.setdefault(ps.date, []).append((ps, b))
        # A deterministic budget per block (CP-SAT's deterministic time), so a seed reproduces the plan
        # whatever the machine's load; most blocks are proven optimal well before it. A block may be
        # solved twice (without, then with shared resources), so each solve gets 0.2 of the share; on
        # the family practice the plan found with 0.35 was no better on held-out days (docs/planning.md).
        per_block = block_budget(time_limit, len(todo))
        done = [0]
        timed: dict = {}

        def run_day(date: dt.date) -> None:
            """Time the day's blocks in start order against a ledger of shared resources. When a
            block finds a shared resource used up, the day is re-timed with that session first
            (an earlier session no longer takes what it needs), up to a few times."""
            order = sorted(by_day[date], key=lambda x: (x[1].start, x[0].provider))
            for attempt in range(4):
                ledger = Ledger(scenario)
                day_timed = {}
                failed = None
                for ps, b in order:
                    bt, ref = _time_one(ps, b, ledger)
                    if not bt.result.has_solution:
                        failed = (ps, b, bt)
                        break
                    commit(
                        ledger,
                        ps.date,
                        bt.slots,
                        bt.starts,
                        scenario.provider_by_id[ps.provider].rooms_at_once,
                    )
                    day_timed[(ps.key, b.start)] = (bt, ref)
                if failed is None:
                    break
                ps, b, bt = failed
                if attempt == 3 or bt.result.status != "infeasible":
                    raise diagnose.explain_timing(scenario, ps, b, bt.slots, ledger, bt.result.status)
                first = [x for x in order if x[0].key == ps.key]
                order = first + [x for x in order if x[0].key != ps.key]
            for (key, bstart), (bt, ref) in day_timed.items():
                ps = next(p for p, b in by_day[date] if p.key == key and b.start == bstart)
                res = bt.result
                timed[(key, bstart)] = TimedBlock(
                    ps,
                    bt_block[(key, bstart)],
                    bt.slots,
                    bt.starts,
                    res.status,
                    res.objective,
                    res.bound,
                    res.wall_time,
                    ref.validated_cost if ref is not None else res.objective,
                    ref.source if ref is not None else "cp-sat",
                )
                done[0] += 1
                if progress:
                    progress("timing", done[0], len(todo))

        bt_block = {(ps.key, b.start): b for ps, b in todo}
        # The walk-ins who fill the holds, drawn per date against the holds' reference times (the
        # holds of all providers that day compete for the same walk-ins; holds.py).
        slots_of = {
            (ps.key, b.start): block_slots(scenario, ps, b, tmpl.counts.get(ps.key, {}), grid)
            for ps, b in todo
        }
        days_of = dict(
            zip(
                (OPTIMIZE_STREAM, SEARCH_STREAM, VALIDATE_STREAM),
                week_days(time_limit, len(todo), samples, search_days, validation_days),
                strict=True,
            )
        )
        used_samples[0] = days_of[OPTIMIZE_STREAM]
        walk_ins: dict = {stream: {} for stream in days_of}
        unheld: dict = {stream: {} for stream in days_of}
        for date, items in by_day.items():
            day = [(ps, b, slots_of[(ps.key, b.start)]) for ps, b in items]
            day = [(ps, b, sl, reference_starts(b, sl, grid)) for ps, b, sl in day]
            for stream, k in days_of.items():
                held, extra = day_walk_ins(scenario, day, k, walk_in_rng(seed, stream, date))
                walk_ins[stream].update(held)
                unheld[stream].update(extra)

        def sampled(stream: str, ps: ProviderSession, b: Block, slots: list[Slot]):
            # the walk-ins who find no hold join the search and validation days, which play the
            # clinic's service rule; the CP-SAT model's in-order recursion has no place for them
            key = (ps.key, b.start)
            extra = None if stream == OPTIMIZE_STREAM else unheld[stream].get(key)
            rng = block_rng(seed, stream, ps, b)
            walk = _reindex_holds(walk_ins[stream].get(key), slots_of[key], slots)
            return block_samples(scenario, ps, slots, days_of[stream], rng, walk, extra)

        def _solve(ps: ProviderSession, b: Block, slots: list[Slot], ledger: Ledger, to_last: bool):
            smp = sampled(OPTIMIZE_STREAM, ps, b, slots)
            rooms_at_once = scenario.provider_by_id[ps.provider].rooms_at_once
            for budget in (per_block, 3 * per_block):  # a solve that finds nothing is retried once at 3x
                bt = time_block(
                    scenario,
                    ps.date,
                    rooms_at_once,
                    b,
                    slots,
                    smp,
                    ledger,
                    grid=grid,
                    time_limit=budget,
                    seed=seed,
                    to_last=to_last,
                )
                if bt.result.status != "unknown":
                    break
            return bt

        def _time_one(ps: ProviderSession, b: Block, ledger: Ledger):
            counts = tmpl.counts.get(ps.key, {})
            slots = slots_of[(ps.key, b.start)]
            to_last = not later_slots(ps, b, counts)
            rooms_at_once = scenario.provider_by_id[ps.provider].rooms_at_once
            bt = _solve(ps, b, slots, ledger, to_last)
            if bt.result.status == "infeasible":
                # The timing model keeps the slots' order; smallest variance first can put slots in a
                # row that no start times fit (one procedure room, overbooked), so try each type spread.
                alt = block_slots(scenario, ps, b, counts, grid, order="spread")
                if alt != slots:
                    bt_alt = _solve(ps, b, alt, ledger, to_last)
                    if bt_alt.result.has_solution:
                        slots, bt = alt, bt_alt
            if not bt.result.has_solution or not slots:
                return bt, None
            hints = dict(zip(RULE_NAMES, rule_hints(b, slots, grid, 2), strict=True))
            ref = refine_block(
                b,
                slots,
                {"cp-sat": bt.starts, **hints},
                sampled(SEARCH_STREAM, ps, b, slots),
                sampled(VALIDATE_STREAM, ps, b, slots),
                scenario.costs,
                to_last=to_last,
                ledger=ledger,
                date=ps.date,
                provider_rooms=rooms_at_once,
                grid=grid,
            )
            return BlockTiming(ref.starts, bt.result, [slots[j] for j in ref.order]), ref

        # Longest days first (by slots to time), so two threads finish together rather than one
        # timing the last day alone; each day is independent, so the order changes no result.
        size = {d: sum(len(slots_of[(ps.key, b.start)]) for ps, b in items) for d, items in by_day.items()}
        try:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                for f in [pool.submit(run_day, d) for d in sorted(by_day, key=lambda d: (-size[d], d))]:
                    f.result()
            blocks = [timed[(ps.key, b.start)] for ps, b in todo]
            schedule = build_schedule(scenario, blocks, seed=seed, workers=workers)
        except InfeasibleError as err:
            raise _Packed(err) from None
        return tmpl, blocks, schedule

    # The template's shared-resource rows are necessary conditions: blocks are timed one after
    # another, and a day whose rooms, procedure rooms or MAs the template packed to the minute can
    # leave a later block no start times. Then the week is planned again, the template keeping more
    # of those resources free, before it is declared infeasible in the first attempt's words.
    first_error = None
    for share in SHARES:
        try:
            tmpl, blocks, schedule = timed_week(share)
            break
        except _Packed as packed:
            first_error = first_error or packed.error
        except InfeasibleError:
            if first_error is None:
                raise
            raise first_error from None  # a tighter template is impossible: the timing's words stand
    else:
        raise first_error
    reports = _session_reports(sessions, blocks)
    return PlanResult(
        scenario=scenario,
        monday=monday,
        seed=seed,
        samples=used_samples[0],
        grid=grid,
        template=tmpl,
        blocks=blocks,
        sessions=reports,
        schedule=schedule,
        wall_time=time.perf_counter() - t0,
        shortfall=diagnose.explain_shortfall(scenario, sessions, tmpl.coverage, grid),
    )


def build_schedule(
    scenario: Scenario,
    blocks: list[TimedBlock],
    *,
    seed: int = 0,
    starts: dict | None = None,
    rooms: bool = True,
    workers: int = 1,
) -> pd.DataFrame:
    """The schedule table for timed blocks (``starts`` overrides the start times, for baselines).
    Each day's rooms are an independent CP-SAT model; ``workers`` threads solve days side by side."""
    rows = []
    for tb in blocks:
        st = starts[(tb.session.key, tb.block.start)] if starts else tb.starts
        prev = None
        for s, g in zip(tb.slots, st, strict=True):
            rows.append(
                {
                    "date": tb.session.date,
                    "weekday": tb.session.weekday,
                    "provider": tb.session.provider,
                    "start": format_hhmm(g),
                    "end": format_hhmm(g + s.scheduled),
                    "start_min": int(g),
                    "end_min": int(g + s.scheduled),
                    "appointment_type": s.type_id,
                    "kind": "hold" if s.hold else "template",
                    "patient_ref": None,
                    "room": None,
                    # empty: the scenario's rate for the type. A copy of it here would outlive a
                    # recalibrated scenario and hide a what-if's no-show change from the simulator
                    "no_show_prob": np.nan,
                    "overbooked": prev is not None and g == prev,
                    "room_min_": s.room_min,
                    "procedure_": s.procedure,
                }
            )
            prev = g
    columns = [
        "date", "weekday", "provider", "start", "end", "start_min", "end_min", "appointment_type",
        "kind", "patient_ref", "room", "no_show_prob", "overbooked", "room_min_", "procedure_",
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=columns)
    if rooms and not df.empty:
        jobs = []
        for date, day in df.groupby("date", sort=True):
            inperson = day[day["room_min_"] > 0]
            ivs = [
                (r.provider, int(r.start_min), int(r.start_min + r.room_min_), bool(r.procedure_))
                for r in inperson.itertuples()
            ]
            label = f"{DAY_NAMES[day['weekday'].iloc[0]]} {date.isoformat()}"
            jobs.append((inperson.index, ivs, label))
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [
                pool.submit(assign_rooms, scenario, ivs, label=label, seed=seed) for _, ivs, label in jobs
            ]
            for (index, _, _), f in zip(jobs, futures, strict=True):
                df.loc[index, "room"] = f.result()
    df = df.drop(columns=["room_min_", "procedure_"])
    return df.sort_values(["date", "provider", "start_min"], kind="stable").reset_index(drop=True)


def _session_reports(sessions: list[ProviderSession], blocks: list[TimedBlock]) -> list[SessionReport]:
    out = []
    for ps in sessions:
        mine = [tb for tb in blocks if tb.session.key == ps.key]
        obj = sum(tb.objective for tb in mine)
        expected = sum(tb.validated_cost for tb in mine)
        bound = sum(tb.bound for tb in mine)
        status = "optimal" if all(tb.status == "optimal" for tb in mine) else "feasible"
        gap = 0.0 if status == "optimal" else max(0.0, (obj - bound) / max(abs(obj), 1e-9))
        n = sum(len(tb.slots) for tb in mine)
        holds = sum(1 for tb in mine for s in tb.slots if s.hold)
        ob = sum(1 for tb in mine for i in range(1, len(tb.starts)) if tb.starts[i] == tb.starts[i - 1])
        out.append(
            SessionReport(
                ps.date,
                ps.provider,
                ps.start,
                ps.end,
                n,
                holds,
                ob,
                status,
                gap,
                expected,
                obj,
                bound,
                sum(tb.wall_time for tb in mine),
                sum(1 for tb in mine if tb.source.startswith("refined")),
            )
        )
    return out


__all__ = [
    "PlanResult",
    "SessionReport",
    "TimedBlock",
    "block_budget",
    "block_rng",
    "build_schedule",
    "ends_session",
    "later_slots",
    "next_monday",
    "plan_week",
    "reference_starts",
    "template_budget",
    "walk_in_rng",
    "week_days",
]
