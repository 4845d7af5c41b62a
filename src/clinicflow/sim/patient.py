"""Patients: their random draws and their run-time state.

Every draw of a booked patient comes from the keyed stream ``("patient", date, provider, start,
slot_index)`` of the replication (``streams.KeyedStreams``): one stream per patient identity, so the
same seed gives the same patient the same
punctuality, show/no-show and durations in any two scenarios that book them (common random numbers).
Draws are made by inversion — a uniform per source, mapped through the distribution's quantile
function — which keeps them synchronized even when two scenarios give the patient different
distributions (a longer visit type stays "the same patient, relatively slow"). Walk-ins come from one
keyed stream per day and hour.
"""

from __future__ import annotations

import numpy as np

from ..streams import KeyedStreams
from .plan import DayPlan, Plan

# Columns of a patient's uniforms.
U_PUNCTUALITY, U_SHOW, U_CHECK_IN, U_ROOMING, U_VISIT, U_TURNOVER, U_CHECKOUT, U_TYPE = range(8)
N_UNIFORMS = 8
_EPS = 1e-12

# Outcomes of a patient (see records.OUTCOMES).
SHOWS, NO_SHOW, LATE_CANCEL = 0, 1, 2


def patient_uniforms(streams: KeyedStreams, words: list[tuple[int, ...]]) -> np.ndarray:
    """One row of uniforms per booked patient, from the patient's own keyed stream.

    Equal to ``keyed_stream(rep, "patient", *key).random(N_UNIFORMS)`` (tested), read at the
    precomputed key words (``plan.key_words``).
    """
    out = np.empty((len(words), N_UNIFORMS))
    at = streams.at
    for i, w in enumerate(words):
        out[i] = at(w).random(N_UNIFORMS)
    return np.clip(out, _EPS, 1 - _EPS)


def _by_inversion(dists: list, which: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``dists[which[i]].quantile(u[i])``, one vectorized call per distinct distribution."""
    out = np.empty(len(u))
    for k in np.unique(which):
        m = which == k
        out[m] = dists[k].quantile(u[m])
    return out


class Draws:
    """The draws of every booked patient in one replication (arrays over the plan's patients)."""

    __slots__ = ("arrival", "check_in", "checkout", "outcome", "rooming", "turnover", "u", "visit")

    def __init__(self, plan: Plan, streams: KeyedStreams):
        s = plan.scenario
        n = plan.n_patients
        u = patient_uniforms(streams, plan.p_key_words)
        self.u = u
        if n == 0:
            z = np.zeros(0)
            self.arrival = self.check_in = self.checkout = self.rooming = self.turnover = self.visit = z
            self.outcome = np.zeros(0, dtype=int)
            return
        # Nobody gets in before the doors open.
        early = plan.p_appt + s.arrivals.punctuality.quantile(u[:, U_PUNCTUALITY])
        early = np.where(np.isnan(plan.p_arrival), early, plan.p_arrival)  # a replay's recorded arrival
        self.arrival = np.maximum(early, float(s.clinic.opens))
        show = u[:, U_SHOW]
        self.outcome = np.where(
            show < plan.p_no_show,
            NO_SHOW,
            np.where(show < plan.p_no_show + plan.p_cancel, LATE_CANCEL, SHOWS),
        )
        desk = s.staff.front_desk
        self.check_in = desk.check_in_min.quantile(u[:, U_CHECK_IN])
        self.checkout = desk.checkout_min.quantile(u[:, U_CHECKOUT])
        self.turnover = s.rooms.turnover_min.quantile(u[:, U_TURNOVER])
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
    """A walk-in's draws: arrival minute, type, and its durations (the visit for each provider, since
    who sees a walk-in from the shared queue is only known when a provider takes it)."""

    __slots__ = ("arrival", "check_in", "checkout", "rooming", "turnover", "type", "visit")

    def __init__(self, arrival, type_ix, check_in, checkout, rooming, turnover, visit):
        self.arrival = arrival
        self.type = type_ix
        self.check_in = check_in
        self.checkout = checkout
        self.rooming = rooming
        self.turnover = turnover
        self.visit = visit


def walk_ins(plan: Plan, day: DayPlan, streams: KeyedStreams) -> list[WalkIn]:
    """Walk-ins of one day: a Poisson process with a piecewise-constant hourly rate.

    In each hour window the count is Poisson with the window's expected count and the arrival times
    are uniform in the window — exactly a non-homogeneous Poisson process with that rate profile.
    Each walk-in's uniforms come from the same (day, hour) stream, right after the arrival times.
    """
    if not len(plan.walk_in_types):
        return []
    times, rows = [], []
    for (_hour, a, b, expected), words in zip(day.walk_in_windows, day.walk_in_words, strict=True):
        g = streams.at(words)  # the stream ("walk-ins", date, hour), its key hashed once per plan
        n = int(g.poisson(expected))
        if n == 0:
            continue
        times.append(np.sort(a + (b - a) * g.random(n)))
        rows.append(g.random((n, N_UNIFORMS)))
    if not times:
        return []
    t = np.concatenate(times)
    u = np.clip(np.concatenate(rows), _EPS, 1 - _EPS)
    kinds = plan.walk_in_types[np.searchsorted(plan.walk_in_cum, u[:, U_TYPE], side="right")]
    s = plan.scenario
    desk = s.staff.front_desk
    check_in = desk.check_in_min.quantile(u[:, U_CHECK_IN])
    checkout = desk.checkout_min.quantile(u[:, U_CHECKOUT])
    turnover = s.rooms.turnover_min.quantile(u[:, U_TURNOVER])
    rooming = np.zeros(len(t))
    need = plan.t_needs_ma[kinds]
    if need.any():
        dists = [x.rooming_min for x in s.appointment_types]
        rooming[need] = _by_inversion(dists, kinds[need], u[need, U_ROOMING])
    # Visit durations for every provider working today (inversion: same uniform, each provider's law).
    visit = np.full((len(t), len(plan.providers)), np.nan)
    for pi in day.sessions:
        visit[:, pi] = _by_inversion(plan.visit_dist[pi], kinds, u[:, U_VISIT])
    return [
        WalkIn(*row[:6], row[6])
        for row in zip(
            t.tolist(),
            kinds.tolist(),
            check_in.tolist(),
            checkout.tolist(),
            rooming.tolist(),
            turnover.tolist(),
            visit.tolist(),
            strict=True,
        )
    ]
