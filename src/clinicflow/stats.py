"""Confidence intervals, in one place for every layer.

Replications are independent and identically distributed (independent streams from one seed), so the
Student-t interval on their mean is the honest one; paired differences under common random numbers are
i.i.d. too. Proportions near 0 or 1 (overtime probability) use the Wilson score interval. NaN values
(a KPI undefined in a replication) are left out and ``n`` says how many remain; with fewer than two
values the interval is NaN rather than a misleading zero width.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special  # not scipy.stats: ~1 s less to import, for two quantiles


class MeanCI(NamedTuple):
    mean: float
    low: float
    high: float
    sd: float
    n: int


def mean_ci(values, level: float = 0.95) -> MeanCI:
    """Mean, t-interval, standard deviation and count of the non-NaN values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return MeanCI(mean, math.nan, math.nan, math.nan, 1)
    sd = float(x.std(ddof=1))
    half = float(special.stdtrit(n - 1, 0.5 + level / 2)) * sd / math.sqrt(n)
    return MeanCI(mean, mean - half, mean + half, sd, n)


def welch_ci(a, b, level: float = 0.95) -> tuple[float, float]:
    """Unpaired (Welch) interval of mean(b) − mean(a): the comparison without common random numbers."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2:
        return (math.nan, math.nan)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    d = float(b.mean() - a.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return (d, d)
    dof = (va + vb) ** 2 / ((va**2) / (len(a) - 1) + (vb**2) / (len(b) - 1))
    half = float(special.stdtrit(dof, 0.5 + level / 2)) * se
    return (d - half, d + half)


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Proportion k/n with its Wilson score interval (good near 0 and 1, unlike the normal one)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    z = float(special.ndtri(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return p, lo, hi
