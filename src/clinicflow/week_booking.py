"""Booking more requests into a week that already has its schedule: the coordinator's run between
plans.

``plan`` builds next week and books the requests pending then; requests keep coming (a patient
calls on Tuesday for Thursday) and the week a practice runs may come from the EHR, partly booked.
Re-planning would move the slots already promised to patients, so here the schedule is kept as it
is — template slots, holds, times, rooms and every booked patient — and only the new requests are
booked into what is still open, with the same CP-SAT booking as ``plan`` (urgency, the patient's
own provider, time of day, one visit a patient a day, counting the visits already booked). The
booked week is then simulated, so the coordinator sees what it will do: waits, overtime, and the
sessions most likely to run late.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .domain.scenario import Scenario
from .domain.schedule import write_schedule_csv
from .errors import InputError
from .evaluation import HELDOUT_OFFSET, mean_ci
from .exports.common import atomic_output_dir
from .exports.fhir import write_fhir_bundle
from .exports.ical import write_ics
from .exports.schedule_excel import write_schedule_xlsx
from .sim import simulate
from .sim.result import SimulationResult
from .solver.booking import BookingResult, apply_booking, book_requests
from .spreadsheet import safe_frame
from .week_plan import booking_payload

#: KPIs of the booked week in kpis.json and on the terminal.
KPIS = ("cost", "total_wait_min", "provider_idle_min", "provider_overtime_min", "patients_seen")


@dataclass
class BookedWeek:
    """A week's schedule with more requests booked into it, and the simulated week."""

    scenario: Scenario
    monday: dt.date
    before: pd.DataFrame
    schedule: pd.DataFrame
    requests: list
    booking: BookingResult
    sim: SimulationResult
    seed: int

    def open_rows(self, frame: pd.DataFrame | None = None) -> dict[str, int]:
        f = self.before if frame is None else frame
        return {k: int((f["kind"] == k).sum()) for k in ("template", "hold", "booked")}

    def summary(self) -> dict[str, dict]:
        """``KPIS`` of the simulated booked week: mean and 95% interval (kpis.json, the terminal)."""
        return {k: mean_ci(self.sim.per_replication[k].to_numpy()) for k in KPIS}

    def kpis_payload(self, scenario_file: str, schedule_file: str) -> dict:
        summ = self.summary()
        return {
            "scenario": scenario_file,
            "schedule": schedule_file,
            "week": self.monday.isoformat(),
            "rows_before": self.open_rows(),
            "rows_after": self.open_rows(self.schedule),
            "evaluator": "clinicflow.sim.simulate",
            "seed": self.sim.seed,
            "replications": self.sim.replications,
            "kpis": {"booked_week": summ},
            "booking": booking_payload(self.scenario, self.schedule, self.requests, self.booking),
            "notes": (
                "the schedule file's slots, times, rooms and booked patients are kept; the requests are "
                "booked into its open template slots and (urgent ones) same-day holds; cost = wait_per_min × "
                "patient wait + idle_per_min × provider idle + overtime_per_min × overtime, summed over the "
                "week; 95% t-intervals over replications."
            ),
        }


def schedule_week(schedule: pd.DataFrame, file: str | Path) -> dt.date:
    """The Monday of the one week the schedule covers; a file spanning two weeks is refused (its
    patients' days would be simulated as one week)."""
    if schedule.empty:
        raise InputError(
            file, None, "the schedule has no rows; expected a week's slots (as plan writes them)"
        )
    mondays = sorted({d - dt.timedelta(days=d.weekday()) for d in schedule["date"]})
    if len(mondays) > 1:
        first, last = min(schedule["date"]), max(schedule["date"])
        raise InputError(
            file,
            "column date",
            f"expected the dates of one week (Monday to Sunday), got {first.isoformat()} to {last.isoformat()}",
        )
    return mondays[0]


def book_week(
    scenario: Scenario,
    schedule: pd.DataFrame,
    requests: list,
    *,
    file: str | Path = "schedule",
    time_limit: float = 10.0,
    seed: int = 0,
    replications: int = 30,
    progress=None,
) -> BookedWeek:
    """Book ``requests`` into the open rows of ``schedule`` (a validated schedule table of one week)
    and simulate the booked week ``replications`` times."""
    monday = schedule_week(schedule, file)
    if progress:
        progress("booking", 0, 1)
    booking = book_requests(scenario, schedule, requests, time_limit=time_limit, seed=seed)
    booked = apply_booking(scenario, schedule, requests, booking)
    if progress:
        progress("booking", 1, 1)
        progress("evaluating", 0, 1)
    sim = simulate(
        scenario, booked, replications=replications, seed=seed + HELDOUT_OFFSET
    )  # the plan's evaluation seeds
    if progress:
        progress("evaluating", 1, 1)
    return BookedWeek(scenario, monday, schedule, booked, requests, booking, sim, seed)


def write_booked_outputs(
    week: BookedWeek, out: str | Path, scenario_file: str, schedule_file: str
) -> list[str]:
    """The same files as ``plan`` writes for its week — schedule.csv/.xlsx, ics/, fhir-bundle.json,
    unbooked.csv, kpis.json — and sessions.csv with each provider-session in the simulator; all or
    nothing."""
    sc, schedule = week.scenario, week.schedule
    with atomic_output_dir(out, owned=("ics/*.ics",)) as tmp:
        write_schedule_csv(schedule, tmp / "schedule.csv")
        write_schedule_xlsx(schedule, sc, tmp / "schedule.xlsx")
        write_ics(schedule, sc, tmp / "ics")
        write_fhir_bundle(schedule, sc, tmp / "fhir-bundle.json")
        safe_frame(week.sim.session_table()).to_csv(tmp / "sessions.csv", index=False)
        (tmp / "kpis.json").write_text(json.dumps(week.kpis_payload(scenario_file, schedule_file), indent=2))
        safe_frame(week.booking.unbooked).to_csv(tmp / "unbooked.csv", index=False)
        written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
    return written
