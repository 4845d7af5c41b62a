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
) -> Samples:
    """``k`` sampled days for slots with the given duration distributions and absence probabilities.

    Patients later than ``late_cutoff`` are rebooked, i.e. absent. ``delays[i]`` lists the
    distributions of the steps between arrival and the provider for slot ``i`` (check-in, rooming).
    ``walk_ins[i]`` makes slot ``i`` a same-day hold: on each day how many minutes after the slot's
    start the walk-in who fills it arrives, NaN when nobody does (``holds.block_walk_ins``). A
    walk-in who comes before the start is told to come back at it, so its lateness is the positive
    part. The same random numbers are drawn either way, so the other slots' days do not change."""
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
    for i, dists in enumerate(delays or []):
        for dist in dists:
            steps[:, i] += np.maximum(np.asarray(dist.sample(rng, k), dtype=float), 0.0)
    for i, late in (walk_ins or {}).items():
        late = np.asarray(late, dtype=float)
        show[:, i] = np.isfinite(late)
        u[:, i] = np.where(show[:, i], np.maximum(late, 0.0), 0.0)
    ready = np.where(show, u + steps, 0.0)
    wait_from = np.where(show, np.maximum(u, 0.0), 0.0)
    dur = np.where(show, dur, 0.0)
    return Samples(show, ready, wait_from, dur)


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
) -> SessionCost:
    """Waiting, idle and overtime minutes on each sampled day for appointment times ``a`` (sorted).

    ``to_last``: idle counts until the last visit ends (the block ends its session's patients);
    otherwise until the block end (patients come after the following break).
    ``ready_first``: the provider sees the *ready* patient with the earliest appointment, and a
    later patient before a late one, as the simulated clinic does; otherwise patients are seen in
    appointment order (the recursion the timing model optimizes)."""
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
    for step in range(n):
        if ready_first:
            # the ready patient with the earliest appointment; if nobody is ready, the next to be
            avail = ready_at <= free[:, None]
            i = np.where(avail.any(axis=1), avail.argmax(axis=1), ready_at.argmin(axis=1))
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
    # to_last: from the start to the last visit's end, past the block end too
    to_end = (end - start) - busy_in
    idle = np.where(np.isfinite(last), last - start - busy, 0.0) if to_last else to_end
    overtime = np.where(np.isfinite(last), np.maximum(last - end, 0.0), 0.0)
    cost = costs.wait_per_min * wait + costs.idle_per_min * idle + costs.overtime_per_min * overtime
    return SessionCost(wait, idle, overtime, cost)
