"""``clinicflow history draft``: a first scenario for a practice, drafted from its imported history."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from ..data.names import DEFAULT_DB, MIN_VISITS
from ._console import stdout_console
from ._options import SINCE_OPTION, UNTIL_OPTION, day_option
from .history import history_app

# The store (DuckDB), the fits and the exports are imported in the command, not here: every
# command's start-up imports this module (``clinicflow --help`` among them).


def register(app: typer.Typer) -> None:
    history_app.command("draft")(draft_cmd)


def draft_cmd(
    out: Path = typer.Option(..., "--out", help="Scenario YAML to write."),
    timezone: str = typer.Option(
        ..., "--timezone", help="The clinic's IANA time zone, e.g. America/Chicago."
    ),
    name: str = typer.Option("Our practice", "--name", help="The practice's name."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="The DuckDB history store."),
    rooms: int | None = typer.Option(
        None, "--rooms", min=1, max=500, help="Exam rooms (default: 2 per provider at the busiest time)."
    ),
    front_desk: int | None = typer.Option(
        None, "--front-desk", min=1, max=100, help="Front-desk clerks (default: 1 per 3 providers)."
    ),
    mas: int | None = typer.Option(
        None, "--mas", min=1, max=200, help="Medical assistants (default: 1 per provider)."
    ),
    provider_cost: float | None = typer.Option(
        None, "--provider-cost", min=0, max=10_000, help="Providers' hourly cost (default 100)."
    ),
    min_n: int = typer.Option(MIN_VISITS, "--min-n", min=5, help="Fewest observations to fit a value."),
    as_json: bool = typer.Option(
        False, "--json", help="Print what was inferred, fitted and assumed as JSON."
    ),
    since: str | None = SINCE_OPTION,
    until: str | None = UNTIL_OPTION,
) -> None:
    """Draft a scenario from the history store: providers, their weekly sessions and same-day holds,
    visit types with their booked lengths, weekly demand and the time-of-day windows the history
    shows, then no-show and late-cancel rates, durations and punctuality fitted as calibrate fits them.

    What a history cannot tell (rooms, staff, costs, rooming time) is taken from the options or
    assumed, and listed in the file's header and on the terminal: check it before planning.
    """
    from ..data.starter import check_timezone, draft_scenario  # the fits only when used
    from ..data.store import open_store
    from ..exports.common import atomic_write, check_output_file

    check_timezone(timezone)
    check_output_file(out)  # before the fits, not after them
    con = open_store(db, day_option(since, "--since"), day_option(until, "--until"))
    try:
        draft = draft_scenario(
            con,
            name=name,
            timezone=timezone,
            rooms=rooms,
            front_desk=front_desk,
            mas=mas,
            provider_cost=provider_cost,
            min_n=min_n,
        )
    finally:
        con.close()
    sc = draft.scenario
    text = draft.to_yaml(db.name)
    atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "scenario": str(out),
                    "inferred": draft.inferred,
                    "assumed": draft.assumed,
                    **draft.calibration.as_dict(),
                },
                indent=2,
                default=str,
            )
        )
        return
    console = stdout_console()
    sessions = sum(len(v) for p in sc.providers for v in p.sessions.values())
    console.print(
        f"[bold green]wrote[/] {escape(str(out))}: {len(sc.providers)} providers, {sessions} sessions a week, "
        f"{len(sc.appointment_types)} appointment types; {len(draft.calibration.changes)} values fitted"
    )
    console.print("inferred from the history:")
    for line in draft.inferred:
        console.print(f"  {escape(line)}")
    for line in draft.calibration.notes + draft.calibration.kept:
        console.print(f"  [dim]{escape(line)}[/]")
    console.print("[bold]assumed[/] (the history cannot tell them) — check before planning:")
    for line in draft.assumed:
        console.print(f"  {escape(line)}")
    console.print(f"next: clinicflow validate {escape(str(out))}, then clinicflow plan {escape(str(out))}")
