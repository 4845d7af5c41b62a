"""The practice's week at a glance: who works when, support staff on duty, and weekly capacity
against demand.

These are the dashboard's first page, so they are Vega-Lite specifications (plain dicts with their
data) rather than Plotly figures: Streamlit draws Vega-Lite with a ~0.8 MB script where Plotly's is
4.7 MB, and evaluating plotly.js alone took over a second of the first page's time in Chromium
(``benchmarks/dashboard_speed.py``). A spec is data too, so tests read the axes, units and sums
straight from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..domain import WEEKDAYS, Scenario
from ..domain.clock import format_hhmm

SESSION_COLOR = "#4c78a8"
BREAK_COLOR = "#e45756"
#: Providers' capacity segments: shades of one slate blue, so they read as one bar, apart from demand.
PROVIDER_SHADES = ("#1d3557", "#2f4b6e", "#426186", "#56779d", "#6b8db3", "#82a3c6", "#9ab8d6", "#b4cde3")
#: Support staff: front desk and MAs, apart from the providers' blues.
STAFF_COLORS = {"front desk": "#72b7b2", "MAs": "#f58518"}
_HH_MM = "pad(floor(datum.value / 60), 2, '0', 'left') + ':' + pad(datum.value % 60, 2, '0', 'left')"


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite chart: the spec (encodings, axes, legend) and the table it draws."""

    spec: dict
    data: pd.DataFrame


def sessions_frame(s: Scenario) -> pd.DataFrame:
    """One row per provider-session (and break) of the week, in minutes since midnight.

    Rows go weekday by weekday, providers in scenario order within a day, sessions before breaks
    (so a break is drawn over its session).
    """
    rows = []
    for day in WEEKDAYS:
        for p in s.providers:
            for k, sess in enumerate(p.sessions.get(day, [])):
                spans = [("session", sess.start, sess.end, sess.holds)]
                spans += [("break", b.start, b.end, 0) for b in sess.breaks]
                for kind, start, end, holds in spans:
                    rows.append(
                        {
                            "row": f"{day} · {p.id}",
                            "provider": p.id,
                            "weekday": day,
                            "session": k,
                            "kind": kind,
                            "start_min": start,
                            "end_min": end,
                            "start": format_hhmm(start),
                            "end": format_hhmm(end),
                            "holds": holds,
                        }
                    )
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["kind_order"] = (df["kind"] == "break").astype(int)
    return df.sort_values("kind_order", kind="stable").drop(columns="kind_order").reset_index(drop=True)


def week_sessions_chart(s: Scenario) -> Chart:
    """Provider sessions per weekday as horizontal bars on a clock axis (rows: weekday · provider)."""
    df = sessions_frame(s)
    rows = _row_order(s)
    lo = min([s.clinic.opens, *df["start_min"]]) if not df.empty else s.clinic.opens
    hi = max([s.clinic.closes, *df["end_min"]]) if not df.empty else s.clinic.closes
    lo, hi = 60 * (lo // 60), 60 * -(-hi // 60)
    spec = {
        "title": "Provider sessions by weekday",
        "height": {"step": 18},
        "mark": {"type": "bar", "cornerRadius": 2},
        "encoding": {
            "y": {
                "field": "row",
                "type": "nominal",
                "sort": rows,
                "title": "weekday · provider",
                "axis": {"labelLimit": 200, "labelOverlap": False},
            },
            "x": _clock_x(lo, hi),
            "x2": {"field": "end_min"},
            "color": {
                "field": "kind",
                "type": "nominal",
                "title": None,
                "scale": {"domain": ["session", "break"], "range": [SESSION_COLOR, BREAK_COLOR]},
                "legend": {"orient": "top"},
            },
            "tooltip": [
                {"field": "weekday", "title": "weekday"},
                {"field": "provider", "title": "provider"},
                {"field": "kind", "title": "kind"},
                {"field": "start", "title": "from"},
                {"field": "end", "title": "to"},
                {"field": "holds", "type": "quantitative", "title": "held slots"},
            ],
        },
    }
    return Chart(spec, df)


def staff_frame(s: Scenario) -> pd.DataFrame:
    """Clerks and MAs on duty through each open day: one row per stretch with a constant count
    (``Staff.steps``: the day's count, or a shift's), rows weekday · role."""
    c = s.clinic
    rows = []
    for day in (d for d in WEEKDAYS if d in c.days_open):
        for role, label in (("front_desk", "front desk"), ("medical_assistants", "MAs")):
            for a, b, n in s.staff.steps(role, day, c.opens, c.closes):
                rows.append(
                    {
                        "row": f"{day} · {label}",
                        "weekday": day,
                        "role": label,
                        "start_min": a,
                        "end_min": b,
                        "mid_min": (a + b) / 2,
                        "start": format_hhmm(a),
                        "end": format_hhmm(b),
                        "count": n,
                    }
                )
    return pd.DataFrame(rows)


def staff_chart(s: Scenario) -> Chart:
    """Front desk and MAs on duty by weekday and time of day, the count written on each stretch —
    where a part-time MA or a short-staffed morning shows at a glance."""
    df = staff_frame(s)
    c = s.clinic
    x = _clock_x(60 * (c.opens // 60), 60 * -(-c.closes // 60))
    y = {
        "field": "row",
        "type": "nominal",
        "sort": list(dict.fromkeys(df["row"])) if not df.empty else [],
        "title": "weekday · staff",
        "axis": {"labelLimit": 200, "labelOverlap": False},
    }
    spec = {
        "title": "Front desk and MAs on duty",
        "height": {"step": 18},
        "encoding": {"y": y},
        "layer": [
            {
                "mark": {"type": "bar", "cornerRadius": 2, "stroke": "white", "strokeWidth": 1},
                "encoding": {
                    "x": x,
                    "x2": {"field": "end_min"},
                    "color": {
                        "field": "role",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": list(STAFF_COLORS), "range": list(STAFF_COLORS.values())},
                        "legend": {"orient": "top"},
                    },
                    "tooltip": [
                        {"field": "weekday", "title": "weekday"},
                        {"field": "role", "title": "staff"},
                        {"field": "start", "title": "from"},
                        {"field": "end", "title": "to"},
                        {"field": "count", "type": "quantitative", "title": "on duty"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "color": "white", "fontWeight": "bold"},
                "encoding": {
                    "x": {"field": "mid_min", "type": "quantitative", "scale": x["scale"]},
                    "text": {"field": "count", "type": "quantitative"},
                },
            },
        ],
    }
    return Chart(spec, df)


def _clock_x(lo: int, hi: int) -> dict:
    """The x encoding of a day's clock from ``lo`` to ``hi`` (whole hours), labelled "HH:MM"."""
    return {
        "field": "start_min",
        "type": "quantitative",
        "title": "time of day (clinic time)",
        "scale": {"domain": [lo, hi], "nice": False},
        "axis": {"values": list(range(lo, hi + 1, 60)), "labelExpr": _HH_MM, "grid": True},
    }


def _row_order(s: Scenario) -> list[str]:
    return [f"{d} · {p.id}" for d in WEEKDAYS for p in s.providers if p.sessions.get(d)]


def capacity_demand_frame(s: Scenario) -> pd.DataFrame:
    """Weekly provider minutes (one row per provider) against weekly demand at scheduled lengths
    (one row per appointment type): the two sides of the page's "demand load" metric.

    ``bar`` names the bar with its total, e.g. ``capacity · 12,285 min``, so the total and the
    load are printed on the axis next to each bar.
    """
    rows = [
        {
            "side": "capacity",
            "part": p.id,
            "group": "provider",
            "minutes": float(p.weekly_minutes),
            "detail": f"{p.weekly_sessions} sessions",
        }
        for p in s.providers
    ]
    types = s.type_by_id
    visits: dict[str, float] = {}
    for d in s.demand:
        visits[d.type] = visits.get(d.type, 0.0) + d.weekly
    for type_id, n in visits.items():
        length = types[type_id].scheduled_min
        rows.append(
            {
                "side": "demand",
                "part": type_id,
                "group": "appointment type",
                "minutes": float(n * length),
                "detail": f"{n:g} visits × {length} min",
            }
        )
    df = pd.DataFrame(rows, columns=["side", "part", "group", "minutes", "detail"])
    capacity = float(df.loc[df["side"] == "capacity", "minutes"].sum())
    demand = float(df.loc[df["side"] == "demand", "minutes"].sum())
    load = f" ({demand / capacity:.0%} of capacity)" if capacity else ""
    df["bar"] = df["side"].map(
        {"capacity": f"capacity · {capacity:,.0f} min", "demand": f"demand · {demand:,.0f} min{load}"}
    )
    return df


def capacity_demand_chart(s: Scenario) -> Chart:
    """Two stacked bars in minutes per week: provider capacity (by provider) and demand at scheduled
    lengths (by appointment type, in the types' colours)."""
    df = capacity_demand_frame(s)
    providers = [p.id for p in s.providers]
    types = s.type_by_id
    demand_types = list(dict.fromkeys(df.loc[df["side"] == "demand", "part"]))
    domain = providers + demand_types
    palette = [PROVIDER_SHADES[i % len(PROVIDER_SHADES)] for i in range(len(providers))]
    palette += [types[t].color or SESSION_COLOR for t in demand_types]
    df = df.assign(part_order=[domain.index(p) for p in df["part"]])
    spec = {
        "title": "Weekly capacity against demand",
        "height": {"step": 40},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {
                "field": "bar",
                "type": "nominal",
                "title": None,
                "sort": list(dict.fromkeys(df["bar"])),
                "axis": {
                    "labelExpr": "split(datum.label, ' · ')",
                    "labelLimit": 200,
                    "labelFontWeight": "bold",
                },
            },
            "x": {
                "field": "minutes",
                "type": "quantitative",
                "title": "minutes per week",
                "axis": {"format": ",.0f"},
            },
            "color": {
                "field": "part",
                "type": "nominal",
                "title": "provider / appointment type",
                "scale": {"domain": domain, "range": palette},
                "legend": {"orient": "bottom", "columns": 2, "symbolType": "square", "labelLimit": 140},
            },
            "order": {"field": "part_order", "type": "quantitative"},
            "tooltip": [
                {"field": "group", "title": "part"},
                {"field": "part", "title": "which"},
                {"field": "minutes", "type": "quantitative", "title": "minutes / week", "format": ",.0f"},
                {"field": "detail", "title": "from"},
            ],
        },
    }
    return Chart(spec, df)
