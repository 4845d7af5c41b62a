"""Back-test: does the simulator reproduce what the practice's own timestamps say happened?

Every what-if and every plan is judged by the simulator, so the practice should see it reproduce
their clinic before trusting it (Sargent 2013, *J. Simulation* 7, "comparison to real system data";
Law, *Simulation Modeling and Analysis*, 5th ed., §5.6). The back-test replays recorded days
(``replay.py``: the booked visits, who came, walk-ins as the same-day rows they became) through the
simulator ``replications`` times and sets each day's recorded figures against the simulated spread:

* **measured the same way** — one function (``day_kpis``) computes a day's figures from the records
  and from every replication, so a definition cannot drift between the two sides. The wait starts at
  the *check-in* instant the EHR records (after any queue at the desk), not at arrival, because that
  is all the history has;
* **the 90% band** of a day is the 5th to 95th order statistic of its replications, chosen so that a
  new day drawn from the model falls inside with probability ``(k - j) / (m + 1)`` exactly (order
  statistics: 91/101 for 100 replications). Over ``D`` recorded days the share inside has a Wilson
  interval; a share well below the expectation says the days vary more than the model lets them;
* **the bias** is the mean over days of recorded minus simulated mean, with a t interval over days
  (days are independent given the model), so "the simulator's waits are 1.8 minutes short (1.1..2.5)"
  comes with its uncertainty;
* **the verdict** for each figure ("consistent", "simulated too low/high", "days vary more/less than
  simulated") comes from the same two checks made at the Bonferroni level of ``FAMILY_LEVEL``, so a
  right model is called wrong somewhere in about 5% of back-tests (6% measured: the Wilson and t
  intervals are approximate at that level).

Conditioning on attendance keeps the no-show model out (``history report`` judges that one); what is
tested is everything the simulator adds: punctuality, the desk, rooming, visit lengths, the queue for
the provider and when sessions end.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .domain.clock import weekday_of
from .domain.scenario import Scenario
from .errors import InputError
from .replay import RECORDED_AS, Replay, history_schedule, minutes_of_day, replay_scenario
from .sim import simulate
from .stats import mean_ci, wilson

#: The figures compared, with their labels; every one is a per-day figure.
KPIS = {
    "mean_wait_min": "wait for provider, min",
    "mean_time_in_clinic_min": "check-in to out, min",
    "mean_visit_min": "visit length, min",
    "session_end_offset_min": "session end vs planned, min",
    "provider_overtime_min": "overtime, min a day",
    "late_sessions": "sessions >15 min late",
}
#: A session runs late when its last visit ends more than this many minutes after its end (the
#: simulator's ``LATE_AFTER_MIN``).
LATE_AFTER_MIN = 15.0
#: Central share of a day's replications in its band.
BAND = 0.90
#: A model that is right is called wrong in about this share of back-tests: each verdict's two checks
#: (bias, band coverage) over the KPIs are made at the Bonferroni level ``1 - (1 - 0.95) / (2 * 6)``.
#: At 95% each, a perfect model drew some false alarm in about four back-tests in ten.
FAMILY_LEVEL = 0.95
#: How a replay's arrivals are made (``run_backtest``).
ARRIVALS = ("drawn", "recorded")
#: The clinic timestamps a history must have (some of) for a back-test.
NEEDED = ("checkin_at", "provider_start_at", "provider_end_at")
_TIMES = {
    "checkin": "checkin_at",
    "provider_start": "provider_start_at",
    "provider_end": "provider_end_at",
    "checkout": "checkout_at",
}


@dataclass(frozen=True)
class Backtest:
    """The back-test's result.

    ``summary``: one row per KPI — days compared, recorded and simulated means, the bias (recorded −
    simulated) with its 95% interval, how many days fell inside their 90% band against the share
    expected, and a verdict in words (``FAMILY_LEVEL``). ``days``: one row per (date, KPI) —
    the recorded figure, the simulated mean and band, and the PIT (the share of replications below
    the recorded figure, ties counted half).
    """

    summary: pd.DataFrame
    days: pd.DataFrame
    first: dt.date
    last: dt.date
    n_days: int
    visits: int
    replications: int
    seed: int
    arrivals: str = "drawn"
    skipped: dict[str, int] = field(default_factory=dict)
    #: One row per (provider, KPI of ``PROVIDER_KPIS``): the bias over the provider's days.
    by_provider: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_json_dict(self) -> dict:
        def num(x):
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else x

        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "days": self.n_days,
            "visits": self.visits,
            "replications": self.replications,
            "seed": self.seed,
            "arrivals": self.arrivals,
            "skipped": dict(self.skipped),
            "kpis": {
                row["kpi"]: {k: num(v) for k, v in row.items() if k != "kpi"}
                for row in self.summary.to_dict(orient="records")
            },
            "by_provider": [
                {k: num(v) for k, v in row.items()} for row in self.by_provider.to_dict(orient="records")
            ],
        }


def pick_days(
    history: pd.DataFrame,
    scenario: Scenario,
    weeks: int | None = 8,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> list[dt.date]:
    """The recorded clinic days to replay: those with clinic timestamps, between ``first`` and
    ``last`` when given, else the last ``weeks`` weeks of them (the practice as it is now; calibrate
    on the weeks before them for an out-of-sample test)."""
    start = pd.to_datetime(history["start_at"], errors="coerce")
    stamped = pd.to_datetime(history["provider_start_at"], errors="coerce").notna() & start.notna()
    open_days = set(scenario.clinic.days_open)
    dates = sorted({d for d in start[stamped].dt.date if weekday_of(d) in open_days})
    if first is not None:
        dates = [d for d in dates if d >= first]
    if last is not None:
        dates = [d for d in dates if d <= last]
    if first is None and last is None and weeks is not None and dates:
        cutoff = dates[-1] - dt.timedelta(weeks=weeks)
        dates = [d for d in dates if d > cutoff]
    return dates


def _session_index(schedule: pd.DataFrame, scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each schedule row's provider-session (the session its start falls in, else the latest one
    begun, else the first: the simulator's rule), and each session's day and end minute."""
    key_of: dict[tuple, int] = {}
    ends: list[int] = []
    days: list[int] = []
    day_ix = {d: i for i, d in enumerate(sorted(set(schedule["date"])))}
    provs = scenario.provider_by_id
    # a provider with no session that weekday gets one spanning their rows, as the simulator does
    span_of = schedule.groupby(["date", "provider"]).agg(lo=("start_min", "min"), hi=("end_min", "max"))
    out = np.empty(len(schedule), dtype=int)
    worked: dict[tuple, list[tuple[int, int]]] = {}  # (date, provider) -> sessions: once, not per row
    for i, (date, prov, start, _end) in enumerate(
        zip(
            schedule["date"],
            schedule["provider"],
            schedule["start_min"],
            schedule["end_min"],
            strict=True,
        )
    ):
        if (date, prov) not in worked:
            worked[(date, prov)] = [(s.start, s.end) for s in scenario.sessions_on(provs[prov], date)]
        spans = worked[(date, prov)]
        if not spans:
            lo, hi = span_of.loc[(date, prov)]
            spans = [(int(lo), int(hi))]
        pick = next((sp for sp in spans if sp[0] <= start < sp[1]), None)
        if pick is None:
            before = [sp for sp in spans if sp[0] <= start]
            pick = before[-1] if before else spans[0]
        key = (date, prov, pick[0])
        if key not in key_of:
            key_of[key] = len(ends)
            ends.append(pick[1])
            days.append(day_ix[date])
        out[i] = key_of[key]
    return out, np.array(days, dtype=int), np.array(ends, dtype=float)


def _grouped_mean(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Per replication (rows of ``values``), the mean of the non-NaN values of each group; NaN for a
    group with none."""
    r = values.shape[0]
    ok = ~np.isnan(values)
    flat = (np.arange(r)[:, None] * n_groups + group[None, :])[ok]
    total = np.bincount(flat, weights=values[ok], minlength=r * n_groups).reshape(r, n_groups)
    count = np.bincount(flat, minlength=r * n_groups).reshape(r, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def day_kpis(
    times: dict[str, np.ndarray],
    appointment: np.ndarray,
    in_person: np.ndarray,
    day: np.ndarray,
    session: np.ndarray,
    session_day: np.ndarray,
    session_end: np.ndarray,
    n_days: int,
) -> dict[str, np.ndarray]:
    """Each KPI per (replication, day) from visit times of shape (replications, visits): the one
    definition both the records and the simulation go through.

    ``times`` holds ``checkin``, ``provider_start``, ``provider_end`` and ``checkout`` in minutes
    since midnight (NaN = not recorded / did not happen). The wait is ``provider start − max(check-in,
    appointment)``, zero for a patient taken early, over in-person visits with both times; a
    session's end is its last visit's end, over sessions with any visit seen.
    """
    ci, ps, pe, co = (times[k] for k in ("checkin", "provider_start", "provider_end", "checkout"))
    r = ps.shape[0]
    person = in_person[None, :]
    wait = np.where(person, np.maximum(0.0, ps - np.fmax(ci, appointment[None, :])), np.nan)
    wait = np.where(np.isnan(ci) | np.isnan(ps), np.nan, wait)
    in_clinic = np.where(person, co - ci, np.nan)
    visit = pe - ps

    n_sessions = len(session_end)
    last = np.full((r, n_sessions), -np.inf)
    ok = ~np.isnan(pe)
    flat = (np.arange(r)[:, None] * n_sessions + session[None, :])[ok]
    np.maximum.at(last.reshape(-1), flat, pe[ok])
    seen = np.isfinite(last)
    offset = np.where(seen, last - session_end[None, :], np.nan)
    overtime = np.where(seen, np.maximum(0.0, offset), np.nan)
    late = np.where(seen, (offset > LATE_AFTER_MIN).astype(float), np.nan)

    def per_day_sum(x: np.ndarray) -> np.ndarray:
        okx = ~np.isnan(x)
        flat_d = (np.arange(r)[:, None] * n_days + session_day[None, :])[okx]
        total = np.bincount(flat_d, weights=x[okx], minlength=r * n_days).reshape(r, n_days)
        count = np.bincount(flat_d, minlength=r * n_days).reshape(r, n_days)
        return np.where(count > 0, total, np.nan)

    return {
        "mean_wait_min": _grouped_mean(wait, day, n_days),
        "mean_time_in_clinic_min": _grouped_mean(in_clinic, day, n_days),
        "mean_visit_min": _grouped_mean(visit, day, n_days),
        "session_end_offset_min": _grouped_mean(offset, session_day, n_days),
        "provider_overtime_min": per_day_sum(overtime),
        "late_sessions": per_day_sum(late),
    }


def band_ranks(m: int, share: float = BAND) -> tuple[int, int, float]:
    """The order statistics (1-based ``j`` and ``k``) whose interval holds a new draw from the same
    law with probability ``(k − j) / (m + 1)`` (returned third), as close to ``share`` as ``m`` draws
    allow, symmetric."""
    j = max(1, math.floor((1 - share) / 2 * (m + 1)))
    k = m + 1 - j
    return j, k, (k - j) / (m + 1)


def _verdict(lo: float, hi: float, low: float, high: float, expected: float) -> str:
    if not math.isnan(lo) and lo > 0:
        return "simulated too low"
    if not math.isnan(hi) and hi < 0:
        return "simulated too high"
    if not math.isnan(high) and high < expected:
        return "days vary more than simulated"
    if not math.isnan(low) and low > expected:
        return "days vary less than simulated"
    return "consistent"


def compare_days(observed: dict[str, np.ndarray], simulated: dict[str, np.ndarray], dates: list[dt.date]):
    """Set each recorded day against its replications: the per-(date, KPI) table and the summary."""
    day_rows, rows = [], []
    for kpi, label in KPIS.items():
        obs = observed[kpi][0]
        sim = simulated[kpi]
        inside, strictly, diffs, recorded, means = [], [], [], [], []
        expected = math.nan
        for d, date in enumerate(dates):
            o = obs[d]
            x = np.sort(sim[:, d][~np.isnan(sim[:, d])])
            if math.isnan(o) or len(x) < 19:
                continue
            j, k, expected = band_ranks(len(x))
            lo, hi = float(x[j - 1]), float(x[k - 1])
            pit = (np.sum(x < o) + 0.5 * np.sum(x == o)) / len(x)
            hit = lo <= o <= hi
            inside.append(hit)
            strictly.append(lo < o < hi)
            diffs.append(o - float(x.mean()))
            recorded.append(float(o))
            means.append(float(x.mean()))
            day_rows.append(
                {
                    "date": date,
                    "kpi": kpi,
                    "recorded": float(o),
                    "simulated": float(x.mean()),
                    "band_low": lo,
                    "band_high": hi,
                    "pit": float(pit),
                    "in_band": hit,
                }
            )
        n = len(inside)
        level = 1 - (1 - FAMILY_LEVEL) / (2 * len(KPIS))
        # Ties (overtime is often 0, late sessions a small count) put a recorded day on a band's edge:
        # inside counting the edges falls in at least the expected share, strictly inside at most, so
        # too much spread is judged on the first and too little on the second.
        share, _, s_hi = wilson(int(sum(inside)), n, level) if n else (math.nan, math.nan, math.nan)
        _, s_lo, _ = wilson(int(sum(strictly)), n, level) if n else (math.nan, math.nan, math.nan)
        diff = mean_ci(diffs)
        strict = mean_ci(diffs, level)
        rows.append(
            {
                "kpi": kpi,
                "label": label,
                "days": n,
                "recorded": float(np.mean(recorded)) if recorded else math.nan,
                "simulated": float(np.mean(means)) if means else math.nan,
                "difference": diff.mean,
                "difference_low": diff.low,
                "difference_high": diff.high,
                "in_band": int(sum(inside)),
                "in_band_share": share,
                "expected_share": expected,
                "verdict": _verdict(strict.low, strict.high, s_lo, s_hi, expected)
                if n
                else "no days to compare",
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(day_rows)


def _arrays(
    replay: Replay, history: pd.DataFrame, scenario: Scenario
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    sched = replay.schedule
    rows = history.iloc[replay.rows].reset_index(drop=True)
    dates = sched["date"].to_numpy()
    observed = {
        k: minutes_of_day(rows[col], dates)[None, :] if col in rows else None for k, col in _TIMES.items()
    }
    observed = {k: v if v is not None else np.full((1, len(sched)), np.nan) for k, v in observed.items()}
    types = scenario.type_by_id
    layout = {
        "appointment": sched["start_min"].to_numpy(dtype=float),
        "in_person": np.array([types[t].needs_room for t in sched["appointment_type"]], dtype=bool),
    }
    return observed, layout


def run_backtest(
    history: pd.DataFrame,
    scenario: Scenario,
    dates: list[dt.date],
    *,
    replications: int = 100,
    seed: int = 0,
    workers: int = 1,
    progress: bool = False,
    source: str | None = None,
    arrivals: str = "drawn",
) -> Backtest:
    """Replay ``dates`` of ``history`` (the store's rows) ``replications`` times and compare.

    ``arrivals``: ``"drawn"`` from the scenario's punctuality (the whole model is tested), or
    ``"recorded"``: each visit's recorded check-in replayed as its arrival (Law's correlated
    inspection: what remains is the desk, rooming, visit lengths and the queue for the provider,
    with less noise, so smaller biases show)."""
    if arrivals not in ARRIVALS:
        raise InputError(None, "arrivals", f"expected one of {', '.join(ARRIVALS)}, got {arrivals!r}")
    if replications < 19:
        raise InputError(
            None, "replications", f"expected at least 19 (a 90% band needs them), got {replications}"
        )
    missing = [c for c in NEEDED if c not in history.columns or history[c].isna().all()]
    if missing:
        raise InputError(
            source,
            None,
            f"the history records no {', '.join(missing)}: a back-test compares the simulator with "
            "recorded check-in and provider times",
        )
    if not dates:
        raise InputError(source, None, "no recorded clinic day with provider times in the chosen range")
    start = pd.to_datetime(history["start_at"], errors="coerce")
    wanted = set(dates)
    on_days = history[start.dt.date.isin(wanted).to_numpy()].reset_index(drop=True)
    replay = history_schedule(on_days, scenario, arrivals=arrivals == "recorded")
    sched = replay.schedule
    if sched.empty:
        raise InputError(
            source, None, "none of the chosen days' visits can be replayed: " + _why(replay.skipped)
        )
    dates = sorted(set(sched["date"]))
    observed, layout = _arrays(replay, on_days, scenario)
    day_ix = {d: i for i, d in enumerate(dates)}
    day = np.array([day_ix[d] for d in sched["date"]], dtype=int)
    session, session_day, session_end = _session_index(sched, scenario)
    shape = (day, session, session_day, session_end, len(dates))

    rec = day_kpis(observed, layout["appointment"], layout["in_person"], *shape)
    res = simulate(
        replay_scenario(scenario),
        sched,
        days=dates,
        replications=replications,
        seed=seed,
        workers=workers,
        progress=progress,
        keep_patients=True,
    )
    sim_times = _simulated_times(res.patients, sched, replications)
    sim = day_kpis(sim_times, layout["appointment"], layout["in_person"], *shape)
    summary, days = compare_days(rec, sim, dates)
    by_provider = _by_provider(sched, observed, sim_times, layout, session, session_end)
    return Backtest(
        summary=summary,
        days=days,
        first=dates[0],
        last=dates[-1],
        n_days=len(dates),
        visits=len(sched),
        replications=replications,
        seed=seed,
        arrivals=arrivals,
        skipped=dict(replay.skipped),
        by_provider=by_provider,
    )


#: The figures broken down by provider: where the model is off, when it is.
PROVIDER_KPIS = ("mean_wait_min", "mean_visit_min", "session_end_offset_min")


def _by_provider(sched, observed, simulated, layout, session, session_end) -> pd.DataFrame:
    """Each provider's bias (recorded − simulated mean, t interval over the provider's days) for
    ``PROVIDER_KPIS``: the same ``day_kpis`` with provider-days as the groups."""
    group_of: dict[tuple, int] = {}
    keys = list(zip(sched["provider"], sched["date"], strict=True))
    group = np.array([group_of.setdefault(k, len(group_of)) for k in keys], dtype=int)
    session_group = np.zeros(len(session_end), dtype=int)
    session_group[session] = group
    shape = (group, session, session_group, session_end, len(group_of))
    rec = day_kpis(observed, layout["appointment"], layout["in_person"], *shape)
    sim = day_kpis(simulated, layout["appointment"], layout["in_person"], *shape)
    provider_of = np.array([k[0] for k in group_of])
    rows = []
    for prov in dict.fromkeys(sched["provider"]):
        mine = provider_of == prov
        for kpi in PROVIDER_KPIS:
            o = rec[kpi][0, mine]
            x = sim[kpi][:, mine]
            count = (~np.isnan(x)).sum(axis=0)
            m = np.where(count > 0, np.nansum(x, axis=0) / np.maximum(count, 1), np.nan)
            ok = ~np.isnan(o) & ~np.isnan(m)
            ci = mean_ci(o[ok] - m[ok])
            rows.append(
                {
                    "provider": prov,
                    "kpi": kpi,
                    "days": int(ok.sum()),
                    "recorded": float(o[ok].mean()) if ok.any() else math.nan,
                    "simulated": float(m[ok].mean()) if ok.any() else math.nan,
                    "difference": ci.mean,
                    "difference_low": ci.low,
                    "difference_high": ci.high,
                }
            )
    return pd.DataFrame(rows)


def _simulated_times(patients: pd.DataFrame, sched: pd.DataFrame, replications: int) -> dict[str, np.ndarray]:
    """The simulator's per-patient records as (replications, visits) arrays in the schedule's row
    order (the simulator numbers a replication's patients in that order; checked, not assumed)."""
    n = len(sched)
    p = patients[~patients["walk_in"].astype(bool)]
    rep = p["replication"].to_numpy(dtype=int)
    idx = p["patient"].to_numpy(dtype=int)
    if len(p) != replications * n or idx.max(initial=-1) >= n:
        raise RuntimeError("the simulator's patients do not match the replayed schedule")
    appt = np.full((replications, n), np.nan)
    appt[rep, idx] = p["appointment"].to_numpy(dtype=float)
    if not np.allclose(appt, sched["start_min"].to_numpy(dtype=float)[None, :]):
        raise RuntimeError("the simulator's patients are not in the replayed schedule's order")
    out = {}
    for key, column in _TIMES.items():
        fields = RECORDED_AS[column]
        a = np.full((replications, n), np.nan)
        x = p[fields[0]].to_numpy(dtype=float)
        for name in fields[1:]:
            x = np.where(np.isnan(x), p[name].to_numpy(dtype=float), x)
        a[rep, idx] = x
        out[key] = a
    return out


def _why(skipped: dict[str, int]) -> str:
    return "; ".join(f"{n:,} {why}" for why, n in skipped.items()) or "nothing to replay"
