"""The coordinator's pipeline: plan the week, book pending requests, evaluate against the baselines,
and write every output. The CLI and the dashboard both call this and hold no logic of their own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .domain.clock import format_hhmm
from .domain.scenario import Scenario
from .domain.schedule import write_schedule_csv
from .evaluation import plan_kpis
from .exports.common import atomic_output_dir
from .exports.fhir import write_fhir_bundle
from .exports.ical import write_ics
from .exports.schedule_excel import write_schedule_xlsx
from .solver.booking import apply_booking, book_requests, expected_attendance
from .solver.diagnose import explain_empty_week
from .solver.plan import PlanResult, plan_week
from .solver.week import describe_cancellations, provider_sessions, week_cancellations
from .spreadsheet import safe_frame

#: Weeks with more schedule rows than this (the family week has 532, twice it about 1,060) simulate
#: kpis.json's replications in two processes: 10 s on one core at 8x the family practice. The
#: numbers are the same bits on one process or two (``sim.kpi_batch`` sums each replication on its
#: own), so this decides speed only; a small week's evaluation takes seconds on one.
PARALLEL_KPI_ROWS = 1200


@dataclass
class WeekOutcome:
    """A planned (and possibly booked) week with its evaluation."""

    scenario: Scenario
    result: PlanResult
    schedule: pd.DataFrame
    requests: object | None
    booking: object | None
    kpis: object
    settings: dict

    @property
    def not_worked(self) -> list[str]:
        """The week's sessions not worked (closed dates, time off, dated OR blocks), in words."""
        return describe_cancellations(week_cancellations(self.scenario, self.result.monday))

    def kpis_payload(self, scenario_file: str) -> dict:
        r = self.result
        return {
            "scenario": scenario_file,
            "week": r.monday.isoformat(),
            "optimizer": {
                "seed": self.settings["seed"],
                "sampled_days": r.samples,  # fewer than asked on a big week (plan.week_days)
                "grid_min": r.grid,
                "time_limit_s": self.settings["time_limit"],
                "wall_time_s": round(r.wall_time, 2),
                "template_status": r.template.status,
                "coverage": [
                    {k: c[k] for k in ("type", "provider", "weekly", "planned")} for c in r.template.coverage
                ],
                "shortfall": r.shortfall,
                "provider_sessions": len(r.sessions),
                "proven_optimal": r.proven_optimal,
                "not_worked": [
                    {
                        "provider": c.provider,
                        "date": c.date.isoformat(),
                        "start": format_hhmm(c.session.start),
                        "end": format_hhmm(c.session.end),
                        "why": c.why,
                    }
                    for c in week_cancellations(self.scenario, r.monday)
                ],
            },
            **self.kpis.as_dict(),
            **({"booking": self.booking_payload()} if self.booking is not None else {}),
        }

    def booking_payload(self) -> dict:
        return booking_payload(self.scenario, self.schedule, self.requests, self.booking)


def booking_payload(scenario: Scenario, schedule: pd.DataFrame, requests: list, booking) -> dict:
    """The booking's outcome and the booked patients expected to come (kpis.json of plan and book).

    Counts are of the requests file's rows; patients rebooked from sessions not worked (``book``)
    are counted apart, under ``rebooked``."""
    by = booking.by_urgency(requests)
    again = [i for i, r in enumerate(requests) if r.rebook]
    return {
        "status": booking.status,
        "booked": sum(k for k, _ in by.values()),
        "requests": sum(n for _, n in by.values()),
        "by_urgency": {u: {"booked": k, "of": n} for u, (k, n) in by.items()},
        **(
            {"rebooked": {"booked": sum(i in booking.assignments for i in again), "of": len(again)}}
            if again
            else {}
        ),
        "scored_requests": sum(r.no_show_prob is not None for r in requests),
        **expected_attendance(scenario, schedule),
    }


def plan_and_book(
    scenario: Scenario,
    monday: dt.date,
    requests=None,
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    samples: int = 40,
    replications: int = 30,
    evaluator: str = "auto",
    progress: Callable[[str, int, int], None] | None = None,
) -> WeekOutcome:
    """Plan the week starting ``monday``, book ``requests`` (a list from ``read_requests_csv``) into it,
    and evaluate the plan against evenly spaced and Bailey-Welch timing on held-out seeds."""
    result = plan_week(scenario, monday, time_limit=time_limit, seed=seed, samples=samples, progress=progress)
    if result.schedule.empty:  # not one slot or hold to publish: say why, not "nothing to simulate"
        raise explain_empty_week(scenario, provider_sessions(scenario, monday))
    schedule = result.schedule
    booking = None
    if requests is not None:
        if progress:
            progress("booking", 0, 1)
        booking = book_requests(
            scenario, schedule, requests, time_limit=min(20.0, max(2.0, 0.25 * time_limit)), seed=seed
        )
        schedule = apply_booking(scenario, schedule, requests, booking)
        if progress:
            progress("booking", 1, 1)
    if progress:
        progress("evaluating", 0, 1)
    # two processes on a big week: the same numbers, sooner
    workers = 2 if len(result.schedule) > PARALLEL_KPI_ROWS else 1
    kpis = plan_kpis(result, replications=replications, evaluator=evaluator, workers=workers)
    if progress:
        progress("evaluating", 1, 1)
    settings = {"seed": seed, "samples": samples, "time_limit": time_limit}
    return WeekOutcome(scenario, result, schedule, requests, booking, kpis, settings)


#: The simulator's per-session columns kept in sessions.csv, under a ``sim_`` prefix.
SIM_SESSION_COLUMNS = (
    "patients_seen",
    "mean_wait_min",
    "provider_overtime_min",
    "finish_median",
    "finish_p90",
    "late_share",
    "late_ci_low",
    "late_ci_high",
)


def sessions_frame(outcome: WeekOutcome) -> pd.DataFrame:
    """sessions.csv: the solver's report per provider-session (status, gap, expected cost on its
    validation days) beside what the held-out simulation of the plan says of the same session —
    patients seen, wait, overtime, when its last visit ends and how often it ends more than 15
    minutes late. The solver's figures are the model's; the simulator's are the clinic's, with the
    queues for desk, MAs and rooms the model leaves out."""
    solver = pd.DataFrame([s.as_dict() for s in outcome.result.sessions])
    sim = outcome.kpis.sessions
    if sim is None or solver.empty:
        return solver
    sim = sim[["date", "provider", "start", *SIM_SESSION_COLUMNS]].rename(
        columns={c: f"sim_{c}" for c in SIM_SESSION_COLUMNS}
    )
    return solver.merge(sim, on=["date", "provider", "start"], how="left", validate="one_to_one")


def write_outputs(outcome: WeekOutcome, out: str | Path, scenario_file: str) -> list[str]:
    """Write schedule.csv, schedule.xlsx, ics/, fhir-bundle.json, sessions.csv, kpis.json (and
    unbooked.csv) atomically: on any error nothing in ``out`` changes."""
    sc, schedule = outcome.scenario, outcome.schedule
    with atomic_output_dir(out, owned=("ics/*.ics", "unbooked.csv")) as tmp:
        write_schedule_csv(schedule, tmp / "schedule.csv")
        write_schedule_xlsx(schedule, sc, tmp / "schedule.xlsx")
        write_ics(schedule, sc, tmp / "ics")
        write_fhir_bundle(schedule, sc, tmp / "fhir-bundle.json")
        sessions_frame(outcome).to_csv(tmp / "sessions.csv", index=False)
        (tmp / "kpis.json").write_text(json.dumps(outcome.kpis_payload(scenario_file), indent=2))
        if outcome.booking is not None:
            safe_frame(outcome.booking.unbooked).to_csv(tmp / "unbooked.csv", index=False)
        written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
    return written
