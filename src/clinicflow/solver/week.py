"""The week to plan, cut into the pieces the solvers work on.

A *provider-session* is one provider's session on one date. It is cut at breaks into *blocks*
(the provider works continuously inside a block) and each block at the boundaries of the
appointment types' allowed windows (and where the MAs on duty change) into *segments*: a segment lies
wholly inside or wholly outside every window, so "new patients only 08:00-11:00" becomes "no
new-patient slot in this segment".
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..domain.clock import WEEKDAYS, format_hhmm
from ..domain.scenario import CLOSED, Cancelled, Scenario

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    weekday: str = ""  # for windows that apply on some days only ("": any day)

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Block:
    """A stretch of a session without a break."""

    start: int
    end: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class ProviderSession:
    date: dt.date
    weekday: str
    provider: str
    index: int  # position of the session in the provider's day
    start: int
    end: int
    holds: int
    blocks: tuple[Block, ...]

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.date.isoformat(), self.provider, self.index)

    @property
    def minutes(self) -> int:
        return sum(b.end - b.start for b in self.blocks)

    @property
    def segments(self) -> list[Segment]:
        return [s for b in self.blocks for s in b.segments]

    def label(self) -> str:
        """Plain words, e.g. ``dr_chen Monday 2026-11-30 09:00-12:30``."""
        return (
            f"{self.provider} {DAY_NAMES[self.weekday]} {self.date.isoformat()} "
            f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"
        )


def week_dates(monday: dt.date, scenario: Scenario) -> list[dt.date]:
    """The open dates of the week starting ``monday`` (less the clinic's closed dates)."""
    c = scenario.clinic
    dates = (monday + dt.timedelta(days=i) for i, wd in enumerate(WEEKDAYS) if wd in c.days_open)
    return [d for d in dates if d not in c.closed_dates]


def week_cancellations(scenario: Scenario, monday: dt.date) -> list[Cancelled]:
    """The weekly sessions not worked in the week starting ``monday`` (closures, time off, dated OR
    blocks), each with its reason, for the coordinator's summary and kpis.json."""
    days = (monday + dt.timedelta(days=i) for i, wd in enumerate(WEEKDAYS) if wd in scenario.clinic.days_open)
    return [c for d in days for c in scenario.cancelled_on(d)]


def describe_cancellations(cancelled: list[Cancelled]) -> list[str]:
    """The week's sessions not worked, in as few lines as a coordinator reads them: a closed date is
    one line for the whole clinic, one absence one line per provider (its dates, and the sessions'
    hours when it is a single day).

    ``Thu 2026-12-24: the clinic is closed (12 sessions)``;
    ``dr_lindqvist Mon 2026-12-21 to Wed 2026-12-23 (5 sessions): time off … (leave)``;
    ``np_haddad Tue 2026-12-22 13:00-17:00: time off 13:00-17:00 (CME course)``.
    """

    def day(d: dt.date) -> str:
        return f"{DAY_NAMES[WEEKDAYS[d.weekday()]][:3]} {d.isoformat()}"

    grouped: dict[tuple, list[Cancelled]] = {}
    for c in cancelled:
        whole_clinic = c.why == CLOSED
        key = (c.date, "", c.why) if whole_clinic else (None, c.provider, c.why)
        grouped.setdefault(key, []).append(c)
    lines = []
    for (date, prov, why), cs in grouped.items():
        first = min(c.date for c in cs)
        if date is not None:
            lines.append((first, f"{day(date)}: {why} ({_sessions(len(cs))})"))
            continue
        dates = sorted({c.date for c in cs})
        if len(dates) == 1:
            spans = ", ".join(f"{format_hhmm(c.session.start)}-{format_hhmm(c.session.end)}" for c in cs)
            lines.append((first, f"{prov} {day(first)} {spans}: {why}"))
        else:
            lines.append((first, f"{prov} {day(dates[0])} to {day(dates[-1])} ({_sessions(len(cs))}): {why}"))
    return [text for _, text in sorted(lines, key=lambda x: x[0])]


def _sessions(n: int) -> str:
    return f"{n} session" + ("" if n == 1 else "s")


def window_bounds(scenario: Scenario, types: list[str]) -> set[int]:
    out: set[int] = set()
    for t in types:
        for w in scenario.type_by_id[t].allowed_windows:
            out.update((w.start, w.end))
    return out


def ma_bounds(scenario: Scenario, weekday: str) -> set[int]:
    """The minutes of ``weekday`` at which the number of MAs on duty changes (staff shifts), so a
    segment has one MA count throughout and the template's MA rows see an MA-free morning."""
    c = scenario.clinic
    steps = scenario.staff.steps("medical_assistants", weekday, c.opens, c.closes)
    return {a for a, _b, _n in steps[1:]}


def provider_sessions(scenario: Scenario, monday: dt.date) -> list[ProviderSession]:
    """Every provider-session of the week, in date, start time and provider order."""
    out: list[ProviderSession] = []
    for date in week_dates(monday, scenario):
        wd = WEEKDAYS[date.weekday()]
        for p in scenario.providers:
            cuts = window_bounds(scenario, p.appointment_types)
            if any(scenario.type_by_id[t].needs_ma for t in p.appointment_types):
                cuts |= ma_bounds(scenario, wd)
            for k, sess in enumerate(scenario.sessions_on(p, date)):
                blocks = []
                t = sess.start
                for b in [*sorted(sess.breaks, key=lambda b: b.start), None]:
                    b_end = sess.end if b is None else b.start
                    if b_end > t:
                        inner = sorted(c for c in cuts if t < c < b_end)
                        edges = [t, *inner, b_end]
                        segs = tuple(Segment(a, z, wd) for a, z in itertools.pairwise(edges))
                        blocks.append(Block(t, b_end, segs))
                    if b is not None:
                        t = b.end
                out.append(
                    ProviderSession(date, wd, p.id, k, sess.start, sess.end, sess.holds, tuple(blocks))
                )
    out.sort(key=lambda ps: (ps.date, ps.start, ps.provider))
    return out


def hold_type(scenario: Scenario, provider_id: str) -> str:
    """The appointment type a same-day hold is reserved as.

    Holds are for phone-triage and urgent patients, so the type walk-ins are seen as (the largest
    share of ``walk_in_mix``, non-procedure types first) comes first, then the shortest in-person
    type open to any patient, then the shortest type the provider sees — in each, types without
    ``allowed_windows`` first. A hold lies only where its type is allowed.
    """
    p = scenario.provider_by_id[provider_id]
    types = scenario.type_by_id
    # A hold keeps provider time for a patient not yet known; it should not also lock one of the
    # few procedure rooms all week, so procedure types come last.
    mix = sorted(
        (
            (not types[t].procedure, w, t)
            for t, w in scenario.arrivals.walk_in_mix.items()
            if t in p.appointment_types
        ),
        reverse=True,
    )
    if mix:
        return mix[0][2]
    anyp = [t for t in p.appointment_types if types[t].patient == "any" and types[t].needs_room]
    pool = anyp or list(p.appointment_types)
    # A hold keeps its type's allowed windows, so a type open all day goes first: one with windows
    # could leave a session no segment to keep its holds in.
    return min(pool, key=lambda t: (bool(types[t].allowed_windows), types[t].scheduled_min, t))


def type_allowed_in(scenario: Scenario, type_id: str, seg: Segment) -> bool:
    """Whether a slot of ``type_id`` may lie in ``seg`` under the type's allowed windows."""
    return scenario.type_by_id[type_id].allowed_in(seg.weekday, seg.start, seg.end)


def ceil_min(x: float) -> int:
    return math.ceil(x - 1e-9)


def ma_by_minute(scenario: Scenario, weekday: str, minutes: int = 24 * 60 + 240) -> np.ndarray:
    """MAs on duty in each minute of the day (``Staff.steps``); before opening and after closing
    the first and last counts hold, so a session that runs late is not left without MAs."""
    c = scenario.clinic
    steps = scenario.staff.steps("medical_assistants", weekday, c.opens, c.closes)
    out = np.full(minutes, steps[0][2], dtype=np.int32)
    for a, b, n in steps:
        out[a:b] = n
    out[c.closes :] = steps[-1][2]
    return out
