import datetime as dt

import pytest

from clinicflow.exports.common import atomic_output_dir, local_datetime, safe_cell
from clinicflow.spreadsheet import safe_frame


@pytest.mark.parametrize(
    "raw, expected",
    [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"), ("ok", "ok"), (-5, -5)],
)
def test_safe_cell(raw, expected):
    assert safe_cell(raw) == expected


def test_local_datetime_keeps_wall_clock_across_dst():
    # 2026-11-01 is the US fall-back day: 09:00 local is still 09:00, offset -06:00 in Chicago
    d = local_datetime(dt.date(2026, 11, 1), 9 * 60, "America/Chicago")
    assert (d.hour, d.minute) == (9, 0)
    assert d.utcoffset() == dt.timedelta(hours=-6)
    assert local_datetime(dt.date(2026, 10, 31), 9 * 60, "America/Chicago").utcoffset() == dt.timedelta(
        hours=-5
    )


def test_atomic_output_dir_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_output_dir(out) as tmp:
        (tmp / "a.csv").write_text("x")
        raise RuntimeError("boom")
    assert not out.exists() or list(out.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] in (["out"], [])
    with atomic_output_dir(out) as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text("y")
    assert (out / "sub" / "b.txt").read_text() == "y"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_schedule_csv_neutralizes_formulas(tiny, tmp_path):
    import pandas as pd

    from clinicflow.domain.schedule import validate_schedule, write_schedule_csv

    df = validate_schedule(
        pd.DataFrame(
            [
                {
                    "date": "2026-11-30",
                    "provider": "doc",
                    "start": "08:00",
                    "appointment_type": "visit",
                    "kind": "booked",
                    "patient_ref": "P000001",
                }
            ]
        ),
        tiny,
    )
    df["patient_ref"] = '=HYPERLINK("http://x")'  # the reader refuses it; the writer neutralizes it anyway
    p = tmp_path / "s.csv"
    write_schedule_csv(df, p)
    assert "'=HYPERLINK" in p.read_text()
    assert safe_frame(pd.DataFrame({"a": ["-1+1", "ok"], "n": [-1, 2]}))["a"].tolist() == ["'-1+1", "ok"]
