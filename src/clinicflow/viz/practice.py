"""Figures describing a practice's week: who works when, and capacity against demand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from ..domain import WEEKDAYS, Scenario

_BASE = dt.datetime(2000, 1, 3)  # a Monday: clock times are drawn on a dummy day


def sessions_frame(s: Scenario) -> pd.DataFrame:
    """One row per provider-session (and break) of the week, in minutes since midnight."""
    rows = []
    for p in s.providers:
        for day in WEEKDAYS:
            for k, sess in enumerate(p.sessions.get(day, [])):
                rows.append(
                    {
                        "provider": p.id,
                        "weekday": day,
                        "session": k,
                        "kind": "session",
                        "start_min": sess.start,
                        "end_min": sess.end,
                        "holds": sess.holds,
                    }
                )
                for b in sess.breaks:
                    rows.append(
                        {
                            "provider": p.id,
                            "weekday": day,
                            "session": k,
                            "kind": "break",
                            "start_min": b.start,
                            "end_min": b.end,
                            "holds": 0,
                        }
                    )
    return pd.DataFrame(rows)


def week_sessions_figure(s: Scenario) -> go.Figure:
    """Provider sessions per weekday as horizontal bars (rows: provider × weekday)."""
    df = sessions_frame(s)
    fig = go.Figure()
    colors = {"session": "#4c78a8", "break": "#e45756"}
    for kind in ("session", "break"):
        part = df[df["kind"] == kind]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                name=kind,
                orientation="h",
                y=[f"{r.weekday} · {r.provider}" for r in part.itertuples()],
                x=(part["end_min"] - part["start_min"]) * 60_000,
                base=[_BASE + dt.timedelta(minutes=int(m)) for m in part["start_min"]],
                marker_color=colors[kind],
                hovertext=[f"holds: {h}" for h in part["holds"]],
            )
        )
    fig.update_layout(
        barmode="overlay",
        title="Provider sessions by weekday",
        xaxis={"type": "date", "tickformat": "%H:%M", "title": "time of day (clinic time)"},
        yaxis={"title": "weekday · provider", "autorange": "reversed"},
        legend_title_text="",
        height=max(300, 18 * df[["weekday", "provider"]].drop_duplicates().shape[0] + 120),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig


def capacity_vs_demand_frame(s: Scenario) -> pd.DataFrame:
    """Weekly minutes per provider against the demand that provider could absorb."""
    rows = []
    for p in s.providers:
        rows.append({"provider": p.id, "minutes": p.weekly_minutes, "kind": "capacity"})
    types = s.type_by_id
    demand = pd.DataFrame(
        [
            {"type": d.type, "minutes": d.weekly * types[d.type].scheduled_min, "visits": d.weekly}
            for d in s.demand
        ]
    )
    return pd.DataFrame(rows), demand


def demand_figure(s: Scenario) -> go.Figure:
    """Weekly demand by appointment type, in scheduled minutes."""
    _, demand = capacity_vs_demand_frame(s)
    types = s.type_by_id
    fig = go.Figure(
        go.Bar(
            x=demand["type"],
            y=demand["minutes"],
            text=[f"{v:.0f} visits" for v in demand["visits"]],
            marker_color=[types[t].color or "#4c78a8" for t in demand["type"]],
        )
    )
    fig.update_layout(
        title="Weekly demand by appointment type",
        xaxis_title="appointment type",
        yaxis_title="scheduled minutes per week",
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig
