"""``clinicflow history relink``: the practice's own patient ids back into a schedule, for the EHR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from ..errors import InputError
from ..tables import read_text, read_text_csv
from ._console import stdout_console
from .history import _header_shown, history_app

# The pseudonyms (DuckDB), the exports and pandas are imported in the commands that use them, not
# here: every command's start-up imports this module (``clinicflow --help`` among them).
if TYPE_CHECKING:
    from ..exports.relink import Relinked


def register(app: typer.Typer) -> None:
    history_app.command("relink")(relink_cmd)


def relink_cmd(
    file: Path = typer.Argument(
        ...,
        help="A schedule with pseudonymous patient references: a CSV with a patient_ref column "
        "(schedule.csv, surgery_schedule.csv) or a FHIR Bundle (.json: fhir-bundle.json).",
    ),
    ids: Path = typer.Option(
        ...,
        "--ids",
        help="CSV holding the raw patient ids the references were made from (the raw requests export).",
    ),
    out: Path = typer.Option(..., "--out", help="File to write, with the raw ids (it holds PHI)."),
    column: str = typer.Option("patient_id", "--column", help="Column of --ids holding the raw patient ids."),
    rename: str = typer.Option("patient_id", "--as", help="Name of the id column in a CSV output."),
    system: str | None = typer.Option(
        None,
        "--system",
        help="The practice's medical-record-number system URI, written as the FHIR identifier system "
        "(an EHR matches on system and value).",
    ),
    key_file: Path | None = typer.Option(None, "--key-file", help="The key the references were made with."),
) -> None:
    """Put the practice's own patient ids back into a schedule clinicflow wrote, for the EHR.

    clinicflow books, simulates and exports under keyed pseudonyms (``p_…``); an EHR files a booked
    Appointment under a patient it knows by record number. A pseudonym cannot be reversed, but
    pseudonymizing the raw ids of --ids again with the same key rebuilds the table from pseudonym
    to id. Every booked patient must be found in --ids, or nothing is written: a Bundle filed half
    under record numbers and half under pseudonyms is worse than none. The output holds PHI: keep
    it where the EHR import reads it, not with the shared schedule."""
    from ..exports.common import atomic_write, check_output_file
    from ..exports.relink import relink_bundle, relink_table
    from ..spreadsheet import safe_text_frame

    if out.resolve() in (file.resolve(), ids.resolve()):
        raise InputError(None, "--out", f"{out} is an input file; expected a new path")
    check_output_file(out)
    table = _id_table(ids, column, key_file)
    if file.suffix.lower() == ".json":
        bundle = _read_bundle(file)
        relinked, result = relink_bundle(bundle, table, system)
        _check(file, ids, column, result, "patient references")
        atomic_write(out, lambda p: p.write_text(json.dumps(relinked, indent=2, ensure_ascii=False) + "\n"))
    else:
        df = read_text_csv(file)
        if "patient_ref" not in df.columns:
            raise InputError(file, "column patient_ref", f"no such column ({_header_shown(df.columns)})")
        if rename != "patient_ref" and rename in df.columns:
            raise InputError(
                None, "--as", f"the file already has a column {rename!r}; expected a new column name"
            )
        relinked, result = relink_table(df, "patient_ref", table, rename)
        _check(file, ids, column, result, "rows with a patient")
        atomic_write(out, lambda p: safe_text_frame(relinked).to_csv(p, index=False))
    stdout_console().print(
        f"wrote {escape(str(out))}: {result.replaced:,} patient references replaced by the ids of "
        f"{escape(str(ids))} ({result.patients:,} patients)"
    )


def _id_table(ids: Path, column: str, key_file: Path | None) -> dict[str, str]:
    from ..data.pseudonym import Pseudonymizer, read_or_draft_key

    df = read_text_csv(ids)
    if column not in df.columns:
        raise InputError(ids, f"column {column}", f"no such column ({_header_shown(df.columns)})")
    key, unsaved = read_or_draft_key(key_file)
    if unsaved is not None:  # a new key would match nothing: say so instead of leaving one behind
        raise InputError(
            unsaved, None, "no key file here; expected the key the references were made with (--key-file)"
        )
    return Pseudonymizer(key).patient_table(df[column])


def _read_bundle(file: Path) -> dict:
    try:
        bundle = json.loads(read_text(file))
    except json.JSONDecodeError as e:
        raise InputError(file, None, f"not JSON ({e.msg})", line=e.lineno) from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InputError(file, "resourceType", "expected a FHIR Bundle (as plan and surgery write)")
    return bundle


def _check(file: Path, ids: Path, column: str, result: Relinked, what: str) -> None:
    """Refuse a partial relink, in words that say what to check (never which reference: even a
    pseudonym is not printed)."""
    if result.missing:
        total = result.missing + result.replaced
        raise InputError(
            file,
            None,
            f"{result.missing:,} of {total:,} {what} are not pseudonyms of any id in {ids}'s column "
            f"{column} (expected the raw file the references were made from, and the same key)",
        )
