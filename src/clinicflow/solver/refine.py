"""Refining a block's start times under the clinic's service rule, then choosing on fresh days.

The CP-SAT timing model (``timing.py``) sees patients strictly in appointment order: that is what
makes the sample-path recursion a set of linear inequalities. The clinic's provider instead sees
the *ready* patient with the earliest appointment (``clinicflow.sim``): a late patient, or one
still with the MA, does not hold up the next one who is ready. ``saa.evaluate(ready_first=True)``
plays that rule on sampled days. On the family practice it changes the verdict: on 2,000 held-out
days the in-order optimum cost 8,209 against Bailey-Welch's 8,112 under the clinic's rule, while
in appointment order it had been the cheaper one (8,804 against 8,886) — two patients at the
block start are worth more when the provider can take whichever is ready.

So each block is refined on its own sampled days under the clinic's rule: a local search from each
of the CP-SAT timing and the rule timings (back to back, evenly spaced, Bailey-Welch), whose moves
shift one slot, or one slot and every slot after it, by one grid step — the moves of the L♮-convex
local search Begen & Queyranne (2011) show exact for the in-order model with discrete durations — or
swap two neighbouring slots of different kinds; under the ready-first rule each end is a local
optimum. A move is kept only if it
lowers the sampled cost and keeps every hard constraint (the slot's window, order, at most
``max_per_start`` per start, the provider's rooms and what other sessions left of rooms, procedure
rooms and MAs). Then the published timing is chosen among the starting points and the refined one
on *validation* days drawn apart from the search days and from every evaluation seed, so the
search's fit to its own days cannot make the plan worse than what it started from.

The validation days also queue patients for the provider's room slots (``rooms_at_once``), which
makes them equal to the simulated clinic wherever desk, MAs and rooms are plentiful (tested day by
day). The descent leaves that queue out: with it the family week took 10 s longer to plan
(44 s against 34 s) for the same held-out saving (7.4% against evenly spaced either way; 2.3% and
2.1% against Bailey-Welch, CIs ±60 over 300 simulated weeks). With the compiled recursion (session
5) it costs no time, and still buys nothing: 8.8% and 3.1% against 9.5% and 3.6% without it (CIs
about ±1 point, 100 simulated weeks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..domain.costs import Costs
from .saa import Samples, evaluate
from .shared import Ledger, resources_ok, slot_fits
from .timing import Slot
from .week import Block

MAX_PASSES = 40


@dataclass(frozen=True)
class Refined:
    """The published start times of a block, and where they came from."""

    starts: list[int]
    validated_cost: float  # mean cost per validation day under the clinic's service rule
    #: "cp-sat", "back_to_back", "evenly_spaced", "bailey_welch", or "refined:<one of those>"
    #: (the local search's end from that starting point)
    source: str
    moves: int
    order: list[int]  # the slots in their published order, as indices into the input's slots


def _valid(slots: list[Slot], a: list[int], max_per_start: int) -> bool:
    for i, (s, g) in enumerate(zip(slots, a, strict=True)):
        if g < s.lo or g > s.hi:
            return False
        if i and g < a[i - 1]:
            return False
        if i >= max_per_start and g <= a[i - max_per_start]:
            return False
    return True


def refine_block(
    block: Block,
    slots: list[Slot],
    candidates: dict[str, list[int]],
    search: Samples,
    validation: Samples,
    costs: Costs,
    *,
    to_last: bool,
    ledger: Ledger | None,
    date: dt.date,
    provider_rooms: int,
    grid: int = 5,
    max_per_start: int = 2,
) -> Refined:
    """Local search from each candidate on ``search`` days, then the choice on ``validation``
    days. ``candidates`` (name -> starts, in the order of ``slots``) must include a feasible
    timing (the CP-SAT one); infeasible candidates are dropped."""

    def cost(order: tuple, a, smp: Samples, rooms: int | None = None) -> float:
        return evaluate(
            np.asarray(a, dtype=float),
            smp,
            block.start,
            block.end,
            costs,
            to_last=to_last,
            ready_first=True,
            rooms_at_once=rooms,
            order=np.asarray(order),
        ).mean

    def feasible(order: tuple, a: list[int]) -> bool:
        sl = [slots[j] for j in order]
        return (
            _valid(sl, a, max_per_start)
            and all(slot_fits(ledger, date, s, g) for s, g in zip(sl, a, strict=True))
            and resources_ok(ledger, date, provider_rooms, sl, a)
        )

    same = tuple(range(len(slots)))
    pool = {
        name: (same, list(a)) for name, a in candidates.items() if a is not None and feasible(same, list(a))
    }
    if not pool:
        raise ValueError("no feasible starting timing to refine")
    # a local search from every distinct starting point: they end in different local optima
    # (the cost is not convex under the ready-first rule), and validation picks among them
    seen: set = set()
    moves = 0
    for name, (order0, a0) in list(pool.items()):
        if tuple(a0) in seen:
            continue
        seen.add(tuple(a0))
        found, m = _descend(order0, a0, lambda o, b: cost(o, b, search), feasible, slots, grid, max_per_start)
        moves += m
        pool[f"refined:{name}"] = found
    scored = {name: cost(o, a, validation, provider_rooms) for name, (o, a) in pool.items()}
    # ties go to a refined timing, then to the CP-SAT one
    pick = min(
        scored, key=lambda name: (scored[name], not name.startswith("refined"), name != "cp-sat", name)
    )
    order, a = pool[pick]
    return Refined(list(a), scored[pick], pick, moves, list(order))


def _descend(order0: tuple, a0: list[int], cost, feasible, slots: list[Slot], grid: int, max_per_start: int):
    """First-improvement descent over one-slot and tail shifts by one grid step, and swaps of two
    neighbouring slots of different kinds (their patients trade start times)."""
    order, a = tuple(order0), list(a0)
    best = cost(order, a)
    n, moves = len(a), 0
    for _ in range(MAX_PASSES):
        improved = False
        for i in range(n):
            for step in (-grid, grid):
                for tail in (False, True):
                    b = list(a)
                    for j in range(i, n) if tail else (i,):
                        b[j] += step
                    if not _valid([slots[j] for j in order], b, max_per_start):
                        continue
                    c = cost(order, b)
                    if c < best - 1e-9 and feasible(order, b):
                        a, best, improved = b, c, True
                        moves += 1
            if i + 1 < n and _kind(slots[order[i]]) != _kind(slots[order[i + 1]]):
                o = list(order)
                o[i], o[i + 1] = o[i + 1], o[i]
                o = tuple(o)
                if _valid([slots[j] for j in o], a, max_per_start):
                    c = cost(o, a)
                    if c < best - 1e-9 and feasible(o, a):
                        order, best, improved = o, c, True
                        moves += 1
        if not improved:
            break
    return (order, a), moves


def _kind(s: Slot) -> tuple:
    return (s.type_id, s.hold)


__all__ = ["Refined", "refine_block"]
