"""Scheduled visits the staffing cannot serve, said in words before the numbers are read.

A scenario may leave a day or a stretch of it without a medical assistant on purpose (an MA in
training, a half-day), and the simulator then does what the clinic would: patients who need rooming
wait for the next MA shift, or until closing if none comes. The KPIs show it only as long waits and
"unseen at close"; these lines say where it comes from, so a manager does not read a staffing hole as
a scheduling problem.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..domain.clock import format_hhmm
from ..domain.scenario import Scenario


def _ma_minutes(scenario: Scenario, weekday: str) -> np.ndarray:
    """MAs on duty in each minute from midnight to closing (0 after closing: nobody rooms then)."""
    c = scenario.clinic
    out = np.zeros(24 * 60 + 1, dtype=np.int32)
    for a, b, n in scenario.staff.steps("medical_assistants", weekday, c.opens, c.closes):
        out[a:b] = n
    return out


def staffing_gaps(scenario: Scenario, schedule: pd.DataFrame, dates: list[dt.date]) -> list[str]:
    """One line per simulated date whose scheduled visits need MA rooming at minutes with no MA on
    duty: how many, the MA-free stretch, and what happens to those patients."""
    types = scenario.type_by_id
    needs_ma = {t for t, at in types.items() if at.needs_ma}
    if schedule.empty or not needs_ma:
        return []
    wanted = set(dates)
    out = []
    booked = schedule[
        schedule["appointment_type"].isin(needs_ma)
        & schedule["date"].isin(wanted)
        & (schedule["kind"] != "hold")  # a hold is a patient only if a walk-in takes it
    ]
    for date, day in booked.groupby("date", sort=True):
        weekday = str(day["weekday"].iloc[0])
        on = _ma_minutes(scenario, weekday)
        starts = day["start_min"].to_numpy(dtype=int).clip(0, len(on) - 1)
        bare = starts[on[starts] == 0]
        if not len(bare):
            continue
        # minutes from each bare start on which some MA is still to come: none = stuck until close
        ahead = np.maximum.accumulate(on[::-1])[::-1]
        for stuck, fate in (
            (False, "they wait for an MA shift later that day"),
            (True, "no MA comes later, so they wait unseen until close"),
        ):
            group = bare[(ahead[bare] == 0) == stuck]
            if not len(group):
                continue
            first, last = int(group.min()), int(group.max())
            span = format_hhmm(first) if first == last else f"{format_hhmm(first)}-{format_hhmm(last)}"
            out.append(
                f"{date:%A} {date.isoformat()}: {len(group)} scheduled visit(s) at {span} need MA rooming "
                f"while no medical assistant is on duty (staff.by_day, staff.shifts); {fate}"
            )
    return out
