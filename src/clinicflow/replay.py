"""A practice's own days as a schedule the simulator can run: the bridge from history rows to the
schedule table.

Two things replay the past through the simulator: the synthetic history (its clinic times come from
simulating the days it booked, so a provider never sees two patients at once) and the back-test
(``backtest.py``: does the simulator reproduce what the practice's timestamps say happened?). Both
need the same reading of a history row, so it is written once, here.

A replay is **conditional on attendance**: the history says who came, so a row is a booked slot whose
patient comes for sure (``no_show_prob`` 0) or never (1). That isolates what the simulator adds —
punctuality, the desk, rooming, visit lengths, the queue for the provider — from the no-show model,
which ``history report`` judges on its own (ROC AUC, calibration). Walk-ins and late cancellations
are switched off in the replay's scenario because the history already holds them: a same-day visit
is a row booked on the day, and a late cancellation is a row whose patient did not come. The late
cutoff is switched off too: a patient recorded as seen was seen, however late (one a practice turned
away is in its history as a no-show or a cancellation, and is not replayed).

It stands on ``domain`` only, so that ``data`` (which writes the rows) and ``sim`` (which runs them)
stay independent of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .domain.clock import format_hhmm, weekday_of
from .domain.scenario import Scenario
from .domain.schedule import ARRIVAL_COLUMN, NORMALIZED_COLUMNS

#: History outcomes a replay keeps: the patient was on the books on the day and came or not. A late
#: cancellation is replayed as nothing (the slot stood empty), an advance cancellation was rebooked.
KEPT = ("attended", "no_show")

#: The simulated instant each history timestamp records, the first of the list the patient has (the
#: simulator's record fields, ``sim/records.py``): an EHR's check-in is when the desk starts checking
#: the patient in, after any queue (a telehealth patient's, who skips the desk, the arrival); roomed is
#: when the MA takes the patient in (the room's instant for a type without rooming); checkout its end
#: (the exit for a type without one). Written once: the synthetic history records the simulation this
#: way and the back-test reads its replications this way, so both sides measure the same instants.
RECORDED_AS = {
    "checkin_at": ("check_in_start", "arrival"),
    "roomed_at": ("rooming_start", "roomed"),
    "provider_start_at": ("provider_start",),
    "provider_end_at": ("provider_end",),
    "checkout_at": ("checkout_end", "exit"),
}


@dataclass(frozen=True)
class Replay:
    """History rows as a schedule.

    ``schedule`` is a normalized schedule frame (sorted by date, provider and start, as the simulator
    numbers its patients), one ``booked`` row per kept history row; ``rows`` holds, for each of its
    rows, the position of the history row it came from; ``skipped`` counts the history rows left out,
    by reason, so a caller can say what was not replayed.
    """

    schedule: pd.DataFrame
    rows: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)


def minutes_of_day(values: pd.Series, dates) -> np.ndarray:
    """History timestamps (the clinic's wall clock) as minutes since midnight of each row's ``dates``
    entry, NaN where not recorded: how a replay and the back-test put recorded instants on the
    simulator's clock."""
    ts = pd.to_datetime(values, errors="coerce").reset_index(drop=True)
    midnight = pd.to_datetime(pd.Series(dates).astype(str))
    return ((ts - midnight).dt.total_seconds() / 60.0).to_numpy(dtype=float)


def replay_scenario(scenario: Scenario) -> Scenario:
    """The scenario a replay runs: no walk-ins and no late cancellations, since the history's rows
    already are the day's same-day visits and say who cancelled late; and nobody turned away for
    coming late, since the history says who was seen."""
    types = [t.model_copy(update={"late_cancel": 0.0}) for t in scenario.appointment_types]
    arrivals = scenario.arrivals.model_copy(
        update={"walk_ins_per_hour": 0.0, "walk_ins_by_hour": {}, "walk_in_mix": {}, "late_cutoff_min": None}
    )
    return scenario.model_copy(update={"appointment_types": types, "arrivals": arrivals})


def history_schedule(history: pd.DataFrame, scenario: Scenario, arrivals: bool = False) -> Replay:
    """Turn history rows into the schedule of their days, conditional on attendance.

    ``history`` has the store's columns ``start_at`` (the clinic's wall-clock time), ``end_at``
    (optional: the booked end; else the type's scheduled length), ``provider``, ``appointment_type``
    and ``status``. Rows that cannot be replayed are counted in ``skipped``, never guessed: a status
    other than attended / no-show, no time of day, a provider or type the scenario does not know (or
    a type the provider does not see), a day the clinic is closed, a visit past midnight.

    ``arrivals``: replay each visit's recorded check-in (``checkin_at``) as its arrival, in the
    frame's ``ARRIVAL_COLUMN``, instead of drawing it from the scenario's punctuality (a visit with
    none is drawn). The check-in comes after any queue at the desk, so the replayed patient meets
    that queue a second time: a bias of the desk's mean queue (0.13 minutes at the family practice).
    """
    n = len(history)
    skipped: dict[str, int] = {}

    def skip(mask: np.ndarray, why: str, alive: np.ndarray) -> np.ndarray:
        hit = mask & alive
        if hit.any():
            skipped[why] = skipped.get(why, 0) + int(hit.sum())
        return alive & ~mask

    status = history["status"].astype(str).to_numpy()
    start = pd.to_datetime(history["start_at"], errors="coerce")
    end = (
        pd.to_datetime(history["end_at"], errors="coerce")
        if "end_at" in history
        else pd.Series(pd.NaT, index=history.index)
    )
    provider = history["provider"].astype("string").fillna("").to_numpy(dtype=object)
    atype = history["appointment_type"].astype("string").fillna("").to_numpy(dtype=object)

    alive = np.ones(n, dtype=bool)
    alive = skip(~np.isin(status, KEPT), "cancelled (in advance or late)", alive)
    alive = skip(start.isna().to_numpy(), "no time of day", alive)
    provs = scenario.provider_by_id
    types = scenario.type_by_id
    alive = skip(~np.isin(provider, list(provs)), "provider not in the scenario", alive)
    sees = np.array(
        [p in provs and t in provs[p].appointment_types for p, t in zip(provider, atype, strict=True)],
        dtype=bool,
    )
    alive = skip(~sees, "type not in the scenario or not seen by its provider", alive)

    idx = np.flatnonzero(alive)
    s = start.iloc[idx]
    dates = s.dt.date.to_numpy()
    open_days = set(scenario.clinic.days_open)
    closed = np.array([weekday_of(d) not in open_days for d in dates], dtype=bool)
    start_min = (s.dt.hour * 60 + s.dt.minute).to_numpy(dtype=int)
    scheduled = np.array([types[t].scheduled_min for t in atype[idx]], dtype=int)
    e = end.iloc[idx]
    same_day = (e.dt.date.to_numpy() == dates) & e.notna().to_numpy()
    end_min = np.where(
        same_day,
        (e.dt.hour * 60 + e.dt.minute).fillna(0).to_numpy(dtype=int),
        start_min + scheduled,
    )
    end_min = np.where(end_min > start_min, end_min, start_min + scheduled)
    past_midnight = end_min > 24 * 60
    keep = ~(closed | past_midnight)
    if closed.any():
        skipped["clinic closed that day"] = skipped.get("clinic closed that day", 0) + int(closed.sum())
    if (past_midnight & ~closed).any():
        skipped["runs past midnight"] = int((past_midnight & ~closed).sum())
    idx, dates, start_min, end_min = idx[keep], dates[keep], start_min[keep], end_min[keep]

    frame = pd.DataFrame(
        {
            "date": dates,
            "weekday": [weekday_of(d) for d in dates],
            "provider": provider[idx].astype(str),
            "start": [format_hhmm(int(m)) for m in start_min],
            "end": [format_hhmm(int(m)) for m in end_min],
            "start_min": start_min,
            "end_min": end_min,
            "appointment_type": atype[idx].astype(str),
            "kind": "booked",
            "patient_ref": None,
            "room": None,
            "no_show_prob": np.where(status[idx] == "attended", 0.0, 1.0),
            "overbooked": False,
        },
        columns=NORMALIZED_COLUMNS,
    )
    if arrivals:
        checkin = pd.to_datetime(history["checkin_at"], errors="coerce") if "checkin_at" in history else None
        if checkin is None:
            frame[ARRIVAL_COLUMN] = np.nan
        else:
            frame[ARRIVAL_COLUMN] = minutes_of_day(checkin.iloc[idx], dates)
    frame["source"] = idx
    frame = frame.sort_values(["date", "provider", "start_min"], kind="stable").reset_index(drop=True)
    rows = frame.pop("source").to_numpy()
    return Replay(schedule=frame, rows=rows, skipped=skipped)
