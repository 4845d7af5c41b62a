"""Figures for the OR week: a Gantt by room and day, and overtime risk per room-day."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

_PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d"]


def or_gantt(table: pd.DataFrame) -> go.Figure:
    """Booked cases on their room-days (clinic-local clock), blocks as grey bands, colour by surgeon."""
    fig = go.Figure()
    if table.empty:
        fig.update_layout(title="No cases booked")
        return fig
    base = dt.datetime(2000, 1, 3)
    t = table.copy()
    t["row"] = [
        f"{pd.Timestamp(d):%a %m-%d} · {f}/{r}"
        for d, f, r in zip(t["date"], t["facility"], t["room"], strict=True)
    ]
    blocks = t.drop_duplicates("row")
    fig.add_trace(
        go.Bar(
            y=blocks["row"],
            x=(blocks["block_end_min"] - blocks["block_start_min"]) * 60_000,
            base=[base + dt.timedelta(minutes=int(m)) for m in blocks["block_start_min"]],
            orientation="h",
            marker_color="rgba(180,180,180,0.35)",
            name="block",
            hovertext=[f"block owner: {o or 'open'}" for o in blocks["block_owner"]],
        )
    )
    for i, (surgeon, g) in enumerate(t.groupby("surgeon", sort=True)):
        fig.add_trace(
            go.Bar(
                y=g["row"],
                x=(g["end_min"] - g["start_min"]) * 60_000,
                base=[base + dt.timedelta(minutes=int(m)) for m in g["start_min"]],
                orientation="h",
                marker_color=_PALETTE[i % len(_PALETTE)],
                name=surgeon,
                text=g["case_type"],
                textposition="inside",
                hovertext=[
                    f"{c}: {ct}, planned {p} min"
                    for c, ct, p in zip(g["case_id"], g["case_type"], g["planned_min"], strict=True)
                ],
            )
        )
    fig.update_layout(
        barmode="overlay",
        title="Operating rooms: booked cases by room and day",
        xaxis={"type": "date", "tickformat": "%H:%M", "title": "time of day (clinic time)"},
        yaxis={"title": "day · facility/room", "autorange": "reversed"},
        legend_title_text="surgeon",
        height=max(320, 40 * t["row"].nunique() + 140),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig


def overtime_risk_figure(room_days: pd.DataFrame, target: float) -> go.Figure:
    """Simulated probability of running past the block end per room-day, with 95% CIs, against the target."""
    rd = room_days.dropna(subset=["sim_p_overtime"]) if "sim_p_overtime" in room_days else room_days.iloc[0:0]
    lo = rd["sim_p_overtime_ci"].str.split("-").str[0].astype(float) if len(rd) else []
    hi = rd["sim_p_overtime_ci"].str.split("-").str[1].astype(float) if len(rd) else []
    fig = go.Figure(
        go.Bar(
            x=_room_day_labels(rd) if len(rd) else [],
            y=rd["sim_p_overtime"] if len(rd) else [],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": hi - rd["sim_p_overtime"],
                "arrayminus": rd["sim_p_overtime"] - lo,
            }
            if len(rd)
            else None,
            marker_color="#e45756",
            name="simulated P(overtime)",
        )
    )
    fig.add_hline(y=target, line_dash="dash", line_color="#555", annotation_text=f"target {target:.0%}")
    fig.update_layout(
        title="Overtime risk per room-day (simulated, 95% CI)",
        xaxis_title="day · facility/room",
        yaxis={"title": "probability of running past the block end", "tickformat": ".0%"},
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig


def _room_day_labels(rd: pd.DataFrame) -> list[str]:
    """``Mon 12-07 · stluke/OR3``, as the Gantt's rows read, with the block's start time added only
    where a room has two blocks that day (the key ends with it: ``2026-12-07/OR3/07:30``)."""
    short = [
        f"{pd.Timestamp(d):%a %m-%d} · {f}/{r}"
        for d, f, r in zip(rd["date"], rd["facility"], rd["room"], strict=True)
    ]
    seen = pd.Series(short).duplicated(keep=False).tolist()
    return [
        f"{lab} {key.rsplit('/', 1)[-1]}" if dup else lab
        for lab, dup, key in zip(short, seen, rd["room_day"], strict=True)
    ]
