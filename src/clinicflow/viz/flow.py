"""Figures of a simulated clinic day: waits, occupancy through the day, utilization heat maps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go

_BASE = dt.datetime(2000, 1, 3)


def _clock(minutes) -> list[dt.datetime]:
    return [_BASE + dt.timedelta(minutes=float(m)) for m in minutes]


def wait_histogram(patients: pd.DataFrame) -> go.Figure:
    """Distribution of each seen patient's wait (max(arrival, appointment) → provider), all replications."""
    p = patients[patients["outcome"] == "seen"]
    t0 = np.fmax(p["arrival"].to_numpy(float), p["appointment"].to_numpy(float))
    wait = np.clip(p["provider_start"].to_numpy(float) - t0, 0, None)
    fig = go.Figure(
        go.Histogram(x=wait, xbins={"start": 0, "size": 2}, marker_color="#4c78a8", name="patients")
    )
    p90 = float(np.percentile(wait, 90)) if len(wait) else 0.0
    fig.add_vline(x=p90, line_dash="dash", line_color="#e45756", annotation_text=f"90th pct {p90:.0f} min")
    fig.update_layout(
        title="Wait for the provider (all patients, all replications)",
        xaxis_title="minutes from max(arrival, appointment) to provider",
        yaxis_title="patients",
        bargap=0.05,
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig


def through_the_day(ts: pd.DataFrame, date, what: str) -> go.Figure:
    """Mean and 5–95% band across replications, in 5-minute bins, of ``waiting`` or ``rooms_busy``."""
    d = ts[ts["date"] == date]
    x = _clock(d["minute"])
    label = {"waiting": "patients in the waiting room", "rooms_busy": "exam rooms occupied"}[what]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=d[f"{what}_high"], line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=d[f"{what}_low"],
            fill="tonexty",
            fillcolor="rgba(76,120,168,0.25)",
            line={"width": 0},
            name="5–95% of replications",
        )
    )
    fig.add_trace(go.Scatter(x=x, y=d[f"{what}_mean"], line={"color": "#4c78a8", "width": 2}, name="mean"))
    fig.update_layout(
        title=f"{label.capitalize()} through the day ({date})",
        xaxis={"type": "date", "tickformat": "%H:%M", "title": "time of day (clinic time)"},
        yaxis_title=label,
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def utilization_heatmap(frame: pd.DataFrame, row: str, title: str) -> go.Figure:
    """Heat map of mean utilization, ``row`` (provider or room) × date."""
    pivot = frame.pivot_table(index=row, columns="date", values="utilization")
    cols = [f"{pd.Timestamp(c):%a %m-%d}" for c in pivot.columns]
    fig = go.Figure(
        go.Heatmap(
            z=pivot.to_numpy(),
            x=cols,
            y=list(pivot.index),
            zmin=0,
            zmax=1,
            colorscale="Blues",
            colorbar={"title": "utilization", "tickformat": ".0%"},
            text=[[f"{v:.0%}" if np.isfinite(v) else "" for v in r] for r in pivot.to_numpy()],
            texttemplate="%{text}",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="day",
        yaxis_title=row,
        height=max(300, 28 * len(pivot) + 120),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig


def wait_breakdown_figure(breakdown: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=breakdown["minutes_per_replication"],
            y=breakdown["waiting_for"],
            orientation="h",
            text=[f"{s:.0%}" for s in breakdown["share"]],
            marker_color="#f58518",
        )
    )
    fig.update_layout(
        title="What patients wait for (minutes per simulated week)",
        xaxis_title="waiting minutes per replication",
        yaxis={"title": "", "autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig
