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
