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

import numpy as np

from ..domain.costs import Costs


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
    start the walk-in who fills it arrives, NaN when nobody does (``holds.block_walk_ins``). A
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


#: Keys that order patients by appointment time, then by a time of the day: appointment ×
#: _ORDER + time; _LATER + time puts a patient after every such key.
_ORDER = 1e4
_LATER = 1e8


def _give_rooms(slots, pending, pkey, left, ready_at, rooming) -> None:
    """The day's first room slots: each free slot (earliest first) to the checked-in patient with the earliest
    appointment (of two with one appointment time, the one checked in first), or to the next to
    check in; that patient is ready after rooming. ``pending`` holds when each patient still
    needing a slot checked in (inf otherwise), ``pkey`` its appointment key, ``left`` how many
    per day. In place."""
    rows = np.arange(slots.shape[0])
    while True:
        j = slots.argmin(axis=1)
        tau = slots[rows, j]
        go = (tau < np.inf) & (left > 0)
        if not go.any():
            return
        r = rows[go]
        _room_next(r, tau[go], pending, pkey, left, ready_at, rooming)
        slots[r, j[go]] = np.inf


def _room_next(r, tau, pending, pkey, left, ready_at, rooming) -> None:
    """On days ``r`` a room slot frees at ``tau``: it goes to the checked-in patient with the
    earliest appointment (of two with one time, the one checked in first), else to the next to
    check in, who is ready after rooming. In place."""
    p_r = pending[r]
    i = np.where(p_r <= tau[:, None], pkey[r], _LATER + p_r).argmin(axis=1)
    ready_at[r, i] = np.maximum(tau, p_r[np.arange(len(r)), i]) + rooming[r, i]
    pending[r, i] = np.inf
    pkey[r, i] = np.inf
    left[r] -= 1


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
    that is not for the provider."""
    a = np.asarray(a, dtype=float)
    k, n = samples.k, samples.n
    if n == 0:
        z = np.zeros(k)
        idle = z if to_last else np.full(k, float(end - start))
        return SessionCost(z, idle, z, costs.idle_per_min * idle)
    free = np.full(k, float(start))
    wait = np.zeros(k)
    busy_in = np.zeros(k)
    busy = samples.duration.sum(axis=1)
    last = np.full(k, -np.inf)
    rows = np.arange(k)
    # ready time of each showing patient not yet seen; inf once seen (or absent)
    ready_at = np.where(samples.show, a[None, :] + samples.ready, np.inf)
    wait_from = a[None, :] + samples.wait_from
    pipeline = ready_first and rooms_at_once is not None and samples.checked is not None
    if pipeline:
        roomed = samples.show & samples.needs_room[None, :]
        ready_at[roomed] = np.inf  # known once a room slot is theirs
        pending = np.where(roomed, a[None, :] + samples.checked, np.inf)
        pkey = a[None, :] * _ORDER + pending
        left = roomed.sum(axis=1)
        slots = np.full((k, rooms_at_once), -np.inf)  # when each free slot frees; inf = held
        _give_rooms(slots, pending, pkey, left, ready_at, samples.rooming)
    a_key = a[None, :] * _ORDER
    for step in range(n):
        if ready_first:
            # the ready patient with the earliest appointment (of two with one appointment time,
            # the one ready longer, as the simulator's queue); if nobody is ready, the next to be
            i = (np.where(ready_at <= free[:, None], a_key, _LATER) + ready_at).argmin(axis=1)
        else:
            i = np.full(k, step)
        r = ready_at[rows, i]
        show = r < np.inf
        s = np.where(show, np.maximum(r, free), free)
        wait += np.where(show, np.maximum(s - wait_from[rows, i], 0.0), 0.0)
        done = s + samples.duration[rows, i]
        busy_in += np.where(show, np.maximum(np.minimum(done, end) - np.maximum(s, start), 0.0), 0.0)
        last = np.where(show, np.maximum(last, done), last)
        free = np.where(show, done, free)
        ready_at[rows, i] = np.inf
        if pipeline:
            # the patient's room slot frees after the turnover; every other slot is held (or
            # nobody is left to room), so it goes straight to the next patient
            go = show & roomed[rows, i] & (left > 0)
            if go.any():
                tau = (done + samples.turnover[rows, i])[go]
                _room_next(rows[go], tau, pending, pkey, left, ready_at, samples.rooming)
    # to_last: from the start to the last visit's end, past the block end too
    to_end = (end - start) - busy_in
    idle = np.where(np.isfinite(last), last - start - busy, 0.0) if to_last else to_end
    overtime = np.where(np.isfinite(last), np.maximum(last - end, 0.0), 0.0)
    cost = costs.wait_per_min * wait + costs.idle_per_min * idle + costs.overtime_per_min * overtime
    return SessionCost(wait, idle, overtime, cost)
