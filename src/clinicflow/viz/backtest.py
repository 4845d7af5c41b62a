"""The back-test's figure: each recorded day against its simulated 90% band."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def band_figure(days: pd.DataFrame, kpi: str, label: str) -> go.Figure:
    """One recorded day per x: the simulated 90% band (bar from its low to its high order statistic),
    the simulated mean (tick) and the recorded figure (dot; red when outside the band), so a run of
    days above or below the band — a bias — or days scattered outside it — too little spread — shows
    at a glance."""
    d = days[days["kpi"] == kpi].sort_values("date")
    x = [str(v) for v in d["date"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x,
            y=d["band_high"] - d["band_low"],
            base=d["band_low"],
            marker_color="rgba(76, 120, 168, 0.30)",
            name="simulated 90% band",
            hovertemplate="%{x}: %{base:.1f} to %{customdata:.1f}<extra>90% band</extra>",
            customdata=d["band_high"],
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=d["simulated"],
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 14, "color": "#4c78a8"},
            name="simulated mean",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=d["recorded"],
            mode="markers",
            marker={"size": 8, "color": ["#2ca02c" if v else "#d62728" for v in d["in_band"]]},
            name="recorded (red: outside the band)",
        )
    )
    fig.update_layout(
        title=f"Recorded vs simulated: {label}",
        xaxis_title="recorded day",
        yaxis_title=label,
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
