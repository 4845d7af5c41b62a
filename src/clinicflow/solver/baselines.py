"""Timing rules practices use, applied to the optimized plan's own template for comparison.

Both keep every slot, its order and its session; only start times change:

- **evenly spaced** — back to back at each slot's mean visit duration from the block start;
- **Bailey-Welch** (Bailey 1952; Welch & Bailey 1952) — two patients at the block start, then one
  per mean duration, so the provider is not idle if the first patient is late or absent.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .plan import PlanResult, TimedBlock, build_schedule


def _means(plan: PlanResult, tb: TimedBlock) -> list[float]:
    return [plan.scenario.visit_duration(tb.session.provider, s.type_id).mean for s in tb.slots]


def evenly_spaced_starts(start: int, means: list[float]) -> list[int]:
    out, t = [], float(start)
    for mu in means:
        out.append(round(t))
        t += mu
    return out


def bailey_welch_starts(start: int, means: list[float]) -> list[int]:
    if not means:
        return []
    out, t = [start], float(start)
    for mu in means[:-1]:
        out.append(round(t))
        t += mu
    return out[: len(means)]


RULES: dict[str, Callable[[int, list[float]], list[int]]] = {
    "evenly_spaced": evenly_spaced_starts,
    "bailey_welch": bailey_welch_starts,
}


def baseline_starts(plan: PlanResult, rule: str) -> dict:
    """Start times per timed block under a rule, keyed like ``build_schedule``'s ``starts``."""
    fn = RULES[rule]
    return {(tb.session.key, tb.block.start): fn(tb.block.start, _means(plan, tb)) for tb in plan.blocks}


def baseline_schedule(plan: PlanResult, rule: str) -> pd.DataFrame:
    """The plan's template timed by ``rule`` as a schedule table (rooms left to the simulator)."""
    return build_schedule(plan.scenario, plan.blocks, starts=baseline_starts(plan, rule), rooms=False)
