"""Week views of a schedule: per provider and per exam room, appointment types coloured."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from ..domain import Scenario

_BASE = dt.datetime(2000, 1, 3)
_FALLBACK = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d"]


def _colors(scenario: Scenario) -> dict[str, str]:
    return {t.id: t.color or _FALLBACK[i % len(_FALLBACK)] for i, t in enumerate(scenario.appointment_types)}


def _rgba(color: str, alpha: float) -> str:
    """``#4c78a8`` with an alpha: ``rgba(76,120,168,0.45)`` (a colour that is not hex is kept)."""
    h = color.lstrip("#")
    if len(h) != 6:
        return color
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def week_figure(schedule: pd.DataFrame, scenario: Scenario, by: str = "provider") -> go.Figure:
    """Slots as horizontal bars on rows ``day · provider`` (or ``day · room``); holds are hatched,
    booked slots solid, open template slots pale, a double-booked start's second slot outlined."""
    df = schedule.copy()
    if by == "room":
        df = df[df["room"].notna()]
    df["row"] = [f"{pd.Timestamp(d):%a %m-%d} · {k}" for d, k in zip(df["date"], df[by], strict=True)]
    order = list(dict.fromkeys(df.sort_values(["date", by, "start_min"])["row"]))
    colors = _colors(scenario)
    names = scenario.type_by_id
    fig = go.Figure()
    for tid in [t.id for t in scenario.appointment_types]:
        for kind, opacity, pattern in (("booked", 1.0, ""), ("template", 0.45, ""), ("hold", 0.6, "/")):
            part = df[(df["appointment_type"] == tid) & (df["kind"] == kind)]
            if part.empty:
                continue
            # a double-booked start's second slot lies on its first: outlined dark, or the two pale
            # bars read as one solid (booked) one
            over = (
                part["overbooked"].fillna(False).astype(bool)
                if "overbooked" in part
                else pd.Series(False, part.index)
            )
            fig.add_trace(
                go.Bar(
                    y=part["row"],
                    x=(part["end_min"] - part["start_min"]) * 60_000,
                    base=[_BASE + dt.timedelta(minutes=int(m)) for m in part["start_min"]],
                    orientation="h",
                    marker={
                        # the fill's own alpha, not the trace's opacity: the legend shows it too, so
                        # an open slot's swatch is as pale as its bars (opacity left them all solid)
                        "color": _rgba(colors[tid], opacity),
                        "opacity": 1.0 if colors[tid].startswith("#") else opacity,  # a named colour
                        "pattern": {"shape": pattern, "fgcolor": colors[tid]},
                        "line": {
                            "color": ["#333" if o else "white" for o in over],
                            "width": [2 if o else 1 for o in over],
                        },
                    },
                    name=f"{names[tid].name} ({kind})",
                    legendgroup=tid,
                    hovertext=[
                        f"{r.start}–{r.end} {tid} · {kind}"
                        + (" · double-booked start" if o else "")
                        + (f" · room {r.room}" if isinstance(r.room, str) else "")
                        for r, o in zip(part.itertuples(), over, strict=True)
                    ],
                    hoverinfo="text",
                )
            )
    fig.update_layout(
        barmode="overlay",
        title=f"Week schedule by {'exam room' if by == 'room' else 'provider'} "
        "(solid = booked, pale = open slot, hatched = same-day hold, dark outline = double-booked)",
        xaxis={"type": "date", "tickformat": "%H:%M", "title": "time of day (clinic time)"},
        yaxis={
            "title": f"day · {by}",
            "autorange": "reversed",
            "categoryorder": "array",
            "categoryarray": order,
        },
        height=max(400, 22 * df["row"].nunique() + 160),
        legend={"font": {"size": 10}},
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig
