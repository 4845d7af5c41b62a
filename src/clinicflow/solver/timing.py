"""Slot timing under uncertainty: start times that minimize expected wait + idle + overtime.

Decomposed by provider-session (and within it by break-free block). For a block's slots, in a
fixed order, CP-SAT chooses start times on a grid (5 minutes by default) minimizing the
sample-average of the cost over ``K`` sampled days (visit durations, no-shows, lateness) — the
two-stage stochastic programme of Denton & Gupta (2003), with the recourse written as the
sample-path recursion of ``saa.py``. Two slots may share a start time (a double-booked slot,
*overbooking*) when no-show rates make that cheaper; at most two share one.

Hard constraints live in the same model: windows and session ends bound each start; the
provider's own rooms at once are stated on the sorted starts; a boolean per (slot, grid point)
lets resources shared across providers be checked minute by minute — exam rooms (with turnover)
and procedure rooms — against what the sessions timed before this one already use (``shared.Ledger``).
MAs are checked on the *expected* rooming work of every 15-minute window (``ma_load.py`` says why).

Slot order: segments in time order; within a segment, smallest duration variance first, the
rule the literature finds near-optimal for sequencing (Denton, Viapiano & Vogl 2007; Mancilla &
Storer 2012).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from ..domain.scenario import Scenario
from . import cpsat
from .holds import Unheld
from .ma_load import MILLI, WINDOW, Profile, profile
from .saa import Extra, Samples, draw_samples, evaluate
from .shared import Ledger, resources_ok, slot_fits, slot_resources
from .week import Block, ProviderSession, ceil_min, hold_type, ma_by_minute

SCALE = 10  # CP-SAT minutes are tenths of a minute
COST_SCALE = 100  # cost weights to integers


@dataclass(frozen=True)
class Slot:
    """A slot to time: its type, its allowed start range, and what it occupies."""

    type_id: str
    hold: bool
    scheduled: int
    lo: int
    hi: int
    room_min: int  # exam-room occupancy incl. turnover; 0 = no room (telehealth)
    procedure: bool
    p_absent: float
    no_show: float
    variance: float
    mean: float = 0.0  # mean visit duration (0: unknown, then the scheduled length is used)
    #: expected MA load around the start (``ma_load``); None = no MA
    ma: Profile | None = field(default=None, compare=False, repr=False)


def spread(slots: list[Slot]) -> list[Slot]:
    """The slots with each type spread evenly through the list (the k-th of a type's n slots at
    (k + ½)/n), ties in the given order: an order the fixed-order timing model can always fit when
    smallest-variance-first cannot — e.g. six procedures in a row needing the one procedure room back
    to back while the provider's other patients fill the second room ahead of them."""
    seen: dict[tuple, int] = {}
    total: dict[tuple, int] = {}
    for sl in slots:
        total[(sl.type_id, sl.hold)] = total.get((sl.type_id, sl.hold), 0) + 1
    keyed = []
    for i, sl in enumerate(slots):
        g = (sl.type_id, sl.hold)
        k = seen.get(g, 0)
        seen[g] = k + 1
        keyed.append(((k + 0.5) / total[g], i, sl))
    return [sl for *_, sl in sorted(keyed, key=lambda x: x[:2])]


def block_slots(
    scenario: Scenario,
    ps: ProviderSession,
    block: Block,
    seg_counts: dict,
    grid: int,
    *,
    order: str = "variance",
) -> list[Slot]:
    """The block's slots in service order, with their start ranges on the grid: segment by segment,
    smallest variance first within a segment (``order="variance"``), or each type spread evenly
    through its segment (``order="spread"``, ``spread``)."""
    from .template import HOLD

    types = scenario.type_by_id
    turnover = ceil_min(scenario.rooms.turnover_min.mean)
    seg_index = {seg: j for j, seg in enumerate(ps.segments)}
    c = scenario.clinic
    desk = any(n for *_, n in scenario.staff.steps("front_desk", ps.weekday, c.opens, c.closes))
    on_duty = ma_by_minute(scenario, ps.weekday)
    out: list[Slot] = []
    for seg in block.segments:
        counts = seg_counts.get(seg_index[seg], {})
        seg_slots = []
        for tid, c in counts.items():
            hold = tid == HOLD
            real = hold_type(scenario, ps.provider) if hold else tid
            t = types[real]
            dist = scenario.visit_duration(ps.provider, real)
            lo, hi = block.start, block.end - t.scheduled_min
            if t.allowed_windows:
                w = next(w for w in t.allowed_windows if w.admits(seg.weekday, seg.start, seg.end))
                lo, hi = max(lo, w.start), min(hi, w.end - t.scheduled_min)
            if t.needs_ma and on_duty[lo] == 0:
                # not before the first MA of the block: the sampled days do not model a patient
                # waiting for the MAs' shift (the MA limit does, for those who come early)
                later = np.flatnonzero(on_duty[lo : hi + 1])
                lo = lo + int(later[0]) if len(later) else hi + grid
            lo = block.start + -(-(lo - block.start) // grid) * grid
            hi = block.start + ((hi - block.start) // grid) * grid
            for _ in range(c):
                seg_slots.append(
                    Slot(
                        type_id=real,
                        hold=hold,
                        scheduled=t.scheduled_min,
                        lo=lo,
                        hi=hi,
                        room_min=t.scheduled_min + turnover if t.needs_room else 0,
                        procedure=t.procedure,
                        p_absent=min(1.0, t.no_show + t.late_cancel),
                        no_show=t.no_show,
                        variance=dist.sd**2,
                        mean=dist.mean,
                        ma=profile(scenario, real, desk) if t.needs_ma else None,
                    )
                )
        seg_slots.sort(key=lambda s: (s.variance, s.hold, s.type_id))
        out.extend(spread(seg_slots) if order == "spread" else seg_slots)
    return out


def block_samples(
    scenario: Scenario,
    ps: ProviderSession,
    slots: list[Slot],
    k: int,
    rng,
    walk_ins: dict[int, np.ndarray] | None = None,
    unheld: Unheld | None = None,
) -> Samples:
    """Sampled days for a block's slots: shows, visit durations, the steps between arrival
    and the provider (punctuality, check-in at the desk, MA rooming) and the room turnover that
    the simulator models — with the room pipeline, so ``evaluate(rooms_at_once=...)`` can queue
    patients for the provider's room slots as the clinic does.

    ``walk_ins[i]``: for hold slot ``i``, on each day how late after the hold's start the walk-in
    who fills it arrives, NaN when it stays empty (``holds.day_walk_ins``). Without it a hold is
    sampled like a booked slot of its type (``plan_week`` always passes it).

    ``unheld``: the walk-ins without a hold given to this block (``holds.day_walk_ins``), drawn
    after everything else from the same generator, so the slots' days do not change with them."""
    types = scenario.type_by_id
    c = scenario.clinic
    desk = any(n for *_, n in scenario.staff.steps("front_desk", ps.weekday, c.opens, c.closes))

    def steps_of(type_id: str) -> tuple[list, int]:
        t = types[type_id]
        steps = []
        if t.needs_room and desk:
            steps.append(scenario.staff.front_desk.check_in_min)
        before = len(steps)
        if t.needs_ma:
            steps.append(t.rooming_min)
        return steps, before

    delays, before_room = [], []
    for s in slots:
        steps, before = steps_of(s.type_id)
        delays.append(steps)
        before_room.append(before)
    smp = draw_samples(
        rng,
        k,
        [scenario.visit_duration(ps.provider, s.type_id) for s in slots],
        [s.p_absent for s in slots],
        scenario.arrivals.punctuality,
        scenario.arrivals.late_cutoff_min,
        delays,
        walk_ins,
        before_room=before_room,
        needs_room=[types[s.type_id].needs_room for s in slots],
        turnover=scenario.rooms.turnover_min,
    )
    if unheld is None or unheld.arrival.shape[1] == 0:
        return smp
    return replace(smp, extra=_unheld_samples(scenario, ps.provider, unheld, steps_of, rng))


def _unheld_samples(scenario: Scenario, provider: str, unheld: Unheld, steps_of, rng) -> Extra:
    """Visit, check-in, rooming and turnover draws for the walk-ins without a hold, type by type
    (a walk-in is seen from its arrival: no lateness)."""
    shape = unheld.arrival.shape
    here = np.isfinite(unheld.arrival)
    dur, pre, post, turn = (np.zeros(shape) for _ in range(4))
    needs = np.zeros(shape, dtype=bool)
    for type_id in sorted({str(t) for t in unheld.kind[here]}):
        mask = here & (unheld.kind == type_id)
        n = int(mask.sum())
        dur[mask] = np.maximum(scenario.visit_duration(provider, type_id).sample(rng, n), 0.0)
        steps, before = steps_of(type_id)
        for j, dist in enumerate(steps):
            x = np.maximum(np.asarray(dist.sample(rng, n), dtype=float), 0.0)
            if j < before:
                pre[mask] += x
            else:
                post[mask] += x
        needs[mask] = scenario.type_by_id[type_id].needs_room
        turn[mask] = np.maximum(np.asarray(scenario.rooms.turnover_min.sample(rng, n), dtype=float), 0.0)
    return Extra(unheld.arrival, pre + post, dur, pre, post, turn, needs)


@dataclass(frozen=True)
class BlockTiming:
    """Start times for one block's slots, with the solve's status, expected cost and bound."""

    starts: list[int]
    result: cpsat.SolveResult
    slots: list[Slot] = field(default_factory=list)


def time_block(
    scenario: Scenario,
    date: dt.date,
    provider_rooms: int,
    block: Block,
    slots: list[Slot],
    samples: Samples,
    ledger: Ledger | None,
    *,
    grid: int = 5,
    time_limit: float = 2.0,
    seed: int = 0,
    workers: int = 1,
    max_per_start: int = 2,
    to_last: bool = True,
) -> BlockTiming:
    """CP-SAT SAA model for one block. Costs are in the scenario's units per sampled day.

    ``to_last``: the block holds its session's last patients, so provider idle counts until the
    last visit ends (``saa.evaluate``); otherwise until the block end.

    The model is first solved without the shared-resource constraints (smaller, faster); when
    its optimum already respects them it is optimal for the full model too. Otherwise the full
    model is solved, warm-started from it."""
    n = len(slots)
    if n == 0:
        idle = 0.0 if to_last else scenario.costs.idle_per_min * (block.end - block.start)
        return BlockTiming([], cpsat.SolveResult("optimal", idle, idle, {}, 0.0), [])
    kw = dict(grid=grid, seed=seed, workers=workers, max_per_start=max_per_start, to_last=to_last)
    costs = scenario.costs

    def sample_cost(starts) -> float:
        return evaluate(np.array(starts), samples, block.start, block.end, costs, to_last=to_last).mean

    hints = [h for h in rule_hints(block, slots, grid, max_per_start) if h is not None]
    hint = min(hints, key=sample_cost) if hints else None
    relaxed = _solve_block(
        scenario,
        date,
        provider_rooms,
        block,
        slots,
        samples,
        None,
        time_limit=time_limit,
        hint_starts=hint,
        **kw,
    )
    relaxed = _keep_better(relaxed, hint, sample_cost, None, date, provider_rooms)
    if relaxed.result.has_solution and resources_ok(ledger, date, provider_rooms, slots, relaxed.starts):
        return relaxed
    full = _solve_block(
        scenario,
        date,
        provider_rooms,
        block,
        slots,
        samples,
        ledger,
        time_limit=time_limit,
        hint_starts=relaxed.starts or hint,
        with_resources=True,
        **kw,
    )
    full = _keep_better(full, hint, sample_cost, ledger, date, provider_rooms)
    wall = relaxed.result.wall_time + full.result.wall_time
    r = full.result
    return BlockTiming(full.starts, cpsat.SolveResult(r.status, r.objective, r.bound, r.values, wall), slots)


def rule_hints(block: Block, slots: list[Slot], grid: int, max_per_start: int) -> list[list[int] | None]:
    """Warm starts for the timing model: back to back at scheduled lengths, evenly spaced at mean
    durations, and Bailey-Welch, each snapped to the grid and the slots' ranges (None when a rule
    does not fit). The model starts from the best of them on its own samples, so a time-limited
    solve is never worse in-sample than the rules practices use."""
    means = [s.mean or s.scheduled for s in slots]
    even = [float(block.start) + sum(means[:i]) for i in range(len(slots))]
    back = [float(block.start) + sum(s.scheduled for s in slots[:i]) for i in range(len(slots))]
    bw = [float(block.start), *even[:-1]]
    return [_snap(block, slots, ts, grid, max_per_start) for ts in (back, even, bw)]


def _snap(block: Block, slots: list[Slot], ts: list[float], grid: int, max_per_start: int):
    out: list[int] = []
    for i, (s, t) in enumerate(zip(slots, ts, strict=True)):
        g = block.start + round((t - block.start) / grid) * grid
        g = min(max(g, s.lo), s.hi)
        if out:
            g = max(g, out[-1])
        if i >= max_per_start and g <= out[i - max_per_start]:
            g = out[i - max_per_start] + grid
        if g > s.hi:
            return None
        out.append(g)
    return out


def _keep_better(bt: BlockTiming, hint, sample_cost, ledger, date, provider_rooms) -> BlockTiming:
    """The hint instead of a time-limited solve's answer when the hint is cheaper on the samples
    and fits (CP-SAT usually keeps a complete feasible hint itself; this makes it certain)."""
    if hint is None or bt.result.status == "optimal":
        return bt
    if bt.result.has_solution and sample_cost(bt.starts) <= sample_cost(hint):
        return bt
    fits = all(slot_fits(ledger, date, s, g) for s, g in zip(bt.slots, hint, strict=True))
    if not fits or not resources_ok(ledger, date, provider_rooms, bt.slots, hint):
        return bt
    r = bt.result
    obj = sample_cost(hint)
    bound = r.bound if r.bound is not None else 0.0  # costs are non-negative
    res = cpsat.SolveResult("feasible", obj, min(bound, obj), r.values, r.wall_time)
    return BlockTiming(list(hint), res, bt.slots)


def _solve_block(
    scenario: Scenario,
    date: dt.date,
    provider_rooms: int,
    block: Block,
    slots: list[Slot],
    samples: Samples,
    ledger: Ledger | None,
    *,
    grid: int,
    time_limit: float,
    seed: int,
    workers: int,
    max_per_start: int,
    hint_starts: list[int] | None = None,
    with_resources: bool = False,
    to_last: bool = True,
) -> BlockTiming:
    n, k = len(slots), samples.k
    c = scenario.costs
    ww, wi, wo = (round(COST_SCALE * x) for x in (c.wait_per_min, c.idle_per_min, c.overtime_per_min))
    m = cpsat.CpModel()

    # -- start-time choice: a grid index per slot; with resources, one boolean per grid point ----
    x: dict = {}
    a = []
    for i, s in enumerate(slots):
        pts = [g for g in range(s.lo, s.hi + 1, grid) if slot_fits(ledger, date, s, g)]
        if not pts:
            return BlockTiming([], cpsat.SolveResult("infeasible", None, None, {}, 0.0), slots)
        if with_resources:
            for g in pts:
                x[(i, g)] = m.new_bool_var(f"x[{i},{g}]")
            m.add_exactly_one(x[(i, g)] for g in pts)
            ai = m.new_int_var(pts[0], pts[-1], f"a[{i}]")
            m.add(ai == sum(g * x[(i, g)] for g in pts))
        else:
            ti = m.new_int_var(0, (pts[-1] - pts[0]) // grid, f"t[{i}]")
            ai = m.new_int_var(pts[0], pts[-1], f"a[{i}]")
            m.add(ai == pts[0] + grid * ti)
        a.append(ai)
    for i in range(n - 1):
        m.add(a[i] <= a[i + 1])
    for i in range(n - max_per_start):
        m.add(a[i + max_per_start] >= a[i] + 1)
    _own_rooms_limit(m, slots, a, provider_rooms)

    # -- shared resources, minute by minute ------------------------------------------------------
    by_res: dict[str, list] = {}
    for (i, g), v in x.items():
        for res, length in slot_resources(slots[i]).items():
            if res != "own_rooms":  # _own_rooms_limit states it exactly on the starts
                by_res.setdefault(res, []).append((g, g + length, v, i))
    for res, items in by_res.items():
        if ledger is None:
            continue
        free = ledger.free(date, res)
        lo = min(it[0] for it in items)
        hi = max(it[1] for it in items)
        seen: set = set()
        for minute in range(lo, hi):
            cover = [(v, i) for s, e, v, i in items if s <= minute < e]
            if len({i for _, i in cover}) <= free[minute]:
                continue
            sig = (tuple(sorted(v.index for v, _ in cover)), int(free[minute]))
            if sig in seen:
                continue
            seen.add(sig)
            m.add(sum(v for v, _ in cover) <= int(max(free[minute], 0)))
    if ledger is not None:
        _expected_ma_limit(m, slots, x, ledger.free(date, "ma"), provider_rooms, ledger.capacity(date, "ma"))

    # -- sampled days: the recursion as inequalities ---------------------------------------------
    ready = np.rint(samples.ready * SCALE).astype(np.int64)
    wait_from = np.rint(samples.wait_from * SCALE).astype(np.int64)
    dur = np.rint(samples.duration * SCALE).astype(np.int64)
    show = samples.show
    big = SCALE * (block.end + 24 * 60) + int(dur.sum(axis=1).max()) + int(np.abs(ready).max(initial=0))
    obj_terms = []
    const = 0
    for kk in range(k):
        prev = None  # end of the previous visit
        for i in range(n):
            if not show[kk, i]:
                continue  # an absent patient does not hold the provider up
            st = m.new_int_var(SCALE * block.start, big, f"s[{kk},{i}]")
            if prev is not None:
                m.add(st >= prev)
            m.add(st >= SCALE * a[i] + int(ready[kk, i]))
            w = m.new_int_var(0, big, f"w[{kk},{i}]")
            m.add(w >= st - SCALE * a[i] - int(wait_from[kk, i]))
            obj_terms.append(ww * w)
            prev = st + int(dur[kk, i])
        if prev is None:
            if not to_last:  # nobody shows: the provider waits through the block for later patients
                const += wi * SCALE * (block.end - block.start)
            continue
        o = m.new_int_var(0, big, f"ot[{kk}]")
        m.add(o >= prev - SCALE * block.end)
        if to_last:
            # idle = minutes from the block start to the last visit's end not spent with a patient
            # = end of the last visit - start - sum(d): exact, and linear in the last start.
            const -= wi * (SCALE * block.start + int(dur[kk].sum()))
            obj_terms.append(wi * prev + wo * o)
        else:
            # idle = block minutes - visit minutes inside the block = const - sum(d) + work past
            # the end; work past the end is the overtime when the provider works through from the
            # end on (every patient is due before it), so overtime is priced at idle + overtime.
            const += wi * (SCALE * (block.end - block.start) - int(dur[kk].sum()))
            obj_terms.append((wi + wo) * o)
    m.minimize(sum(obj_terms))
    hint = {}
    if hint_starts is not None:
        for i in range(n):
            hint[a[i]] = hint_starts[i]
    else:  # back to back at scheduled lengths from the first allowed point
        t = slots[0].lo
        for i, s in enumerate(slots):
            g = min(max(t, s.lo), s.hi)
            g = s.lo + ((g - s.lo) // grid) * grid
            hint[a[i]] = g
            t = g + s.scheduled
    res = cpsat.solve(
        m,
        {i: a[i] for i in range(n)},
        time_limit=60 * time_limit + 10,  # a wall-clock net only; the budget is deterministic
        seed=seed,
        workers=workers,
        objective_scale=1.0 / (SCALE * COST_SCALE * k),
        objective_offset=const / (SCALE * COST_SCALE * k),
        hint=hint,
        deterministic_time=time_limit,
        # linearization level 2 puts the recursion's inequalities in the LP relaxation: with the
        # same deterministic budget, 49 of the family week's 62 solves are proven optimal (39 at
        # the default level 1) and their answers cost 6% less in-sample
        params={"cp_model_probing_level": 0, "linearization_level": 2},
    )
    starts = [res.values[i] for i in range(n)] if res.has_solution else []
    return BlockTiming(starts, res, slots)


def _own_rooms_limit(m, slots: list[Slot], a: list, provider_rooms: int) -> None:
    """At most ``rooms_at_once`` of the provider's in-person slots hold a room at once. Starts are
    sorted, so the most rooms are in use at some slot's start, where slot ``i`` shares the time with
    each earlier slot ``j`` that has not ended (``a[j] + room[j] > a[i]``): at most
    ``rooms_at_once - 1`` of them. One boolean per pair that can overlap at all — stated on the
    starts, so the model without shared resources has it too, and its optimum usually fits."""
    idx = [i for i, s in enumerate(slots) if s.room_min]
    if len(idx) <= provider_rooms:
        return
    for pos, i in enumerate(idx):
        overlaps = []
        for j in idx[:pos]:
            if slots[j].hi + slots[j].room_min <= slots[i].lo:
                continue  # j always ends before i can start
            b = m.new_bool_var(f"room[{j},{i}]")
            m.add(a[j] + slots[j].room_min <= a[i]).only_enforce_if(~b)
            overlaps.append(b)
        if len(overlaps) > provider_rooms - 1:
            m.add(sum(overlaps) <= provider_rooms - 1)


def _expected_ma_limit(
    m, slots: list[Slot], x: dict, free: np.ndarray, provider_rooms: int, on_duty: np.ndarray | None = None
) -> None:
    """In every window of ``ma_load.WINDOW`` minutes, the expected MA-minutes of the block's slots
    (each at its chosen start) fit in what other sessions left: ``sum w[i](t - g) x[i, g] <= free[t]``
    in thousandths (``w`` the slot's windowed profile). The load is capped at ``rooms_at_once`` MAs
    (``capped_ma``), so a window with that much left is skipped, and so is one that even every slot
    at its worst start cannot fill."""
    terms: dict[int, list] = {}
    for (i, g), v in x.items():
        p = slots[i].ma
        if p is None:
            continue
        first, window = p.windowed_at(g, on_duty)  # rooming before the MAs' shift waits for it
        for j, q in enumerate(window.tolist()):
            if q:
                terms.setdefault(first + j, []).append((q, v, i))
    for minute, items in terms.items():
        if free[minute] >= provider_rooms * MILLI * WINDOW:
            continue
        worst: dict[int, int] = {}
        for q, _, i in items:
            worst[i] = max(worst.get(i, 0), q)
        if sum(worst.values()) > free[minute]:
            m.add(sum(q * v for q, v, _ in items) <= int(max(free[minute], 0)))
