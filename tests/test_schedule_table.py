"""The schedule table shared by planner, simulator and exports."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from clinicflow import InputError
from clinicflow.domain.schedule import COLUMNS, read_schedule_csv, validate_schedule, write_schedule_csv


def _frame(**over):
    row = {"date": "2026-11-30", "provider": "doc", "start": "08:00", "appointment_type": "visit"}
    row.update(over)
    return pd.DataFrame([row])


def test_defaults_and_normalization(tiny):
    df = validate_schedule(_frame(), tiny)
    r = df.iloc[0]
    assert r["date"] == dt.date(2026, 11, 30) and r["weekday"] == "mon"
    assert (r["start_min"], r["end_min"]) == (480, 500)  # end defaults to start + scheduled length
    assert r["kind"] == "template"


@pytest.mark.parametrize(
    "over, where, message",
    [
        ({"provider": "nobody"}, "row 2, column provider", "unknown provider 'nobody'"),
        ({"appointment_type": "x"}, "row 2, column appointment_type", "unknown appointment type 'x'"),
        ({"date": "30/11/2026"}, "row 2, column date", "expected a date like"),
        ({"start": "8am"}, "row 2, column start", "expected a clock time"),
        ({"end": "07:00"}, "row 2, column end", "expected end after start"),
        ({"kind": "maybe"}, "row 2, column kind", "expected one of template, booked, hold"),
        ({"room": "Z9"}, "row 2, column room", "unknown room 'Z9'"),
        ({"no_show_prob": "1.5"}, "row 2, column no_show_prob", "between 0 and 1"),
        (
            {"date": "2026-12-05"},
            "row 2, column date",
            "the clinic is closed on 2026-12-05 (a sat; open: mon, tue)",
        ),
        ({"start": "24:00"}, "row 2, column start", "expected a time before 24:00, got '24:00'"),
        ({"start": "23:50"}, "row 2, column end", "expected the visit to end by midnight (24:00)"),
    ],
)
def test_bad_rows_name_row_and_column(tiny, over, where, message):
    with pytest.raises(InputError) as info:
        validate_schedule(_frame(**over), tiny, "s.csv")
    assert info.value.where == where
    assert message in info.value.message


def test_csv_round_trip(tiny, tmp_path):
    df = validate_schedule(
        pd.concat([_frame(), _frame(start="08:20", kind="booked", patient_ref="P000001", room="R01")]), tiny
    )
    p = tmp_path / "s.csv"
    write_schedule_csv(df, p)
    assert list(pd.read_csv(p).columns) == [*COLUMNS, "overbooked"]
    again = read_schedule_csv(p, tiny)
    pd.testing.assert_frame_equal(again, df)
