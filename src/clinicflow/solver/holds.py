"""Same-day holds and the walk-ins that fill them, on sampled days.

A hold is provider time kept free for a patient not yet known. Whether it is used, and when that
patient comes, is decided on the day by the clinic's walk-in rule (the rule ``clinicflow.sim``
plays): walk-ins arrive as a Poisson process with the scenario's hourly rates over the opening
hours, in the types of ``walk_in_mix``; each takes the earliest hold of the day (by start, then by
the provider's place in the scenario) that is not taken, has not ended, and belongs to a provider
who sees its type. A walk-in who arrives before the hold starts is told to come back at its start;
one who arrives during it is seen from its arrival.

The planner needs this because holds are many and walk-ins few: on the family practice a day has
~22 holds against ~7.5 expected walk-ins, and the early holds of the day take almost all of them.
Timed as if they were booked patients who show (94% for a sick visit), holds left the provider
waiting for nobody in the simulator, and the optimized plan cost ~2% more than Bailey-Welch
there while beating it on its own samples (docs/planning.md, "Why the simulator disagreed").

Only the scenario's arrival process and the hold positions enter, so this is a model of the
clinic's rule, not of the simulator: the solver stays independent of ``clinicflow.sim``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain.scenario import Scenario


@dataclass(frozen=True)
class Hold:
    """A hold as placed on the day: whose it is and when (minutes since midnight)."""

    provider: str
    start: int
    end: int


def walk_in_windows(scenario: Scenario) -> list[tuple[int, int, float]]:
    """(from, to, expected walk-ins) per clock hour of opening time, with the hour's rate."""
    c, arr = scenario.clinic, scenario.arrivals
    out = []
    for hour in range(c.opens // 60, (c.closes + 59) // 60):
        a, b = max(hour * 60, c.opens), min(hour * 60 + 60, c.closes)
        rate = arr.walk_in_rate(hour)
        if b > a and rate > 0:
            out.append((a, b, rate * (b - a) / 60.0))
    return out


def expected_walk_ins(scenario: Scenario) -> float:
    """Expected walk-ins per open day."""
    return float(sum(e for _, _, e in walk_in_windows(scenario)))


def hold_fills(
    scenario: Scenario,
    holds: list[Hold],
    k: int,
    rng: np.random.Generator,
    unheld: list[list[tuple[float, str]]] | None = None,
) -> np.ndarray:
    """On ``k`` sampled days, the arrival minute of the walk-in who takes each hold (NaN: the
    hold stays empty). Array of shape (k, len(holds)), in the order of ``holds``.

    A walk-in is a non-homogeneous Poisson process with a piecewise-constant hourly rate (a
    Poisson count per hour, uniform times inside it); its type is drawn from ``walk_in_mix``.
    ``unheld`` (a list, filled in place with one list per day): the walk-ins who find no hold,
    as (arrival minute, type)."""
    out = np.full((k, len(holds)), np.nan)
    windows = walk_in_windows(scenario)
    mix = scenario.arrivals.walk_in_mix
    if not windows or not mix or sum(mix.values()) <= 0 or (not holds and unheld is None):
        if unheld is not None:
            unheld.extend([] for _ in range(k))
        return out
    types = list(mix)
    cum = np.cumsum(np.array([mix[t] for t in types], dtype=float))
    cum /= cum[-1]
    place = {p.id: i for i, p in enumerate(scenario.providers)}
    order = sorted(range(len(holds)), key=lambda j: (holds[j].start, place[holds[j].provider]))
    sees = {
        t: np.array(
            [t in scenario.provider_by_id[holds[j].provider].appointment_types for j in order], dtype=bool
        )
        for t in types
    }
    ends = np.array([holds[j].end for j in order], dtype=float)
    cols = np.array(order, dtype=int)
    for kk in range(k):
        times, kinds = [], []
        for a, b, expected in windows:
            n = int(rng.poisson(expected))
            if n:
                times.append(a + (b - a) * rng.random(n))
                kinds.append(np.searchsorted(cum, rng.random(n), side="right"))
        day_unheld: list[tuple[float, str]] = []
        if unheld is not None:
            unheld.append(day_unheld)
        if not times:
            continue
        t_all = np.concatenate(times)
        k_all = np.concatenate(kinds)
        taken = np.zeros(len(order), dtype=bool)
        for idx in np.argsort(t_all, kind="stable"):
            t = t_all[idx]
            kind = types[min(k_all[idx], len(types) - 1)]
            free = ~taken & (ends > t) & sees[kind]
            j = int(np.argmax(free)) if len(free) else 0
            if len(free) and free[j]:
                taken[j] = True
                out[kk, cols[j]] = t
            else:
                day_unheld.append((float(t), kind))
    return out


@dataclass(frozen=True)
class Unheld:
    """The walk-ins who find no hold, as one block's extra patients on ``k`` sampled days:
    ``arrival`` (k, m) in minutes since midnight (NaN: no patient in that column that day) and
    ``kind`` (k, m) their appointment types ("" where none)."""

    arrival: np.ndarray
    kind: np.ndarray


def day_walk_ins(scenario: Scenario, day: list[tuple], k: int, rng: np.random.Generator) -> tuple[dict, dict]:
    """The walk-ins of ``k`` sampled days of one date: who fills its blocks' holds, and who finds
    no hold. Returns ``(held, unheld)``.

    ``day`` lists ``(session, block, slots, starts)`` for every block of the date (``starts``: the
    slots' start times, or the planner's reference times before they are chosen). ``held``: per
    ``(session.key, block.start)`` with holds, ``{slot index: minutes after the hold's start the
    walk-in who takes it arrives (k,), NaN = empty}`` for ``timing.block_samples``; ``unheld``:
    per block, the walk-ins without a hold it serves (``Unheld``).

    Lateness is relative to the hold, so it moves with the hold when the timing model moves it:
    which hold a walk-in takes depends on the holds' rank in the day, and walk-ins arrive at a
    slowly varying rate, so a hold moved by a few minutes meets the same walk-in as many minutes
    later. Checked on the family practice over 1,000 days: with lateness drawn at the reference
    times, the plan's and Bailey-Welch's sampled costs came within 0.4% of those drawn at their own
    hold times, while absolute arrival times drawn at the reference times were 4-10% off.

    The clinic puts a walk-in without a hold in a queue that every provider on duty who sees its
    type serves (``clinicflow.sim``): a provider who has finished early waits for them, and one
    with a full book runs late. A block cannot know which provider will be free first, so each
    such walk-in is given to one of the blocks on duty at its arrival that has patients and sees
    its type, at random (else to the next such block of the day; with none left it is turned
    away, as in the clinic). Drawn after the holds' fills, from a generator spawned from ``rng``,
    so the fills are the same with or without this."""
    where, holds = [], []
    for ps, block, slots, starts in day:
        for i, (s, g) in enumerate(zip(slots, starts, strict=True)):
            if s.hold:
                where.append(((ps.key, block.start), i))
                holds.append(Hold(ps.provider, int(g), int(g) + s.scheduled))
    unheld: list[list[tuple[float, str]]] = []
    fills = hold_fills(scenario, holds, k, rng, unheld)
    out: dict = {}
    for j, (key, i) in enumerate(where):
        out.setdefault(key, {})[i] = fills[:, j] - holds[j].start
    blocks = [
        ((ps.key, b.start), b.start, b.end, scenario.provider_by_id[ps.provider].appointment_types)
        for ps, b, slots, _ in day
        if slots
    ]
    given = assign_unheld(unheld, blocks, rng.spawn(1)[0])
    extra: dict = {}
    for key, items in given.items():
        per_day: dict[int, list] = {}
        for kk, t, kind in items:
            per_day.setdefault(kk, []).append((t, kind))
        m = max(len(v) for v in per_day.values())
        arrival = np.full((k, m), np.nan)
        kinds = np.full((k, m), "", dtype=object)
        for kk, v in per_day.items():
            for e, (t, kind) in enumerate(v):
                arrival[kk, e] = t
                kinds[kk, e] = kind
        extra[key] = Unheld(arrival, kinds)
    return out, extra


def assign_unheld(
    unheld: list[list[tuple[float, str]]], blocks: list[tuple], rng: np.random.Generator
) -> dict:
    """``{block key: [(day, arrival, type), ...]}`` for the walk-ins who find no hold (``unheld``:
    per day, (arrival, type)). ``blocks``: (key, start, end, types seen) of the blocks with
    patients. Each walk-in goes to a block on duty at its arrival that sees its type, at random
    among several; else to the next such block to start; else nowhere (turned away)."""
    given: dict = {}
    for kk, walk_ins in enumerate(unheld):
        for t, kind in walk_ins:
            able = [b for b in blocks if kind in b[3]]
            on = [b for b in able if b[1] <= t < b[2]]
            if not on:
                later = [b[1] for b in able if b[1] > t]
                on = [b for b in able if later and b[1] == min(later)]
            if not on:
                continue  # no provider who sees this type is on duty later that day
            b = on[int(rng.integers(len(on)))] if len(on) > 1 else on[0]
            given.setdefault(b[0], []).append((kk, t, kind))
    return given


__all__ = [
    "Hold",
    "Unheld",
    "day_walk_ins",
    "expected_walk_ins",
    "hold_fills",
    "walk_in_windows",
]
