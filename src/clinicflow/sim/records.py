"""Flat event records: what the simulation writes and every KPI, chart and export reads.

The SimPy processes only stamp times into one flat row per patient (a list of floats, cheap to write);
after a replication the rows become one numpy array. KPIs (``kpis.py``), the time series and the event
log are all computed from these records, never inside the processes.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

# Times (minutes since midnight of the patient's day); NaN = did not happen.
FIELDS = (
    "arrival",
    "check_in_start",
    "check_in_end",
    "roomed",
    "rooming_start",
    "rooming_end",
    "ready",
    "provider_start",
    "provider_end",
    "room_free",
    "checkout_start",
    "checkout_end",
    "exit",
    # Identity and outcome (stored as floats in the same row).
    "appointment",
    "day",
    "walk_in",
    "type",
    "provider",
    "session",
    "outcome",
    "room",
    "patient",
)
(
    ARRIVAL,
    CHECK_IN_START,
    CHECK_IN_END,
    ROOMED,
    ROOMING_START,
    ROOMING_END,
    READY,
    PROVIDER_START,
    PROVIDER_END,
    ROOM_FREE,
    CHECKOUT_START,
    CHECKOUT_END,
    EXIT,
    APPOINTMENT,
    DAY,
    WALK_IN,
    TYPE,
    PROVIDER,
    SESSION,
    OUTCOME,
    ROOM,
    PATIENT,
) = range(len(FIELDS))
N_FIELDS = len(FIELDS)
BLANK = [float("nan")] * N_FIELDS

#: Outcome codes. Every patient ends in exactly one (conservation).
SEEN, NO_SHOW, LATE_CANCEL, TURNED_AWAY, UNSEEN = 0, 1, 2, 3, 4
OUTCOMES = ("seen", "no_show", "late_cancel", "turned_away", "unseen_at_close")


def new_row(day: int, patient: int, appointment: float, walk_in: bool, type_ix: int, provider: int) -> list:
    row = BLANK.copy()
    row[DAY] = day
    row[PATIENT] = patient
    row[APPOINTMENT] = appointment
    row[WALK_IN] = 1.0 if walk_in else 0.0
    row[TYPE] = type_ix
    row[PROVIDER] = provider
    return row


def patients_frame(records: np.ndarray, plan, replication: int) -> pd.DataFrame:
    """One row per patient (the wide form), with ids and dates instead of indices."""
    df = pd.DataFrame(records[:, :APPOINTMENT], columns=FIELDS[:APPOINTMENT])
    df.insert(0, "replication", replication)
    df.insert(1, "patient", records[:, PATIENT].astype(int))
    day = records[:, DAY].astype(int)
    df.insert(2, "date", [plan.days[d].date for d in day])
    prov = records[:, PROVIDER]
    df.insert(3, "provider", [plan.providers[int(p)] if p >= 0 else "" for p in prov])
    df.insert(4, "appointment_type", [plan.types[int(t)] for t in records[:, TYPE]])
    df.insert(5, "walk_in", records[:, WALK_IN] == 1)
    df.insert(6, "appointment", records[:, APPOINTMENT])
    df["outcome"] = [OUTCOMES[int(o)] for o in records[:, OUTCOME]]
    room = records[:, ROOM]
    df["room"] = [plan.rooms[int(r)] if r == r else "" for r in room]
    return df


# (field, vidigi event_type, event name, resource?) in the order a patient passes them.
_EVENT_STEPS = (
    (ARRIVAL, "arrival_departure", "arrival"),
    (CHECK_IN_START, "queue", "check_in_begins"),
    (CHECK_IN_END, "queue", "check_in_ends"),
    (ROOMED, "resource_use", "roomed"),
    (ROOMING_START, "queue", "rooming_begins"),
    (ROOMING_END, "queue", "rooming_ends"),
    (READY, "queue", "wait_for_provider_begins"),
    (PROVIDER_START, "queue", "provider_begins"),
    (PROVIDER_END, "queue", "provider_ends"),
    (ROOM_FREE, "resource_use_end", "room_free"),
    (CHECKOUT_START, "queue", "checkout_begins"),
    (CHECKOUT_END, "queue", "checkout_ends"),
    (EXIT, "arrival_departure", "depart"),
)


def room_numbers(rooms) -> dict[str, int]:
    """Room name -> 1-based position (vidigi places resource icons by an integer ``resource_id``)."""
    return {r: i + 1 for i, r in enumerate(rooms)}


def event_log(patients: pd.DataFrame, timezone: str, rooms: list[str] | None = None) -> pd.DataFrame:
    """The long event log: one row per patient and event, in the form vidigi reads.

    Columns: ``run`` (replication), ``entity_id`` and ``patient`` (the same number, unique within a run),
    ``pathway`` (appointment type), ``event_type`` (arrival_departure, queue, resource_use,
    resource_use_end), ``event``, ``time`` (minutes since midnight of the first simulated day),
    ``resource_id`` (1-based room number, for resource events) and ``room`` (its name), ``provider``,
    ``date``, ``minute`` (minutes since that day's midnight) and ``timestamp`` (ISO 8601, clinic timezone).
    """
    if patients.empty:
        return pd.DataFrame(
            columns=[
                "run",
                "entity_id",
                "patient",
                "pathway",
                "event_type",
                "event",
                "time",
                "resource_id",
                "room",
                "provider",
                "date",
                "minute",
                "timestamp",
            ]
        )
    numbers = room_numbers(rooms if rooms is not None else sorted({r for r in patients["room"] if r}))
    patients = patients.assign(room_no=patients["room"].map(numbers))
    first = min(patients["date"])
    day_offset = np.array([(d - first).days * 1440 for d in patients["date"]], dtype=float)
    parts = []
    for col, etype, name in _EVENT_STEPS:
        field = FIELDS[col]
        m = patients[field].notna().to_numpy()
        if not m.any():
            continue
        sub = patients.loc[m]
        part = pd.DataFrame(
            {
                "run": sub["replication"].to_numpy(),
                "patient": sub["patient"].to_numpy(),
                "pathway": sub["appointment_type"].to_numpy(),
                "event_type": etype,
                "event": name,
                "time": sub[field].to_numpy() + day_offset[m],
                "resource_id": sub["room_no"].to_numpy() if etype.startswith("resource") else np.nan,
                "room": sub["room"].to_numpy() if etype.startswith("resource") else "",
                "provider": sub["provider"].to_numpy(),
                "date": sub["date"].to_numpy(),
                "minute": sub[field].to_numpy(),
                "order": col,
            }
        )
        parts.append(part)
    log = pd.concat(parts, ignore_index=True)
    log = log.sort_values(["run", "time", "patient", "order"], kind="stable").drop(columns="order")
    log["resource_id"] = log["resource_id"].astype("Int64")
    log.insert(1, "entity_id", log["patient"])
    tz = ZoneInfo(timezone)
    log["timestamp"] = [
        (dt.datetime.combine(d, dt.time(), tzinfo=tz) + dt.timedelta(minutes=float(m))).isoformat(
            timespec="seconds"
        )
        for d, m in zip(log["date"], log["minute"], strict=True)
    ]
    return log.reset_index(drop=True)
