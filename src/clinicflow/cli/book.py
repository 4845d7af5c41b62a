"""``clinicflow book``: more requests into a week whose schedule is already made."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..errors import InputError
from ..scenario_file import load_scenario
from ._console import PLAN_STAGES, print_booking, print_late_sessions, stage_bar, stdout_console
from ._options import OFF_OPTION, day_option, with_off

# The booking (OR-Tools), the simulator, the exports and pandas are imported in the command, not
# here: every command's start-up imports this module (``clinicflow --help`` among them).

STAGES = PLAN_STAGES | {"evaluating": "simulating the booked week"}


def register(app: typer.Typer) -> None:
    app.command("book")(book)


def book(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    schedule: Path = typer.Option(
        ...,
        "--schedule",
        help="The week's schedule CSV (plan's schedule.csv, or the EHR's week in that table).",
    ),
    requests: Path = typer.Option(..., "--requests", help="Pending requests CSV to book into it."),
    out: Path = typer.Option(Path("out/booked"), "--out", help="Output folder."),
    time_limit: float = typer.Option(
        10.0, "--time-limit", min=1.0, max=600.0, help="Seconds for the booking."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed (booking and simulated days)."),
    replications: int = typer.Option(
        30, "--replications", min=2, max=100_000, help="Simulated weeks for kpis.json and sessions.csv."
    ),
    off: list[str] | None = OFF_OPTION,
    today: str | None = typer.Option(
        None,
        "--today",
        help="Run during the week: no request is booked, and no patient rebooked, into a day before this "
        "date (YYYY-MM-DD).",
    ),
    release_holds: int | None = typer.Option(
        None,
        "--release-holds",
        min=0,
        max=6,
        help="With --today: release the open same-day holds of today and the next DAYS days to every "
        "request (0: today's only), not only urgent ones.",
        show_default=False,
    ),
) -> None:
    """Book more pending requests into a week whose schedule is already made, keeping every slot,
    time, room and booked patient of it.

    Requests keep coming after the week is planned; re-planning would move slots already promised
    to patients. The requests take the open template slots (urgent ones also same-day holds) as
    plan books them, and a patient already booked on a day gets no second visit that day. Writes
    the same files as plan (schedule.csv, schedule.xlsx, ics/, fhir-bundle.json, unbooked.csv,
    kpis.json) and sessions.csv with each provider-session in the simulator.

    Sessions not worked any more (time off in the scenario or --off, a closed date) leave the week,
    and their booked patients are rebooked first, with their own provider where possible; whom to
    call with a new time is in rebooked.csv.
    """
    from ..domain.requests import read_requests_csv
    from ..domain.schedule import read_schedule_csv
    from ..exports.common import check_output_dir

    console = stdout_console()
    check_output_dir(out)
    if out.resolve() == schedule.resolve().parent:  # the booked week would replace its own input
        raise InputError(None, "--out", f"{out} holds the schedule file; expected another folder")
    sc = with_off(load_scenario(scenario), off)
    week = read_schedule_csv(schedule, sc)
    reqs = read_requests_csv(requests, sc)
    from ..week_booking import KPIS, book_week, write_booked_outputs

    with stage_bar(console, STAGES) as progress:
        booked = book_week(
            sc,
            week,
            reqs,
            file=schedule,
            time_limit=time_limit,
            seed=seed,
            replications=replications,
            progress=progress,
            today=day_option(today, "--today"),
            release_days=release_holds,
        )
    write_booked_outputs(booked, out, str(scenario), str(schedule))
    before, after = booked.open_rows(), booked.open_rows(booked.schedule)
    console.print(f"[bold]{sc.clinic.name}[/] — week of {booked.monday.isoformat()}, schedule {schedule}")
    console.print(
        f"  before: {before['booked']} booked, {before['template']} open slots, {before['hold']} same-day holds; "
        f"after: {after['booked']} booked, {after['template']} open slots, {after['hold']} same-day holds"
    )
    for line in booked.bump_lines():
        console.print(f"  {line}", markup=False)
    if booked.release_line():
        console.print(f"  {booked.release_line()}", markup=False)
    print_booking(console, sc, booked.schedule, booked.booking, booked.requests)
    summ = booked.summary()
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("booked week", "cost", "wait min", "idle min", "overtime min", "patients seen"):
        t.add_column(col, justify="left" if col == "booked week" else "right")
    cells = []
    for k in KPIS:  # cost, wait, idle, overtime, patients seen
        m, fmt = summ[k], "{:,.1f}" if k == "patients_seen" else "{:,.0f}"
        cells.append(f"{fmt.format(m['mean'])} ± {fmt.format(m['ci_high'] - m['mean'])}")
    t.add_row("simulated", *cells)
    console.print(
        f"expected week ({booked.sim.replications} replications of the booked schedule, mean ± 95% CI):"
    )
    console.print(t)
    print_late_sessions(console, booked.sim.session_table(), "all in sessions.csv")
    console.print(
        f"wrote {out}/: schedule.csv, schedule.xlsx, ics/, fhir-bundle.json, sessions.csv, kpis.json, unbooked.csv"
        + (", rebooked.csv" if len(booked.bumped) else "")
    )
