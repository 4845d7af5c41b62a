"""The Practice page's charts: Vega-Lite specs whose data adds up to the page's own metrics."""

from __future__ import annotations

import pytest

from clinicflow import summarize
from clinicflow.domain import WEEKDAYS
from clinicflow.viz.practice import (
    BREAK_COLOR,
    SESSION_COLOR,
    capacity_demand_chart,
    capacity_demand_frame,
    sessions_frame,
    week_sessions_chart,
)


@pytest.mark.parametrize("fixture", ["family", "ortho"])
def test_sessions_frame_holds_every_session_and_break(fixture, request):
    s = request.getfixturevalue(fixture)
    df = sessions_frame(s)
    sessions = df[df["kind"] == "session"]
    assert len(sessions) == summarize(s).sessions_per_week
    assert len(df[df["kind"] == "break"]) == sum(
        len(x.breaks) for p in s.providers for ss in p.sessions.values() for x in ss
    )
    # working minutes = session spans less breaks, per provider, as the domain model counts them
    span = (df["end_min"] - df["start_min"]).where(
        df["kind"] == "session", -(df["end_min"] - df["start_min"])
    )
    worked = span.groupby(df["provider"]).sum()
    assert worked.to_dict() == {p.id: p.weekly_minutes for p in s.providers}
    # clock labels agree with the minutes
    first = sessions.iloc[0]
    assert first["start"] == f"{first['start_min'] // 60:02d}:{first['start_min'] % 60:02d}"
    # sessions come before breaks, so a break is drawn over its session
    kinds = list(df["kind"])
    assert kinds == sorted(kinds, key=lambda k: k == "break")


def test_week_sessions_chart_axes_rows_and_clock(family):
    chart = week_sessions_chart(family)
    enc = chart.spec["encoding"]
    assert enc["x"]["title"] == "time of day (clinic time)"
    assert enc["y"]["title"] == "weekday · provider"
    assert enc["color"]["scale"] == {"domain": ["session", "break"], "range": [SESSION_COLOR, BREAK_COLOR]}
    # one row per provider-day worked, weekday by weekday
    rows = enc["y"]["sort"]
    assert set(rows) == set(chart.data["row"])
    assert len(rows) == sum(1 for p in family.providers for d in p.sessions if p.sessions[d])
    days = [r.split(" · ")[0] for r in rows]
    assert days == sorted(days, key=WEEKDAYS.index)
    # whole-hour axis covering the opening hours and every session, ticks every hour
    lo, hi = enc["x"]["scale"]["domain"]
    assert lo % 60 == 0 and hi % 60 == 0
    assert lo <= min(family.clinic.opens, chart.data["start_min"].min())
    assert hi >= max(family.clinic.closes, chart.data["end_min"].max())
    assert enc["x"]["axis"]["values"] == list(range(lo, hi + 1, 60))
    for field in ("row", "start_min", "end_min", "kind"):
        assert field in chart.data


@pytest.mark.parametrize("fixture", ["family", "ortho"])
def test_capacity_and_demand_add_up_to_the_page_metrics(fixture, request):
    s = request.getfixturevalue(fixture)
    sm = summarize(s)
    df = capacity_demand_frame(s)
    capacity = df[df["side"] == "capacity"]
    demand = df[df["side"] == "demand"]
    assert capacity["minutes"].sum() == sm.provider_minutes
    assert demand["minutes"].sum() == pytest.approx(sm.demand_min)
    assert list(capacity["part"]) == [p.id for p in s.providers]
    # one segment per appointment type, however many demand lines name it
    assert demand["part"].is_unique
    assert set(demand["part"]) == {d.type for d in s.demand}
    # the bar's label carries its total and the load shown as the "Demand load" metric
    (cap_label,) = set(capacity["bar"])
    (dem_label,) = set(demand["bar"])
    assert cap_label == f"capacity · {sm.provider_minutes:,} min"
    assert dem_label == f"demand · {sm.demand_min:,.0f} min ({sm.load:.0%} of capacity)"


def test_capacity_demand_numbers_for_the_family_practice(family):
    df = capacity_demand_frame(family).set_index("part")
    assert df.loc["dr_okafor", "minutes"] == 2100
    assert df.loc["follow_up", "minutes"] == 190 * 20  # 190 requests a week at 20 scheduled minutes
    assert df.loc["follow_up", "detail"] == "190 visits × 20 min"
    assert set(df["bar"]) == {"capacity · 12,285 min", "demand · 9,650 min (79% of capacity)"}


def test_capacity_demand_chart_colours_and_units(family):
    chart = capacity_demand_chart(family)
    enc = chart.spec["encoding"]
    assert enc["x"]["title"] == "minutes per week"
    assert enc["color"]["title"] == "provider / appointment type"
    scale = enc["color"]["scale"]
    assert len(scale["domain"]) == len(scale["range"]) == len(chart.data)
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    for t in family.appointment_types:
        if t.color and t.id in colours:
            assert colours[t.id] == t.color  # the same colour as on the other pages
    # stacked in legend order
    assert list(chart.data.sort_values("part_order")["part"]) == scale["domain"]


def test_tiny_clinic_exactly(tiny):
    df = sessions_frame(tiny)
    assert list(zip(df["row"], df["kind"], df["start"], df["end"], strict=True)) == [
        ("mon · doc", "session", "08:00", "12:00"),
        ("tue · doc", "session", "13:00", "17:00"),
        ("mon · doc", "break", "10:00", "10:15"),
    ]
    assert list(df["holds"]) == [1, 0, 0]
    cd = capacity_demand_frame(tiny).set_index("part")
    assert cd.loc["doc", "minutes"] == 240 - 15 + 240
    assert cd.loc["visit", "minutes"] == 12 * 20 and cd.loc["long", "minutes"] == 3 * 40
    assert cd.loc["long", "bar"] == "demand · 360 min (77% of capacity)"  # 360 / 465
    assert week_sessions_chart(tiny).spec["encoding"]["y"]["sort"] == ["mon · doc", "tue · doc"]


def test_staff_chart_shows_a_part_time_ma(family):
    from clinicflow.viz.practice import staff_chart, staff_frame
    from clinicflow.whatif import load_variant
    from conftest import ROOT

    _v, _b, s = load_variant(ROOT / "scenarios" / "variants" / "afternoon-ma.yaml")
    df = staff_frame(s)
    mon = df[(df["weekday"] == "mon") & (df["role"] == "MAs")]
    assert mon[["start", "end", "count"]].values.tolist() == [
        ["07:30", "13:00", 4],
        ["13:00", "17:00", 5],
        ["17:00", "18:00", 4],
    ]
    # staffed minutes from the chart's table are the hours the staff cost pays for
    ma_minutes = ((df["end_min"] - df["start_min"]) * df["count"])[df["role"] == "MAs"].sum()
    assert ma_minutes == sum(
        s.staff.staffed_minutes("medical_assistants", d, 450, 1080) for d in s.clinic.days_open
    )
    assert (
        ma_minutes
        - sum(
            family.staff.staffed_minutes("medical_assistants", d, 450, 1080) for d in family.clinic.days_open
        )
        == 2 * 240
    )
    spec = staff_chart(s).spec
    assert spec["title"] == "Front desk and MAs on duty"
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "text"]
    assert spec["encoding"]["y"]["sort"][:2] == ["mon · front desk", "mon · MAs"]
