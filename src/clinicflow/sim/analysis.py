"""Reading a simulation: where patients wait, and which resource is the bottleneck, in plain words.

Waiting is split by what the patient was waiting *for* — the desk, a room, an MA, the provider,
checkout — counting only time after ``max(arrival, appointment)``: a patient who comes 15 minutes early
and sits until their appointment time is not evidence of a bottleneck. Utilization alone can mislead
(a 60%-busy provider can still be where every queue forms), so the bottleneck is named by waiting
minutes, with utilizations quoted beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: stage -> (queue start column, queue end column, words)
STAGES = {
    "desk": ("arrival", "check_in_start", "the front desk (check-in)"),
    "room": ("check_in_end", "roomed", "a free exam room"),
    "ma": ("roomed", "rooming_start", "a medical assistant to room them"),
    "provider": ("ready", "provider_start", "the provider"),
    "checkout": ("provider_end", "checkout_start", "checkout at the desk"),
}

_UTIL = {
    "desk": "desk_utilization",
    "room": "room_utilization",
    "ma": "ma_utilization",
    "provider": "provider_utilization",
    "checkout": "desk_utilization",
}


def wait_breakdown(patients: pd.DataFrame) -> pd.DataFrame:
    """Waiting minutes by stage over all replications: total, share, and mean per patient seen."""
    p = patients[patients["outcome"] == "seen"]
    t0 = np.fmax(p["arrival"].to_numpy(float), p["appointment"].to_numpy(float))
    n_reps = max(1, p["replication"].nunique())
    rows = []
    for stage, (a, b, words) in STAGES.items():
        start = np.fmax(p[a].to_numpy(float), t0)
        end = p[b].to_numpy(float)
        minutes = np.clip(end - start, 0, None)
        minutes = np.nan_to_num(minutes, nan=0.0)
        rows.append(
            {
                "stage": stage,
                "waiting_for": words,
                "minutes_per_replication": minutes.sum() / n_reps,
                "mean_per_patient": minutes.mean() if len(minutes) else 0.0,
            }
        )
    out = pd.DataFrame(rows)
    total = out["minutes_per_replication"].sum()
    out["share"] = out["minutes_per_replication"] / total if total > 0 else 0.0
    return out


def bottleneck_sentence(breakdown: pd.DataFrame, summary: pd.DataFrame) -> str:
    """One sentence naming the bottleneck, e.g. 'Most waiting (71%) is for the provider …'."""
    total = breakdown["minutes_per_replication"].sum()
    if total <= 0:
        return "Nobody waits: no resource is a bottleneck at this staffing and schedule."
    top = breakdown.sort_values("minutes_per_replication", ascending=False).iloc[0]
    util = summary.loc[_UTIL[top["stage"]], "mean"] if _UTIL[top["stage"]] in summary.index else np.nan
    util_text = f" ({_UTIL[top['stage']].replace('_', ' ')} {util:.0%})" if np.isfinite(util) else ""
    second = breakdown.sort_values("minutes_per_replication", ascending=False).iloc[1]
    return (
        f"The bottleneck is {top['waiting_for']}: {top['share']:.0%} of all waiting minutes are spent waiting "
        f"for it{util_text}, {top['mean_per_patient']:.1f} min per patient seen. Next is {second['waiting_for']} "
        f"({second['share']:.0%})."
    )


def provider_day_utilization(patients: pd.DataFrame, scenario) -> pd.DataFrame:
    """Mean share of each provider's session minutes spent with patients, by provider and date."""
    p = patients[patients["outcome"] == "seen"].copy()
    p["busy"] = p["provider_end"] - p["provider_start"]
    n_reps = max(1, patients["replication"].nunique())
    busy = p.groupby(["provider", "date"])["busy"].sum() / n_reps
    rows = []
    for (prov, date), b in busy.items():
        minutes = sum(s.minutes for s in scenario.sessions_on(prov, pd.Timestamp(date).date()))
        rows.append({"provider": prov, "date": date, "utilization": b / minutes if minutes else np.nan})
    return pd.DataFrame(rows)


def room_day_utilization(patients: pd.DataFrame, scenario) -> pd.DataFrame:
    """Mean share of opening hours each exam room is occupied (roomed → room free, turnover included)."""
    p = patients[patients["room"].notna() & patients["roomed"].notna()].copy()
    p["occupied"] = p["room_free"] - p["roomed"]
    n_reps = max(1, patients["replication"].nunique())
    open_min = scenario.clinic.closes - scenario.clinic.opens
    occ = p.groupby(["room", "date"])["occupied"].sum() / n_reps / open_min
    return occ.rename("utilization").reset_index()
