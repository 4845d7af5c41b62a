"""The expected load a slot puts on the medical assistants, minute by minute around its start.

Why expected and not nominal: a patient is roomed after arriving and checking in, and patients
arrive on their own clock (the family practice: 8 minutes early on average, a 12-minute spread),
some not at all. Charging every slot an MA over ``[start, start + mean rooming)`` — the rule until
session 4 — forbade two providers' double-booked block starts that the simulated clinic handles with
MA queues of a few minutes a week, and cost the plan its edge over Bailey-Welch on the orthopedic
practice. The planner's MA limit is now the fluid one: in every window of ``WINDOW`` minutes the *expected*
MA-minutes of rooming, summed over all providers' slots, fit in the MA-minutes on duty. A window,
not a minute: a patient can wait a few minutes for an MA, and a per-minute limit would ask the
spread-out tails of neighbouring patients' rooming to tile like clockwork — with punctual patients
and one MA it made clinics infeasible that the nominal rule had timed. Fifteen minutes is the
shortest visit slot practices book and about two roomings.

A slot of type ``T`` starting at ``g`` is being roomed over ``[g + L + C, g + L + C + R)`` where ``L``
is the patient's lateness (``arrivals.punctuality``; later than ``late_cutoff_min`` is rebooked),
``C`` the check-in at the desk (when a desk is on duty) and ``R`` the rooming time; the patient comes
with probability ``1 - no_show - late_cancel``. ``profile`` gives the expected MA-minutes spent on
the slot in each minute ``[g + u, g + u + 1)``, in thousandths of an MA, integers so CP-SAT and the
ledger add them exactly. Queueing for a room before rooming is left out: it only delays rooming,
and the simulator's MA queue shows what is left (docs/planning.md).

The distributions are integrated on quantile grids, not sampled: the profile is a property of the
scenario, the same for every seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from ..domain.scenario import Scenario

MILLI = 1000  # profile units: thousandths of an MA
QUANTILES = 64  # points per distribution on its quantile grid
WINDOW = 15  # minutes: the MA limit holds for the rooming work of every window this long


def windowed(per_minute: np.ndarray) -> np.ndarray:
    """``out[t]`` = the sum of ``per_minute[t : t + WINDOW]`` (windows that run off the end are
    summed over what is there)."""
    cum = np.concatenate([[0], np.cumsum(per_minute, dtype=np.int64)])
    n = len(per_minute)
    return cum[np.minimum(np.arange(n) + WINDOW, n)] - cum[:n]


@dataclass(frozen=True)
class Profile:
    """Expected MA use of one slot: ``load[j]`` thousandths of an MA in minute ``start + offset + j``;
    ``window[j]`` the thousandths of MA-minutes in the window of ``WINDOW`` minutes that begins at
    ``start + window_offset + j``."""

    offset: int
    load: np.ndarray  # int64

    @cached_property
    def window_offset(self) -> int:
        return self.offset - WINDOW + 1

    @cached_property
    def window(self) -> np.ndarray:
        return np.convolve(self.load, np.ones(WINDOW, dtype=np.int64))

    def at(self, start: int, length: int) -> np.ndarray:
        """The profile laid on a day of ``length`` minutes for a slot starting at ``start``."""
        out = np.zeros(length, dtype=np.int64)
        a = start + self.offset
        lo, hi = max(a, 0), min(a + len(self.load), length)
        if hi > lo:
            out[lo:hi] = self.load[lo - a : hi - a]
        return out


def _grid(dist) -> np.ndarray:
    p = (np.arange(QUANTILES) + 0.5) / QUANTILES
    return np.asarray(dist.quantile(p), dtype=float)


def profile(scenario: Scenario, type_id: str, with_desk: bool) -> Profile:
    """The expected MA load of a slot of ``type_id`` (an empty profile when it needs no MA).
    ``with_desk``: a front-desk clerk is on duty that day, so in-person patients check in first."""
    t = scenario.type_by_id[type_id]
    if not t.needs_ma:
        return Profile(0, np.zeros(0, dtype=np.int64))
    arr = scenario.arrivals
    check_in = scenario.staff.front_desk.check_in_min if with_desk and t.needs_room else None
    p_come = max(0.0, 1.0 - t.no_show - t.late_cancel)
    return _profile(arr.punctuality, arr.late_cutoff_min, check_in, t.rooming_min, p_come)


@lru_cache(maxsize=256)
def _profile(punctuality, late_cutoff: float | None, check_in, rooming, p_come: float) -> Profile:
    """Cached on the distributions themselves (frozen, hashable): every slot of a type shares one."""
    late = _grid(punctuality)
    if late_cutoff is not None:
        late = late[late <= late_cutoff]  # later patients are rebooked: never roomed
    p_come *= len(late) / QUANTILES
    begin = late
    if check_in is not None:
        begin = (begin[:, None] + _grid(check_in)[None, :]).ravel()
    end = (begin[:, None] + _grid(rooming)[None, :]).ravel()
    lo, hi = int(np.floor(begin.min())), int(np.ceil(end.max()))
    u = np.arange(lo, hi + 1, dtype=float)
    # Expected minutes of [begin, end) inside [u, u + 1) = ∫_u^{u+1} (F_begin(x) - F_end(x)) dx,
    # and ∫_u^{u+1} F_X(x) dx = E[clip(u + 1 - X, 0, 1)].
    in_minute = _cdf_integral(begin, u) - _cdf_integral(end, u)
    load = np.rint(np.clip(in_minute, 0.0, None) * p_come * MILLI).astype(np.int64)
    nz = np.flatnonzero(load)
    if not len(nz):
        return Profile(0, np.zeros(0, dtype=np.int64))
    return Profile(lo + int(nz[0]), load[nz[0] : nz[-1] + 1])


def _cdf_integral(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``E[clip(u + 1 - X, 0, 1)]`` for each ``u``, with ``X`` uniform over the points ``x``."""
    xs = np.sort(x)
    cum = np.concatenate([[0.0], np.cumsum(xs)])
    n = len(xs)
    # points below u count 1; points in [u, u+1) count u + 1 - x; points above count 0.
    below = np.searchsorted(xs, u, side="left")
    upto = np.searchsorted(xs, u + 1.0, side="left")
    mid = (upto - below) * (u + 1.0) - (cum[upto] - cum[below])
    return (below + mid) / n
