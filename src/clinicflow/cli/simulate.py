"""``clinicflow simulate``: run the clinic-day simulation and print KPIs with 95% confidence intervals."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from rich.table import Table

from ..errors import InputError
from ..scenario_file import load_scenario, require_clinic_sessions
from ._console import print_late_sessions, stdout_console
from ._options import named_as_options

# The simulator (SciPy, SimPy), the exports and pandas are imported in the command, not here: every
# command's start-up imports this module (``clinicflow --help`` among them).

#: KPIs shown in the table, with their label and format.
_SHOWN = (
    ("mean_wait_min", "mean wait (min)", "{:.1f}"),
    ("p90_wait_min", "90th pct wait (min)", "{:.1f}"),
    ("mean_time_in_clinic_min", "time in clinic (min)", "{:.1f}"),
    ("provider_idle_min", "provider idle (min)", "{:,.0f}"),
    ("provider_unused_min", "provider unused (min)", "{:,.0f}"),
    ("provider_overtime_min", "provider overtime (min)", "{:,.0f}"),
    ("staff_overtime_min", "staff overtime (person-min)", "{:,.0f}"),
    ("provider_utilization", "provider utilization", "{:.1%}"),
    ("room_utilization", "room utilization", "{:.1%}"),
    ("ma_utilization", "MA utilization", "{:.1%}"),
    ("desk_utilization", "desk utilization", "{:.1%}"),
    ("max_waiting_room", "max in waiting room", "{:.1f}"),
    ("patients_seen", "patients seen", "{:,.1f}"),
    ("no_shows", "no-shows", "{:,.1f}"),
    ("late_cancels", "late cancellations", "{:,.1f}"),
    ("walk_ins", "walk-ins", "{:,.1f}"),
    ("turned_away", "turned away", "{:,.1f}"),
    ("unseen_at_close", "unseen at close", "{:,.1f}"),
    ("cost", "cost (wait+idle+overtime)", "{:,.0f}"),
    ("overtime_pay", "overtime pay ($)", "{:,.0f}"),
)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)


def _fmt(fmt: str, x: float) -> str:
    return "-" if x != x else fmt.format(x)


def simulate_command(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    schedule: Path | None = typer.Option(
        None, "--schedule", help="Schedule CSV (date, provider, start, appointment_type, …)."
    ),
    days: str | None = typer.Option(None, "--days", help="Weekdays (mon,tue) or dates (2026-01-05,…)."),
    replications: int = typer.Option(
        30, "--replications", "-n", min=1, max=100_000, help="Number of replications."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same results)."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=128,
        help="Local worker processes (default: all cores for 20+ replications).",
    ),
    cluster: str | None = typer.Option(
        None, "--cluster", help="Dask scheduler address, e.g. tcp://host:8786."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the KPIs (mean and 95% CI) as JSON."),
    events: Path | None = typer.Option(None, "--events", help="Write the per-patient event log to this CSV."),
    sessions: Path | None = typer.Option(
        None,
        "--sessions",
        help="Write every provider-session's KPIs to this CSV: patients seen, wait, idle, overtime, when "
        "the last visit ends (median, 90th percentile) and how often it ends >15 min late.",
    ),
    engine: str = typer.Option(
        "lean",
        "--engine",
        help="Event loop: lean (default, faster) or simpy (the reference); results are identical.",
    ),
) -> None:
    """Simulate clinic days and report KPIs with 95% confidence intervals.

    Without --schedule the evenly spaced schedule of the scenario's sessions is simulated (reference
    week starting 2026-01-05).
    """
    from ..domain.schedule import read_schedule_csv
    from ..exports.common import atomic_write_files, check_output_file, safe_frame
    from ..sim import simulate

    s = load_scenario(scenario)
    if schedule is None:  # a schedule file may book any provider; without one, sessions make the days
        require_clinic_sessions(s, scenario)
    frame = read_schedule_csv(schedule, s) if schedule is not None else None
    day_list = [d.strip() for d in days.split(",") if d.strip()] if days is not None else None
    if day_list == []:
        raise InputError(
            None, "--days", f"expected weekdays (mon, tue, …) or dates like 2026-01-05, got {days!r}"
        )
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if replications >= 20 and cluster is None else 1
    for out in (events, sessions):
        if out is not None:
            check_output_file(out, create_parents=False)
    progress = sys.stderr.isatty() and replications >= 10
    with named_as_options("days", "engine", "cluster"):
        try:
            result = simulate(
                s,
                frame,
                days=day_list,
                replications=replications,
                seed=seed,
                workers=workers,
                cluster=cluster,
                progress=progress,
                keep_events=events is not None,
                engine=engine,
            )
        except OSError as e:  # a Dask scheduler lost after connecting
            if cluster is None:
                raise
            raise InputError(
                None, "cluster", f"could not reach the Dask scheduler at {cluster} ({e})"
            ) from None
    files = {}
    if events is not None:
        files[events] = lambda p: result.events.to_csv(p, index=False)
    if sessions is not None:
        table = safe_frame(result.session_table())
        files[sessions] = lambda p: table.to_csv(p, index=False)
    if files:
        atomic_write_files(files, create_parents=False)
    if as_json:
        typer.echo(json.dumps(result.to_json_dict(), indent=2))
        return
    _print_report(result, s, events, sessions)
    for line in result.warnings:
        typer.echo(f"warning: {line}", err=True)


def _print_report(result, s, events, sessions) -> None:
    console = stdout_console()
    summ = result.summary()
    dates = sorted(result.day_replications["date"].unique())
    span = dates[0].isoformat() if len(dates) == 1 else f"{dates[0].isoformat()} to {dates[-1].isoformat()}"
    console.print(
        f"[bold]{s.clinic.name}[/]: {len(dates)} day(s) {span}, {result.replications} replications, "
        f"seed {result.seed}"
    )
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("KPI")
    t.add_column("mean", justify="right")
    t.add_column("95% CI", justify="right")
    for key, label, fmt in _SHOWN:
        r = summ.loc[key]
        ci = "-" if r["ci_low"] != r["ci_low"] else f"{_fmt(fmt, r['ci_low'])} – {_fmt(fmt, r['ci_high'])}"
        t.add_row(label, _fmt(fmt, r["mean"]), ci)
    console.print(t)
    bp = result.by_provider()
    if len(bp):
        t = Table(show_header=True, header_style="bold", box=None, pad_edge=False, title_justify="left")
        for col in ("provider", "seen", "mean wait", "idle", "unused", "overtime", "utilization"):
            t.add_column(col, justify="left" if col == "provider" else "right")
        for prov in bp.index.get_level_values(0).unique():
            g = bp.loc[prov]["mean"]
            t.add_row(
                prov,
                _fmt("{:.1f}", g["patients_seen"]),
                _fmt("{:.1f}", g["mean_wait_min"]),
                _fmt("{:,.0f}", g["provider_idle_min"]),
                _fmt("{:,.0f}", g["provider_unused_min"]),
                _fmt("{:,.0f}", g["provider_overtime_min"]),
                _fmt("{:.1%}", g["provider_utilization"]),
            )
        console.print("per provider (means over replications; minutes over the simulated days):")
        console.print(t)
    _print_late_sessions(console, result, sessions)
    if events is not None:
        console.print(f"event log: {events} ({len(result.events):,} events)")


def _print_late_sessions(console, result, sessions) -> None:
    where = (
        f"all {len(result.session_table())} in {sessions}"
        if sessions is not None
        else "all: --sessions FILE.csv"
    )
    print_late_sessions(console, result.session_table(), where, indent="")
