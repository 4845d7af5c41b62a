"""``clinicflow surgery``: book a week of OR cases, simulate it, write the schedule files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from ..domain.clock import parse_date
from ..errors import InputError
from ..scenario_file import load_scenario
from ._console import stdout_console
from ._options import OFF_OPTION, with_off

# The surgery planner (OR-Tools), the case list and the exports are imported in the command, not here:
# every command's start-up imports this module (``clinicflow --help`` among them).


def register(app: typer.Typer) -> None:
    app.command("surgery")(surgery)


def _week(value: str) -> dt.date:
    try:
        return parse_date(value)
    except ValueError as e:
        raise InputError(None, "--week", str(e)) from None


def surgery(
    scenario: Path = typer.Argument(..., help="Scenario YAML with a surgery section."),
    week: str = typer.Option(
        ..., "--week", help="A day of the week to book (the Monday-Sunday week containing it)."
    ),
    cases: Path = typer.Option(..., "--cases", help="Case file (CSV); see docs/surgery.md for the columns."),
    out: Path = typer.Option(Path("surgery-out"), "--out", help="Folder for the output files."),
    replications: int = typer.Option(
        200, "--replications", min=0, max=100_000, help="Simulated replications of the week."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the random streams (and of the solver)."),
    time_limit: float = typer.Option(
        20.0,
        "--time-limit",
        min=1.0,
        help="Solver budget in seconds: a work budget of about that long on 2 cores (same seed, same plan).",
    ),
    off: list[str] | None = OFF_OPTION,
) -> None:
    """Book surgical cases into OR blocks under an overtime-risk limit, sequence each room-day,
    simulate the week and write surgery_schedule.csv/.xlsx, one .ics per surgeon, a FHIR Bundle,
    surgery_kpis.json and unscheduled.csv."""
    from ..domain.cases import read_cases_csv
    from ..exports.common import check_output_dir
    from ..surgery_week import plan_week, write_outputs

    console = stdout_console()
    day = _week(week)
    check_output_dir(out)  # before the solve, not after it
    sc = with_off(load_scenario(scenario), off)  # a surgeon off: their blocks released, cases kept out
    if sc.surgery is None:
        raise InputError(
            scenario, "surgery", "the scenario has no surgery section (facilities, blocks, case types)"
        )
    case_list = read_cases_csv(cases, sc)
    console.print(f"[bold]{sc.clinic.name}[/]: {len(case_list)} cases, week of {day.isoformat()}")

    with console.status("solving …") as status:
        shown: dict[str, float] = {}

        def progress(phase: str, objective: float, bound: float, seconds: float) -> None:
            gap = abs(bound - objective) / max(1.0, abs(bound))
            status.update(f"{phase}: objective {objective / 10:,.0f} (gap {gap:.1%}) at {seconds:.1f}s")
            if not console.is_terminal and seconds - shown.get(phase, -1.0) >= 1.0:  # a line a second
                shown[phase] = seconds
                console.print(f"  {phase}: objective {objective / 10:,.0f}, gap {gap:.1%}, {seconds:.1f}s")

        result = plan_week(
            sc,
            case_list,
            day,
            replications=replications,
            seed=seed,
            time_limit=time_limit,
            on_progress=progress,
        )
        status.update("writing files …")
        paths = write_outputs(result, out)

    k = result.kpis
    stages = k["solver"].get("stages") or {}
    how = (
        f"booking {stages['booking'].lower()}, overtime balance {stages['overtime_balance'].lower()}"
        if stages
        else k["solver"]["status"].lower()
    )
    console.print(
        f"{how} in {k['solver']['wall_time_s']:.1f}s: booked "
        f"{k['cases']['booked']} of {k['cases']['total']} cases; overtime target {k['overtime_target']:.0%}"
    )
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in (
        "block",
        "owner",
        "cases",
        "booked",
        "p(OT) FW",
        "p(OT) sim [95% CI]",
        "OT min",
        "util",
        "delay",
    ):
        t.add_column(col, justify="left" if col in ("block", "owner") else "right")
    for r in k["room_days"]:
        sim = r.get("simulated")
        t.add_row(
            r["block"],
            r["owner"],
            str(r["cases"]),
            f"{r['booked_case_min']}m",
            f"{r['p_overtime_fenton_wilkinson']:.2f}",
            f"{sim['p_overtime']:.2f} [{sim['p_overtime_ci'][0]:.2f}-{sim['p_overtime_ci'][1]:.2f}]"
            if sim
            else "-",
            f"{sim['overtime_min']:.1f}" if sim else f"{r['expected_overtime_min']:.1f}",
            f"{sim['utilization']:.0%}" if sim else "-",
            f"{sim['mean_start_delay_min']:.1f}m" if sim else "-",
        )
    console.print(t)
    o, b = k["optimized"], k["baseline_fcfs"]
    c = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("", "cases", "priority-weighted", "E(overtime) min/week", "sim overtime min/week"):
        c.add_column(col, justify="left" if not col else "right")
    for name, f in (("optimized", o), ("first-come baseline", b)):
        sim = f.get("simulated")
        c.add_row(
            name,
            str(f["cases_booked"]),
            str(f["priority_weighted_booked"]),
            f"{f['expected_overtime_min']:.1f}",
            f"{sim['overtime_min_per_week']:.1f}" if sim else "-",
        )
    console.print(c)
    if result.plan.unbooked:
        console.print(f"not booked ({len(result.plan.unbooked)}):")
        for cid, reason in list(result.plan.unbooked.items())[:12]:
            console.print(f"  {cid}: {reason}", markup=False, soft_wrap=True)
        if len(result.plan.unbooked) > 12:
            console.print(f"  … {len(result.plan.unbooked) - 12} more in unscheduled.csv")
    console.print(f"wrote {len(paths)} files to {out}/")
