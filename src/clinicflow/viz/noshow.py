"""Figures for no-show analytics: rates by segment, and the model's calibration."""

from __future__ import annotations

import plotly.graph_objects as go

from ..stats import wilson

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
    """No-show rate (bars) by one segment of the history report, each with its 95% Wilson interval,
    and the overall rate as a dashed line named in the legend.

    Why the intervals: a segment of a few dozen appointments (the 61+ days lead band, a provider
    who joined last month) swings by ten points by chance, and the analyst should see that before
    reading it as a pattern."""
    rows = [r for r in report["by"][dimension] if r.get("booked")]
    labels = [str(r[dimension]) for r in rows]
    cis = [wilson(int(r["no_shows"]), int(r["booked"])) for r in rows]
    rates = [p for p, _, _ in cis]
    overall = report["overall"]["no_show_rate"] or 0.0
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=rates,
            marker_color="#e45756",
            text=[f"{v:.0%}" for v in rates],
            textposition="inside",
            insidetextanchor="start",  # at the bar's foot, clear of the interval's whiskers
            error_y={
                "type": "data",
                "array": [hi - p for p, _, hi in cis],
                "arrayminus": [p - lo for p, lo, _ in cis],
                "color": "#555",
                "thickness": 1.2,
            },
            hovertext=[
                f"{r['booked']:,} kept appointments, {r['no_shows']:,} no-shows; 95% CI {lo:.1%}–{hi:.1%}"
                for r, (_, lo, hi) in zip(rows, cis, strict=True)
            ],
            name="no-show rate (95% CI)",
        )
    )
    line = {"dash": "dash", "color": "#555", "width": 1.5}
    fig.add_hline(y=overall, line=line)  # across the whole plot; named by the legend's entry below
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line, name=f"overall {overall:.1%}"))
    fig.update_layout(
        title=f"No-show rate by {TITLES.get(dimension, dimension)}",
        xaxis_title=TITLES.get(dimension, dimension),
        yaxis={"title": "no-show rate", "tickformat": ".0%", "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
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
