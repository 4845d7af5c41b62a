"""``clinicflow history``: import appointment history, report on it, fit models, make synthetic files.

Thin: every number comes from :mod:`clinicflow.data`. Output is counts, rates and fits only —
never a patient identifier.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..data.names import DEFAULT_DB, FORMATS, LAYOUTS, MIN_VISITS
from ..domain.clock import parse_date
from ..errors import InputError
from ..scenario_file import load_scenario
from ._console import stdout_console
from ._options import SINCE_OPTION, UNTIL_OPTION, clinic_next_monday, day_option, week_monday

# The store (DuckDB), the fits (SciPy, scikit-learn), the synthetic history and the exports are
# imported in the commands that use them, not here: every command's start-up imports this module
# (``clinicflow --help`` among them).

history_app = typer.Typer(
    name="history",
    help="Import appointment history (CSV, Excel, Parquet, FHIR, the public no-show layout) and analyse no-shows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(history_app, name="history")


DB_OPTION = typer.Option(Path(DEFAULT_DB), "--db", help="The DuckDB history store.")


@history_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="History file: .csv, .xlsx, .parquet, or a FHIR Bundle .json."),
    fmt: str = typer.Option("auto", "--format", help=f"One of: {', '.join(FORMATS)}."),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="Column-mapping YAML (see scenarios/history-mapping.example.yaml)."
    ),
    db: Path = DB_OPTION,
    key_file: Path | None = typer.Option(
        None,
        "--key-file",
        help="Pseudonymization key (default $CLINICFLOW_KEY_FILE or ~/.config/clinicflow/key; created once).",
    ),
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="Load the good rows; quarantine the bad ones with their reason."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the import summary as JSON."),
    timezone: str | None = typer.Option(
        None,
        "--timezone",
        help="The clinic's IANA zone (e.g. America/New_York): times with an offset (Z, -05:00) become "
        "its wall-clock times. Needed for times marked UTC.",
    ),
) -> None:
    """Load a history file into the store, whole or not at all; a re-import adds nothing."""
    from ..data.mapping import check_zone, load_mapping
    from ..data.store import import_history

    if fmt not in FORMATS:
        raise InputError(None, "--format", f"expected one of: {', '.join(FORMATS)}, got {fmt!r}")
    if timezone is not None:
        try:
            check_zone(timezone)
        except ValueError as e:
            raise InputError(None, "--timezone", str(e)) from None
    m = load_mapping(mapping) if mapping is not None else None
    err = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("reading", total=None)
        result = import_history(
            file,
            db,
            fmt,
            m,
            key_file,
            skip_bad_rows,
            on_stage=lambda s: progress.update(task, description=f"{s} {file.name}"),
            timezone=timezone,
        )
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    out = stdout_console()
    if result.already_imported:
        out.print(
            f"[bold]{escape(file.name)}[/]: already imported (import #{result.import_id}); 0 rows added"
        )
        return
    out.print(
        f"[bold green]imported[/] {escape(file.name)} ({result.format}) as import #{result.import_id}: "
        f"{result.rows_read:,} rows read, {result.rows_added:,} added, {result.rows_updated:,} updated, "
        f"{result.rows_unchanged:,} unchanged"
        + (f", {result.duplicates_in_file:,} repeated in the file" if result.duplicates_in_file else "")
    )
    if result.rows_kept_fuller:
        out.print(
            f"[yellow]{result.rows_kept_fuller:,} rows kept as stored[/]: they change a stored appointment "
            "but record fewer of its visit times (an older export, or a layout without them)"
        )
    if result.rows_merged:  # field names and a count only: no row content
        out.print(
            f"{result.rows_merged:,} updated rows keep their stored {', '.join(result.fields_kept)}: "
            "the file has no column for them"
        )
    if result.rows_quarantined:
        out.print(f"[yellow]{result.rows_quarantined:,} bad rows quarantined[/] (table 'quarantine'):")
        for reason, count in result.bad_reasons.items():
            out.print(f"  {count:>6,}  {escape(reason)}")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _print_report(report: dict) -> None:
    out = stdout_console()
    v, o = report["volume"], report["overall"]
    cancels = v["records_cancellations"]
    out.print(
        f"[bold]{v['appointments']:,} appointments[/] of {v['patients']:,} patients, "
        f"{v['first_date']} to {v['last_date']} ({v['days']} days, {v['imports']} imports, "
        f"{v['quarantined_rows']} quarantined rows)"
    )
    if cancels:
        out.print(
            f"no-show rate [bold]{_pct(o['no_show_rate'])}[/], late-cancel rate {_pct(o['late_cancel_rate'])} "
            f"(of {o['booked']:,} kept on the books; {o['cancelled']:,} cancelled in advance)"
        )
    else:
        out.print(
            f"no-show rate [bold]{_pct(o['no_show_rate'])}[/] (of {o['booked']:,}; "
            "the data records no cancellations, so no late-cancel rate)"
        )
    for name, rows in report["by"].items():
        if all(r[name] == "unknown" for r in rows):
            out.print(f"[dim]by {name}: not in the data[/]")
            continue
        t = Table(title=f"by {name}", title_justify="left", box=None, header_style="bold", pad_edge=False)
        cols = (name, "booked", "no-shows", "rate") + (("late cancels", "rate ") if cancels else ())
        for c in cols:
            t.add_column(c, justify="left" if c == name else "right")
        for r in rows:
            cells = [r[name], f"{r['booked']:,}", f"{r['no_shows']:,}", _pct(r["no_show_rate"])]
            if cancels:
                cells += [f"{r['late_cancels']:,}", _pct(r["late_cancel_rate"])]
            t.add_row(*cells)
        out.print(t)


def _print_model(ev: dict) -> None:
    out = stdout_console()
    tst = ev["test"]
    per, rows = ev["periods"], ev["rows"]
    out.print(f"[bold]no-show model[/]: {escape(ev['model'])}")
    out.print(
        f"  train {per['train'][0]}..{per['train'][1]} ({rows['train']:,}), "
        f"calibration {per['calibration'][0]}..{per['calibration'][1]} ({rows['calibration']:,}), "
        f"test {per['test'][0]}..{per['test'][1]} ({rows['test']:,})"
    )
    out.print(
        f"  test ROC AUC {tst['roc_auc']:.3f}; Brier {tst['brier']:.4f} "
        f"(uncalibrated {tst['brier_uncalibrated']:.4f}, base rate {tst['brier_base_rate']:.4f}); "
        f"observed {tst['no_show_rate']:.1%}, mean predicted {tst['mean_predicted']:.1%}"
    )
    out.print("  calibration on the test set, by tenths of predicted probability (ties kept in one bin):")
    t = Table(box=None, header_style="bold")
    for c in ("bin", "n", "predicted", "observed"):
        t.add_column(c, justify="right")
    for r in ev["calibration_table"]:
        t.add_row(str(r["bin"]), f"{r['n']:,}", f"{r['predicted']:.1%}", f"{r['observed']:.1%}")
    out.print(t)


def _print_durations(fits: list[dict]) -> None:
    out = stdout_console()
    if not fits:
        out.print("[dim]durations: no visits with provider start and end timestamps[/]")
        return
    t = Table(
        title="visit durations (provider face time, minutes)",
        title_justify="left",
        box=None,
        header_style="bold",
    )
    for c in ("type", "provider", "n", "mean", "sd", "best", "fit mean", "fit sd", "KS", "ΔAIC"):
        t.add_column(c, justify="left" if c in ("type", "provider", "best") else "right")
    for f in fits:
        best = next(x for x in f["fits"] if x["family"] == f["best"])
        other = min(x["aic"] for x in f["fits"] if x["family"] != f["best"])
        t.add_row(
            f["appointment_type"],
            f["provider"] or "(all)",
            f"{f['n']:,}",
            f"{f['observed']['mean']:.1f}",
            f"{f['observed']['sd']:.1f}",
            f["best"],
            f"{best['mean']:.1f}",
            f"{best['sd']:.1f}",
            f"{best['ks']:.3f}",
            f"{other - best['aic']:.0f}",
        )
    out.print(t)
    excluded = sum(f["excluded"] for f in fits if f["provider"] is None)
    if excluded:
        out.print(
            f"[yellow]{excluded:,} visits left out as clock errors[/] (face time more than 5 robust sds and "
            "10 times from its type's median, e.g. closed a second after opening or left open for hours)"
        )


def _model_and_durations(con, min_n: int) -> dict:
    from ..data.durations import fit_durations
    from ..data.noshow import fit_noshow  # scikit-learn loads only for the commands that fit

    _, evaluation = fit_noshow(con)
    return {"no_show_model": evaluation, "durations": [f.as_dict() for f in fit_durations(con, min_n)]}


@history_app.command("report")
def report_cmd(
    db: Path = DB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    model: bool = typer.Option(
        True, "--model/--no-model", help="Also fit and evaluate the no-show model and durations."
    ),
    min_n: int = typer.Option(MIN_VISITS, "--min-n", min=5, help="Fewest visits for a duration fit."),
    since: str | None = SINCE_OPTION,
    until: str | None = UNTIL_OPTION,
) -> None:
    """Volume, no-show and late-cancel rates overall and by weekday, hour, lead time, age, type,
    provider, reminder and prior no-shows; with the no-show model's evaluation and duration fits."""
    from ..data.report import history_report
    from ..data.store import open_store

    con = open_store(db, day_option(since, "--since"), day_option(until, "--until"))
    try:
        report = history_report(con)
        if model:
            report.update(_model_and_durations(con, min_n))
    finally:
        con.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    _print_report(report)
    if model:
        _print_model(report["no_show_model"])
        _print_durations(report["durations"])


@history_app.command("fit")
def fit_cmd(
    db: Path = DB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the evaluation and fits as JSON."),
    min_n: int = typer.Option(MIN_VISITS, "--min-n", min=5, help="Fewest visits for a duration fit."),
    since: str | None = SINCE_OPTION,
    until: str | None = UNTIL_OPTION,
) -> None:
    """Fit the no-show model (time-based holdout, calibrated) and the visit-duration distributions."""
    from ..data.store import open_store

    con = open_store(db, day_option(since, "--since"), day_option(until, "--until"))
    try:
        result = _model_and_durations(con, min_n)
    finally:
        con.close()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    _print_model(result["no_show_model"])
    _print_durations(result["durations"])


@history_app.command("synthesize")
def synthesize_cmd(
    out: Path = typer.Argument(..., help="File to write (.csv, .xlsx or .parquet)."),
    rows: int = typer.Option(
        5000,
        "--rows",
        min=1,
        max=5_000_000,
        help="Number of appointments. With --scenario a week books rows / weeks visits but at most the "
        "scenario's weekly demand (or 85% of its sessions' slots, if less or without demand rows); more "
        "rows make the history span more weeks than --weeks, and the terminal says how many.",
    ),
    layout: str = typer.Option("generic", "--layout", help=f"One of: {', '.join(LAYOUTS)}."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed."),
    weeks: int = typer.Option(26, "--weeks", min=2, max=520, help="Weeks of history (at least; see --rows)."),
    start: str | None = typer.Option(
        None,
        "--start",
        help="First day (ISO date; default 2025-01-06, or with --requests-out the history's weeks before "
        "--week, so it ends the day before the requests' week).",
    ),
    scenario: Path | None = typer.Option(
        None,
        "--scenario",
        help="Take types, providers, rates and durations from this scenario, and book the visits into "
        "its providers' sessions as its weekly demand and same-day holds say.",
    ),
    requests_out: Path | None = typer.Option(
        None,
        "--requests-out",
        help="Also write pending requests (.csv) of this history's patients, with their raw ids in a "
        "patient_id column (pseudonymize before use); needs --scenario.",
    ),
    week: str | None = typer.Option(
        None,
        "--week",
        help="Monday of the requests' week (default: next Monday in the clinic's timezone); with --requests-out.",
    ),
    n_requests: int | None = typer.Option(
        None, "--requests", min=1, max=100_000, help="Number of requests (default 250); with --requests-out."
    ),
) -> None:
    """Write a synthetic appointment history (no real patient anywhere) for tests and demos.

    With --scenario the history looks like that practice's own export: every provider's visits
    back to back in their sessions on the days they work, at the types' scheduled lengths (a booked
    end_at column), the week's mix of types its weekly demand, the sessions' same-day holds booked
    on the day, so history draft gives the scenario's sessions back. A week books --rows / --weeks
    visits, at most the scenario's weekly demand; more rows span more weeks (said on the terminal).

    With --requests-out, also a week of synthetic pending requests (as plan --requests reads) for
    patients of the history just made, so its no-show scores can be demonstrated end to end:
    history pseudonymize turns the raw patient_id column into the patient_ref pseudonyms and
    calibrate --requests scores them. Both files are written or neither.
    """
    from ..data.synthetic import (
        full_week,
        generate_history,
        history_span,
        patient_requests,
        to_generic,
        to_noshow_kaggle,
        write_history,
    )
    from ..exports.common import atomic_write_files, check_output_file

    if layout not in LAYOUTS:
        raise InputError(None, "--layout", f"expected one of: {', '.join(LAYOUTS)}, got {layout!r}")
    try:
        first = parse_date(start, example="2025-01-06") if start is not None else None
    except ValueError as e:
        raise InputError(None, "--start", str(e)) from None
    if out.suffix.lower() not in (".csv", ".xlsx", ".parquet", ".pq"):
        raise InputError(out, None, "expected a .csv, .xlsx or .parquet file name")
    s = load_scenario(scenario) if scenario is not None else None
    if s is not None and not s.has_clinic_sessions:
        raise InputError(scenario, None, "no provider has a clinic session to book a history into")
    # the weeks the rows take: with a scenario no week books more than a full week of its sessions
    span = history_span(rows, weeks, s, cancellations=layout != "noshow-kaggle")
    monday = None
    if requests_out is None:
        for given, name in ((week, "--week"), (n_requests, "--requests")):
            if given is not None:
                raise InputError(None, name, "goes with --requests-out (the requests file to write)")
    else:
        if scenario is None:
            raise InputError(
                None, "--requests-out", "needs --scenario (the requests' types and providers come from it)"
            )
        if requests_out.suffix.lower() != ".csv":
            raise InputError(requests_out, None, "expected a .csv file name")
        # next Monday by the clinic's own date, as plan's default week: not the machine's
        monday = week_monday(week) if week is not None else clinic_next_monday(s.clinic.tz)
        if first is None:  # the practice's recent past: a patient's last visit is weeks ago, not years
            first = monday - dt.timedelta(weeks=span)
        elif first + dt.timedelta(weeks=span) > monday:
            raise InputError(
                None,
                "--start",
                f"a history of {span} weeks from {first.isoformat()} runs into the requests' week of "
                f"{monday.isoformat()}; expected it to end before (leave --start out to end it the day before)",
            )
        check_output_file(requests_out)
    if first is None:
        first = dt.date(2025, 1, 6)
    check_output_file(out)
    history = generate_history(
        rows, seed=seed, start=first, weeks=weeks, scenario=s, cancellations=layout != "noshow-kaggle"
    )
    flow = None
    if s is not None:  # the clinic times of the booked days, simulated (synthetic_flow.py)
        from ..synthetic_flow import simulate_clinic_times

        history, flow = simulate_clinic_times(history, s, seed)
    frame = to_noshow_kaggle(history) if layout == "noshow-kaggle" else to_generic(history)
    files = {out: lambda p: write_history(frame, p)}
    if requests_out is not None:
        ids = frame["PatientId" if layout == "noshow-kaggle" else "patient_id"]
        reqs = patient_requests(ids, s, monday, n_requests or 250, seed)
        files[requests_out] = lambda p: reqs.to_csv(p, index=False)
    atomic_write_files(files)  # both or neither
    console = stdout_console()
    console.print(f"wrote {len(frame):,} synthetic appointments ({layout} layout) to {escape(str(out))}")
    if span > weeks:
        most, why = full_week(s)
        console.print(
            f"the history spans {span} weeks, not {weeks} (--weeks): {escape(s.clinic.name)} books at "
            f"most {most:,.0f} visits a week ({why})"
        )
    if flow is not None:
        unseen = (
            f", {flow.unseen:,} still waiting at the hard stop (recorded as no-shows)" if flow.unseen else ""
        )
        console.print(f"clinic times simulated over {flow.days:,} days: {flow.seen:,} visits seen{unseen}")
    if requests_out is not None:
        console.print(
            f"wrote {len(reqs):,} synthetic pending requests (week of {monday.isoformat()}, raw "
            f"patient_id column) to {escape(str(requests_out))}"
        )


@history_app.command("pseudonymize")
def pseudonymize_cmd(
    file: Path = typer.Argument(..., help="CSV with a column of raw patient ids (e.g. a schedule export)."),
    out: Path = typer.Option(..., "--out", help="CSV to write, with the ids replaced."),
    column: str = typer.Option("patient_id", "--column", help="Column holding the raw patient ids."),
    rename: str = typer.Option("patient_ref", "--as", help="Name of the pseudonym column in the output."),
    key_file: Path | None = typer.Option(
        None, "--key-file", help="The same key the history was imported with."
    ),
) -> None:
    """Replace raw patient ids in a CSV by the store's pseudonyms (``p_…``), e.g. to give a schedule
    or a requests file the ``patient_ref`` column that ``calibrate --schedule`` / ``--requests``
    scores by patient history. The pseudonym column takes the raw column's place; every other
    column is kept as it was."""
    import pandas as pd

    from ..data.pseudonym import Pseudonymizer, load_or_create_key
    from ..exports.common import atomic_write, check_output_file
    from ..spreadsheet import safe_text_frame
    from ..tables import read_text_csv

    df = read_text_csv(file)
    if column not in df.columns:
        raise InputError(file, f"column {column}", f"no such column ({_header_shown(df.columns)})")
    if rename != column and rename in df.columns:
        raise InputError(
            None, "--as", f"the file already has a column {rename!r}; expected a new column name"
        )
    if out.resolve() == file.resolve():  # the raw ids would be gone for good, with a wrong key too
        raise InputError(
            None,
            "--out",
            f"{out} is the input file; expected another path (delete the raw file once checked)",
        )
    check_output_file(out)
    pseudo = Pseudonymizer(load_or_create_key(key_file))
    raw = df[column]
    refs = pd.Series(pseudo.patients(raw), index=df.index).where(raw.str.strip() != "", "")
    df = df.rename(columns={column: rename})
    df[rename] = refs  # in the raw column's place: a requests file keeps its column order
    # the other columns are kept, but not as formulas: an export's free text may start with "=" or "@"
    atomic_write(out, lambda p: safe_text_frame(df).to_csv(p, index=False))
    stdout_console().print(
        f"wrote {escape(str(out))}: {int((refs != '').sum()):,} ids replaced by pseudonyms"
    )


def _header_shown(columns) -> str:
    """The file's column names for an error message, unless the first line looks like data.

    An export saved without a header row gives its first appointment as the column names:
    listing them would print that patient's record number (a cell with 3+ digits in a row,
    which no column name of a practice's export has, is taken as data; pandas' "Unnamed: 7" is not)."""
    names = [str(c) for c in columns]
    if any(re.search(r"\d{3}", n) for n in names if not n.startswith("Unnamed: ")):
        return "the first line looks like data, not a header row naming the columns; not shown"
    return "columns: " + ", ".join(names)
