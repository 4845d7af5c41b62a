"""Summaries over replications: mean, standard deviation and the 95% Student-t confidence interval.

Replications are independent and identically distributed (independent streams from one seed), so the
t interval on their means is the honest one; NaN values (a KPI undefined in a replication, e.g. the
mean wait when nobody was seen) are left out and ``n`` says how many replications remain.
"""

from __future__ import annotations

import pandas as pd

from ..stats import mean_ci

COLUMNS = ["mean", "ci_low", "ci_high", "sd", "n"]


def summarize(frame: pd.DataFrame, kpis) -> pd.DataFrame:
    """One row per KPI with columns mean, ci_low, ci_high, sd, n."""
    rows = [mean_ci(frame[k].to_numpy()) for k in kpis]
    out = pd.DataFrame(rows, index=pd.Index(list(kpis), name="kpi"), columns=COLUMNS)
    out["n"] = out["n"].astype(int)
    return out


def summarize_groups(frame: pd.DataFrame, by: str, kpis) -> pd.DataFrame:
    """Like ``summarize`` for each value of ``by``; indexed by (by, kpi)."""
    parts = {key: summarize(g, kpis) for key, g in frame.groupby(by, sort=False)}
    if not parts:
        return pd.DataFrame(columns=COLUMNS, index=pd.MultiIndex.from_tuples([], names=[by, "kpi"]))
    return pd.concat(parts, names=[by, "kpi"])
