"""Figures for what-if comparisons and sweeps."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import ClinicflowError

KEY_KPIS = (
    "mean_wait_min",
    "p90_wait_min",
    "provider_overtime_min",
    "provider_idle_min",
    "max_waiting_room",
    "cost",
)

#: Shorter words for the page's metric tiles, where the full label would be cut short; the tile's
#: help gives the full one.
TILE_LABELS = {
    "cost": "weighted cost",
    "labour_cost_week": "labour cost per week ($)",
}

LABELS = {
    "mean_wait_min": "mean wait (min)",
    "p90_wait_min": "90th-percentile wait (min)",
    "total_wait_min": "total patient wait (min)",
    "mean_time_in_clinic_min": "mean time in clinic (min)",
    "provider_idle_min": "provider idle (min)",
    "provider_unused_min": "provider unused after last patient (min)",
    "provider_overtime_min": "provider overtime (min)",
    "provider_utilization": "provider utilization",
    "room_utilization": "room utilization",
    "ma_utilization": "MA utilization",
    "desk_utilization": "desk utilization",
    "max_waiting_room": "max waiting room (patients)",
    "patients_seen": "patients seen",
    "no_shows": "no-shows",
    "late_cancels": "late cancellations",
    "walk_ins": "walk-ins",
    "turned_away": "walk-ins turned away (no session left)",
    "unseen_at_close": "patients still unseen at closing",
    "cost": "weighted cost (wait + idle + overtime)",
    "staff_cost_week": "staff cost per week ($)",
    "staff_overtime_min": "desk and MA overtime (person-min)",
    "overtime_pay": "overtime pay ($)",
    "labour_cost_week": "staff cost with overtime pay, per week ($)",
}


def diff_figure(table, kpis=KEY_KPIS) -> go.Figure:
    """Paired differences to the base with 95% CIs, one panel per KPI; hollow markers when the CI holds 0."""
    arms = [a for a in table["arm"].unique() if table[(table["arm"] == a)]["diff"].notna().any()]
    cols = 3
    nrows = (len(kpis) + cols - 1) // cols
    fig = make_subplots(
        rows=nrows,
        cols=cols,
        subplot_titles=[LABELS.get(k, k) for k in kpis],
        shared_yaxes=True,
        vertical_spacing=0.3,
        horizontal_spacing=0.04,
    )
    for idx, k in enumerate(kpis):
        row, j = idx // cols + 1, idx % cols + 1
        part = table[(table["kpi"] == k) & table["arm"].isin(arms)]
        fig.add_trace(
            go.Scatter(
                x=part["diff"],
                y=part["arm"],
                mode="markers",
                marker={
                    "size": 10,
                    "symbol": ["circle-open" if z else "circle" for z in part["zero_in_ci"]],
                    "color": "#4c78a8",
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": part["diff_high"] - part["diff"],
                    "arrayminus": part["diff"] - part["diff_low"],
                },
                showlegend=False,
                name=k,
            ),
            row=row,
            col=j,
        )
        fig.add_vline(x=0, line_dash="dot", line_color="#888", row=row, col=j)
    fig.update_layout(
        title="Change against the base (paired, 95% CI; hollow = interval contains 0)",
        height=nrows * (140 + 50 * max(1, len(arms))) + 60,
        margin={"l": 10, "r": 10, "t": 80, "b": 40},
    )
    fig.update_xaxes(title_text="difference")
    return fig


def frontier_figure(table, wait_kpi: str, knobs, target=None) -> go.Figure:
    """Labour cost (staff + overtime pay) against waiting for every sweep point; efficient points
    joined, dominated ones grey."""
    labels = [", ".join(f"{k}={r[k]}" for k in knobs) for _, r in table.iterrows()]
    eff = table["efficient"].to_numpy()
    fig = go.Figure()
    dom = ~eff
    fig.add_trace(
        go.Scatter(
            x=table.loc[dom, "labour_cost_week"],
            y=table.loc[dom, wait_kpi],
            mode="markers",
            marker={"color": "#bbbbbb", "size": 9},
            name="dominated",
            text=[lb for lb, d in zip(labels, dom, strict=True) if d],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (table.loc[dom, f"{wait_kpi}_ci_high"] - table.loc[dom, wait_kpi]),
                "arrayminus": (table.loc[dom, wait_kpi] - table.loc[dom, f"{wait_kpi}_ci_low"]),
                "color": "#cccccc",
            },
        )
    )
    front = table[eff].sort_values("labour_cost_week")
    fig.add_trace(
        go.Scatter(
            x=front["labour_cost_week"],
            y=front[wait_kpi],
            mode="lines+markers+text",
            marker={"color": "#e45756", "size": 11},
            line={"color": "#e45756"},
            name="efficient frontier",
            text=[", ".join(f"{k}={r[k]}" for k in knobs) for _, r in front.iterrows()],
            textposition="top center",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": front[f"{wait_kpi}_ci_high"] - front[wait_kpi],
                "arrayminus": front[wait_kpi] - front[f"{wait_kpi}_ci_low"],
            },
        )
    )
    if target is not None and target.kpi == wait_kpi:
        fig.add_hline(
            y=target.limit,
            line_dash="dash",
            line_color="#54a24b",
            annotation_text=f"target ≤ {target.limit:g}",
        )
    fig.update_layout(
        title="Labour cost against waiting (mean and 95% CI per setting)",
        xaxis_title=LABELS["labour_cost_week"],
        yaxis_title=LABELS.get(wait_kpi, wait_kpi),
        margin={"l": 10, "r": 40, "t": 60, "b": 40},
    )
    return fig


#: Kaleido draws a PNG in a headless Chromium; a wedged start-up never returns (seen once in CI: a
#: ``compare --out`` waited 12 minutes), so each drawing runs in its own process group with a deadline.
PNG_TIMEOUT_S = 90
PNG_ATTEMPTS = 2
_PNG_SCRIPT = (
    "import sys, plotly.io as pio\n"
    "fig = pio.from_json(sys.stdin.read())\n"
    "fig.write_image(sys.argv[1], width=int(sys.argv[2]), height=int(sys.argv[3]), scale=1)\n"
)


def write_figure(fig: go.Figure, stem) -> list[str]:
    """Write ``stem``.html (self-contained) and ``stem``.png; return the paths written."""
    html = f"{stem}.html"
    fig.write_html(html, include_plotlyjs=True)
    png = f"{stem}.png"
    write_png(fig, png, width=1200, height=max(500, int(fig.layout.height or 500)))
    return [html, png]


def write_png(
    fig: go.Figure,
    png: str,
    *,
    width: int,
    height: int,
    timeout_s: float = PNG_TIMEOUT_S,
    attempts: int = PNG_ATTEMPTS,
) -> None:
    """Draw ``fig`` to ``png`` with Kaleido in a child process: killed with its Chromium after
    ``timeout_s`` and tried again with a fresh one, up to ``attempts`` times; then one line saying why."""
    reason = ""
    for _ in range(attempts):
        proc = subprocess.Popen(
            [sys.executable, "-c", _PNG_SCRIPT, png, str(width), str(height)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: the Chromium it starts dies with it
        )
        try:
            _, err = proc.communicate(fig.to_json(), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            reason = f"Chromium did not draw it within {timeout_s:g} s"
            continue
        if proc.returncode == 0 and Path(png).is_file():
            return
        lines = [ln.strip() for ln in (err or "").splitlines() if ln.strip()]
        # the child's traceback ends "RuntimeError: <Kaleido's reason>": keep the reason
        reason = (
            re.sub(r"^[\w.]*(Error|Exception): ", "", lines[-1])
            if lines
            else f"the drawing process exited with code {proc.returncode}"
        )
    raise ClinicflowError(
        f"cannot draw {Path(png).name}: {reason} (install Chrome or Chromium, or run plotly_get_chrome)"
    )
