"""``clinicflow validate``: check scenario files and summarize each practice."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from ..domain.capacity import summarize
from ..domain.clock import format_hhmm
from ..errors import InputError
from ..scenario_file import load_scenario
from ._console import stdout_console


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    scenarios: list[Path] = typer.Argument(..., help="Scenario YAML files to check."),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """Validate scenario files and print a short summary of each practice.

    Exits 2 with one line naming the file, the field and what was expected on the first bad file.
    """
    console = stdout_console()
    loaded = []
    for path in scenarios:
        loaded.append((path, load_scenario(path)))  # raises InputError -> one line, exit 2
    if as_json:
        typer.echo(json.dumps([{"file": str(p), **summarize(s).as_dict()} for p, s in loaded], indent=2))
        return
    for path, s in loaded:
        sm = summarize(s)
        console.print(f"[bold green]ok[/] {path}: [bold]{sm.name}[/] ({sm.timezone})")
        console.print(
            f"  {sm.providers} providers, {sm.sessions_per_week} sessions/week, "
            f"{sm.rooms} exam rooms ({sm.procedure_rooms} procedure), {sm.front_desk} front desk, "
            f"{sm.medical_assistants} MAs, {sm.appointment_types} appointment types"
        )
        if sm.staffing_exceptions:
            console.print(f"  staff differs: {'; '.join(sm.staffing_exceptions)}")
        clinic = (
            f"capacity {sm.provider_minutes:,} provider-min/week ({sm.hold_slots} same-day holds); "
            f"demand {sm.demand_visits:,.0f} visits = {sm.demand_min:,.0f} min/week (load {sm.load:.0%})"
            if sm.provider_minutes
            else "no clinic sessions (surgery only)"
        )
        console.print(f"  {clinic}" + (f"; {sm.or_blocks} OR blocks" if sm.or_blocks else ""))
        t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("provider", "role", "sessions", "minutes", "holds", "days", "or_days"):
            t.add_column(col, justify="right" if col in ("sessions", "minutes", "holds") else "left")
        for r in sm.by_provider.itertuples():
            t.add_row(
                r.provider, r.role, str(r.sessions), f"{r.minutes:,}", str(r.holds), r.days, r.or_days or "-"
            )
        console.print(t)
        console.print(
            f"  open {', '.join(sm.days_open)} {format_hhmm(s.clinic.opens)}-{format_hhmm(s.clinic.closes)}"
        )


__all__ = ["InputError", "register", "validate"]
