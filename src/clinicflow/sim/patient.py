"""Patients: their random draws and their run-time state.

Every draw of a booked patient comes from ``keyed_generator(rep, "patient", date, provider, start,
slot_index)``: one generator per patient identity, so the same seed gives the same patient the same
punctuality, show/no-show and durations in any two scenarios that book them (common random numbers).
Draws are made by inversion — a uniform per source, mapped through the distribution's quantile
function — which keeps them synchronized even when two scenarios give the patient different
distributions (a longer visit type stays "the same patient, relatively slow"). Walk-ins come from one
keyed generator per day and hour.
"""

from __future__ import annotations

import numpy as np

from ..streams import keyed_generator
from .plan import DayPlan, Plan
from .sampling import quantile

# Columns of a patient's uniforms.
U_PUNCTUALITY, U_SHOW, U_CHECK_IN, U_ROOMING, U_VISIT, U_TURNOVER, U_CHECKOUT, U_TYPE = range(8)
N_UNIFORMS = 8
_EPS = 1e-12

# Outcomes of a patient (see records.OUTCOMES).
SHOWS, NO_SHOW, LATE_CANCEL = 0, 1, 2


def patient_uniforms(rep: np.random.SeedSequence, keys: list[tuple]) -> np.ndarray:
    """One row of uniforms per booked patient, from the patient's own keyed generator."""
    out = np.empty((len(keys), N_UNIFORMS))
    for i, key in enumerate(keys):
        out[i] = keyed_generator(rep, "patient", *key).random(N_UNIFORMS)
    return np.clip(out, _EPS, 1 - _EPS)


def _by_inversion(dists: list, which: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``dists[which[i]].quantile(u[i])``, one vectorized call per distinct distribution."""
    out = np.empty(len(u))
    for k in np.unique(which):
        m = which == k
        out[m] = quantile(dists[k], u[m])
    return out


class Draws:
    """The draws of every booked patient in one replication (arrays over the plan's patients)."""

    __slots__ = ("arrival", "check_in", "checkout", "outcome", "rooming", "turnover", "u", "visit")

    def __init__(self, plan: Plan, rep: np.random.SeedSequence):
        s = plan.scenario
        n = plan.n_patients
        u = patient_uniforms(rep, plan.p_keys)
        self.u = u
        if n == 0:
            z = np.zeros(0)
            self.arrival = self.check_in = self.checkout = self.rooming = self.turnover = self.visit = z
            self.outcome = np.zeros(0, dtype=int)
            return
        self.arrival = np.maximum(plan.p_appt + quantile(s.arrivals.punctuality, u[:, U_PUNCTUALITY]), 0.0)
        show = u[:, U_SHOW]
        self.outcome = np.where(
            show < plan.p_no_show,
            NO_SHOW,
            np.where(show < plan.p_no_show + plan.p_cancel, LATE_CANCEL, SHOWS),
        )
        desk = s.staff.front_desk
        self.check_in = quantile(desk.check_in_min, u[:, U_CHECK_IN])
        self.checkout = quantile(desk.checkout_min, u[:, U_CHECKOUT])
        self.turnover = quantile(s.rooms.turnover_min, u[:, U_TURNOVER])
        # Visit durations: one distribution per (provider, type) pair in use.
        pairs = plan.p_provider * len(plan.types) + plan.p_type
        flat = [d for row in plan.visit_dist for d in row]
        self.visit = _by_inversion(flat, pairs, u[:, U_VISIT])
        rooming = np.zeros(n)
        need = plan.t_needs_ma[plan.p_type]
        if need.any():
            dists = [t.rooming_min for t in s.appointment_types]
            rooming[need] = _by_inversion(dists, plan.p_type[need], u[need, U_ROOMING])
        self.rooming = rooming


class WalkIn:
    """A walk-in's draws: arrival minute, type and the uniforms for its durations."""

    __slots__ = ("arrival", "type", "u")

    def __init__(self, arrival: float, type_ix: int, u: np.ndarray):
        self.arrival = arrival
        self.type = type_ix
        self.u = u


def walk_ins(plan: Plan, day: DayPlan, rep: np.random.SeedSequence) -> list[WalkIn]:
    """Walk-ins of one day: a Poisson process with a piecewise-constant hourly rate.

    In each hour window the count is Poisson with the window's expected count and the arrival times
    are uniform in the window — exactly a non-homogeneous Poisson process with that rate profile.
    """
    out: list[WalkIn] = []
    if not len(plan.walk_in_types):
        return out
    date = day.date.isoformat()
    for hour, a, b, expected in day.walk_in_windows:
        g = keyed_generator(rep, "walk-ins", date, hour)
        n = int(g.poisson(expected))
        if n == 0:
            continue
        times = np.sort(a + (b - a) * g.random(n))
        u = np.clip(g.random((n, N_UNIFORMS)), _EPS, 1 - _EPS)
        kinds = plan.walk_in_types[np.searchsorted(plan.walk_in_cum, u[:, U_TYPE], side="right")]
        out.extend(WalkIn(float(t), int(k), row) for t, k, row in zip(times, kinds, u, strict=True))
    return out
