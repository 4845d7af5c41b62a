"""KPI definitions, and their plain one-replication form (``compute``, ``timeseries``).

The simulator computes them batched over many replications (``kpi_batch.py``, tested equal to the
forms here); these stay as the readable statement of each definition.

Definitions (all times in minutes):

* **wait** of a patient seen = provider start − max(arrival, appointment time), and zero for a patient
  seen before the appointment time (an early patient the provider takes early has not waited; a
  negative wait would let early visits cancel other patients' waiting). A patient who arrives
  early does not wait before the appointment time; a late patient waits from arrival. For walk-ins the
  appointment time is the arrival (or the start of the hold slot they fill). ``mean_wait_min``,
  ``p90_wait_min`` and ``total_wait_min`` are over patients seen; ``total_wait_min`` is the wait term of
  the cost.
* **time in clinic** = exit − arrival, in-person patients seen.
* **provider idle** = the provider waiting for a patient still to come: working minutes (breaks
  excluded) from the session start until the end of the session's last visit, past the session
  end too, not spent with a patient — the server idle time of the appointment-scheduling
  literature (Denton & Gupta 2003; Robinson & Chen 2003; Cayirli & Veral 2003). Minutes after the
  last visit are not idle but **provider unused** (``provider_unused_min``): capacity no timing of
  the same patients could fill. A session in which nobody is seen has zero idle and all its
  working minutes unused — unless a patient of it is still waiting unseen at the hard stop: then
  the provider is waiting for a patient still to come up to the session end at least. Walk-ins are patients of the session whose hold or time they take.
  Overtime minutes spent waiting are idle as well as overtime (as in the literature); the stretch
  past a session end stops where the provider's next session starts;
  **overtime** = how far the last visit of a session ends past the session end;
  **provider utilization** = minutes with a patient / (working minutes + overtime), from busy
  time directly (so idle + unused + busy = working minutes + overtime, up to visits that run
  into a break or the next session).
* **room / MA / desk utilization** = busy minutes / (units × opening hours); for MAs and clerks the
  units are those on duty at each time (``staff.shifts``); rooms are busy from rooming until
  turnover ends; desk time is check-in plus checkout.
* **max waiting room** = most in-person patients at once between arrival and being roomed.
* **cost** = ``costs.wait_per_min`` × total wait + ``idle_per_min`` × idle + ``overtime_per_min`` × overtime.
* **staff overtime** = person-minutes the front desk and MAs on duty at closing time stay past it,
  until the day's last in-person patient has left (a patient still waiting at the hard stop keeps
  them to it).
* **overtime pay** = what the overtime minutes cost the practice, in the scenario's currency: each
  provider's overtime at their ``hourly_cost`` × ``costs.provider_overtime_rate``, and staff
  overtime at the role's ``hourly_cost`` × ``costs.staff_overtime_rate``. Per provider, the
  provider's own. The week's scheduled pay is not simulated (``domain.capacity.weekly_staff_cost``);
  this is what a day that runs late adds to it.
* Counts: ``patients_seen``, ``no_shows``, ``late_cancels``, ``turned_away`` (late beyond the cutoff,
  or walk-ins with no session left), ``unseen_at_close``, ``walk_ins`` (arrived).
"""

from __future__ import annotations

import numpy as np

from ..domain.staff import person_minutes
from . import records as R
from .plan import BIN_MIN, BINS_AFTER_CLOSE_MIN, Plan

KPIS = (
    "mean_wait_min",
    "p90_wait_min",
    "total_wait_min",
    "mean_time_in_clinic_min",
    "provider_idle_min",
    "provider_unused_min",
    "provider_overtime_min",
    "staff_overtime_min",
    "provider_utilization",
    "room_utilization",
    "ma_utilization",
    "desk_utilization",
    "max_waiting_room",
    "patients_seen",
    "no_shows",
    "late_cancels",
    "turned_away",
    "unseen_at_close",
    "walk_ins",
    "cost",
    "overtime_pay",
)
#: KPIs that belong to the whole clinic, not to one provider.
CLINIC_ONLY = (
    "room_utilization",
    "ma_utilization",
    "desk_utilization",
    "max_waiting_room",
    "staff_overtime_min",
)


class _Static:
    """Per-plan arrays the KPI code needs every replication (built once per process)."""

    def __init__(self, plan: Plan):
        ss = plan.sessions
        self.s_prov = np.array([s.provider for s in ss], dtype=int)
        self.s_day = np.array([s.day for s in ss], dtype=int)
        self.s_end = np.array([s.end for s in ss], dtype=float)
        # Where the provider's next session that day starts (overtime stretches stop there).
        self.s_next = np.full(len(ss), np.inf)
        for s in ss:
            later = [o.start for o in ss if (o.provider, o.day) == (s.provider, s.day) and o.start >= s.end]
            if later:
                self.s_next[s.sid] = min(later)
        self.s_working = np.array([s.working_min for s in ss], dtype=float)
        w = [(s.sid, s.provider, s.day, a, b) for s in ss for a, b in s.working]
        w = np.array(w, dtype=float).reshape(-1, 5)
        self.w_sid, self.w_prov, self.w_day = w[:, 0].astype(int), w[:, 1], w[:, 2]
        self.w_a, self.w_b = w[:, 3], w[:, 4]
        self.in_person = plan.t_in_person
        d = plan.days
        self.open_min = np.array([x.closes - x.opens for x in d], dtype=float)
        self.hard_stop = np.array([x.hard_stop for x in d], dtype=float)
        # staffed person-minutes per day (shifts included): the utilizations' denominators
        self.desk = np.array([person_minutes(x.desk) for x in d], dtype=float)
        self.mas = np.array([person_minutes(x.mas) for x in d], dtype=float)
        self.rooms = float(len(plan.rooms))
        c = plan.scenario.costs
        self.costs = (c.wait_per_min, c.idle_per_min, c.overtime_per_min)
        # Pay per overtime minute: each session's provider, and the support staff on duty at closing.
        hourly = [p.hourly_cost for p in plan.scenario.providers]
        self.s_pay = np.array([hourly[s.provider] * c.provider_overtime_rate / 60 for s in ss], dtype=float)
        self.closes = np.array([x.closes for x in d], dtype=float)
        at_close = [(x.desk[-1][2] if x.desk else 0, x.mas[-1][2] if x.mas else 0) for x in d]
        staff = plan.scenario.staff
        self.staff_at_close = np.array([a + b for a, b in at_close], dtype=float)
        self.staff_pay = np.array(
            [
                (a * staff.front_desk.hourly_cost + b * staff.medical_assistants.hourly_cost)
                * c.staff_overtime_rate
                / 60
                for a, b in at_close
            ],
            dtype=float,
        )


def static(plan: Plan) -> _Static:
    """The plan's KPI arrays, built on first use and kept on the plan itself."""
    st = plan.cache.get("kpis")
    if st is None:
        st = plan.cache["kpis"] = _Static(plan)
    return st


def _filled(values: np.ndarray, day: np.ndarray, fill_by_day: np.ndarray) -> np.ndarray:
    """Replace NaN (not reached by the hard stop) with the day's hard stop."""
    out = values.copy()
    m = np.isnan(out)
    out[m] = fill_by_day[day[m]]
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def _busy(visits: tuple, intervals: tuple) -> float:
    """Minutes of visits inside intervals of the same provider and day; each argument is a tuple
    of arrays (provider, day, from, to)."""
    vp, vd, va, vb = visits
    ip, iday, ia, ib = intervals
    if not len(va) or not len(ia):
        return 0.0
    same = (ip[:, None] == vp[None, :]) & (iday[:, None] == vd[None, :])
    ov = np.minimum(vb[None, :], ib[:, None]) - np.maximum(va[None, :], ia[:, None])
    return float((np.clip(ov, 0, None) * same).sum())


def compute(rec: np.ndarray, plan: Plan, provider: int | None = None, day: int | None = None) -> dict:
    """The KPIs of one replication, for the whole clinic or one provider or one day."""
    st = static(plan)
    m = np.ones(len(rec), dtype=bool)
    sm = np.ones(len(st.s_prov), dtype=bool)
    if provider is not None:
        m &= rec[:, R.PROVIDER] == provider
        sm &= st.s_prov == provider
    if day is not None:
        m &= rec[:, R.DAY] == day
        sm &= st.s_day == day
    r = rec[m]
    outcome = r[:, R.OUTCOME]
    d = r[:, R.DAY].astype(int)
    seen = outcome == R.SEEN
    arrival, start = r[:, R.ARRIVAL], r[:, R.PROVIDER_START]
    wait = np.maximum(start[seen] - np.maximum(arrival[seen], r[seen, R.APPOINTMENT]), 0.0)
    in_person = st.in_person[r[:, R.TYPE].astype(int)]
    stay = (r[:, R.EXIT] - arrival)[seen & in_person]
    stay = stay[~np.isnan(stay)]

    # Provider time: visits against the working intervals of the selected sessions, and against
    # the stretch from each session's end to its last visit's end (overtime).
    v = ~np.isnan(start)
    v_start = start[v]
    v_end = _filled(r[v, R.PROVIDER_END], d[v], st.hard_stop)
    v_sid = r[v, R.SESSION].astype(int)
    last = np.full(len(st.s_end), -np.inf)
    if len(v_sid):
        np.maximum.at(last, v_sid, v_end)
    # A patient still waiting at the hard stop is one the provider waits for until the session end.
    u_sid = r[outcome == R.UNSEEN, R.SESSION]
    u_sid = u_sid[~np.isnan(u_sid)].astype(int)
    if len(u_sid):
        np.maximum.at(last, u_sid, st.s_end[u_sid])
    visits = (r[v, R.PROVIDER], d[v], v_start, v_end)
    wsel = sm[st.w_sid]
    w_prov, w_day, w_a, w_b = st.w_prov[wsel], st.w_day[wsel], st.w_a[wsel], st.w_b[wsel]
    # the part of each working interval before its session's last visit ends (empty if nobody)
    w_h = np.clip(last[st.w_sid[wsel]], w_a, w_b)
    o_a = st.s_end[sm]
    o_b = np.maximum(np.minimum(last[sm], st.s_next[sm]), o_a)
    o_prov, o_day = st.s_prov[sm].astype(float), st.s_day[sm].astype(float)
    busy_work = _busy(visits, (w_prov, w_day, w_a, w_b))
    busy_to_last = _busy(visits, (w_prov, w_day, w_a, w_h))
    busy_over = _busy(visits, (o_prov, o_day, o_a, o_b))
    working = float(st.s_working[sm].sum())
    idle = float((w_h - w_a).sum() + (o_b - o_a).sum()) - busy_to_last - busy_over
    unused = float((w_b - w_h).sum())
    over_s = np.clip(last[sm] - st.s_end[sm], 0, None)
    overtime = float(over_s.sum())
    provider_pay = float((over_s * st.s_pay[sm]).sum())
    total_wait = float(wait.sum())
    cw, ci, co = st.costs
    k = {
        "mean_wait_min": float(wait.mean()) if len(wait) else float("nan"),
        "p90_wait_min": float(np.quantile(wait, 0.9)) if len(wait) else float("nan"),
        "total_wait_min": total_wait,
        "mean_time_in_clinic_min": float(stay.mean()) if len(stay) else float("nan"),
        "provider_idle_min": idle,
        "provider_unused_min": unused,
        "provider_overtime_min": overtime,
        "provider_utilization": _ratio(busy_work + busy_over, working + overtime),
        "patients_seen": float(seen.sum()),
        "no_shows": float((outcome == R.NO_SHOW).sum()),
        "late_cancels": float((outcome == R.LATE_CANCEL).sum()),
        "turned_away": float((outcome == R.TURNED_AWAY).sum()),
        "unseen_at_close": float((outcome == R.UNSEEN).sum()),
        "walk_ins": float((r[:, R.WALK_IN] == 1).sum()),
        "cost": cw * total_wait + ci * idle + co * overtime,
        "overtime_pay": provider_pay,
    }
    if provider is not None:
        for name in CLINIC_ONLY:
            k[name] = float("nan")
        return k
    days = np.arange(len(plan.days)) if day is None else np.array([day])
    open_total = st.open_min[days]
    roomed = ~np.isnan(r[:, R.ROOMED])
    room_busy = (_filled(r[roomed, R.ROOM_FREE], d[roomed], st.hard_stop) - r[roomed, R.ROOMED]).sum()
    rs = ~np.isnan(r[:, R.ROOMING_START])
    ma_busy = (_filled(r[rs, R.ROOMING_END], d[rs], st.hard_stop) - r[rs, R.ROOMING_START]).sum()
    desk_busy = 0.0
    for a, b in ((R.CHECK_IN_START, R.CHECK_IN_END), (R.CHECKOUT_START, R.CHECKOUT_END)):
        x = ~np.isnan(r[:, a])
        desk_busy += (_filled(r[x, b], d[x], st.hard_stop) - r[x, a]).sum()
    k["room_utilization"] = _ratio(float(room_busy), st.rooms * float(open_total.sum()))
    k["ma_utilization"] = _ratio(float(ma_busy), float(st.mas[days].sum()))
    k["desk_utilization"] = _ratio(float(desk_busy), float(st.desk[days].sum()))
    k["max_waiting_room"] = float(_max_waiting(r, d, in_person, st))
    over = _staff_overtime(r, d, in_person, st, days)
    k["staff_overtime_min"] = float((over * st.staff_at_close[days]).sum())
    k["overtime_pay"] += float((over * st.staff_pay[days]).sum())
    return k


def _staff_overtime(r: np.ndarray, d: np.ndarray, in_person: np.ndarray, st: _Static, days) -> np.ndarray:
    """Minutes past closing until each day's last in-person patient has left (0 if none stays)."""
    here = in_person & ~np.isnan(r[:, R.ARRIVAL]) & (r[:, R.OUTCOME] != R.TURNED_AWAY)
    left = np.full(len(st.closes), -np.inf)
    if here.any():
        np.maximum.at(left, d[here], _filled(r[here, R.EXIT], d[here], st.hard_stop))
    return np.clip(left - st.closes, 0, None)[days]


def _waiting_intervals(r: np.ndarray, d: np.ndarray, in_person: np.ndarray, st: _Static):
    """(day, from, to) of in-person patients between arrival and rooming."""
    w = in_person & ~np.isnan(r[:, R.ARRIVAL]) & (r[:, R.OUTCOME] != R.TURNED_AWAY)
    return d[w], r[w, R.ARRIVAL], _filled(r[w, R.ROOMED], d[w], st.hard_stop)


def _max_waiting(r, d, in_person, st) -> int:
    day, a, b = _waiting_intervals(r, d, in_person, st)
    if not len(a):
        return 0
    t = np.concatenate([a, b])
    delta = np.concatenate([np.ones(len(a)), -np.ones(len(b))])
    dd = np.concatenate([day, day])
    order = np.lexsort((delta, t, dd))  # by day, then time, leaving (-1) before arriving (+1)
    return int(np.cumsum(delta[order]).max())


def _bin_average(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time-average number of open intervals in each bin between consecutive edges."""
    if not len(starts):
        return np.zeros(len(edges) - 1)
    length = np.clip(ends - starts, 0, None)
    area = np.clip(edges[:, None] - starts[None, :], 0, length[None, :]).sum(axis=1)
    return np.diff(area) / np.diff(edges)


def n_bins(plan: Plan) -> int:
    s = plan.scenario.clinic
    return (s.closes + BINS_AFTER_CLOSE_MIN - s.opens + BIN_MIN - 1) // BIN_MIN


def timeseries(rec: np.ndarray, plan: Plan) -> np.ndarray:
    """Array (days, bins, 2): time-average waiting-room count and rooms busy per 5-minute bin."""
    st = static(plan)
    nb = n_bins(plan)
    out = np.zeros((len(plan.days), nb, 2))
    d_all = rec[:, R.DAY].astype(int)
    in_person = st.in_person[rec[:, R.TYPE].astype(int)]
    wd, wa, wb = _waiting_intervals(rec, d_all, in_person, st)
    roomed = ~np.isnan(rec[:, R.ROOMED])
    rd = d_all[roomed]
    ra = rec[roomed, R.ROOMED]
    rb = _filled(rec[roomed, R.ROOM_FREE], rd, st.hard_stop)
    for day in plan.days:
        edges = day.opens + BIN_MIN * np.arange(nb + 1, dtype=float)
        i = day.index
        out[i, :, 0] = _bin_average(wa[wd == i], wb[wd == i], edges)
        out[i, :, 1] = _bin_average(ra[rd == i], rb[rd == i], edges)
    return out
