"""The surgery pipeline: book the week, build the first-come baseline, simulate both with common
random numbers, and write every output file.

This sits above ``solver`` and ``sim`` (it is the only place that uses both); the CLI and the
dashboard call it and hold no logic of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .domain.cases import SurgicalCase
from .domain.clock import format_hhmm
from .domain.scenario import Scenario
from .domain.surgery_schedule import SURGERY_COLUMNS
from .exports.common import atomic_output_dir
from .exports.surgery_files import (
    fhir_bundle,
    schedule_csv,
    schedule_xlsx,
    surgeon_calendars,
    unscheduled_csv,
    write_json,
)
from .sim.or_day import ORSimResult, simulate_or, summarize_or
from .solver.surgery import Progress, SurgeryPlan, solve_surgery
from .solver.surgery_baseline import first_come_first_served


@dataclass
class SurgeryWeek:
    scenario: Scenario
    cases: list[SurgicalCase]
    plan: SurgeryPlan
    baseline: SurgeryPlan
    sim: ORSimResult | None
    baseline_sim: ORSimResult | None
    kpis: dict


def plan_week(
    scenario: Scenario,
    cases: list[SurgicalCase],
    week: dt.date,
    *,
    replications: int = 200,
    seed: int = 0,
    time_limit: float = 20.0,
    workers: int = 2,
    on_progress: Progress | None = None,
) -> SurgeryWeek:
    plan = solve_surgery(
        scenario, cases, week, time_limit=time_limit, workers=workers, seed=seed, on_progress=on_progress
    )
    baseline = first_come_first_served(scenario, cases, week)
    sim = base_sim = None
    if replications > 0:
        if plan.bookings:
            sim = simulate_or(scenario, plan.table(), cases, replications, seed)
        if baseline.bookings:
            base_sim = simulate_or(scenario, baseline.table(), cases, replications, seed)
    kpis = week_kpis(scenario, cases, plan, baseline, sim, base_sim)
    if sim is not None and plan.unsequenced:
        # what sequencing bought, on the same random draws (common random numbers)
        before = summarize_or(simulate_or(scenario, plan.table(plan.unsequenced), cases, replications, seed))
        after = kpis["optimized"]["simulated"]
        kpis["sequencing"]["simulated_mean_start_delay_min_before"] = before["overall"][
            "mean_start_delay_min"
        ]
        kpis["sequencing"]["simulated_mean_start_delay_min_after"] = after["mean_start_delay_min"]
        kpis["sequencing"]["simulated_share_started_15_min_late_before"] = before["overall"][
            "share_of_cases_started_15_min_late"
        ]
        kpis["sequencing"]["simulated_share_started_15_min_late_after"] = after[
            "share_of_cases_started_15_min_late"
        ]
    return SurgeryWeek(scenario, cases, plan, baseline, sim, base_sim, kpis)


def _plan_figures(plan: SurgeryPlan, sim: ORSimResult | None) -> dict:
    booked = [plan.facts[b.case_id] for b in plan.bookings]
    used = [r for r in plan.risks if r.cases]
    block_min = sum(r.room_day.minutes for r in plan.risks)
    out = {
        "cases_booked": len(booked),
        "priority_weighted_booked": sum(f.case.priority for f in booked),
        "booked_case_minutes": sum(f.planned for f in booked),
        "planned_utilization": sum(f.planned for f in booked) / block_min if block_min else 0.0,
        "expected_overtime_min": sum(r.expected_overtime for r in plan.risks),
        "max_room_day_overtime_probability": max((r.p_overtime for r in used), default=0.0),
        "room_days_used": len(used),
    }
    if sim is not None:
        out["simulated"] = summarize_or(sim)["overall"]
    return out


def week_kpis(
    scenario: Scenario,
    cases: list[SurgicalCase],
    plan: SurgeryPlan,
    baseline: SurgeryPlan,
    sim: ORSimResult | None,
    base_sim: ORSimResult | None,
) -> dict:
    assert scenario.surgery is not None
    target = scenario.surgery.overtime_target
    summary = summarize_or(sim) if sim is not None else None
    simulated = {r["room_day"]: r for r in summary["room_days"]} if summary else {}
    room_days = []
    for r in plan.risks:
        row = {
            "room_day": r.room_day.key,
            "date": r.room_day.date.isoformat(),
            "facility": r.room_day.facility,
            "room": r.room_day.room,
            "block": r.room_day.label(),
            "owner": r.room_day.owner or "open",
            "cases": r.cases,
            "booked_case_min": r.booked_min,
            "mean_busy_min": round(r.mean_total, 1),
            "sd_busy_min": round(r.sd_total, 1),
            f"busy_min_at_p{round(100 * (1 - target))}": round(r.quantile_total, 1),
            "block_min": r.room_day.minutes,
            "p_overtime_fenton_wilkinson": round(r.p_overtime, 4),
            "expected_overtime_min": round(r.expected_overtime, 2),
        }
        if r.room_day.key in simulated:
            row["simulated"] = simulated[r.room_day.key]
        room_days.append(row)
    opt, base = _plan_figures(plan, sim), _plan_figures(baseline, base_sim)
    monday, sunday = plan.week
    return {
        "week": {"from": monday.isoformat(), "to": sunday.isoformat()},
        "overtime_target": target,
        "method": {
            "overtime_risk": "Fenton-Wilkinson lognormal approximation of each room-day's total busy time "
            "(cases + turnovers between them); chance constraint P(total > block) <= target",
            "simulation": "SimPy OR day; durations and turnovers by inverse CDF from keyed streams per case "
            "(common random numbers for optimized vs baseline); 95% CIs: t for means, Wilson for proportions",
            "baseline": "first-come-first-served: cases in request order into the first block that fits by mean",
        },
        "solver": {
            "status": plan.status,
            "objective": plan.objective,
            "bound": plan.bound,
            "stages": plan.stages,
            "wall_time_s": round(plan.wall_time, 2),
        },
        "cases": {"total": len(cases), "booked": len(plan.bookings), "not_booked": len(plan.unbooked)},
        "optimized": opt,
        "baseline_fcfs": base,
        "comparison": {
            "priority_weighted_booked_gain": opt["priority_weighted_booked"]
            - base["priority_weighted_booked"],
            "expected_overtime_reduction_min": base["expected_overtime_min"] - opt["expected_overtime_min"],
            "optimized_books_at_least_as_many_priority_weighted": opt["priority_weighted_booked"]
            >= base["priority_weighted_booked"],
            "optimized_has_lower_expected_overtime": opt["expected_overtime_min"]
            < base["expected_overtime_min"],
        },
        "sequencing": {
            "delay_spread_sum_min_before": round(plan.delay_proxy.get("assignment_order", 0.0), 1),
            "delay_spread_sum_min_after": round(plan.delay_proxy.get("sequenced", 0.0), 1),
            "note": "sum over cases of the sd of everything before them in the room; sequencing minimizes it",
        },
        "room_days": room_days,
        "case_start_delays": summary["cases"] if summary else [],
    }


def room_day_frame(kpis: dict) -> pd.DataFrame:
    rows = []
    for r in kpis["room_days"]:
        flat = {k: v for k, v in r.items() if k != "simulated"}
        sim = r.get("simulated")
        if sim:
            flat["sim_p_overtime"] = round(sim["p_overtime"], 4)
            flat["sim_p_overtime_ci"] = "{:.3f}-{:.3f}".format(*sim["p_overtime_ci"])
            flat["sim_overtime_min"] = round(sim["overtime_min"], 2)
            flat["sim_utilization"] = round(sim["utilization"], 3)
            flat["sim_mean_start_delay_min"] = round(sim["mean_start_delay_min"], 2)
        rows.append(flat)
    return pd.DataFrame(rows)


def case_delay_frame(kpis: dict) -> pd.DataFrame:
    rows = []
    for c in kpis.get("case_start_delays", []):
        rows.append(
            {
                "case_id": c["case_id"],
                "room_day": c["room_day"],
                "booked_start": format_hhmm(c["booked_start_min"]),
                "mean_start_delay_min": round(c["mean_start_delay_min"], 1),
                "delay_ci_95": "{:.1f}-{:.1f}".format(*c["mean_start_delay_ci"]),
                "p_started_15_min_late": round(c["p_started_15_min_late"], 3),
            }
        )
    return pd.DataFrame(rows)


def write_outputs(week: SurgeryWeek, out: str | Path) -> list[Path]:
    """Write every output file atomically into ``out``; return their paths."""
    table = week.plan.table()
    unscheduled = week.plan.unscheduled_table()
    names = []
    with atomic_output_dir(out, owned=("surgeon_*.ics",)) as tmp:
        schedule_csv(table, tmp / "surgery_schedule.csv", SURGERY_COLUMNS)
        schedule_xlsx(
            table,
            SURGERY_COLUMNS,
            room_day_frame(week.kpis),
            unscheduled,
            tmp / "surgery_schedule.xlsx",
            case_delay_frame(week.kpis),
        )
        cal_paths = surgeon_calendars(table, week.scenario, tmp)
        write_json(fhir_bundle(table, week.scenario), tmp / "surgery_appointments.fhir.json")
        write_json(week.kpis, tmp / "surgery_kpis.json")
        unscheduled_csv(unscheduled, tmp / "unscheduled.csv")
        names = [
            "surgery_schedule.csv",
            "surgery_schedule.xlsx",
            *[p.name for p in cal_paths],
            "surgery_appointments.fhir.json",
            "surgery_kpis.json",
            "unscheduled.csv",
        ]
    return [Path(out) / n for n in names]
