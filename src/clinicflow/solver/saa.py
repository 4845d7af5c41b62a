"""Sample-average approximation of a session's expected cost, by a sample-path recursion.

For slots served in appointment order with appointment times ``a`` and, on sampled day ``k``,
a show indicator, a ready time (punctuality + check-in + rooming) and a visit duration per slot,
the provider starts a showing patient ``i`` at

    start[i] = max(a[i] + ready[i], free),   free = end of the previous visit,

(absent patients do not hold the provider up; early patients may be seen early, as in the
simulator); a showing patient waits ``start[i]`` minus the later of arrival and appointment time.
The provider is *idle* while waiting for a patient still to come: the block's minutes from its
start until the last visit ends that are not spent with a patient (Denton & Gupta 2003; Robinson
& Chen 2003; Cayirli & Veral 2003) — minutes after the last patient leaves are unused capacity,
not idle time, for no timing of the same slots could fill them. The provider works *overtime*
from the block end to the last visit's end. A block followed by a break and more patients in
the same session (``to_last=False``) is waited through to its end, so there idle is the block's
working minutes not spent with a patient. These are the simulator's definitions
(``clinicflow.sim``), so the optimizer minimizes what the plan's KPIs report. The same recursion
is the constraint set of the CP-SAT timing model (``timing.py``), where the maxima become
inequalities: every cost weight is non-negative, so an optimal solution sits on the maxima.

``evaluate(..., ready_first=True)`` plays the clinic's service rule instead: the provider sees the
ready patient with the earliest appointment, so a late patient does not hold up a ready one; the
refinement (``refine.py``) and the held-out evaluation use it. Same-day holds enter the samples as
the walk-ins who fill them (``holds.py``).

This module is numpy only: it evaluates the optimizer's schedules and the baselines on held-out
samples, and the tests compare the optimizer with exhaustive search through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..domain.costs import Costs


@dataclass(frozen=True)
class Extra:
    """Patients of a block who have no slot: the walk-ins who found no hold (``holds.day_walk_ins``).
    Arrays of shape (K, m); column ``e`` on day ``d`` is a patient when ``appt[d, e]`` is finite.
    ``appt`` is the arrival (minutes since midnight), which is also their place in the queue: the
    clinic sees walk-ins by arrival among booked patients by appointment. ``ready``, ``checked``
    are relative to it, as in ``Samples``; ``needs_room`` is per patient."""

    appt: np.ndarray
    ready: np.ndarray
    duration: np.ndarray
    checked: np.ndarray
    rooming: np.ndarray
    turnover: np.ndarray
    needs_room: np.ndarray


@dataclass(frozen=True)
class Samples:
    """Sampled days for one block: arrays of shape (K, n).

    ``ready`` is when the patient is ready for the provider, relative to the appointment time
    (punctuality + check-in + MA rooming; negative when early — early patients may be seen early);
    ``wait_from`` is when waiting starts counting, relative to the appointment time (the arrival
    for a late patient, else the appointment time). Absent patients (no-show, late cancellation,
    too late) have ``show`` False, no duration, and do not hold the provider up."""

    show: np.ndarray  # bool
    ready: np.ndarray
    wait_from: np.ndarray
    duration: np.ndarray  # minutes of provider time; 0 for absent patients
    #: The room pipeline, for ``evaluate(rooms_at_once=...)``: ``checked`` is when the patient is
    #: checked in and waits for one of the provider's room slots (relative to the appointment
    #: time; ``ready = checked + rooming`` when a room is free at once), ``rooming`` the MA's
    #: minutes once roomed, ``turnover`` the cleaning after the visit before the room slot is
    #: free again, ``needs_room`` (length n) False for telehealth. None when not drawn.
    checked: np.ndarray | None = None
    rooming: np.ndarray | None = None
    turnover: np.ndarray | None = None
    needs_room: np.ndarray | None = None
    #: Patients without a slot (walk-ins who found no hold), seen under the clinic's rule only.
    extra: Extra | None = None

    def take(self, order: list[int]) -> Samples:
        """The same days with the slots in ``order``."""

        def col(x):
            return None if x is None else (x[order] if x.ndim == 1 else x[:, order])

        return Samples(
            self.show[:, order],
            self.ready[:, order],
            self.wait_from[:, order],
            self.duration[:, order],
            col(self.checked),
            col(self.rooming),
            col(self.turnover),
            col(self.needs_room),
            self.extra,
        )

    @property
    def k(self) -> int:
        return self.show.shape[0]

    @property
    def n(self) -> int:
        return self.show.shape[1]


def draw_samples(
    rng: np.random.Generator,
    k: int,
    durations: list,
    p_absent: list[float],
    punctuality=None,
    late_cutoff: float | None = None,
    delays: list[list] | None = None,
    walk_ins: dict[int, np.ndarray] | None = None,
    *,
    before_room: list[int] | None = None,
    needs_room: list[bool] | None = None,
    turnover=None,
) -> Samples:
    """``k`` sampled days for slots with the given duration distributions and absence probabilities.

    Patients later than ``late_cutoff`` are rebooked, i.e. absent. ``delays[i]`` lists the
    distributions of the steps between arrival and the provider for slot ``i`` (check-in, rooming).
    ``walk_ins[i]`` makes slot ``i`` a same-day hold: on each day how many minutes after the slot's
    start the walk-in who fills it arrives, NaN when nobody does (``holds.day_walk_ins``). A
    walk-in who comes before the start is told to come back at it, so its lateness is the positive
    part. The same random numbers are drawn either way, so the other slots' days do not change.

    The room pipeline (drawn when ``needs_room`` is given): the first ``before_room[i]`` of
    ``delays[i]`` come before the patient needs a room (check-in), the rest after (rooming);
    ``turnover`` is the room's cleaning after each visit, drawn last so that adding it leaves
    every other draw as it was."""
    n = len(durations)
    show = rng.random((k, n)) >= np.asarray(p_absent, dtype=float)[None, :]
    dur = np.empty((k, n))
    for i, dist in enumerate(durations):
        dur[:, i] = np.maximum(dist.sample(rng, k), 0.0)
    if punctuality is not None:
        u = np.asarray(punctuality.sample(rng, (k, n)), dtype=float).reshape(k, n)
        if late_cutoff is not None:
            show &= u <= late_cutoff
    else:
        u = np.zeros((k, n))
    steps = np.zeros((k, n))
    pre = np.zeros((k, n))
    for i, dists in enumerate(delays or []):
        for j, dist in enumerate(dists):
            x = np.maximum(np.asarray(dist.sample(rng, k), dtype=float), 0.0)
            steps[:, i] += x
            if before_room is not None and j < before_room[i]:
                pre[:, i] += x
    for i, late in (walk_ins or {}).items():
        late = np.asarray(late, dtype=float)
        show[:, i] = np.isfinite(late)
        u[:, i] = np.where(show[:, i], np.maximum(late, 0.0), 0.0)
    ready = np.where(show, u + steps, 0.0)
    wait_from = np.where(show, np.maximum(u, 0.0), 0.0)
    dur = np.where(show, dur, 0.0)
    if needs_room is None:
        return Samples(show, ready, wait_from, dur)
    turn = np.zeros((k, n))
    if turnover is not None:
        turn = np.maximum(np.asarray(turnover.sample(rng, (k, n)), dtype=float).reshape(k, n), 0.0)
    checked = np.where(show, u + pre, 0.0)
    return Samples(
        show, ready, wait_from, dur, checked, ready - checked, turn, np.asarray(needs_room, dtype=bool)
    )


@dataclass(frozen=True)
class SessionCost:
    """Per-sample totals (arrays of length K) and the weighted cost."""

    wait: np.ndarray
    idle: np.ndarray
    overtime: np.ndarray
    cost: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.cost.mean())


def evaluate(
    a: np.ndarray,
    samples: Samples,
    start: float,
    end: float,
    costs: Costs,
    *,
    to_last: bool = True,
    ready_first: bool = False,
    rooms_at_once: int | None = None,
    order: np.ndarray | None = None,
) -> SessionCost:
    """Waiting, idle and overtime minutes on each sampled day for appointment times ``a`` (sorted).

    ``to_last``: idle counts until the last visit ends (the block ends its session's patients);
    otherwise until the block end (patients come after the following break).
    ``ready_first``: the provider sees the *ready* patient with the earliest appointment, and a
    later patient before a late one, as the simulated clinic does; otherwise patients are seen in
    appointment order (the recursion the timing model optimizes).
    ``rooms_at_once`` (with ``ready_first`` and samples that carry the room pipeline): a checked-in
    patient is roomed only when one of the provider's room slots is free — a slot frees when its
    patient's visit and the room's turnover are over, and goes to the waiting patient with the
    earliest appointment — as in the simulated clinic, where this queue is most of the waiting
    that is not for the provider.
    ``order``: the samples' columns in appointment order (``a[j]`` is the time of column
    ``order[j]``), so a local search that reorders slots need not copy the samples."""
    a = np.ascontiguousarray(a, dtype=float)
    k, n = samples.k, samples.n
    if n == 0:
        z = np.zeros(k)
        idle = z if to_last else np.full(k, float(end - start))
        return SessionCost(z, idle, z, costs.idle_per_min * idle)
    perm = np.arange(n) if order is None else np.asarray(order, dtype=np.int64)
    pipeline = ready_first and rooms_at_once is not None and samples.checked is not None
    c = np.ascontiguousarray  # one compiled signature: C-ordered arrays
    none = np.zeros((0, 0))
    wait, idle, overtime = _days(
        a,
        perm,
        c(samples.show),
        c(samples.ready, dtype=float),
        c(samples.wait_from, dtype=float),
        c(samples.duration, dtype=float),
        samples.duration.sum(axis=1),
        c(samples.checked, dtype=float) if pipeline else none,
        c(samples.rooming, dtype=float) if pipeline else none,
        c(samples.turnover, dtype=float) if pipeline else none,
        c(samples.needs_room) if pipeline else np.zeros(0, dtype=bool),
        *_extra_args(samples.extra if ready_first else None, k),
        float(start),
        float(end),
        bool(to_last),
        bool(ready_first),
        int(rooms_at_once) if pipeline else 0,
    )
    cost = costs.wait_per_min * wait + costs.idle_per_min * idle + costs.overtime_per_min * overtime
    return SessionCost(wait, idle, overtime, cost)


def _extra_args(x: Extra | None, k: int) -> tuple:
    if x is None or x.appt.shape[1] == 0:
        none = np.zeros((0, 0))
        return none, none, none, none, none, none, np.zeros((0, 0), dtype=bool)
    c = np.ascontiguousarray
    return (
        c(x.appt, dtype=float),
        c(x.ready, dtype=float),
        c(x.duration, dtype=float),
        c(x.checked, dtype=float),
        c(x.rooming, dtype=float),
        c(x.turnover, dtype=float),
        c(x.needs_room, dtype=bool),
    )


#: Keys that order patients by appointment time, then by a time of the day: appointment ×
#: _ORDER + time; _LATER + time puts a patient after every such key.
_ORDER = 1e4
_LATER = 1e8


@numba.njit(cache=True, nogil=True)
def _days(a, perm, show, ready, wait_from, duration, busy, checked, rooming, turnover, needs_room,
          x_appt, x_ready, x_dur, x_checked, x_rooming, x_turn, x_needs,
          start, end, to_last, ready_first, rooms):  # fmt: skip
    """The sample-path recursion, day by day (compiled: the refinement's local search calls it
    tens of thousands of times a week, and numpy's per-call overhead on (days, slots) arrays made
    it most of the planning time; ``nogil`` lets the planner's threads run it side by side).
    Column ``perm[j]`` of the samples is the patient of appointment ``a[j]``; the ``x_`` arrays
    (K, m) are patients without a slot (``Extra``; m = 0 for none, and only with ``ready_first``);
    ``rooms`` > 0 plays the room pipeline. Argmin ties go to the lower index, as in the simulator's
    queue."""
    k = show.shape[0]
    n = a.shape[0]
    m = x_appt.shape[1] if x_appt.shape[0] == k else 0
    big = n + m
    wait = np.zeros(k)
    idle = np.zeros(k)
    overtime = np.zeros(k)
    appt = np.empty(big)
    ready_at = np.empty(big)
    wfrom = np.empty(big)
    dur = np.empty(big)
    room_t = np.zeros(big)
    turn_t = np.zeros(big)
    needs = np.zeros(big, dtype=np.bool_)
    pending = np.empty(big)
    pkey = np.empty(big)
    slots = np.empty(max(rooms, 1))
    for d in range(k):
        left = 0
        busy_d = busy[d]
        for j in range(big):
            if j < n:
                c = perm[j]
                appt[j] = a[j]
                here = show[d, c]
                ready_at[j] = a[j] + ready[d, c] if here else np.inf
                wfrom[j] = a[j] + wait_from[d, c]
                dur[j] = duration[d, c]
                if rooms > 0:
                    needs[j] = needs_room[c]
                    room_t[j] = rooming[d, c]
                    turn_t[j] = turnover[d, c]
                    chk = checked[d, c]
            else:
                e = j - n
                t = x_appt[d, e]
                here = not np.isnan(t)
                appt[j] = t if here else _LATER
                ready_at[j] = t + x_ready[d, e] if here else np.inf
                wfrom[j] = t if here else 0.0
                dur[j] = x_dur[d, e] if here else 0.0
                if here:
                    busy_d += dur[j]
                if rooms > 0:
                    needs[j] = x_needs[d, e]
                    room_t[j] = x_rooming[d, e]
                    turn_t[j] = x_turn[d, e]
                    chk = x_checked[d, e]
            if rooms > 0 and here and needs[j]:
                ready_at[j] = np.inf  # known once a room slot is theirs
                pending[j] = appt[j] + chk
                pkey[j] = appt[j] * _ORDER + pending[j]
                left += 1
            else:
                pending[j] = np.inf
                pkey[j] = np.inf
        if rooms > 0:
            # the day's first room slots, each to the checked-in patient with the earliest
            # appointment (of two with one time, the one checked in first), or the next to check in
            slots[:rooms] = -np.inf
            while left > 0:
                jr = 0
                for q in range(1, rooms):
                    if slots[q] < slots[jr]:
                        jr = q
                tau = slots[jr]
                if tau == np.inf:
                    break
                left = _room_next(tau, pending, pkey, ready_at, room_t, left)
                slots[jr] = np.inf
        free = start
        w = 0.0
        busy_in = 0.0
        last = -np.inf
        for step in range(big):
            if ready_first:
                # the ready patient with the earliest appointment (of two with one appointment
                # time, the one ready longer, as the simulator's queue); if nobody is ready, the
                # next to be
                i = 0
                best = np.inf
                for j in range(big):
                    key = (appt[j] * _ORDER if ready_at[j] <= free else _LATER) + ready_at[j]
                    if key < best:
                        best = key
                        i = j
            else:
                i = step
            r = ready_at[i]
            if r < np.inf:
                s = max(r, free)
                w += max(s - wfrom[i], 0.0)
                done = s + dur[i]
                busy_in += max(min(done, end) - max(s, start), 0.0)
                last = max(last, done)
                free = done
                ready_at[i] = np.inf
                if rooms > 0 and needs[i] and left > 0:
                    # the patient's room slot frees after the turnover; every other slot is
                    # held (or nobody is left to room), so it goes straight to the next patient
                    left = _room_next(done + turn_t[i], pending, pkey, ready_at, room_t, left)
        wait[d] = w
        if np.isfinite(last):
            overtime[d] = max(last - end, 0.0)
            idle[d] = last - start - busy_d if to_last else (end - start) - busy_in
        else:
            idle[d] = 0.0 if to_last else (end - start) - busy_in
    return wait, idle, overtime


@numba.njit(cache=True, nogil=True)
def _room_next(tau, pending, pkey, ready_at, room_t, left):
    """A room slot frees at ``tau``: it goes to the checked-in patient with the earliest
    appointment (of two with one time, the one checked in first), else to the next to check in,
    who is ready after rooming. Returns how many are left to room."""
    i = 0
    best = np.inf
    for j in range(pending.shape[0]):
        p = pending[j]
        key = pkey[j] if p <= tau else _LATER + p
        if key < best:
            best = key
            i = j
    ready_at[i] = max(tau, pending[i]) + room_t[i]
    pending[i] = np.inf
    pkey[i] = np.inf
    return left - 1
