"""The result of a simulation: replication tables and their summaries with 95% confidence intervals."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..domain.clock import format_hhmm
from ..stats import wilson
from .kpi_batch import SESSION_KPIS
from .kpis import KPIS
from .stats import summarize, summarize_groups

#: A session "runs late" when its last visit ends more than this many minutes after its end.
LATE_AFTER_MIN = 15.0


def late_first(table: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    """Provider-sessions most often late first (then most overtime): the order the terminal and the
    dashboard name them in. ``prefix``: ``"sim_"`` for the plan's sessions.csv columns."""
    keys = [f"{prefix}late_share", f"{prefix}provider_overtime_min"]
    return table.sort_values(keys, ascending=False, kind="stable")


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
    #: the simulated provider-sessions: date, provider, start and end (minutes since midnight)
    sessions: pd.DataFrame | None = field(default=None, repr=False)
    #: ``kpi_batch.SESSION_KPIS`` of every (replication, session): ``by_session`` summarizes it
    session_replications: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """Indexed by KPI; columns mean, ci_low, ci_high, sd, n."""
        return summarize(self.per_replication, KPIS)

    def by_provider(self) -> pd.DataFrame:
        """Indexed by (provider, KPI)."""
        return summarize_groups(self.provider_replications, "provider", KPIS)

    def by_day(self) -> pd.DataFrame:
        """Indexed by (date, KPI)."""
        return summarize_groups(self.day_replications, "date", KPIS)

    def by_session(self, late_after: float = LATE_AFTER_MIN) -> pd.DataFrame:
        """One row per provider-session: means over replications (patients seen, mean wait, idle,
        overtime, cost), when its last visit ends (median and 90th percentile over the replications
        in which anyone came) and how often it ends more than ``late_after`` minutes after the
        session's end, with a Wilson 95% interval. A week's mean overtime hides which session runs
        late and how often; a coordinator moves slots, or a break, for the session that does."""
        if self.sessions is None or self.session_replications is None:
            raise ValueError("this result has no per-session replications")
        table = self.session_replications
        col = {name: table[:, :, i] for i, name in enumerate(SESSION_KPIS)}
        out = self.sessions.copy()
        with warnings.catch_warnings():  # a session nobody came to in any replication: NaN, said as such
            warnings.simplefilter("ignore", RuntimeWarning)
            for name in (
                "patients_seen",
                "mean_wait_min",
                "provider_idle_min",
                "provider_overtime_min",
                "cost",
            ):
                out[name] = np.nanmean(col[name], axis=0)
            finish = col["finish_min"]
            out["finish_median_min"] = np.nanquantile(finish, 0.5, axis=0)
            out["finish_p90_min"] = np.nanquantile(finish, 0.9, axis=0)
        late = np.nan_to_num(finish, nan=-np.inf) > out["end"].to_numpy() + late_after
        k, n = late.sum(axis=0), len(table)
        shares = [wilson(int(x), n) for x in k]
        out["late_share"] = [s[0] for s in shares]
        out["late_ci_low"] = [s[1] for s in shares]
        out["late_ci_high"] = [s[2] for s in shares]
        return out

    def session_table(self, late_after: float = LATE_AFTER_MIN) -> pd.DataFrame:
        """``by_session`` as a file shows it: clock times as HH:MM, minutes to one decimal, shares
        to three (``simulate --sessions``, ``--json``'s ``by_session``, the plan's sessions.csv)."""
        b = self.by_session(late_after)
        out = pd.DataFrame(
            {
                "date": [d.isoformat() for d in b["date"]],
                "provider": b["provider"],
                "start": [format_hhmm(x) for x in b["start"]],
                "end": [format_hhmm(x) for x in b["end"]],
            }
        )
        for name in ("patients_seen", "mean_wait_min", "provider_idle_min", "provider_overtime_min", "cost"):
            out[name] = b[name].round(1)
        for name in ("finish_median", "finish_p90"):
            out[name] = [format_hhmm(x) if x == x else "" for x in b[f"{name}_min"]]
        for name in ("late_share", "late_ci_low", "late_ci_high"):
            out[name] = b[name].round(3)
        return out

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
        if self.session_replications is not None:
            table = self.session_table()
            out["by_session"] = [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                for row in table.to_dict(orient="records")
            ]
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
