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

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .domain.clock import weekday_of
from .domain.requests import NOON, Request
from .domain.scenario import Scenario
from .domain.schedule import rows_not_worked, write_schedule_csv
from .errors import InfeasibleError, InputError
from .evaluation import HELDOUT_OFFSET, mean_ci
from .exports.common import atomic_output_dir
from .exports.fhir import write_fhir_bundle
from .exports.ical import write_ics
from .exports.schedule_excel import write_schedule_xlsx
from .sim import simulate
from .sim.result import SimulationResult
from .solver.booking import BookingResult, apply_booking, book_requests
from .solver.week import describe_cancellations, week_cancellations
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
    #: Booked visits of sessions not worked (closed date, time off, dated OR block) that the week
    #: had when it was made: patient_ref, appointment_type, provider, date, start, why, rebooked_to.
    bumped: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    #: Open rows (template slots, holds) of those sessions, taken out of the week.
    dropped_open: int = 0
    #: ``book --release-holds``: the days whose same-day holds were open to every request (today
    #: through ``release_through``), the holds released, and how many of them requests other than
    #: urgent ones took (rebooked patients among them).
    release_from: dt.date | None = None
    release_through: dt.date | None = None
    holds_released: int = 0
    released_taken: int = 0

    def release_line(self) -> str | None:
        """The terminal's and the dashboard's words on the released holds (counts only)."""
        if self.release_through is None or self.release_from is None:
            return None
        a, b = self.release_from.isoformat(), self.release_through.isoformat()
        return (
            f"released the {self.holds_released} open same-day hold(s) of {a if a == b else f'{a}..{b}'} "
            f"to every request: {self.released_taken} taken by routine or soon requests"
        )

    def requests_booked(self) -> tuple[int, int]:
        """(booked, asked) of the requests file's rows, rebooked patients apart."""
        by = self.booking.by_urgency(self.requests).values()
        return sum(b for b, _ in by), sum(n for _, n in by)

    def bump_lines(self) -> list[str]:
        """The terminal's and the dashboard's words on the visits the practice cancelled (counts
        only: patient references stay in the files)."""
        if self.bumped.empty and not self.dropped_open:
            return []
        b = self.bumped
        whys = "; ".join(sorted(set(b["why"]))) if len(b) else "sessions not worked"
        lines = [
            f"{len(b)} booked visit(s) and {self.dropped_open} open slot(s) fall in sessions not worked ({whys})"
        ]
        if len(b):
            moved = b["rebooked_to"].astype(bool)
            own = int((moved & (b["rebooked_provider"] == b["provider"])).sum())
            left = int((~moved).sum())
            lines.append(
                f"rebooked {int(moved.sum())}/{len(b)} of those patients ({own} with their own provider), "
                + (f"{left} left, reasons in unbooked.csv" if left else "new times in rebooked.csv")
            )
        return lines

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
            "holds_released": None
            if self.release_through is None
            else {
                "from": self.release_from.isoformat() if self.release_from else None,
                "through": self.release_through.isoformat(),
                "released": self.holds_released,
                "taken_by_non_urgent": self.released_taken,
            },
            "not_worked": {
                "booked_visits": len(self.bumped),
                "open_rows": self.dropped_open,
                "rebooked": int((self.bumped["rebooked_to"] != "").sum()) if len(self.bumped) else 0,
            },
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
    today: dt.date | None = None,
    release_days: int | None = None,
) -> BookedWeek:
    """Book ``requests`` into the open rows of ``schedule`` (a validated schedule table of one week)
    and simulate the booked week ``replications`` times.

    With ``today`` (``book --today``: run during the week) the open rows of earlier days are not
    offered to anyone: nobody is booked, or rebooked, into a day gone by. With ``release_days`` as
    well (``--release-holds``), the same-day holds of today and the next ``release_days`` days are
    released to every request their visit fits, not kept for urgent ones only.

    Sessions the scenario now says are not worked (time off or a closure entered after the week was
    made) leave the week; their booked patients are rebooked first (``Request.rebook``: before new
    routine and soon requests, with their own provider where possible, in the same half of a day of
    the week), and those who find no slot are in ``unbooked`` with where their visit was."""
    if release_days is not None and today is None:  # before any work: the option cannot be honoured
        raise InputError(
            None,
            "--release-holds",
            "expected --today as well: holds are released counting from the day booked",
        )
    monday = schedule_week(schedule, file)
    if progress:
        progress("booking", 0, 1)
    why = pd.Series(rows_not_worked(scenario, schedule), index=schedule.index)
    gone = why.notna()
    bumped = schedule[gone & (schedule["kind"] == "booked")]
    kept = schedule[~gone].reset_index(drop=True)
    if kept.empty:  # nothing left to book into or simulate: say why, in the plan's words
        raise InfeasibleError(
            f"no session of the week of {monday.isoformat()} is worked any more: its {len(bumped)} booked "
            "visit(s) need another week",
            describe_cancellations(week_cancellations(scenario, monday)),
        )
    rebook = [
        Request(
            r.patient_ref,
            r.appointment_type,
            r.provider,
            max(monday, today) if today is not None else monday,
            monday + dt.timedelta(days=6),
            "morning" if r.start_min < NOON else "afternoon",
            "routine",
            None if pd.isna(r.no_show_prob) else float(r.no_show_prob),
            rebook=True,
        )
        for r in bumped.itertuples()
    ]
    every = [*requests, *rebook]
    offered = kept if today is None else kept[(kept["kind"] == "booked") | (kept["date"] >= today)]
    through = None if release_days is None else today + dt.timedelta(days=release_days)
    booking = book_requests(
        scenario, offered, every, time_limit=time_limit, seed=seed, release_through=through
    )
    released = offered[(offered["kind"] == "hold") & (offered["date"] <= through)] if through else offered[:0]
    taken = sum(
        1
        for i, r in booking.assignments.items()
        if r in released.index and every[i].urgency != "urgent"  # a rebooked patient is routine
    )
    booked = apply_booking(scenario, kept, every, booking)
    moved = [booking.assignments.get(len(requests) + k) for k in range(len(rebook))]
    bumped_frame = pd.DataFrame(
        {
            "patient_ref": bumped["patient_ref"].to_numpy(),
            "appointment_type": bumped["appointment_type"].to_numpy(),
            "provider": bumped["provider"].to_numpy(),
            "date": bumped["date"].to_numpy(),
            "start": bumped["start"].to_numpy(),
            "why": why[bumped.index].to_numpy(),
            "rebooked_to": [
                "" if m is None else f"{kept.at[m, 'date'].isoformat()} {kept.at[m, 'start']}" for m in moved
            ],
            "rebooked_provider": ["" if m is None else kept.at[m, "provider"] for m in moved],
        }
    )
    booking = _where_bumped(booking, bumped_frame)
    if progress:
        progress("booking", 1, 1)
        progress("evaluating", 0, 1)
    sim = simulate(
        scenario, booked, replications=replications, seed=seed + HELDOUT_OFFSET
    )  # the plan's evaluation seeds
    if progress:
        progress("evaluating", 1, 1)
    dropped_open = int((gone & (schedule["kind"] != "booked")).sum())
    return BookedWeek(
        scenario,
        monday,
        schedule,
        booked,
        every,
        booking,
        sim,
        seed,
        bumped_frame,
        dropped_open,
        today if through else None,
        through,
        len(released),
        taken,
    )


def _where_bumped(booking: BookingResult, bumped: pd.DataFrame) -> BookingResult:
    """unbooked.csv's reason for a rebooked patient left over starts with where the visit was."""
    left = bumped[bumped["rebooked_to"] == ""]
    if left.empty:
        return booking
    un = booking.unbooked.copy()
    rows = un.index[un["urgency"] == "rebook"]  # in request order, as the bumped rows
    un.loc[rows, "reason"] = [
        f"visit {p} {weekday_of(d).capitalize()} {d.isoformat()} {s} cancelled ({w}); rebooking it: {r}"
        for p, d, s, w, r in zip(
            left["provider"], left["date"], left["start"], left["why"], un.loc[rows, "reason"], strict=True
        )
    ]
    return dataclasses.replace(booking, unbooked=un)


def write_booked_outputs(
    week: BookedWeek, out: str | Path, scenario_file: str, schedule_file: str
) -> list[str]:
    """The same files as ``plan`` writes for its week — schedule.csv/.xlsx, ics/, fhir-bundle.json,
    unbooked.csv, kpis.json — and sessions.csv with each provider-session in the simulator; all or
    nothing."""
    sc, schedule = week.scenario, week.schedule
    with atomic_output_dir(out, owned=("ics/*.ics", "rebooked.csv")) as tmp:
        write_schedule_csv(schedule, tmp / "schedule.csv")
        write_schedule_xlsx(schedule, sc, tmp / "schedule.xlsx")
        write_ics(schedule, sc, tmp / "ics")
        write_fhir_bundle(schedule, sc, tmp / "fhir-bundle.json")
        safe_frame(week.sim.session_table()).to_csv(tmp / "sessions.csv", index=False)
        (tmp / "kpis.json").write_text(json.dumps(week.kpis_payload(scenario_file, schedule_file), indent=2))
        safe_frame(week.booking.unbooked).to_csv(tmp / "unbooked.csv", index=False)
        if len(week.bumped):  # whom to call: each cancelled visit and its new time, if any
            safe_frame(week.bumped).to_csv(tmp / "rebooked.csv", index=False)
        written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
    return written
