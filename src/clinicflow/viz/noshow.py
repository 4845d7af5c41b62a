"""Figures for no-show analytics: rates by segment, and the model's calibration."""

from __future__ import annotations

import plotly.graph_objects as go

TITLES = {
    "weekday": "weekday",
    "hour": "hour of the appointment",
    "lead_band": "lead time (days from booking)",
    "age_band": "age band",
    "appointment_type": "appointment type",
    "provider": "provider",
    "reminder": "reminder sent",
    "prior_no_shows": "patient's prior no-shows",
}


def segment_figure(report: dict, dimension: str) -> go.Figure:
    """No-show rate (bars) by one segment of the history report, with the overall rate as a line."""
    rows = [r for r in report["by"][dimension] if r.get("booked")]
    labels = [str(r[dimension]) for r in rows]
    rates = [r["no_show_rate"] or 0.0 for r in rows]
    overall = report["overall"]["no_show_rate"] or 0.0
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=rates,
            marker_color="#e45756",
            text=[f"{v:.0%}" for v in rates],
            hovertext=[f"{r['booked']:,} kept appointments, {r['no_shows']:,} no-shows" for r in rows],
            name="no-show rate",
        )
    )
    fig.add_hline(y=overall, line_dash="dash", line_color="#555", annotation_text=f"overall {overall:.1%}")
    fig.update_layout(
        title=f"No-show rate by {TITLES.get(dimension, dimension)}",
        xaxis_title=TITLES.get(dimension, dimension),
        yaxis={"title": "no-show rate", "tickformat": ".0%"},
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig


def calibration_figure(evaluation: dict) -> go.Figure:
    """Mean predicted against observed no-show rate per probability bin on the time-based holdout."""
    table = [r for r in evaluation["calibration_table"] if r.get("n")]
    pred = [r["predicted"] for r in table]
    obs = [r["observed"] for r in table]
    top = max([*pred, *obs, 0.05]) * 1.1
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, top],
            y=[0, top],
            mode="lines",
            line={"dash": "dot", "color": "#888"},
            name="perfect calibration",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=pred,
            y=obs,
            mode="markers+lines",
            marker={"size": [max(6, min(30, r["n"] ** 0.5 / 2)) for r in table], "color": "#4c78a8"},
            text=[f"{r['n']:,} appointments" for r in table],
            name="holdout bins",
        )
    )
    t = evaluation["test"]
    fig.update_layout(
        title=f"Calibration on the last 20% of dates (AUC {t['roc_auc']:.3f}, Brier {t['brier']:.4f})",
        xaxis={"title": "predicted no-show probability", "tickformat": ".0%", "range": [0, top]},
        yaxis={"title": "observed no-show rate", "tickformat": ".0%", "range": [0, top]},
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig
