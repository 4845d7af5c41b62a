"""The typed result of the case scheduler: bookings, reasons, room-day risk.

A plan is what every consumer reads (exports, simulation, KPIs, the baseline comparison); it is
plain data with a ``table()`` in the surgery schedule format.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from ..domain.clock import format_hhmm
from ..domain.scenario import Scenario
from ..domain.surgery_schedule import SURGERY_COLUMNS, RoomDay
from .overtime import fw_expected_overtime, fw_overtime_probability, fw_quantile
from .surgery_eligibility import CaseFacts


@dataclass(frozen=True)
class Booking:
    case_id: str
    room_day: RoomDay
    start: int
    end: int
    sequence: int


@dataclass(frozen=True)
class RoomDayRisk:
    """Analytic (Fenton–Wilkinson) risk of one room-day as booked."""

    room_day: RoomDay
    cases: int
    booked_min: int  # planned case minutes
    mean_total: float  # mean busy time (cases + turnovers between them)
    sd_total: float
    quantile_total: float  # at 1 - overtime_target
    p_overtime: float
    expected_overtime: float


@dataclass
class SurgeryPlan:
    status: str
    objective: float
    bound: float
    wall_time: float
    week: tuple[dt.date, dt.date]
    room_days: list[RoomDay]
    bookings: list[Booking]
    unbooked: dict[str, str]
    facts: dict[str, CaseFacts]
    risks: list[RoomDayRisk] = field(default_factory=list)
    delay_proxy: dict[str, float] = field(default_factory=dict)
    #: status of each solve stage: "booking" (priority-weighted cases and utilization) and
    #: "overtime_balance" (the same value kept, expected overtime traded against utilization)
    stages: dict[str, str] = field(default_factory=dict)
    #: the same assignment in the order before sequencing (for measuring what sequencing gains)
    unsequenced: list[Booking] = field(default_factory=list)

    @property
    def booked_ids(self) -> set[str]:
        return {b.case_id for b in self.bookings}

    def table(self, bookings: list[Booking] | None = None) -> pd.DataFrame:
        """The surgery schedule table (``SURGERY_COLUMNS`` plus minute columns) of the plan, or of
        other ``bookings`` of the same cases."""
        rows = []
        for b in sorted(self.bookings if bookings is None else bookings, key=lambda b: (b.room_day, b.start)):
            f = self.facts[b.case_id]
            r = b.room_day
            rows.append(
                {
                    "date": r.date,
                    "facility": r.facility,
                    "room": r.room,
                    "block_start": format_hhmm(r.start),
                    "block_end": format_hhmm(r.end),
                    "block_owner": r.owner or "open",
                    "sequence": b.sequence,
                    "start": format_hhmm(b.start),
                    "end": format_hhmm(b.end),
                    "case_id": b.case_id,
                    "surgeon": f.case.surgeon,
                    "case_type": f.case.case_type,
                    "patient_ref": f.case.patient_ref or "",
                    "priority": f.case.priority,
                    "planned_min": f.planned,
                    "equipment": ";".join(f.needs),
                    "start_min": b.start,
                    "end_min": b.end,
                    "block_start_min": r.start,
                    "block_end_min": r.end,
                }
            )
        cols = [*SURGERY_COLUMNS, "start_min", "end_min", "block_start_min", "block_end_min"]
        return pd.DataFrame(rows, columns=cols)

    def unscheduled_table(self) -> pd.DataFrame:
        rows = []
        for cid, reason in self.unbooked.items():
            c = self.facts[cid].case
            rows.append(
                {
                    "case_id": cid,
                    "surgeon": c.surgeon,
                    "case_type": c.case_type,
                    "priority": c.priority,
                    "auth_status": c.auth_status,
                    "earliest_date": c.earliest_date,
                    "latest_date": c.latest_date,
                    "deadline": c.deadline or "",
                    "reason": reason,
                }
            )
        cols = ["case_id", "surgeon", "case_type", "priority", "auth_status", "earliest_date", "latest_date"]
        return pd.DataFrame(rows, columns=[*cols, "deadline", "reason"])


def room_day_risks(
    scenario: Scenario, room_days: list[RoomDay], bookings: list[Booking], facts: dict[str, CaseFacts]
) -> list[RoomDayRisk]:
    """Fenton–Wilkinson risk of every room-day of the week (empty ones included)."""
    sg = scenario.surgery
    assert sg is not None
    turn = {f.id: f.turnover_min for f in sg.facilities}
    q = 1 - sg.overtime_target
    out = []
    for r in room_days:
        ids = [b.case_id for b in bookings if b.room_day == r]
        n = len(ids)
        t = turn[r.facility]
        mean = sum(facts[c].mean for c in ids) + max(0, n - 1) * t.mean
        var = sum(facts[c].var for c in ids) + max(0, n - 1) * t.sd**2
        out.append(
            RoomDayRisk(
                room_day=r,
                cases=n,
                booked_min=sum(facts[c].planned for c in ids),
                mean_total=mean,
                sd_total=math.sqrt(var),
                quantile_total=fw_quantile(mean, var, q),
                p_overtime=fw_overtime_probability(mean, var, r.minutes),
                expected_overtime=fw_expected_overtime(mean, var, r.minutes),
            )
        )
    return out
