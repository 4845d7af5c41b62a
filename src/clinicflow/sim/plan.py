"""The run plan: a scenario and a schedule turned once into plain arrays the replications share.

Everything that does not depend on the random draws — which patients are booked when and with whom,
which provider works which sessions, which distribution each draw comes from — is resolved here, before
any replication runs, so a replication only samples and simulates. The plan is picklable and is sent
once to each worker process (or scattered to a Dask cluster).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..domain.clock import FIRST_DATE, LAST_DATE, WEEKDAYS, weekday_of
from ..domain.scenario import Scenario
from ..domain.schedule import ARRIVAL_COLUMN
from ..errors import InputError
from ..streams import key_words as stream_key

#: Patients still waiting this many minutes after the clinic closes are counted unseen at close.
HARD_STOP_AFTER_CLOSE_MIN = 240

#: Time-series bins (minutes) and how far past closing they extend.
BIN_MIN = 5
BINS_AFTER_CLOSE_MIN = 60

#: The week simulated when no schedule is given: a fixed Monday, so the same seed gives the same
#: numbers whatever day the command is run (patient draws are keyed by date).
REFERENCE_WEEK = dt.date(2026, 1, 5)


@dataclass(frozen=True)
class SessionPlan:
    """One provider session on one day. ``working`` is the session minus its breaks."""

    sid: int
    day: int
    provider: int
    start: int
    end: int
    breaks: tuple[tuple[int, int], ...]
    working: tuple[tuple[int, int], ...]

    @property
    def working_min(self) -> int:
        return sum(b - a for a, b in self.working)


@dataclass(frozen=True)
class HoldPlan:
    """An empty same-day slot a walk-in can fill."""

    provider: int
    start: int
    end: int
    sid: int


@dataclass(frozen=True)
class DayPlan:
    index: int
    date: dt.date
    weekday: str
    opens: int
    closes: int
    #: Front-desk clerks and MAs on duty: ``(start, end, count)`` over the opening hours
    #: (``Staff.steps``: the day's count, or a shift's for part of the day).
    desk: tuple[tuple[int, int, int], ...]
    mas: tuple[tuple[int, int, int], ...]
    sessions: dict[int, tuple[SessionPlan, ...]]
    patients: np.ndarray  # indices into the plan's patient table
    holds: tuple[HoldPlan, ...]
    walk_in_windows: tuple[tuple[int, int, int, float], ...]  # (hour, start, end, expected count)
    #: Key words of each window's keyed stream ("walk-ins", date, hour), hashed once per plan.
    walk_in_words: tuple[tuple[int, ...], ...] = ()

    @property
    def hard_stop(self) -> int:
        return self.closes + HARD_STOP_AFTER_CLOSE_MIN


@dataclass
class Plan:
    """Scenario + schedule resolved to arrays. Indices: providers and types by position."""

    scenario: Scenario
    providers: list[str]
    types: list[str]
    rooms: list[str]
    exam_rooms: list[int]
    procedure_rooms: list[int]
    days: list[DayPlan]
    sessions: list[SessionPlan]
    # The scheduled patients (hold rows excluded), one entry per schedule row.
    p_day: np.ndarray
    p_provider: np.ndarray
    p_type: np.ndarray
    p_appt: np.ndarray
    p_session: np.ndarray
    p_no_show: np.ndarray
    p_cancel: np.ndarray
    p_keys: list[tuple]
    #: A replay's recorded arrival of each patient (minutes since midnight; NaN: drawn from the
    #: scenario's punctuality). From the schedule frame's optional ``ARRIVAL_COLUMN``.
    p_arrival: np.ndarray
    #: Key words of each patient's keyed stream (``key_words``).
    p_key_words: list[tuple[int, ...]]
    # Per type (by index).
    t_in_person: np.ndarray
    t_needs_ma: np.ndarray
    t_procedure: np.ndarray
    t_checkout: np.ndarray
    #: visit_dist[provider][type]: the provider's duration distribution (override first).
    visit_dist: list[list[object]]
    #: Walk-in mix as (type indices, cumulative probabilities).
    walk_in_types: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    walk_in_cum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Derived arrays built on first use (e.g. by ``kpis.static``), kept with the plan they belong to.
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_patients(self) -> int:
        return len(self.p_day)


def key_words(keys: list[tuple]) -> list[tuple[int, ...]]:
    """The key words of each patient's keyed stream (hashing done once per plan, not per replication)."""
    return [stream_key("patient", *key) for key in keys]


def _working(start: int, end: int, breaks: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out, t = [], start
    for a, b in sorted(breaks):
        if a > t:
            out.append((t, a))
        t = max(t, b)
    if end > t:
        out.append((t, end))
    return tuple(out)


def parse_days(days, scenario: Scenario) -> tuple[set[str], set[dt.date]]:
    """Split a ``days`` filter into weekdays and explicit dates."""
    if days is None:
        return set(), set()
    if isinstance(days, (str, dt.date)):
        days = [days]
    weekdays, dates = set(), set()
    for d in days:
        if isinstance(d, dt.date):
            dates.add(d)
            continue
        text = str(d).strip().lower()
        if text in WEEKDAYS:
            weekdays.add(text)
            continue
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(
                None, "days", f"expected weekdays (mon, tue, …) or dates like 2026-01-05, got {d!r}"
            ) from None
        if not FIRST_DATE <= date <= LAST_DATE:
            raise InputError(
                None, "days", f"expected dates between {FIRST_DATE} and {LAST_DATE}, got {date.isoformat()}"
            )
        dates.add(date)
    return weekdays, dates


def select_days(schedule: pd.DataFrame, scenario: Scenario, days) -> list[dt.date]:
    """The dates to simulate: the schedule's dates, plus explicit dates in ``days``, filtered by ``days``."""
    weekdays, dates = parse_days(days, scenario)
    present = set(schedule["date"]) if len(schedule) else set()
    if dates and not weekdays:
        chosen = dates
    else:
        chosen = {d for d in present | dates if not weekdays or weekday_of(d) in weekdays}
    c = scenario.clinic
    chosen = {d for d in chosen if (weekday_of(d) in c.days_open and d not in c.closed_dates) or d in present}
    if not chosen and not present and not dates:
        raise InputError(
            None, "schedule", "no slot to simulate (the schedule is empty: no provider session?)"
        )
    if not chosen:
        raise InputError(None, "days", "no day to simulate (the schedule has no row on the chosen days)")
    return sorted(chosen)


def build_plan(scenario: Scenario, schedule: pd.DataFrame, dates: list[dt.date]) -> Plan:
    """Resolve the schedule rows on ``dates`` against the scenario (see module docstring)."""
    s = scenario
    providers = [p.id for p in s.providers]
    prov_ix = {p: i for i, p in enumerate(providers)}
    types = [t.id for t in s.appointment_types]
    type_ix = {t: i for i, t in enumerate(types)}
    rooms = s.rooms.room_ids
    proc_set = set(s.rooms.procedure_rooms)
    exam_rooms = [i for i, r in enumerate(rooms) if r not in proc_set] or list(range(len(rooms)))
    procedure_rooms = [i for i, r in enumerate(rooms) if r in proc_set]
    tmap = s.type_by_id

    sched = schedule[schedule["date"].isin(set(dates))]
    # The rows as plain arrays, grouped by date once: filtering the frame per date and provider was
    # quadratic in a long schedule (a synthetic history's thousands of days); rows keep their order.
    s_prov = sched["provider"].astype(object).to_numpy()
    s_start = sched["start_min"].to_numpy()
    s_end = sched["end_min"].to_numpy()
    s_kind = sched["kind"].tolist()
    s_type = sched["appointment_type"].tolist()
    s_ns = sched["no_show_prob"].tolist()
    s_arr = (
        sched[ARRIVAL_COLUMN].to_numpy(dtype=float)
        if ARRIVAL_COLUMN in sched
        else np.full(len(sched), np.nan)
    )
    by_date: dict[dt.date, list[int]] = {}
    for i, d in enumerate(sched["date"].tolist()):
        by_date.setdefault(d, []).append(i)
    sessions: list[SessionPlan] = []
    days: list[DayPlan] = []
    cols: dict[str, list] = {k: [] for k in ("day", "prov", "type", "appt", "sid", "ns", "lc", "arr")}
    keys: list[tuple] = []
    for di, date in enumerate(dates):
        wd = weekday_of(date)
        rows = np.array(by_date.get(date, []), dtype=int)
        by_prov: dict[int, tuple[SessionPlan, ...]] = {}
        for pi, prov in enumerate(s.providers):
            spans = [
                (x.start, x.end, tuple((b.start, b.end) for b in x.breaks)) for x in s.sessions_on(prov, date)
            ]
            mine = rows[s_prov[rows] == prov.id]
            if len(mine):
                # Rows outside every session (a planner's extra slot) get a session of their own span.
                lo, hi = int(s_start[mine].min()), int(s_end[mine].max())
                if not spans:
                    spans = [(lo, hi, ())]
            if not spans:
                continue
            plans = []
            for a, b, brk in sorted(spans):
                sp = SessionPlan(len(sessions), di, pi, a, b, brk, _working(a, b, brk))
                sessions.append(sp)
                plans.append(sp)
            by_prov[pi] = tuple(plans)

        def session_of(pi: int, start: int, _by=by_prov) -> int:
            cands = _by[pi]
            for sp in cands:
                if sp.start <= start < sp.end:
                    return sp.sid
            before = [sp for sp in cands if sp.start <= start]
            return (before[-1] if before else cands[0]).sid

        first = len(cols["day"])
        holds = []
        seen_keys: dict[tuple, int] = {}
        for i in rows.tolist():
            provider, start = s_prov[i], int(s_start[i])
            pi = prov_ix[provider]
            sid = session_of(pi, start)
            if s_kind[i] == "hold":
                holds.append(HoldPlan(pi, start, int(s_end[i]), sid))
                continue
            base = (date.isoformat(), provider, start)
            k = seen_keys.get(base, 0)
            seen_keys[base] = k + 1
            keys.append((*base, k))
            t = tmap[s_type[i]]
            ns = float(s_ns[i]) if not pd.isna(s_ns[i]) else t.no_show
            cols["day"].append(di)
            cols["prov"].append(pi)
            cols["type"].append(type_ix[s_type[i]])
            cols["appt"].append(float(start))
            cols["sid"].append(sid)
            cols["ns"].append(ns)
            cols["lc"].append(min(t.late_cancel, 1.0 - ns))
            cols["arr"].append(s_arr[i])
        windows = []
        opens, closes = s.clinic.opens, s.clinic.closes
        for hour in range(opens // 60, (closes + 59) // 60):
            a, b = max(hour * 60, opens), min(hour * 60 + 60, closes)
            rate = s.arrivals.walk_in_rate(hour)
            if b > a and rate > 0:
                windows.append((hour, a, b, rate * (b - a) / 60.0))
        days.append(
            DayPlan(
                index=di,
                date=date,
                weekday=wd,
                opens=opens,
                closes=closes,
                desk=s.staff.steps("front_desk", wd, opens, closes),
                mas=s.staff.steps("medical_assistants", wd, opens, closes),
                sessions=by_prov,
                patients=np.arange(first, len(cols["day"])),
                holds=tuple(sorted(holds, key=lambda h: (h.start, h.provider))),
                walk_in_windows=tuple(windows),
                walk_in_words=tuple(stream_key("walk-ins", date.isoformat(), w[0]) for w in windows),
            )
        )

    at = s.appointment_types
    visit_dist = [[s.visit_duration(p.id, t.id) for t in at] for p in s.providers]
    mix = s.arrivals.walk_in_mix
    wt = np.array([type_ix[t] for t in mix], dtype=int)
    w = np.array(list(mix.values()), dtype=float)
    cum = np.cumsum(w) / w.sum() if len(w) and w.sum() > 0 else np.zeros(0)
    return Plan(
        scenario=s,
        providers=providers,
        types=types,
        rooms=rooms,
        exam_rooms=exam_rooms,
        procedure_rooms=procedure_rooms,
        days=days,
        sessions=sessions,
        p_day=np.array(cols["day"], dtype=int),
        p_provider=np.array(cols["prov"], dtype=int),
        p_type=np.array(cols["type"], dtype=int),
        p_appt=np.array(cols["appt"], dtype=float),
        p_session=np.array(cols["sid"], dtype=int),
        p_no_show=np.array(cols["ns"], dtype=float),
        p_cancel=np.array(cols["lc"], dtype=float),
        p_keys=keys,
        p_arrival=np.array(cols["arr"], dtype=float),
        p_key_words=key_words(keys),
        t_in_person=np.array([t.needs_room for t in at]),
        t_needs_ma=np.array([t.needs_ma for t in at]),
        t_procedure=np.array([t.procedure for t in at]),
        t_checkout=np.array([t.checkout and t.needs_room for t in at]),
        visit_dist=visit_dist,
        walk_in_types=wt,
        walk_in_cum=cum,
    )
