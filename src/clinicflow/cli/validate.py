"""``clinicflow validate``: check scenario files and summarize each practice."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..domain.capacity import summarize
from ..domain.clock import format_hhmm
from ..errors import InputError
from ..scenario_file import load_scenario, read_yaml
from ._console import stdout_console

# What-if variants are loaded in the command, not here: ``clinicflow.whatif`` brings the simulator
# (SciPy), and every command's start-up imports this module (``clinicflow --help`` among them).


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    scenarios: list[Path] = typer.Argument(..., help="Scenario (or what-if variant) YAML files to check."),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """Validate scenario files and print a short summary of each practice.

    A what-if variant file (one with a ``base:`` and no ``clinic:``) is checked with its base: the
    variant's fields, and the scenario it makes.

    Exits 2 with one line naming the file, the field and what was expected on the first bad file.
    """
    console = stdout_console()
    loaded, variants = [], []
    for path in scenarios:
        if _is_variant(path):
            from ..whatif.variants import load_variant

            v, _base, _scen = load_variant(path)  # the variant, its base and their product, validated
            variants.append((path, v))
            continue
        loaded.append((path, load_scenario(path)))  # raises InputError -> one line, exit 2
    if as_json:
        if variants:
            raise InputError(None, "--json", "summarizes scenarios; leave variant files out")
        typer.echo(json.dumps([{"file": str(p), **summarize(s).as_dict()} for p, s in loaded], indent=2))
        return
    for path, v in variants:
        console.print(f"[bold green]ok[/] {path}: variant [bold]{escape(v.name)}[/] (base {v.base})")
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
            + (f"; closed {', '.join(sm.closed_dates)}" if sm.closed_dates else "")
        )
        if sm.time_off:
            console.print(f"  {'; '.join(sm.time_off)}", markup=False)
        if sm.facilities:
            console.print(f"  OR at {', '.join(sm.facilities)}", markup=False)
        for line in sm.idle_exceptions:  # a mistyped date, most often
            console.print(f"  [yellow]note[/]: {escape(line)}")


def _is_variant(path: Path) -> bool:
    """A variant file names its ``base`` and has no ``clinic`` of its own (``docs/whatif.md``)."""
    try:
        data, _ = read_yaml(path)
    except InputError:
        return False  # load_scenario reports it in its own words
    return isinstance(data, dict) and "base" in data and "clinic" not in data


__all__ = ["InputError", "register", "validate"]
