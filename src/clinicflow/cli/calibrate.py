"""``clinicflow calibrate``: write history-fitted no-show probabilities and durations into a scenario,
and per-appointment no-show scores into a schedule and per-patient scores into a requests file."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from ..data.names import DEFAULT_DB, MIN_VISITS
from ..errors import InputError
from ..scenario_file import dump_scenario, load_scenario
from ._console import stdout_console
from ._options import SINCE_OPTION, UNTIL_OPTION, day_option

# The store (DuckDB), the fits and pandas are imported in the command, not here: every command's
# start-up imports this module (``clinicflow --help`` among them).


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)


def calibrate(
    scenario: Path = typer.Argument(..., help="Scenario YAML to start from."),
    db: Path = typer.Option(Path(DEFAULT_DB), "--db", help="The DuckDB history store."),
    out: Path = typer.Option(..., "--out", help="Calibrated scenario YAML to write."),
    schedule: Path | None = typer.Option(
        None, "--schedule", help="Schedule CSV whose booked rows get a no-show score."
    ),
    schedule_out: Path | None = typer.Option(
        None, "--schedule-out", help="Where to write the scored schedule."
    ),
    requests: Path | None = typer.Option(
        None, "--requests", help="Pending-requests CSV (as plan --requests reads) to give no-show scores."
    ),
    requests_out: Path | None = typer.Option(
        None, "--requests-out", help="Where to write the requests with no_show_prob filled."
    ),
    min_n: int = typer.Option(MIN_VISITS, "--min-n", min=5, help="Fewest observations to replace a value."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes (and model evaluation) as JSON."),
    since: str | None = SINCE_OPTION,
    until: str | None = UNTIL_OPTION,
) -> None:
    """Fit no-show and late-cancel probabilities per type and duration distributions per type and
    provider from the history store; write them into a scenario that validates.

    With --schedule, booked rows with a patient_ref get a calibrated per-appointment no-show
    probability in the no_show_prob column (read by simulate and compare --schedule).

    With --requests, every pending request gets its patient's no-show probability in the
    no_show_prob column (plan --requests carries it onto the rows it books, and simulating the
    booked week draws that patient's attendance from it): the model's average over the
    days, hours and providers the request allows and the practice's mix of lead times and
    reminders. The files are written all together or not at all.
    """
    from ..data.calibrate import (  # scikit-learn only when used
        calibrate_scenario,
        known_patients,
        score_requests,
        score_schedule,
    )
    from ..data.noshow import fit_noshow
    from ..data.store import open_store
    from ..domain.requests import read_requests_csv, requests_frame
    from ..domain.schedule import read_schedule_csv, write_schedule_csv
    from ..exports.common import atomic_write_files, check_output_file
    from ..spreadsheet import safe_frame

    for given, partner, pair in (
        (schedule, schedule_out, ("--schedule", "--schedule-out")),
        (requests, requests_out, ("--requests", "--requests-out")),
    ):
        if (given is None) != (partner is None):
            raise InputError(None, pair[1] if given else pair[0], f"give {pair[0]} and {pair[1]} together")
    for path in (out, schedule_out, requests_out):
        if path is not None:
            check_output_file(path)  # before the fits, not after them
    base = load_scenario(scenario)
    reqs = read_requests_csv(requests, base) if requests is not None else None  # before the fits
    d_since, d_until = day_option(since, "--since"), day_option(until, "--until")
    since, until = (d.isoformat() if d else None for d in (d_since, d_until))
    con = open_store(db, d_since, d_until)
    try:
        result = calibrate_scenario(base, con, min_n=min_n)
        scored = scored_requests = evaluation = None
        known: dict[str, tuple[int, int]] = {}  # file -> (patients the store knows, patients)
        if schedule is not None or reqs is not None:
            sched = read_schedule_csv(schedule, result.scenario) if schedule is not None else None
            model, evaluation = fit_noshow(con)
            if sched is not None:
                scored = score_schedule(sched, con, model)
                booked_refs = sched.loc[sched["kind"] == "booked", "patient_ref"].dropna()
                known["schedule"] = (known_patients(con, booked_refs), booked_refs.nunique())
            if reqs is not None:
                scored_requests = score_requests(requests_frame(reqs), result.scenario, con, model)
                refs = [r.patient_ref for r in reqs]
                known["requests"] = (known_patients(con, refs), len(set(refs)))
    finally:
        con.close()
    text = dump_scenario(result.scenario)
    files = {out: lambda p: p.write_text(text, encoding="utf-8")}
    if scored is not None:
        files[schedule_out] = lambda p: write_schedule_csv(scored, p)
    if scored_requests is not None:
        files[requests_out] = lambda p: safe_frame(scored_requests).to_csv(p, index=False)
    atomic_write_files(files)  # all or none
    if as_json:
        payload = {"scenario": str(out), **result.as_dict()}
        if scored is not None:
            payload["schedule"] = {
                "file": str(schedule_out),
                "scored_rows": int(scored["no_show_prob"].notna().sum()),
                "patients_with_history": known["schedule"][0],
                "patients": known["schedule"][1],
            }
        if scored_requests is not None:
            payload["requests"] = {
                "file": str(requests_out),
                "scored_requests": int(scored_requests["no_show_prob"].notna().sum()),
                "patients_with_history": known["requests"][0],
                "patients": known["requests"][1],
            }
        if evaluation is not None:
            payload["no_show_model"] = evaluation
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    console = stdout_console()
    window = " and ".join(f"{w} {d}" for w, d in (("since", since), ("until", until)) if d)
    console.print(
        f"[bold green]wrote[/] {out}: {len(result.changes)} values fitted from {db}"
        + (f" (appointments {window})" if window else "")
    )
    for c in result.changes:
        new = c["new"]
        shown = f"{new['dist']} mean {new['mean']} sd {new['sd']}" if isinstance(new, dict) else f"{new}"
        excluded = f", {c['excluded']:,} left out as clock errors" if c.get("excluded") else ""
        console.print(f"  {escape(c['field'])}: {shown}  (n={c['n']:,}{excluded})")
    for k in result.notes + result.kept:
        console.print(f"  [dim]{escape(k)}[/]")
    auc = f"model test ROC AUC {evaluation['test']['roc_auc']:.3f}" if evaluation is not None else ""
    if scored is not None:
        n = int((scored["kind"] == "booked").sum())
        console.print(
            f"[bold green]wrote[/] {schedule_out}: no_show_prob scored for {n} booked rows "
            f"({_known(known['schedule'])}; {auc})"
        )
    if scored_requests is not None:
        console.print(
            f"[bold green]wrote[/] {requests_out}: no_show_prob scored for {len(scored_requests)} requests "
            f"({_known(known['requests'])}; {auc})"
        )
    for what, (found, total) in known.items():
        if total and not found:
            console.print(
                f"  [yellow]none of the {what} file's patients is in {db}[/]: everyone was scored as a patient "
                "without history. Were its ids pseudonymized with the import's key (clinicflow history "
                "pseudonymize)?"
            )


def _known(counts: tuple[int, int]) -> str:
    found, total = counts
    return f"{found} of {total} patients with history"
