"""Messy real-world history exports: the defects an audit of the import found, one test each."""

from __future__ import annotations

import pandas as pd

from conftest import one_line, run_main
from history_helpers import _key_in_tmp, generic_file  # noqa: F401


def test_pseudonymize_of_a_headerless_export_does_not_print_its_first_row(tmp_path):
    """Without a header row, pandas takes the first appointment as the column names; listing them
    in the "no such column" error printed that patient's raw id."""
    f, _ = generic_file(tmp_path / "h.csv", rows=50)
    lines = f.read_text().splitlines()
    headerless = tmp_path / "export.csv"
    headerless.write_text("\n".join(lines[1:]) + "\n")
    r = run_main("history", "pseudonymize", headerless, "--out", tmp_path / "out.csv")
    line = one_line(r)
    assert "no such column" in line
    first = pd.read_csv(f, dtype=str).iloc[0]
    assert first["patient_id"] not in line and first["appointment_id"] not in line
    # a real header is still listed, to catch a typo in --column
    r = run_main("history", "pseudonymize", f, "--column", "patient", "--out", tmp_path / "out.csv")
    assert "appointment_id, patient_id" in one_line(r)


def _refusal(tmp_path, f) -> str:
    """The one stderr line of an import that must be refused, and the store not created."""
    db = tmp_path / f"refused-{f.suffix[1:]}.duckdb"
    line = one_line(run_main("history", "import", f, "--db", db, "--key-file", tmp_path / "key"))
    assert not db.exists()
    return line


def test_bad_row_is_located_on_its_own_line_after_multiline_cells_and_blank_lines(tmp_path):
    """A quoted cell with line breaks (a free-text note) and a blank line both made every later row's
    reported line number too small: the analyst looked at the wrong appointment."""
    f, frame = generic_file(tmp_path / "h.csv", rows=60)
    frame = frame.astype(str).replace("nan", "")
    frame["note"] = ""
    frame.loc[5, "note"] = "called twice,\nleft a message\nno answer"
    frame.loc[40, "age"] = "-3"
    lines = frame.to_csv(index=False).splitlines()
    lines.insert(20, "")  # a blank line in the middle
    f.write_text("\n".join(lines) + "\n")
    physical = next(i for i, ln in enumerate(f.read_text().splitlines(), 1) if ",-3," in ln)
    assert physical == 40 + 2 + 2 + 1  # header, 2 extra lines of the note, the blank line
    assert _refusal(tmp_path, f).startswith(f"error: {f}:{physical}: negative age -3")


def test_empty_rows_and_repeated_header_rows_are_not_appointments(tmp_path):
    """Excel leaves rows of empty cells (",,,,") below a CSV's data and blank rows in a sheet, and
    paged reports repeat the header: each of these refused the whole import as a bad row."""
    f, frame = generic_file(tmp_path / "h.csv", rows=60)
    text = f.read_text().splitlines()
    header, empty = text[0], "," * (len(frame.columns) - 1)
    f.write_text("\n".join([*text[:31], header, *text[31:], empty, empty]) + "\n")
    db, key = tmp_path / "h.duckdb", tmp_path / "key"
    r = run_main("history", "import", f, "--db", db, "--key-file", key, "--json")
    assert r.code == 0, r.stderr
    assert '"rows_added": 60' in r.stdout

    xlsx = tmp_path / "h.xlsx"
    sheet = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False).iloc[:59]
    sheet = pd.concat(
        [sheet.iloc[:20], pd.DataFrame([[""] * sheet.shape[1]], columns=sheet.columns), sheet.iloc[20:]]
    )
    sheet.loc[sheet.index[45], "age"] = "-4"
    sheet.to_excel(xlsx, index=False)
    assert _refusal(tmp_path, xlsx).startswith(f"error: {xlsx}:47: negative age -4")
