"""``clinicflow history backtest``: replay recorded days through the simulator and compare."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import InputError
from ..scenario_file import load_scenario
from ._console import stdout_console
from ._options import day_option
from .history import DB_OPTION, history_app

# The replay (the simulator, SciPy), the store (DuckDB) and the exports are imported in the command,
# not here: every command's start-up imports this module (``clinicflow --help`` among them).


def register(app: typer.Typer) -> None:
    history_app.command("backtest")(backtest_cmd)


def _ci(row) -> str:
    if math.isnan(row.difference):
        return "-"
    if math.isnan(row.difference_low):
        return f"{row.difference:+.1f}"
    return f"{row.difference:+.1f} ({row.difference_low:+.1f}..{row.difference_high:+.1f})"


def _print_by_provider(console, by_provider) -> None:
    """Recorded − simulated by provider: where the model is off, when it is."""
    from ..backtest import KPIS, PROVIDER_KPIS

    if by_provider.empty:
        return
    table = Table(
        show_header=True, header_style="bold", title="recorded − simulated, by provider", title_justify="left"
    )
    table.add_column("provider")
    for kpi in PROVIDER_KPIS:
        table.add_column(KPIS[kpi], justify="right")
    for prov, rows in by_provider.groupby("provider", sort=False):
        cells = {r.kpi: _ci(r) for r in rows.itertuples(index=False)}
        table.add_row(escape(str(prov)), *(cells.get(k, "-") for k in PROVIDER_KPIS))
    console.print(table)


def backtest_cmd(
    scenario_file: Path = typer.Argument(..., help="Scenario YAML to test (e.g. the one calibrate wrote)."),
    db: Path = DB_OPTION,
    weeks: int = typer.Option(8, "--weeks", min=1, max=520, help="Replay the last N recorded weeks."),
    first: str | None = typer.Option(
        None, "--from", help="First day to replay (YYYY-MM-DD; replaces --weeks)."
    ),
    last: str | None = typer.Option(None, "--to", help="Last day to replay (YYYY-MM-DD; replaces --weeks)."),
    replications: int = typer.Option(
        100, "--replications", "-n", min=19, max=10_000, help="Simulated replications of each day."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same results)."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=128, help="Local worker processes (default: all cores, at most 8)."
    ),
    arrivals: str = typer.Option(
        "drawn",
        "--arrivals",
        help="drawn: from the scenario's punctuality (tests the whole model); recorded: each visit's "
        "recorded check-in replayed as its arrival (tests the desk, rooming, visits and queues, more sharply).",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write each day's recorded figure, simulated mean, 90% band and PIT to this CSV."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Does the simulator reproduce your clinic? Replay recorded days (the visits booked, who came)
    through it and set each day's recorded waits, visit lengths and session ends against the
    simulated spread: the bias with a 95% CI, and how many days fall inside their 90% band.

    Everything the what-ifs and plans report comes from the simulator; this is how a practice checks
    it against its own timestamps before trusting them. For a test out of sample, calibrate on the
    earlier weeks (calibrate --until DATE) and replay the later ones (--from the next day)."""
    from ..backtest import ARRIVALS, KPIS, pick_days, run_backtest
    from ..data.store import load_appointments, open_store, store_path
    from ..exports.common import atomic_write, check_output_file

    if arrivals not in ARRIVALS:
        raise InputError(None, "--arrivals", f"expected one of {', '.join(ARRIVALS)}, got {arrivals!r}")
    scenario = load_scenario(scenario_file)
    d_first, d_last = day_option(first, "--from"), day_option(last, "--to")
    if d_first and d_last and d_last < d_first:
        raise InputError(None, "--to", f"expected a day on or after --from {d_first.isoformat()}")
    if out is not None:
        check_output_file(out)
    con = open_store(db)
    try:
        history = load_appointments(con)
        source = store_path(con) or str(db)
    finally:
        con.close()
    dates = pick_days(history, scenario, weeks, d_first, d_last)
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    result = run_backtest(
        history,
        scenario,
        dates,
        replications=replications,
        seed=seed,
        workers=workers,
        progress=not as_json,
        source=source,
        arrivals=arrivals,
    )
    if out is not None:
        frame = result.days.copy()
        frame["date"] = frame["date"].map(lambda d: d.isoformat())
        atomic_write(out, lambda p: frame.round(3).to_csv(p, index=False))
    if as_json:
        typer.echo(json.dumps(result.to_json_dict(), indent=2))
        return
    console = stdout_console()
    skipped = "; ".join(f"{n:,} {why}" for why, n in result.skipped.items())
    console.print(
        f"Replayed {result.n_days} recorded days, {result.first.isoformat()} to {result.last.isoformat()}: "
        f"{result.visits:,} visits as booked and attended"
        + (", arriving as recorded" if result.arrivals == "recorded" else "")
        + f", {result.replications} replications each"
    )
    if skipped:
        console.print(f"left out: {escape(skipped)}")
    table = Table(show_header=True, header_style="bold", title="a day's mean", title_justify="left")
    table.add_column("")
    for name in ("recorded", "simulated", "difference (95% CI)", "in 90% band"):
        table.add_column(name, justify="right")
    table.add_column("verdict")
    for row in result.summary.itertuples(index=False):
        if row.days == 0:
            table.add_row(KPIS[row.kpi], "-", "-", "-", "-", row.verdict)
            continue
        table.add_row(
            KPIS[row.kpi],
            f"{row.recorded:.1f}",
            f"{row.simulated:.1f}",
            _ci(row),
            f"{row.in_band}/{row.days} ({row.expected_share:.0%} exp.)",
            row.verdict,
        )
    console.print(table)
    _print_by_provider(console, result.by_provider)
    if out is not None:
        console.print(f"wrote {escape(str(out))}")
