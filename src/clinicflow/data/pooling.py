"""Partial pooling of per-type rates (no-shows, late cancellations) towards the practice's rate.

A type's raw rate is noisy when it has few visits: 0 no-shows in 32 visits gives ``no_show: 0.0``,
and the planner then never expects an empty slot of that type, nor the simulator one. The
empirical-Bayes estimate (a beta-binomial model across the practice's types) keeps what the data
say where they say much and leans on the practice's rate where they say little:

    rate_t = (x_t + m p) / (n_t + m)

with ``p`` the practice's pooled rate and ``m`` the prior's weight in visits, estimated from how
much more the types' rates differ than binomial noise alone would make them (Kleinman's method of
moments, Biometrics 29, 1973): the intra-class correlation ``rho = 1 / (m + 1)`` solves

    sum_t n_t (r_t - p)^2 = p (1 - p) [(k - 1) + rho (N - sum_t n_t^2 / N)].

Types whose rates differ a lot get a small ``m`` (a type with 2,700 visits moves by a few in ten
thousand); rates no more different than noise get ``MAX_WEIGHT`` (close to the practice's rate for
all). One type alone, or a practice rate of 0 or 1, has nothing to pool with: ``m = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The prior's weight when the types' rates differ no more than binomial noise (full pooling would
#: be infinite; this keeps a type with thousands of visits near its own rate all the same).
MAX_WEIGHT = 1000.0


@dataclass(frozen=True)
class Pooled:
    """The practice's rate, the prior's weight in visits, and each group's pooled rate."""

    practice_rate: float
    weight: float
    rates: np.ndarray


def pool_rates(events, visits) -> Pooled:
    """Pooled rates for groups with ``events`` out of ``visits`` (arrays of the same length)."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(visits, dtype=float)
    keep = n > 0
    total = n[keep].sum()
    if total == 0:
        return Pooled(0.0, 0.0, np.zeros_like(n))
    p = x[keep].sum() / total
    k = int(keep.sum())
    if k < 2 or p <= 0.0 or p >= 1.0:
        weight = 0.0
    else:
        r = x[keep] / n[keep]
        spread = float((n[keep] * (r - p) ** 2).sum()) / (p * (1 - p))
        denom = total - float((n[keep] ** 2).sum()) / total
        rho = (spread - (k - 1)) / denom if denom > 0 else 0.0
        weight = MAX_WEIGHT if rho <= 1.0 / (MAX_WEIGHT + 1) else min(MAX_WEIGHT, 1.0 / rho - 1.0)
    rates = np.where(n > 0, (x + weight * p) / np.maximum(n + weight, 1e-12), p)
    return Pooled(float(p), float(weight), rates)
