"""KPIs of one replication, computed from its flat records (never inside the SimPy processes).

Definitions (all times in minutes):

* **wait** of a patient seen = provider start − max(arrival, appointment time). A patient who arrives
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
* **room / MA / desk utilization** = busy minutes / (units × opening hours); rooms are busy from
  rooming until turnover ends; desk time is check-in plus checkout.
* **max waiting room** = most in-person patients at once between arrival and being roomed.
* **cost** = ``costs.wait_per_min`` × total wait + ``idle_per_min`` × idle + ``overtime_per_min`` × overtime.
* Counts: ``patients_seen``, ``no_shows``, ``late_cancels``, ``turned_away`` (late beyond the cutoff,
  or walk-ins with no session left), ``unseen_at_close``, ``walk_ins`` (arrived).
"""

from __future__ import annotations

import numpy as np

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
)
#: KPIs that belong to the whole clinic, not to one provider.
CLINIC_ONLY = ("room_utilization", "ma_utilization", "desk_utilization", "max_waiting_room")


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
        self.desk = np.array([x.desk for x in d], dtype=float)
        self.mas = np.array([x.mas for x in d], dtype=float)
        self.rooms = float(len(plan.rooms))
        c = plan.scenario.costs
        self.costs = (c.wait_per_min, c.idle_per_min, c.overtime_per_min)


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
    wait = start[seen] - np.maximum(arrival[seen], r[seen, R.APPOINTMENT])
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
    overtime = float(np.clip(last[sm] - st.s_end[sm], 0, None).sum())
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
    k["ma_utilization"] = _ratio(float(ma_busy), float((st.mas[days] * open_total).sum()))
    k["desk_utilization"] = _ratio(float(desk_busy), float((st.desk[days] * open_total).sum()))
    k["max_waiting_room"] = float(_max_waiting(r, d, in_person, st))
    return k


def _busy_each(visits: tuple, intervals: tuple) -> np.ndarray:
    """Like ``_busy`` but one total per interval (so any grouping of intervals can sum them)."""
    vp, vd, va, vb = visits
    ip, iday, ia, ib = intervals
    if not len(va) or not len(ia):
        return np.zeros(len(ia))
    same = (ip[:, None] == vp[None, :]) & (iday[:, None] == vd[None, :])
    ov = np.minimum(vb[None, :], ib[:, None]) - np.maximum(va[None, :], ia[:, None])
    return (np.clip(ov, 0, None) * same).sum(axis=1)


def _sum_by(labels: np.ndarray, values: np.ndarray | None, groups: int) -> np.ndarray:
    return np.bincount(labels, weights=values, minlength=groups)[:groups]


def _p90_by(labels: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """``np.quantile(values[labels == g], 0.9)`` for every group g at once (NaN for empty groups),
    with numpy's default linear interpolation written out (its ``_lerp``, bit for bit)."""
    out = np.full(groups, np.nan)
    if not len(values):
        return out
    order = np.lexsort((values, labels))
    v, lab = values[order], labels[order]
    n = np.bincount(lab, minlength=groups)[:groups]
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    has = n > 0
    h = (n[has] - 1) * 0.9
    lo = np.floor(h).astype(int)
    t = h - lo
    hi = np.minimum(lo + 1, n[has] - 1)
    a, b = v[first[has] + lo], v[first[has] + hi]
    diff = b - a
    out[has] = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
    return out


def compute_groups(rec: np.ndarray, plan: Plan, by: str | None = None) -> list[dict]:
    """KPIs of one replication for every group at once: ``by=None`` gives ``[overall]``,
    ``"provider"`` one dict per provider index, ``"day"`` one per day index.

    The same definitions as ``compute`` (which stays as the readable, one-group form and the
    tests' reference): one pass over the records with per-group sums, instead of one pass per
    provider and per day, since per-replication KPIs were a quarter of a simulated day's cost.
    """
    st = static(plan)
    n = len(rec)
    outcome = rec[:, R.OUTCOME]
    d = rec[:, R.DAY].astype(int)
    if by is None:
        groups, lab = 1, np.zeros(n, dtype=int)
        keep = np.ones(n, dtype=bool)
        w_lab = np.zeros(len(st.w_sid), dtype=int)
        s_lab = np.zeros(len(st.s_end), dtype=int)
    elif by == "provider":
        groups = len(plan.providers)
        pv = rec[:, R.PROVIDER]
        keep = pv >= 0
        lab = np.where(keep, pv, 0).astype(int)
        w_lab = st.w_prov.astype(int)
        s_lab = st.s_prov
    elif by == "day":
        groups, lab, keep = len(plan.days), d, np.ones(n, dtype=bool)
        w_lab = st.w_day.astype(int)
        s_lab = st.s_day
    else:
        raise ValueError(f"by must be None, 'provider' or 'day', got {by!r}")

    seen = (outcome == R.SEEN) & keep
    arrival, start = rec[:, R.ARRIVAL], rec[:, R.PROVIDER_START]
    wait = start[seen] - np.maximum(arrival[seen], rec[seen, R.APPOINTMENT])
    in_person = st.in_person[rec[:, R.TYPE].astype(int)]
    stay = rec[:, R.EXIT] - arrival
    stay_m = seen & in_person & ~np.isnan(stay)

    # Provider time, per working interval and per session (then summed by group).
    v = ~np.isnan(start)
    v_end = _filled(rec[v, R.PROVIDER_END], d[v], st.hard_stop)
    v_sid = rec[v, R.SESSION].astype(int)
    last = np.full(len(st.s_end), -np.inf)
    if len(v_sid):
        np.maximum.at(last, v_sid, v_end)
    u_sid = rec[outcome == R.UNSEEN, R.SESSION]
    u_sid = u_sid[~np.isnan(u_sid)].astype(int)
    if len(u_sid):
        np.maximum.at(last, u_sid, st.s_end[u_sid])
    visits = (rec[v, R.PROVIDER], d[v], start[v], v_end)
    w_h = np.clip(last[st.w_sid], st.w_a, st.w_b)
    o_a = st.s_end
    o_b = np.maximum(np.minimum(last, st.s_next), o_a)
    s_prov, s_day = st.s_prov.astype(float), st.s_day.astype(float)
    busy_work = _busy_each(visits, (st.w_prov, st.w_day, st.w_a, st.w_b))
    busy_to_last = _busy_each(visits, (st.w_prov, st.w_day, st.w_a, w_h))
    busy_over = _busy_each(visits, (s_prov, s_day, o_a, o_b))
    working = _sum_by(s_lab, st.s_working, groups)
    idle = (
        _sum_by(w_lab, w_h - st.w_a, groups)
        + _sum_by(s_lab, o_b - o_a, groups)
        - _sum_by(w_lab, busy_to_last, groups)
        - _sum_by(s_lab, busy_over, groups)
    )
    unused = _sum_by(w_lab, st.w_b - w_h, groups)
    overtime = _sum_by(s_lab, np.clip(last - st.s_end, 0, None), groups)
    busy = _sum_by(w_lab, busy_work, groups) + _sum_by(s_lab, busy_over, groups)

    seen_lab = lab[seen]
    n_seen = _sum_by(seen_lab, None, groups)
    total_wait = _sum_by(seen_lab, wait, groups)
    p90 = _p90_by(seen_lab, wait, groups)
    n_stay = _sum_by(lab[stay_m], None, groups)
    sum_stay = _sum_by(lab[stay_m], stay[stay_m], groups)

    def count(mask: np.ndarray) -> np.ndarray:
        return _sum_by(lab[mask & keep], None, groups)

    no_shows, late, away = (
        count(outcome == R.NO_SHOW),
        count(outcome == R.LATE_CANCEL),
        count(outcome == R.TURNED_AWAY),
    )
    unseen, walk = count(outcome == R.UNSEEN), count(rec[:, R.WALK_IN] == 1)
    cw, ci, co = st.costs
    nan = float("nan")
    out = []
    for g in range(groups):
        ns = n_seen[g]
        den = working[g] + overtime[g]
        k = {
            "mean_wait_min": float(total_wait[g] / ns) if ns else nan,
            "p90_wait_min": float(p90[g]),
            "total_wait_min": float(total_wait[g]),
            "mean_time_in_clinic_min": float(sum_stay[g] / n_stay[g]) if n_stay[g] else nan,
            "provider_idle_min": float(idle[g]),
            "provider_unused_min": float(unused[g]),
            "provider_overtime_min": float(overtime[g]),
            "provider_utilization": float(busy[g] / den) if den > 0 else nan,
            "patients_seen": float(ns),
            "no_shows": float(no_shows[g]),
            "late_cancels": float(late[g]),
            "turned_away": float(away[g]),
            "unseen_at_close": float(unseen[g]),
            "walk_ins": float(walk[g]),
            "cost": float(cw * total_wait[g] + ci * idle[g] + co * overtime[g]),
        }
        out.append(k)
    if by == "provider":
        for k in out:
            for name in CLINIC_ONLY:
                k[name] = nan
        return out

    # Clinic-wide resources: busy minutes by group (overall, or per day).
    def busy_between(a: int, b: int) -> np.ndarray:
        x = ~np.isnan(rec[:, a])
        return _sum_by(lab[x], _filled(rec[x, b], d[x], st.hard_stop) - rec[x, a], groups)

    room_busy = busy_between(R.ROOMED, R.ROOM_FREE)
    ma_busy = busy_between(R.ROOMING_START, R.ROOMING_END)
    desk_busy = busy_between(R.CHECK_IN_START, R.CHECK_IN_END) + busy_between(
        R.CHECKOUT_START, R.CHECKOUT_END
    )
    day_lab = np.zeros(len(plan.days), dtype=int) if by is None else np.arange(len(plan.days))
    open_total = _sum_by(day_lab, st.open_min, groups)
    ma_open = _sum_by(day_lab, st.mas * st.open_min, groups)
    desk_open = _sum_by(day_lab, st.desk * st.open_min, groups)
    peak = _max_waiting_by_day(rec, d, in_person, st, len(plan.days))
    peak = peak.max(keepdims=True) if by is None else peak
    for g, k in enumerate(out):
        k["room_utilization"] = _ratio(float(room_busy[g]), st.rooms * float(open_total[g]))
        k["ma_utilization"] = _ratio(float(ma_busy[g]), float(ma_open[g]))
        k["desk_utilization"] = _ratio(float(desk_busy[g]), float(desk_open[g]))
        k["max_waiting_room"] = float(peak[g])
    return out


def _max_waiting_by_day(r, d, in_person, st, n_days: int) -> np.ndarray:
    """Most in-person patients waiting at once, per day (``_max_waiting`` day by day)."""
    day, a, b = _waiting_intervals(r, d, in_person, st)
    out = np.zeros(n_days)
    if not len(a):
        return out
    t = np.concatenate([a, b])
    delta = np.concatenate([np.ones(len(a)), -np.ones(len(b))])
    dd = np.concatenate([day, day])
    order = np.lexsort((delta, t, dd))
    run = np.cumsum(delta[order])  # every day's arrivals are all roomed or filled: back to 0 per day
    np.maximum.at(out, dd[order], run)
    return out


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
