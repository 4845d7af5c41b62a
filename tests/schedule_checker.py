"""An independent checker of a planned schedule's hard constraints.

Written from the scenario and the issue's rules alone — it imports nothing from
``clinicflow.solver`` — so a solver bug cannot hide behind a shared helper. It reads schedules
as normalized frames (``clinicflow.domain.schedule.validate_schedule``) and returns a list of
violations in words; an empty list means every rule holds.

Conventions it checks (documented in docs/planning.md):
- a slot occupies ``[start, end)`` of its provider, inside one session and outside its breaks;
- an in-person slot holds an exam room for ``[start, end + ceil(mean turnover))``; a provider has
  at most ``rooms_at_once`` such intervals at once; rooms are assigned, procedure slots in
  procedure rooms, no two intervals overlap in one room;
- MAs: in every window of ``MA_WINDOW`` minutes, the *expected* MA-minutes of rooming (a patient
  who comes while no MA is on duty waits for the next one) fit in the MA-minutes on duty (``staff.shifts`` where one covers a minute, else the day's count; before
  opening and after closing the first and last counts of the day hold), within ``MA_TOLERANCE`` MAs
  for this checker's Monte Carlo. Each template slot's patient comes with probability
  ``1 - no_show - late_cancel``, arrives at ``start + lateness`` (later than ``late_cutoff_min``:
  rebooked, never roomed), checks in at the desk if one is on duty that day, then is roomed for a
  rooming time; a provider's patients are roomed in the provider's rooms, so their expected number
  in rooming is capped at ``rooms_at_once`` each minute;
- at most two patients share a provider's start time (a double-booked slot).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pandas as pd

MA_DRAWS = 20_000  # per appointment type; the standard error of a minute's load is below 0.005 MA
MA_TOLERANCE = 0.05  # MAs: Monte Carlo error here against the planner's quadrature
MA_WINDOW = 15  # minutes


def _ceil(x: float) -> int:
    return math.ceil(x - 1e-9)


def _rooming_load(scenario, type_id: str, with_desk: bool) -> tuple[int, np.ndarray]:
    """Expected patients in rooming in each minute after a slot's start (offset, per-minute load),
    by Monte Carlo on a tenth-of-a-minute grid — on purpose not the planner's quadrature."""
    t = scenario.type_by_id[type_id]
    rng = np.random.default_rng(20261130)
    late = scenario.arrivals.punctuality.sample(rng, MA_DRAWS)
    cutoff = scenario.arrivals.late_cutoff_min
    comes = (rng.random(MA_DRAWS) >= t.no_show + t.late_cancel) & (
        late <= (np.inf if cutoff is None else cutoff)
    )
    begin = late + (scenario.staff.front_desk.check_in_min.sample(rng, MA_DRAWS) if with_desk else 0.0)
    end = begin + t.rooming_min.sample(rng, MA_DRAWS)
    lo = math.floor(begin.min())
    tenth = np.zeros(10 * (math.ceil(end.max()) - lo + 2))
    np.add.at(tenth, np.rint(10 * (begin[comes] - lo)).astype(int), 1.0)
    np.add.at(tenth, np.rint(10 * (end[comes] - lo)).astype(int), -1.0)
    per_minute = np.cumsum(tenth).reshape(-1, 10).mean(axis=1) / MA_DRAWS
    return lo, per_minute


def _wait_for_an_ma(one: np.ndarray, mas: np.ndarray) -> np.ndarray:
    """One slot's expected rooming with the part that falls where no MA is on duty done in the
    first minutes an MA is, one patient at a time (the patient waits for the MAs' shift); rooming
    with no MA later that day is left where it is, and fails the limit."""
    nz = np.flatnonzero(one)
    on = np.flatnonzero(mas)
    if not len(nz) or not len(on) or (mas[nz[0] : nz[-1] + 1] > 0).all():
        return one
    out = one.copy()
    backlog = 0.0
    for t in range(int(nz[0]), int(on[-1]) + 1):
        if mas[t] == 0:
            backlog += out[t]
            out[t] = 0.0
        elif backlog > 0:
            add = min(1.0 - out[t], backlog)
            out[t] += add
            backlog -= add
        elif t > nz[-1]:
            break
    out[min(int(on[-1]) + 1, len(out) - 1)] += backlog  # no MA left to room them
    return out


def _max_overlap(intervals: list[tuple[int, int]]) -> tuple[int, int]:
    """The largest number of intervals covering one minute, and a minute where it happens."""
    events = sorted([(s, 1) for s, e in intervals if e > s] + [(e, -1) for s, e in intervals if e > s])
    best, at, cur = 0, None, 0
    for t, d in events:
        cur += d
        if cur > best:
            best, at = cur, t
    return best, at


def _mas_at(scenario, weekday: str, minute: int) -> int:
    c = scenario.clinic
    minute = min(max(minute, c.opens), c.closes - 1)
    for sh in scenario.staff.shifts:
        if weekday in sh.days and sh.medical_assistants is not None and sh.start <= minute < sh.end:
            return sh.medical_assistants
    return scenario.staff.mas_on(weekday)


def _away(scenario, prov: str, date, start: int, end: int) -> str | None:
    """Why ``prov`` does not work ``start``-``end`` on ``date`` (closed clinic, time off, a dated OR
    block), else None: read from the scenario's fields here, not from ``Scenario.sessions_on``."""
    date = pd.Timestamp(date).date()
    if date in scenario.clinic.closed_dates:
        return "clinic closed that date"
    for t in scenario.provider_by_id[prov].time_off:
        last = t.until or t.date
        if t.date <= date <= last and (t.start is None or (t.start < end and start < t.end)):
            return "time off"
    for b in scenario.surgery.blocks if scenario.surgery else []:
        travel = next(f.travel_min for f in scenario.surgery.facilities if f.id == b.facility)
        if b.surgeon == prov and b.date == date and b.start < end + travel and start < b.end + travel:
            return "in the OR (or on the way)"
    return None


def check_schedule(scenario, schedule: pd.DataFrame, *, template: pd.DataFrame | None = None) -> list[str]:
    """Violations of the hard constraints in ``schedule`` (``template``: the pre-booking schedule,
    used for the hold and per-session count rules; defaults to ``schedule``)."""
    out: list[str] = []
    types = scenario.type_by_id
    provs = scenario.provider_by_id
    turnover = _ceil(scenario.rooms.turnover_min.mean)
    proc_rooms = set(scenario.rooms.procedure_rooms)
    template = schedule if template is None else template
    profiles: dict = {}

    def session_of(row):
        for k, sess in enumerate(
            sorted(provs[row.provider].sessions.get(row.weekday, []), key=lambda s: s.start)
        ):
            if sess.start <= row.start_min and row.end_min <= sess.end:
                return k, sess
        return None, None

    for row in schedule.itertuples():
        t = types[row.appointment_type]
        p = provs[row.provider]
        where = f"{row.provider} {row.date} {row.start}"
        if row.weekday not in scenario.clinic.days_open:
            out.append(f"{where}: clinic closed on {row.weekday}")
        if row.appointment_type not in p.appointment_types:
            out.append(f"{where}: provider does not see {row.appointment_type}")
        if row.end_min - row.start_min != t.scheduled_min:
            out.append(f"{where}: slot length {row.end_min - row.start_min} != scheduled {t.scheduled_min}")
        _k, sess = session_of(row)
        if sess is None:
            out.append(f"{where}: slot outside the provider's sessions")
        elif (away := _away(scenario, row.provider, row.date, sess.start, sess.end)) is not None:
            out.append(f"{where}: slot in a session not worked that date ({away})")
        else:
            for b in sess.breaks:
                if row.start_min < b.end and b.start < row.end_min:
                    out.append(f"{where}: slot overlaps a break")
        if t.allowed_windows and not any(
            w.start <= row.start_min and row.end_min <= w.end and (not w.days or row.weekday in w.days)
            for w in t.allowed_windows
        ):
            out.append(f"{where}: {row.appointment_type} outside its allowed windows")
        if t.needs_room:
            if not isinstance(row.room, str):
                out.append(f"{where}: in-person slot without a room")
            elif t.procedure and row.room not in proc_rooms:
                out.append(f"{where}: procedure in non-procedure room {row.room}")
        elif isinstance(row.room, str):
            out.append(f"{where}: telehealth slot holds room {row.room}")
        if row.kind == "booked" and not isinstance(row.patient_ref, str):
            out.append(f"{where}: booked slot without a patient reference")
        if row.kind != "booked" and isinstance(row.patient_ref, str):
            out.append(f"{where}: unbooked slot carries a patient reference")

    for (date, prov), g in schedule.groupby(["date", "provider"]):
        starts = Counter(g["start_min"])
        if starts and max(starts.values()) > 2:
            out.append(f"{prov} {date}: more than two patients at one start time")
        inperson = [
            (r.start_min, r.end_min + turnover)
            for r in g.itertuples()
            if types[r.appointment_type].needs_room
        ]
        n, at = _max_overlap(inperson)
        if n > provs[prov].rooms_at_once:
            out.append(
                f"{prov} {date}: {n} patients roomed at once at minute {at} (rooms_at_once {provs[prov].rooms_at_once})"
            )

    for date, g in schedule.groupby("date"):
        inperson = [r for r in g.itertuples() if types[r.appointment_type].needs_room]
        n, at = _max_overlap([(r.start_min, r.end_min + turnover) for r in inperson])
        if n > scenario.rooms.n:
            out.append(f"{date}: {n} rooms in use at minute {at} (only {scenario.rooms.n})")
        by_room = defaultdict(list)
        for r in inperson:
            if isinstance(r.room, str):
                by_room[r.room].append((r.start_min, r.end_min + turnover))
        for room, ivs in by_room.items():
            n, at = _max_overlap(ivs)
            if n > 1:
                out.append(f"{date}: room {room} double-used at minute {at}")

    # MAs: the expected rooming load of the template's slots (booking a request into a hold keeps
    # the hold's times and needs no more rooming, so the template is what the MAs were planned for).
    for date, g in template.groupby("date"):
        weekday = g["weekday"].iloc[0]
        c = scenario.clinic
        desk = any(n for *_, n in scenario.staff.steps("front_desk", weekday, c.opens, c.closes))
        load = np.zeros(24 * 60 + 240)
        mas = np.array([_mas_at(scenario, weekday, m) for m in range(len(load))], dtype=float)
        for prov, pg in g.groupby("provider"):
            mine = np.zeros_like(load)
            for r in pg.itertuples():
                if types[r.appointment_type].needs_ma:
                    if (r.appointment_type, desk) not in profiles:
                        profiles[(r.appointment_type, desk)] = _rooming_load(
                            scenario, r.appointment_type, desk
                        )
                    off, q = profiles[(r.appointment_type, desk)]
                    one = np.zeros_like(load)
                    one[r.start_min + off : r.start_min + off + len(q)] += q
                    mine += _wait_for_an_ma(one, mas)
            load += np.minimum(mine, provs[prov].rooms_at_once)
        for at in np.flatnonzero(load > 0):
            need = load[at : at + MA_WINDOW].sum()
            have = mas[at : at + MA_WINDOW].sum()
            if need > have + MA_TOLERANCE * MA_WINDOW:
                out.append(
                    f"{date}: {need:.1f} expected MA-minutes of rooming in the {MA_WINDOW} minutes from "
                    f"minute {at} (only {have:.0f} on duty)"
                )
                break

    # Holds and per-session counts, on the template (before booking fills holds).
    bounds = _per_session_bounds(scenario)
    seen_sessions = set()
    for (date, prov), g in template.groupby(["date", "provider"]):
        wd = g["weekday"].iloc[0]
        for k, sess in enumerate(sorted(provs[prov].sessions.get(wd, []), key=lambda s: s.start)):
            if _away(scenario, prov, date, sess.start, sess.end) is not None:
                continue  # a cancelled session keeps no holds
            seen_sessions.add((date, prov, k))
            inside = g[(g["start_min"] >= sess.start) & (g["end_min"] <= sess.end)]
            holds = int((inside["kind"] == "hold").sum())
            if holds != sess.holds:
                out.append(f"{prov} {date} session {k}: {holds} holds, expected {sess.holds}")
            regular = inside[inside["kind"] != "hold"]
            for tid, (lo, hi) in bounds.get(prov, {}).items():
                c = int((regular["appointment_type"] == tid).sum())
                if lo is not None and c < lo:
                    out.append(f"{prov} {date} session {k}: {c} {tid} < min_per_session {lo}")
                if hi is not None and c > hi:
                    out.append(f"{prov} {date} session {k}: {c} {tid} > max_per_session {hi}")
    return out


def _per_session_bounds(scenario) -> dict:
    specific = {(d.type, d.provider) for d in scenario.demand if d.provider}
    out: dict = defaultdict(dict)
    for d in scenario.demand:
        provs = (
            [d.provider]
            if d.provider
            else [
                p.id
                for p in scenario.providers
                if d.type in p.appointment_types and (d.type, p.id) not in specific
            ]
        )
        for p in provs:
            lo, hi = out[p].get(d.type, (None, None))
            if d.min_per_session is not None:
                lo = max(lo or 0, d.min_per_session)
            if d.max_per_session is not None:
                hi = d.max_per_session if hi is None else min(hi, d.max_per_session)
            out[p][d.type] = (lo, hi)
    return out


def check_booking(
    schedule: pd.DataFrame, template: pd.DataFrame, requests_df: pd.DataFrame, scenario, release_through=None
) -> list[str]:
    """Booked rows honour their request: type (or an urgent request in a hold), provider, dates;
    one booking per request and per patient per day; times unchanged from the template."""
    out = []
    reqs = {r.patient_ref: r for r in requests_df.itertuples()}
    per_patient_day = Counter()
    key_cols = ["date", "provider", "start_min"]
    tmpl_keys = Counter(map(tuple, template[key_cols].itertuples(index=False)))
    sched_keys = Counter(map(tuple, schedule[key_cols].itertuples(index=False)))
    if tmpl_keys != sched_keys:
        out.append("booking moved, added or removed slots")
    booked = schedule[schedule["kind"] == "booked"]
    counts = Counter(booked["patient_ref"])
    for row in booked.itertuples():
        req = reqs.get(row.patient_ref)
        if req is None:
            out.append(f"{row.provider} {row.date} {row.start}: booked for an unknown request")
            continue
        d = row.date.isoformat()
        if not (req.earliest_date <= d <= req.latest_date):
            out.append(f"{row.provider} {d} {row.start}: outside the request's dates")
        if row.appointment_type != req.appointment_type:
            out.append(f"{row.provider} {d} {row.start}: type differs from the request")
        was = template[
            (template["date"] == row.date)
            & (template["provider"] == row.provider)
            & (template["start_min"] == row.start_min)
        ]["kind"]
        released = release_through is not None and row.date <= release_through  # book --release-holds
        if "hold" in set(was) and "template" not in set(was) and req.urgency != "urgent" and not released:
            out.append(f"{row.provider} {d} {row.start}: a non-urgent request took a same-day hold")
        per_patient_day[(row.patient_ref, d)] += 1
    # requests in the example file are one per patient
    if any(c > 1 for c in counts.values()) and requests_df["patient_ref"].is_unique:
        out.append("a request was booked twice")
    if any(c > 1 for c in per_patient_day.values()):
        out.append("a patient has two bookings on one day")
    return out
