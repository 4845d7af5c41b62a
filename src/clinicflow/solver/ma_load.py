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

A patient who comes while no MA is on duty (before the MAs' shift starts) waits for one: the
rooming that would fall in those minutes is done from the first minute an MA is (``defer``), as the
simulated clinic does; without that, a clinic whose MA starts mid-session could not start a rooming
visit until half an hour after the MA did.

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

    def at(self, start: int, length: int, on_duty: np.ndarray | None = None) -> np.ndarray:
        """The profile laid on a day of ``length`` minutes for a slot starting at ``start``; with
        ``on_duty`` (MAs each minute) the rooming that falls where no MA is on duty is deferred to
        the first minutes one is (``defer``)."""
        out = np.zeros(length, dtype=np.int64)
        a = start + self.offset
        lo, hi = max(a, 0), min(a + len(self.load), length)
        if hi > lo:
            out[lo:hi] = self.load[lo - a : hi - a]
            if on_duty is not None and needs_deferral(on_duty, lo, hi):
                out = defer(out, on_duty)
        return out

    def add_at(self, out: np.ndarray, start: int, on_duty: np.ndarray | None = None) -> None:
        """``out += self.at(start, len(out), on_duty)``, without laying a whole day down when no
        rooming needs deferring (the local search asks this for every slot of every move)."""
        a = start + self.offset
        lo, hi = max(a, 0), min(a + len(self.load), len(out))
        if hi <= lo:
            return
        if on_duty is not None and needs_deferral(on_duty, lo, hi):
            out += self.at(start, len(out), on_duty)
        else:
            out[lo:hi] += self.load[lo - a : hi - a]

    def windowed_at(self, start: int, on_duty: np.ndarray | None) -> tuple[int, np.ndarray]:
        """(first minute, values) of the windowed load of a slot starting at ``start``: ``p.window``
        placed at ``start + window_offset``, or computed from the deferred load when part of the
        rooming falls where no MA is on duty."""
        a = start + self.offset
        if on_duty is None or not needs_deferral(on_duty, max(a, 0), a + len(self.load)):
            return start + self.window_offset, self.window
        laid = self.at(start, len(on_duty), on_duty)
        nz = np.flatnonzero(laid)
        lo = max(0, int(nz[0]) - WINDOW + 1)
        hi = int(nz[-1]) + 1
        return lo, windowed(laid)[lo:hi]


def needs_deferral(on_duty: np.ndarray, lo: int, hi: int) -> bool:
    """Whether minutes ``[lo, hi)`` include one with no MA on duty that a later MA can make up."""
    seg = on_duty[lo:hi]
    if not len(seg) or seg.min() > 0:
        return False
    last_on = np.flatnonzero(on_duty)
    return bool(len(last_on)) and int(np.flatnonzero(seg == 0)[0]) + lo < int(last_on[-1])


def defer(load: np.ndarray, on_duty: np.ndarray) -> np.ndarray:
    """One patient's expected rooming (thousandths of an MA each minute) with what falls in
    minutes with no MA on duty moved to the next minutes an MA is, at most one MA a minute (one
    patient is roomed by one MA): a patient who comes before the MAs' shift waits for it, as in the
    simulated clinic. Rooming after the last MA of the day stays where it is (never roomed; the
    limit then fails, rightly)."""
    out = load.copy()
    nz = np.flatnonzero(out)
    on = np.flatnonzero(on_duty)
    if not len(nz) or not len(on):
        return out
    last_on, last_load = int(on[-1]), int(nz[-1])
    carry = 0
    for t in range(int(nz[0]), len(out)):
        if t > last_on or (carry == 0 and t > last_load):
            break
        if on_duty[t] == 0:
            carry += int(out[t])
            out[t] = 0
        elif carry:
            moved = min(MILLI - int(out[t]), carry)
            if moved > 0:
                out[t] += moved
                carry -= moved
    if carry:  # more waiting than the last MA's minutes can room: left after them, never roomed
        out[min(last_on + 1, len(out) - 1)] += carry
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
