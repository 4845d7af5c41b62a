"""The result of a simulation: replication tables and their summaries with 95% confidence intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .kpis import KPIS
from .stats import summarize, summarize_groups


@dataclass
class SimulationResult:
    """Per-replication KPIs (overall, per provider, per day), the time series, and optionally events.

    ``per_replication`` has one row per replication and a column per KPI (see ``kpis.KPIS``);
    ``provider_replications`` and ``day_replications`` the same per provider and per date.
    ``timeseries`` has one row per (date, 5-minute bin) with the mean and a 5–95% band across
    replications of the waiting-room count and the rooms busy. ``events`` (with ``keep_events``) is the
    long event log (``records.event_log``) and ``patients`` the per-patient records.
    """

    scenario_name: str
    seed: int
    replications: int
    per_replication: pd.DataFrame
    provider_replications: pd.DataFrame
    day_replications: pd.DataFrame
    timeseries: pd.DataFrame
    events: pd.DataFrame | None = None
    patients: pd.DataFrame | None = None
    schedule: pd.DataFrame | None = field(default=None, repr=False)
    #: plain-words notes on what the staffing cannot serve (``staffing.staffing_gaps``)
    warnings: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """Indexed by KPI; columns mean, ci_low, ci_high, sd, n."""
        return summarize(self.per_replication, KPIS)

    def by_provider(self) -> pd.DataFrame:
        """Indexed by (provider, KPI)."""
        return summarize_groups(self.provider_replications, "provider", KPIS)

    def by_day(self) -> pd.DataFrame:
        """Indexed by (date, KPI)."""
        return summarize_groups(self.day_replications, "date", KPIS)

    def to_json_dict(self) -> dict:
        """``{"kpis": {name: {"mean", "ci95": [lo, hi], "sd", "n"}}, "by_provider": …, "by_day": …}``."""
        out = {
            "scenario": self.scenario_name,
            "seed": self.seed,
            "replications": self.replications,
            "warnings": list(self.warnings),
            "kpis": _as_json(self.summary()),
            "by_provider": {
                p: _as_json(g.droplevel(0)) for p, g in self.by_provider().groupby(level=0, sort=False)
            },
            "by_day": {
                d.isoformat(): _as_json(g.droplevel(0)) for d, g in self.by_day().groupby(level=0, sort=False)
            },
        }
        return out


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _as_json(table: pd.DataFrame) -> dict:
    return {
        k: {
            "mean": _num(r["mean"]),
            "ci95": [_num(r["ci_low"]), _num(r["ci_high"])],
            "sd": _num(r["sd"]),
            "n": int(r["n"]),
        }
        for k, r in table.iterrows()
    }


def timeseries_frame(arrays: list[np.ndarray], dates, opens: int, bin_min: int) -> pd.DataFrame:
    """Mean and 5–95% band across replications of the per-bin series (see ``kpis.timeseries``)."""
    stack = np.stack(arrays)  # (reps, days, bins, 2)
    mean = stack.mean(axis=0)
    lo = np.quantile(stack, 0.05, axis=0)
    hi = np.quantile(stack, 0.95, axis=0)
    n_days, n_bins, _ = mean.shape
    rows = {
        "date": np.repeat(list(dates), n_bins),
        "minute": np.tile(opens + bin_min * np.arange(n_bins), n_days),
        "waiting_mean": mean[:, :, 0].ravel(),
        "waiting_low": lo[:, :, 0].ravel(),
        "waiting_high": hi[:, :, 0].ravel(),
        "rooms_busy_mean": mean[:, :, 1].ravel(),
        "rooms_busy_low": lo[:, :, 1].ravel(),
        "rooms_busy_high": hi[:, :, 1].ravel(),
    }
    return pd.DataFrame(rows)
