"""An animated patient flow for one simulated clinic day, read from the event log.

The equivalent of a vidigi animation (vidigi 2.0 pins plotly < 7; clinicflow uses plotly 7): every
patient is a dot on a floor plan — arrived and waiting for the desk, checking in, waiting room, an exam
room (being roomed, waiting for the provider, with the provider), waiting for checkout, checking out, or
the telehealth queue and visit — in frames a few minutes apart, with a time slider. The exam rooms are
drawn too: free, occupied, or being turned over after the patient left.

Where a patient is at minute ``t`` is the stage named by their last event at or before ``t``
(``stage_at``), so every frame follows from the log alone; ``flow_positions`` lays the stages out on the
floor plan and ``flow_animation`` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..domain.clock import format_hhmm

#: Patient stages, in the order a visit goes through them: (stage, station, legend label, colour).
STAGES = (
    ("arrived", "arrived", "arrived, waiting for the desk", "#bab0ac"),
    ("check_in", "desk", "checking in", "#9d755d"),
    ("waiting_room", "waiting", "in the waiting room", "#f58518"),
    ("room_waiting", "room", "in a room, waiting", "#e45756"),
    ("rooming", "room", "being roomed by an MA", "#b279a2"),
    ("with_provider", "room", "with the provider", "#54a24b"),
    ("checkout_queue", "checkout_queue", "waiting for checkout", "#eeca3b"),
    ("checkout", "checkout", "checking out", "#72b7b2"),
    ("virtual_waiting", "virtual", "telehealth, waiting", "#ff9da6"),
    ("telehealth", "virtual", "telehealth visit", "#4c78a8"),
)
STAGE_NAMES = tuple(s[0] for s in STAGES)
_STATION = {s[0]: s[1] for s in STAGES}
_LABEL = {s[0]: s[2] for s in STAGES}
_COLOR = {s[0]: s[3] for s in STAGES}

#: The stage each event moves the patient into (``None``: the patient leaves). ``room_free`` is the
#: room's event (turnover ends), not the patient's.
EVENT_STAGE: dict[str, str | None] = {
    "arrival": "arrived",
    "check_in_begins": "check_in",
    "check_in_ends": "waiting_room",
    "roomed": "room_waiting",
    "rooming_begins": "rooming",
    "rooming_ends": "room_waiting",
    "wait_for_provider_begins": "room_waiting",
    "provider_begins": "with_provider",
    "provider_ends": "checkout_queue",
    "checkout_begins": "checkout",
    "checkout_ends": "checkout",
    "depart": None,
}
_EVENT_RANK = {e: i for i, e in enumerate(EVENT_STAGE)}

#: Floor plan: (x0, x1, y0, y1) of each station's area, and its label.
AREAS = {
    "arrived": ((0.0, 3.0, 0.0, 6.0), "arrived"),
    "desk": ((3.5, 5.0, 0.0, 6.0), "check-in desk"),
    "waiting": ((5.5, 9.5, 0.0, 6.0), "waiting room"),
    "room": ((10.0, 19.0, 0.0, 6.0), "exam rooms"),
    "checkout_queue": ((19.5, 22.0, 0.0, 6.0), "to checkout"),
    "checkout": ((22.5, 24.0, 0.0, 6.0), "checkout desk"),
    "virtual": ((10.0, 19.0, -3.0, -0.7), "telehealth"),
}
_SPACING = 0.45
ROOM_STATES = (("free", "#ffffff"), ("occupied", "#dfe9f3"), ("turnover", "#d9d9d9"))


def day_events(events: pd.DataFrame, run: int = 0, date=None) -> pd.DataFrame:
    """One replication's events on one date (default: the first date of that run)."""
    ev = events[events["run"] == run]
    if date is None and not ev.empty:
        date = min(ev["date"])
    return ev[ev["date"] == date]


def stage_intervals(events: pd.DataFrame) -> pd.DataFrame:
    """Each patient's stages as intervals ``[start, end)`` (minutes since the day's midnight), with the room.

    A stage begins at the event that moves the patient into it and lasts until the next event that
    changes the stage (events at the same minute taken in visit order, so a zero-length stage never
    shows); ``depart`` ends the last one. A patient without a ``depart`` (turned away on arrival) is
    never in the clinic. A telehealth patient (never roomed) waits and is seen in the telehealth area.
    """
    cols = ["patient", "stage", "start", "end", "room", "pathway", "provider"]
    ev = events[events["event"].isin(list(EVENT_STAGE))]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    ev = ev.assign(rank=ev["event"].map(_EVENT_RANK)).sort_values(
        ["patient", "minute", "rank"], kind="stable"
    )
    rooms = events[events["event"] == "roomed"].set_index("patient")["room"]
    room = ev["patient"].map(rooms).fillna("")
    stage = ev["event"].map(EVENT_STAGE)
    virtual = room == ""
    stage = stage.mask(virtual & stage.isin(["arrived", "room_waiting"]), "virtual_waiting")
    stage = stage.mask(virtual & (stage == "with_provider"), "telehealth")
    stage = stage.fillna("gone")
    ev = ev.assign(stage=stage.to_numpy(), room_of=room.to_numpy())
    changed = (ev["stage"] != ev.groupby("patient")["stage"].shift()).to_numpy()
    ev = ev[changed]
    nxt = ev.groupby("patient")["minute"].shift(-1)
    out = pd.DataFrame(
        {
            "patient": ev["patient"].to_numpy(),
            "stage": ev["stage"].to_numpy(),
            "start": ev["minute"].to_numpy(dtype=float),
            "end": nxt.fillna(ev["minute"]).to_numpy(dtype=float),
            "room": ev["room_of"].where(ev["stage"].map(_STATION) == "room", "").to_numpy(),
            "pathway": ev["pathway"].to_numpy(),
            "provider": ev["provider"].to_numpy(),
        }
    )
    return out[out["stage"] != "gone"].reset_index(drop=True)[cols]


def stage_at(events: pd.DataFrame, minute: float, intervals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each patient in the clinic at ``minute``: their stage, since when, and room (``""`` outside one).

    Patients not yet arrived or already departed are absent. Ordered by the time they entered their
    stage, which is the order they queue in.
    """
    iv = stage_intervals(events) if intervals is None else intervals
    here = iv[(iv["start"] <= minute) & (minute < iv["end"])]
    here = here.rename(columns={"start": "since"}).drop(columns="end")
    return here.sort_values(["since", "patient"], kind="stable").reset_index(drop=True)


def room_state_at(events: pd.DataFrame, minute: float) -> dict[str, str]:
    """Each room used that day: ``occupied`` (patient roomed until they leave for checkout),
    ``turnover`` (patient gone, room not yet free again) or ``free``."""
    state = {r: "free" for r in sorted(set(events.loc[events["room"] != "", "room"]))}
    for kind, lo, hi in _room_spans(events):
        m = (lo["minute"].to_numpy() <= minute) & (minute < hi)
        for r in lo["room"].to_numpy()[m]:
            state[r] = kind
    return state


def _room_spans(events: pd.DataFrame):
    """(state, start rows, end minutes) of each room's occupied and turnover spans."""
    by = events.set_index(["patient", "event"])["minute"]
    roomed = events[events["event"] == "roomed"][["patient", "room", "minute"]]
    leave = by.reindex(list(zip(roomed["patient"], ["provider_ends"] * len(roomed), strict=True))).to_numpy()
    free = by.reindex(list(zip(roomed["patient"], ["room_free"] * len(roomed), strict=True))).to_numpy()
    leave = np.where(np.isnan(leave), np.inf, leave)
    free = np.where(np.isnan(free), leave, free)
    yield "occupied", roomed, leave
    yield "turnover", roomed.assign(minute=leave), free


def room_layout(rooms: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Centre of each exam room's box on the floor plan: a grid filling the rooms' area."""
    (x0, x1, y0, y1), _ = AREAS["room"]
    n = max(1, len(rooms))
    cols = int(np.ceil(np.sqrt(n * (x1 - x0) / (y1 - y0))))
    rows = int(np.ceil(n / cols))
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    return {r: (x0 + (i % cols + 0.5) * w, y1 - (i // cols + 0.5) * h) for i, r in enumerate(rooms)}


def _queue_xy(station: str, k: int) -> tuple[float, float]:
    """The ``k``-th patient of a queue area (in order of joining it), filled row by row from the top."""
    (x0, x1, _, y1), _ = AREAS[station]
    per_row = max(1, int((x1 - x0) / _SPACING))
    return x0 + _SPACING * (k % per_row + 0.5), y1 - _SPACING * (k // per_row + 0.5)


def flow_positions(events: pd.DataFrame, minutes: Sequence[float], rooms: Sequence[str]) -> pd.DataFrame:
    """Every patient's stage and floor-plan position at each of ``minutes``: one row per (minute, patient)."""
    centres = room_layout(rooms)
    intervals = stage_intervals(events)
    frames = []
    for m in minutes:
        here = stage_at(events, m, intervals)
        if here.empty:
            continue
        xy = []
        counts: dict[str, int] = {}
        for stage, room in zip(here["stage"], here["room"], strict=True):
            station = _STATION[stage]
            if station == "room":
                xy.append(centres[room])
            else:
                k = counts.get(station, 0)
                counts[station] = k + 1
                xy.append(_queue_xy(station, k))
        here = here.assign(minute=float(m), station=here["stage"].map(_STATION))
        here[["x", "y"]] = np.array(xy, dtype=float)
        frames.append(here)
    cols = ["minute", "patient", "stage", "station", "x", "y", "since", "room", "pathway", "provider"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def frame_minutes(events: pd.DataFrame, step_min: int = 5) -> list[int]:
    """Frame times: every ``step_min`` minutes from the first arrival to the last departure, both rounded
    up (so the first frame shows the first patient and the last an empty clinic)."""
    if events.empty:
        return []
    lo = int(-(-events["minute"].min() // step_min) * step_min)
    hi = int(-(-events["minute"].max() // step_min) * step_min)
    return list(range(lo, hi + 1, step_min))


def _patient_trace(pos: pd.DataFrame) -> go.Scatter:
    hover = [
        f"patient {p} · {t} · {prov}<br>{_LABEL[s]}{f' in {r}' if r else ''} since {format_hhmm(round(since))}"
        for p, t, prov, s, r, since in zip(
            pos["patient"],
            pos["pathway"],
            pos["provider"],
            pos["stage"],
            pos["room"],
            pos["since"],
            strict=True,
        )
    ]
    return go.Scatter(
        x=pos["x"],
        y=pos["y"],
        ids=[str(p) for p in pos["patient"]],
        mode="markers",
        marker={
            "size": 11,
            "color": [_COLOR[s] for s in pos["stage"]],
            "line": {"width": 0.5, "color": "#333"},
        },
        hovertext=hover,
        hoverinfo="text",
        showlegend=False,
        name="patients",
    )


def _room_trace(events: pd.DataFrame, minute: float, centres: dict[str, tuple[float, float]]) -> go.Scatter:
    state = room_state_at(events, minute)
    names = list(centres)
    colours = dict(ROOM_STATES)
    return go.Scatter(
        x=[centres[r][0] for r in names],
        y=[centres[r][1] for r in names],
        mode="markers+text",
        marker={
            "symbol": "square",
            "size": 34,
            "color": [colours[state.get(r, "free")] for r in names],
            "line": {"width": 1, "color": "#555"},
        },
        text=names,
        textposition="top center",
        textfont={"size": 9},
        hovertext=[f"{r}: {state.get(r, 'free')}" for r in names],
        hoverinfo="text",
        showlegend=False,
        name="rooms",
    )


def flow_animation(
    events: pd.DataFrame, rooms: Sequence[str], *, step_min: int = 5, title: str | None = None
) -> go.Figure:
    """Patients moving through the clinic over one day (one replication's events on one date)."""
    minutes = frame_minutes(events, step_min)
    centres = room_layout(rooms)
    pos = flow_positions(events, minutes, rooms)
    by_minute = {m: g for m, g in pos.groupby("minute")}
    empty = pos.iloc[:0]

    def data(m):
        return [_room_trace(events, m, centres), _patient_trace(by_minute.get(float(m), empty))]

    frames = [go.Frame(data=data(m), name=format_hhmm(m), traces=[0, 1]) for m in minutes]
    legend = [
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"size": 11, "color": _COLOR[s]},
            name=_LABEL[s],
            showlegend=True,
        )
        for s in STAGE_NAMES
    ] + [
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            marker={"size": 14, "symbol": "square", "color": c, "line": {"width": 1, "color": "#555"}},
            name=f"room {name}",
            showlegend=True,
        )
        for name, c in ROOM_STATES
    ]
    fig = go.Figure(data=(data(minutes[0]) if minutes else []) + legend, frames=frames)
    for (x0, x1, y0, y1), label in AREAS.values():
        fig.add_shape(
            type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line={"color": "#999", "width": 1}, layer="below"
        )
        fig.add_annotation(x=(x0 + x1) / 2, y=y1, text=f"<b>{label}</b>", showarrow=False, yanchor="bottom")
    slider = {
        "active": 0,
        "currentvalue": {"prefix": "clinic time ", "font": {"size": 16, "color": "#333"}},
        "font": {"color": "rgba(0,0,0,0)"},  # one label per frame is unreadable; the current time is shown
        "x": 0.14,
        "len": 0.86,
        "y": 0,
        "yanchor": "top",
        "pad": {"t": 10},
        "steps": [
            {
                "label": format_hhmm(m),
                "method": "animate",
                "args": [[format_hhmm(m)], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}],
            }
            for m in minutes
        ],
    }
    play = {
        "type": "buttons",
        "direction": "left",
        "x": 0,
        "y": 0,
        "xanchor": "left",
        "yanchor": "top",
        "pad": {"t": 45},
        "buttons": [
            {
                "label": "▶ play",
                "method": "animate",
                "args": [
                    None,
                    {
                        "frame": {"duration": 250, "redraw": False},
                        "transition": {"duration": 200},
                        "fromcurrent": True,
                    },
                ],
            },
            {
                "label": "❚❚ pause",
                "method": "animate",
                "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
            },
        ],
    }
    fig.update_layout(
        title=title or f"Patients through the day, every {step_min} minutes",
        xaxis={"visible": False, "range": [-0.3, 24.3]},
        yaxis={"visible": False, "range": [-3.5, 7.0], "scaleanchor": "x"},
        height=600,
        margin={"l": 10, "r": 10, "t": 50, "b": 90},
        legend={"x": 1.01, "y": 1, "title": {"text": "patients and rooms"}},
        sliders=[slider],
        updatemenus=[play],
        plot_bgcolor="white",
    )
    return fig
