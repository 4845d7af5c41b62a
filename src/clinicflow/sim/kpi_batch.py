"""KPIs and time series of many replications at once, with the definitions of ``kpis.py``.

Computing KPIs replication by replication, group by group, costs a few hundred numpy calls on
arrays of a hundred rows: on a short clinic day that was as much time as simulating it. Here a whole
chunk of replications is one table, every group is an integer label — (replication, provider),
(replication, day) or the replication itself — and every sum is one ``bincount``.

Minutes of provider visits inside working intervals, and the time-averaged counts of the time
series, both need "how much of these intervals lies before time t" for many t. With ``S_x(t) =
Σ min(t, x_i)`` over a group's interval ends x, the open minutes before t are ``S_end(t) −
S_start(t)``, and ``S_x`` is a prefix sum over the group's sorted x plus ``t`` times the count of x
at or after t: one sort and one ``searchsorted`` for all groups and all t
(``_grouped_sum_min``), instead of an intervals × visits matrix per replication.
"""

from __future__ import annotations

import numpy as np

from . import records as R
from .kpis import BIN_MIN, CLINIC_ONLY, n_bins, static
from .plan import Plan

#: What ``Batch.sessions`` keeps per replication and provider-session.
SESSION_KPIS = (
    "patients_seen",
    "mean_wait_min",
    "provider_idle_min",
    "provider_overtime_min",
    "cost",
    "finish_min",
)

#: Wider than any time of day in the records (minutes since midnight, hard stop included).
_SPAN = 4096.0


def _sum_by(labels: np.ndarray, values: np.ndarray | None, groups: int) -> np.ndarray:
    return np.bincount(labels, weights=values, minlength=groups)[:groups]


def _grouped_sum_min(gx: np.ndarray, x: np.ndarray, gq: np.ndarray, q: np.ndarray, per: int) -> np.ndarray:
    """For each query (group ``gq[j]``, time ``q[j]``): ``Σ min(q[j], x[i])`` over ``i`` with ``gx[i] == gq[j]``.

    Group labels are ``replication × per + group``. The prefix sums restart at every replication:
    one running sum over the whole chunk gave a replication's sums rounding that depended on the
    replications before it in its chunk, so one worker and two (other chunks) differed by ~1e-13;
    now a replication's KPIs are the same bits in any chunk."""
    if not len(q):
        return np.zeros(0)
    if not len(x):
        return np.zeros(len(q))
    order = np.lexsort((x, gx))
    xs, gs = x[order], gx[order]
    reps = gs // per
    cut = np.flatnonzero(np.diff(reps)) + 1
    inclusive = np.empty(len(xs))
    for a, b in zip(np.concatenate([[0], cut]), np.concatenate([cut, [len(xs)]]), strict=True):
        inclusive[a:b] = np.cumsum(xs[a:b])
    keys = gs * _SPAN + xs  # sorted: groups apart, times in order within a group
    k = np.searchsorted(keys, gq * _SPAN + q, side="left")  # first x >= q in q's group (or after it)
    lo = np.searchsorted(gs, gq, side="left")
    hi = np.searchsorted(gs, gq, side="right")
    start = np.searchsorted(reps, gq // per, side="left")  # where the query's replication begins

    def before(i: np.ndarray) -> np.ndarray:  # Σ x of the replication's sorted values before index i
        return np.where(i > start, inclusive[np.maximum(i - 1, 0)], 0.0)

    return before(k) - before(lo) + q * (hi - k)


def _open_minutes(gv, va, vb, gq, qa, qb, per: int) -> np.ndarray:
    """Minutes of the intervals ``[va, vb)`` of group g inside each query ``[qa, qb]`` of group g."""
    vb = np.maximum(va, vb)
    g2 = np.concatenate([gq, gq])
    t = np.concatenate([qa, qb])
    cum = _grouped_sum_min(gv, vb, g2, t, per) - _grouped_sum_min(gv, va, g2, t, per)
    n = len(qa)
    return cum[n:] - cum[:n]


def _p90_by(labels: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """``np.quantile(values[labels == g], 0.9)`` for every group g (NaN for empty groups), with
    numpy's default linear interpolation written out (its ``_lerp``, bit for bit)."""
    out = np.full(groups, np.nan)
    if not len(values):
        return out
    order = np.lexsort((values, labels))
    v = values[order]
    n = np.bincount(labels, minlength=groups)[:groups]
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


class Batch:
    """The records of ``n_reps`` replications as one table, and what every grouping shares."""

    def __init__(self, recs: list[np.ndarray], plan: Plan):
        st = self.st = static(plan)
        self.plan = plan
        self.n_reps = nr = len(recs)
        self.n_days = nd = len(plan.days)
        self.n_prov = len(plan.providers)
        rec = np.concatenate(recs) if recs else np.zeros((0, R.N_FIELDS))
        self.rep = rep = np.repeat(np.arange(nr), [len(r) for r in recs])
        self.outcome = outcome = rec[:, R.OUTCOME]
        self.day = d = rec[:, R.DAY].astype(int)
        self.provider = rec[:, R.PROVIDER]
        self.session = rec[:, R.SESSION]
        self.walk_in = rec[:, R.WALK_IN] == 1
        self.seen = seen = outcome == R.SEEN
        arrival, start = rec[:, R.ARRIVAL], rec[:, R.PROVIDER_START]
        # read where seen; zero for a patient seen before the appointment time (kpis.py)
        self.wait = np.maximum(start - np.maximum(arrival, rec[:, R.APPOINTMENT]), 0.0)
        self.in_person = in_person = st.in_person[rec[:, R.TYPE].astype(int)]
        self.stay = rec[:, R.EXIT] - arrival
        self.stay_ok = seen & in_person & ~np.isnan(self.stay)
        hard = st.hard_stop

        def filled(values: np.ndarray, days: np.ndarray) -> np.ndarray:
            out = values.copy()
            m = np.isnan(out)
            out[m] = hard[days[m]]
            return out

        # Sessions and working intervals, one copy per replication.
        ns, nw = len(st.s_end), len(st.w_sid)
        self.s_rep = np.repeat(np.arange(nr), ns)
        self.w_rep = np.repeat(np.arange(nr), nw)
        s_end, s_next = np.tile(st.s_end, nr), np.tile(st.s_next, nr)
        w_a, w_b = np.tile(st.w_a, nr), np.tile(st.w_b, nr)
        w_sid = np.tile(st.w_sid, nr) + self.w_rep * ns
        v = ~np.isnan(start)
        v_end = filled(rec[v, R.PROVIDER_END], d[v])
        last = np.full(nr * ns, -np.inf)
        if v.any():
            np.maximum.at(last, rep[v] * ns + rec[v, R.SESSION].astype(int), v_end)
        # A patient still waiting at the hard stop is one the provider waits for until the session end.
        u = (outcome == R.UNSEEN) & ~np.isnan(rec[:, R.SESSION])
        if u.any():
            u_sid = rep[u] * ns + rec[u, R.SESSION].astype(int)
            np.maximum.at(last, u_sid, s_end[u_sid])
        self.last = last
        self.w_h = w_h = np.clip(last[w_sid], w_a, w_b)
        self.o_b = o_b = np.maximum(np.minimum(last, s_next), s_end)
        self.s_end, self.w_a, self.w_b = s_end, w_a, w_b

        # Visit minutes inside intervals, matched on (replication, provider, day).
        def pd_key(r, p, dd):
            return (r * self.n_prov + p) * nd + dd

        gv = pd_key(rep[v], rec[v, R.PROVIDER].astype(int), d[v])
        gw = pd_key(self.w_rep, np.tile(st.w_prov.astype(int), nr), np.tile(st.w_day.astype(int), nr))
        gs = pd_key(self.s_rep, np.tile(st.s_prov, nr), np.tile(st.s_day, nr))
        va = start[v]
        per = self.n_prov * nd  # (provider, day) labels per replication
        self.busy_work = _open_minutes(gv, va, v_end, gw, w_a, w_b, per)
        self.busy_to_last = _open_minutes(gv, va, v_end, gw, w_a, w_h, per)
        self.busy_over = _open_minutes(gv, va, v_end, gs, s_end, o_b, per)

        # Clinic resources: busy minutes of each record (room, MA, desk).
        self.clinic_busy = []
        for pairs in (
            ((R.ROOMED, R.ROOM_FREE),),
            ((R.ROOMING_START, R.ROOMING_END),),
            ((R.CHECK_IN_START, R.CHECK_IN_END), (R.CHECKOUT_START, R.CHECKOUT_END)),
        ):
            minutes = np.zeros(len(rec))
            for a, b in pairs:
                m = ~np.isnan(rec[:, a])
                minutes[m] += filled(rec[m, b], d[m]) - rec[m, a]
            self.clinic_busy.append(minutes)

        # The waiting room (arrival to roomed, in person) and rooms busy (roomed to free).
        w = in_person & ~np.isnan(arrival) & (outcome != R.TURNED_AWAY)
        self.wait_room = (rep[w] * nd + d[w], arrival[w], filled(rec[w, R.ROOMED], d[w]))
        rm = ~np.isnan(rec[:, R.ROOMED])
        self.rooms_busy = (rep[rm] * nd + d[rm], rec[rm, R.ROOMED], filled(rec[rm, R.ROOM_FREE], d[rm]))
        self.peak = self._peak_by_rep_day()

        # Support staff past closing: until the day's last in-person patient has left (kpis.py).
        here = in_person & ~np.isnan(arrival) & (outcome != R.TURNED_AWAY)
        left = np.full(nr * nd, -np.inf)
        if here.any():
            np.maximum.at(left, rep[here] * nd + d[here], filled(rec[here, R.EXIT], d[here]))
        self.staff_over = np.clip(left - np.tile(st.closes, nr), 0, None)  # (replication, day)

    def _peak_by_rep_day(self) -> np.ndarray:
        """Most in-person patients in the waiting room at once, per (replication, day)."""
        out = np.zeros(self.n_reps * self.n_days)
        g, a, b = self.wait_room
        if not len(a):
            return out
        t = np.concatenate([a, b])
        delta = np.concatenate([np.ones(len(a)), -np.ones(len(b))])
        gg = np.concatenate([g, g])
        order = np.lexsort((delta, t, gg))  # by group, then time, leaving (-1) before arriving (+1)
        run = np.cumsum(delta[order])  # back to 0 at each group's end: every wait ends by the hard stop
        np.maximum.at(out, gg[order], run)
        return out

    # -- KPIs by group -------------------------------------------------------------------------
    def kpis(self, by: str | None = None) -> list[list[dict]]:
        """``[replication][group]`` KPI dicts; groups: the clinic (one), providers or days."""
        cols, per = self._columns(by)
        names = list(cols)
        rows = np.column_stack([np.asarray(cols[k], dtype=float) for k in names]).tolist()
        return [
            [dict(zip(names, rows[r * per + g], strict=True)) for g in range(per)] for r in range(self.n_reps)
        ]

    def sessions(self) -> np.ndarray:
        """``SESSION_KPIS`` of every replication and provider-session (``plan.sessions`` order), as
        one ``(replications, sessions, len(SESSION_KPIS))`` array: which sessions run late, and how
        often, is what a coordinator reads off a week; a dict per row would cost more than the
        simulation at a few thousand replications."""
        cols, per = self._columns("session")
        table = np.column_stack([np.asarray(cols[k], dtype=float) for k in SESSION_KPIS])
        return table.reshape(self.n_reps, per, len(SESSION_KPIS))

    def _columns(self, by: str | None) -> tuple[dict[str, np.ndarray], int]:
        """Each KPI as an array over ``replication × group`` labels, and the groups per replication.
        ``by="session"`` groups by the plan's provider-sessions and adds ``finish_min`` (when the
        session's last visit ended; NaN when nobody came)."""
        st, nr = self.st, self.n_reps
        n = len(self.outcome)
        if by is None:
            per, lab, keep = 1, self.rep, np.ones(n, dtype=bool)
            w_lab, s_lab = self.w_rep, self.s_rep
        elif by == "provider":
            per = self.n_prov
            keep = self.provider >= 0
            lab = self.rep * per + np.where(keep, self.provider, 0).astype(int)
            w_lab = self.w_rep * per + np.tile(st.w_prov.astype(int), nr)
            s_lab = self.s_rep * per + np.tile(st.s_prov, nr)
        elif by == "day":
            per, keep = self.n_days, np.ones(n, dtype=bool)
            lab = self.rep * per + self.day
            w_lab = self.w_rep * per + np.tile(st.w_day.astype(int), nr)
            s_lab = self.s_rep * per + np.tile(st.s_day, nr)
        elif by == "session":
            per = len(st.s_end)
            sid = self.session
            keep = ~np.isnan(sid)
            lab = self.rep * per + np.where(keep, sid, 0).astype(int)
            w_lab = self.w_rep * per + np.tile(st.w_sid, nr)
            s_lab = self.s_rep * per + np.tile(np.arange(per), nr)
        else:
            raise ValueError(f"by must be None, 'provider', 'day' or 'session', got {by!r}")
        groups = nr * per

        working = _sum_by(s_lab, np.tile(st.s_working, nr), groups)
        idle = (
            _sum_by(w_lab, self.w_h - self.w_a, groups)
            + _sum_by(s_lab, self.o_b - self.s_end, groups)
            - _sum_by(w_lab, self.busy_to_last, groups)
            - _sum_by(s_lab, self.busy_over, groups)
        )
        unused = _sum_by(w_lab, self.w_b - self.w_h, groups)
        over_s = np.clip(self.last - self.s_end, 0, None)
        overtime = _sum_by(s_lab, over_s, groups)
        provider_pay = _sum_by(s_lab, over_s * np.tile(st.s_pay, nr), groups)
        busy = _sum_by(w_lab, self.busy_work, groups) + _sum_by(s_lab, self.busy_over, groups)

        seen = self.seen & keep
        seen_lab, wait = lab[seen], self.wait[seen]
        n_seen = _sum_by(seen_lab, None, groups)
        total_wait = _sum_by(seen_lab, wait, groups)
        p90 = _p90_by(seen_lab, wait, groups)
        stay_ok = self.stay_ok & keep
        n_stay = _sum_by(lab[stay_ok], None, groups)
        sum_stay = _sum_by(lab[stay_ok], self.stay[stay_ok], groups)
        kept = keep.nonzero()[0]
        no = len(R.OUTCOMES)
        by_outcome = np.bincount(lab[kept] * no + self.outcome[kept].astype(int), minlength=groups * no)
        by_outcome = by_outcome[: groups * no].reshape(groups, no)
        walk = _sum_by(lab[self.walk_in & keep], None, groups)
        cw, ci, co = st.costs
        with np.errstate(invalid="ignore", divide="ignore"):
            den = working + overtime
            cols = {
                "mean_wait_min": np.where(n_seen > 0, total_wait / n_seen, np.nan),
                "p90_wait_min": p90,
                "total_wait_min": total_wait,
                "mean_time_in_clinic_min": np.where(n_stay > 0, sum_stay / n_stay, np.nan),
                "provider_idle_min": idle,
                "provider_unused_min": unused,
                "provider_overtime_min": overtime,
                "provider_utilization": np.where(den > 0, busy / den, np.nan),
                "patients_seen": n_seen,
                "no_shows": by_outcome[:, R.NO_SHOW].astype(float),
                "late_cancels": by_outcome[:, R.LATE_CANCEL].astype(float),
                "turned_away": by_outcome[:, R.TURNED_AWAY].astype(float),
                "unseen_at_close": by_outcome[:, R.UNSEEN].astype(float),
                "walk_ins": walk,
                "cost": cw * total_wait + ci * idle + co * overtime,
                "overtime_pay": provider_pay,
            }
            if by in ("provider", "session"):
                nan = np.full(groups, np.nan)
                for name in CLINIC_ONLY:
                    cols[name] = nan
                if by == "session":
                    cols["finish_min"] = np.where(np.isfinite(self.last), self.last, np.nan)
            else:
                days = np.arange(self.n_days)
                day_lab = np.tile(np.zeros(self.n_days, dtype=int) if by is None else days, nr)
                day_lab = day_lab + np.repeat(np.arange(nr), self.n_days) * per
                open_min = np.tile(st.open_min, nr)
                room_busy, ma_busy, desk_busy = (_sum_by(lab, m, groups) for m in self.clinic_busy)
                room_open = st.rooms * _sum_by(day_lab, open_min, groups)
                ma_open = _sum_by(day_lab, np.tile(st.mas, nr), groups)
                desk_open = _sum_by(day_lab, np.tile(st.desk, nr), groups)
                cols["room_utilization"] = np.where(room_open > 0, room_busy / room_open, np.nan)
                cols["ma_utilization"] = np.where(ma_open > 0, ma_busy / ma_open, np.nan)
                cols["desk_utilization"] = np.where(desk_open > 0, desk_busy / desk_open, np.nan)
                peak = self.peak.reshape(nr, self.n_days)
                cols["max_waiting_room"] = peak.max(axis=1) if by is None else peak.ravel()
                staff_min = _sum_by(day_lab, self.staff_over * np.tile(st.staff_at_close, nr), groups)
                staff_pay = _sum_by(day_lab, self.staff_over * np.tile(st.staff_pay, nr), groups)
                cols["staff_overtime_min"] = staff_min
                cols["overtime_pay"] = provider_pay + staff_pay
        return cols, per

    # -- time series ---------------------------------------------------------------------------
    def timeseries(self) -> np.ndarray:
        """Array (replications, days, bins, 2): time-average waiting-room count and rooms busy per bin."""
        nb = n_bins(self.plan)
        nr, nd = self.n_reps, self.n_days
        opens = np.array([x.opens for x in self.plan.days], dtype=float)
        edges = opens[:, None] + BIN_MIN * np.arange(nb + 1, dtype=float)[None, :]  # (days, nb+1)
        q = np.tile(edges, (nr, 1)).ravel()
        gq = np.repeat(np.arange(nr * nd), nb + 1)
        out = np.zeros((nr, nd, nb, 2))
        for k, (g, a, b) in enumerate((self.wait_room, self.rooms_busy)):
            area = _grouped_sum_min(g, np.maximum(a, b), gq, q, nd) - _grouped_sum_min(g, a, gq, q, nd)
            out[..., k] = np.diff(area.reshape(nr, nd, nb + 1), axis=2) / BIN_MIN
        return out
