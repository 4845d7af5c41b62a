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


def test_week_view_draws_booked_solid_open_slots_pale_and_holds_hatched(family):
    """The Schedule page's week view: one trace per type and kind, the kind in the fill's own alpha
    (so the legend's swatch shows it too), holds hatched, a double-booked start's second slot
    outlined."""
    import pandas as pd

    from clinicflow.viz.schedule import week_figure

    rows = [
        ("booked", "follow_up", 540, "P000001"),
        ("template", "follow_up", 560, None),
        ("template", "follow_up", 560, None),  # the same start again: double-booked
        ("hold", "sick_visit", 580, None),
    ]
    sched = pd.DataFrame(
        [
            {"date": pd.Timestamp("2026-11-30").date(), "provider": "dr_okafor", "start": "", "end": "",
             "start_min": m, "end_min": m + 20, "appointment_type": t, "kind": k, "patient_ref": ref,
             "room": "R01", "overbooked": j == 2}
            for j, (k, t, m, ref) in enumerate(rows)
        ]
    )  # fmt: skip
    fig = week_figure(sched, family)
    by_name = {tr.name: tr for tr in fig.data}
    follow = family.type_by_id["follow_up"]
    r, g, b = (int(follow.color[i : i + 2], 16) for i in (1, 3, 5))
    assert by_name[f"{follow.name} (booked)"].marker.color == f"rgba({r},{g},{b},1)"
    assert by_name[f"{follow.name} (template)"].marker.color == f"rgba({r},{g},{b},0.45)"
    hold = by_name[f"{family.type_by_id['sick_visit'].name} (hold)"]
    assert hold.marker.pattern.shape == "/" and hold.marker.color.endswith(",0.6)")
    assert {tr.marker.opacity for tr in fig.data} == {1.0}
    # the double-booked start's second slot is outlined dark, the other slots in white
    open_slots = by_name[f"{follow.name} (template)"]
    assert list(open_slots.marker.line.width) == [1, 2] and list(open_slots.marker.line.color) == [
        "white",
        "#333",
    ]
    assert "double-booked start" in open_slots.hovertext[1] and "double" not in open_slots.hovertext[0]
