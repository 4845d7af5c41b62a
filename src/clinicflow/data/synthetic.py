"""Synthetic appointment histories: realistic enough to test and demo the analytics, and no real
patient anywhere.

No-show behaviour follows the effects the literature reports consistently (Dantas et al., Health
Policy 2018, a review of 105 studies; the public Brazilian no-show dataset): the longer the lead
time the more no-shows; young adults miss more than older patients; reminders help; Mondays,
Fridays and Saturdays are worse; and a patient who missed before tends to miss again — both
through a persistent patient propensity and a direct effect of each earlier no-show. Each
appointment's probability is a logistic function of these effects; the generator keeps it (as
``true_prob``, and as ``known_prob`` without the unobservable patient propensity) so tests can
check what a model recovers.

Visit timestamps (check-in, rooming, provider start/end, checkout) are drawn for attended visits
from each type's (and provider's) duration distribution, and check-ins from the scenario's
punctuality (clipped to 45 minutes early .. 40 late), so duration and punctuality fitting have known
answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..domain.clock import WEEKDAYS
from ..domain.distributions import Lognormal, Normal
from ..domain.requests import requests_frame, synthetic_requests
from ..domain.scenario import Scenario
from ..streams import keyed_generator
from .names import LAYOUTS as LAYOUTS  # re-exported: its home is light to import
from .synthetic_sessions import FULL_FILL, book_sessions, history_weeks, weekly_mix

#: Effects on the log-odds of a no-show (relative to a 45–64-year-old, no reminder, Tue–Thu).
AGE_EFFECT = {"0-17": -0.05, "18-29": 0.40, "30-44": 0.20, "45-64": 0.0, "65-79": -0.30, "80+": -0.15}
WEEKDAY_EFFECT = {"mon": 0.18, "tue": 0.0, "wed": 0.0, "thu": 0.02, "fri": 0.12, "sat": 0.25, "sun": 0.25}
LEAD_EFFECT = 0.32  # per log(1 + lead days)
REMINDER_EFFECT = -0.40
PRIOR_NO_SHOW_EFFECT = 0.45  # per earlier no-show, up to three
PATIENT_SD = 0.7  # sd of the persistent patient propensity (log-odds)

GENERIC_COLUMNS = (
    "appointment_id",
    "patient_id",
    "provider",
    "appointment_type",
    "scheduled_at",
    "start_at",
    "status",
    "checkin_at",
    "roomed_at",
    "provider_start_at",
    "provider_end_at",
    "checkout_at",
    "age",
    "sex",
    "reminder",
)


@dataclass(frozen=True)
class _Type:
    id: str
    no_show: float
    late_cancel: float
    scheduled_min: int
    duration: object
    rooming_mean: float


_DEFAULT_TYPES = (
    _Type("new_patient", 0.22, 0.04, 40, Lognormal(mean=34, sd=12), 9),
    _Type("follow_up", 0.15, 0.04, 20, Lognormal(mean=16, sd=6.5), 6),
    _Type("annual_physical", 0.12, 0.05, 30, Lognormal(mean=27, sd=8), 8),
    _Type("sick_visit", 0.09, 0.02, 20, Lognormal(mean=14, sd=5), 5),
)
_DEFAULT_PROVIDERS = {"dr_a": 1.0, "dr_b": 1.15, "np_c": 0.9}


def _logit(p):
    return np.log(p / (1 - p))


def _age_band(age: np.ndarray) -> np.ndarray:
    edges = np.array([18, 30, 45, 65, 80])
    labels = np.array(list(AGE_EFFECT))
    return labels[np.searchsorted(edges, age, side="right")]


def generate_history(
    n: int,
    seed: int = 0,
    start: dt.date = dt.date(2025, 1, 6),
    weeks: int = 26,
    scenario: Scenario | None = None,
    cancellations: bool = True,
) -> pd.DataFrame:
    """``n`` appointments over ``weeks`` weeks from ``start`` (a Monday is best).

    With a ``scenario``, appointment types, their no-show rates and durations, and providers (and
    their duration overrides) come from it, and the appointments are booked into the providers'
    sessions as a practice fills its templates (:mod:`.synthetic_sessions`): back to back at the
    types' scheduled lengths, the type mix of its weekly demand, same-day holds taken on the day;
    a week books ``n / weeks`` visits but no more than a full week, and more rows make the history
    span more weeks (``history_span``). The frame then also has each visit's booked ``end_at``.
    Without a scenario, a small family practice books anywhere from 08:00 to 16:20 on weekdays.
    ``cancellations`` adds late and advance cancellations (the public layout has neither).
    The frame carries raw synthetic identifiers, like a real export would, plus ``true_prob``.
    """
    rng = keyed_generator(np.random.SeedSequence(seed), "synthetic-history")
    types, providers, sees, durations, days_open = _practice(scenario)

    # patients: age, sex, attributes, persistent propensity, and how often they come
    n_pat = max(1, int(n / 1.75))
    age = np.clip(
        np.where(rng.random(n_pat) < 0.2, rng.integers(0, 18, n_pat), rng.normal(47, 18, n_pat)), 0, 102
    )
    age = age.astype(int)
    sex = np.where(rng.random(n_pat) < 0.64, "F", "M")
    z = rng.normal(0, PATIENT_SD, n_pat)
    older = age >= 45
    hypertension = (rng.random(n_pat) < np.where(older, 0.38, 0.06)).astype(int)
    diabetes = (rng.random(n_pat) < np.where(older, 0.14, 0.02)).astype(int)
    alcoholism = (rng.random(n_pat) < 0.03).astype(int)
    scholarship = (rng.random(n_pat) < 0.10).astype(int)
    handicap = np.where(rng.random(n_pat) < 0.02, rng.integers(1, 5, n_pat), 0)
    patient_ids = _unique_ids(rng, n_pat, 10**13, 10**14)
    weight = rng.gamma(0.9, 1.0, n_pat)
    pat = rng.choice(n_pat, n, p=weight / weight.sum())

    if scenario is None:
        # when: open days, weekday volumes, lead times
        days = [start + dt.timedelta(days=d) for d in range(weeks * 7)]
        days = [d for d in days if WEEKDAYS[d.weekday()] in days_open]
        vol = np.array(
            [
                {"mon": 1.15, "tue": 1.1, "wed": 1.05, "thu": 1.0, "fri": 0.9}.get(
                    WEEKDAYS[d.weekday()], 0.35
                )
                for d in days
            ]
        )
        day_idx = rng.choice(len(days), n, p=vol / vol.sum())
        appt_date = np.array(days, dtype="datetime64[D]")[day_idx]
        same_day = rng.random(n) < 0.3
        lead = np.where(same_day, 0, np.minimum(np.round(rng.lognormal(np.log(9), 1.0, n)), 120)).astype(int)

        # what, with whom, at what time
        type_idx = rng.integers(0, len(types), n)
        prov_idx = np.array([rng.choice(sees[t]) for t in type_idx]) if n else np.zeros(0, int)
        slot = rng.integers(0, 26, n)  # 08:00 … 16:20 in 20-minute steps
        start_min = 8 * 60 + 20 * slot
        cancelled = np.zeros(n, bool)  # drawn with the outcome below
    else:
        # the practice's sessions, filled as its templates are (synthetic_sessions)
        span = history_span(n, weeks, scenario, cancellations)
        booked = book_sessions(rng, n, scenario, [t.id for t in types], start, span, cancellations)
        appt_date, start_min, type_idx = booked.date, booked.start_min, booked.type_idx
        prov_idx, lead, cancelled = booked.prov_idx, booked.lead, booked.cancelled
    weekday = np.array(WEEKDAYS)[(appt_date.astype("datetime64[D]").view("int64") - 4) % 7]
    hour = start_min // 60
    reminder = (lead >= 2) & (rng.random(n) < 0.65)

    # the no-show probability, with each earlier no-show of the same patient counted in date order
    t_rate = np.array([t.no_show for t in types])[type_idx]
    band = _age_band(age[pat])
    eta = (
        _logit(np.clip(t_rate, 0.01, 0.9))
        - 0.75  # centres the effects so the overall rate stays near the types' rates
        + LEAD_EFFECT * np.log1p(lead)
        + REMINDER_EFFECT * reminder
        + np.vectorize(AGE_EFFECT.get)(band)
        + np.vectorize(WEEKDAY_EFFECT.get)(weekday)
        + np.where((hour < 9) | (hour >= 16), 0.15, 0.0)
        + 0.15 * scholarship[pat]
        + 0.15 * alcoholism[pat]
        + z[pat]
    )
    u = rng.random(n)
    order = np.lexsort((appt_date, pat))
    no_show = np.zeros(n, bool)
    prob = np.zeros(n)
    known = np.zeros(n)  # the same without the unobservable patient propensity
    prior = np.zeros(n, int)
    prev_pat, count, pending, pending_day = -1, 0, 0, None
    for i in order:
        p, d = pat[i], appt_date[i]
        if p != prev_pat:
            prev_pat, count, pending, pending_day = p, 0, 0, d
        elif d != pending_day:  # outcomes of earlier days become known
            count += pending
            pending, pending_day = 0, d
        prior[i] = count
        prob[i] = 1 / (1 + np.exp(-(eta[i] + PRIOR_NO_SHOW_EFFECT * min(count, 3))))
        known[i] = 1 / (1 + np.exp(-(eta[i] - z[p] + PRIOR_NO_SHOW_EFFECT * min(count, 3))))
        no_show[i] = u[i] < prob[i] and not cancelled[i]  # a cancelled booking never comes due
        pending += int(no_show[i])

    status = np.where(no_show, "no_show", "attended").astype(object)
    if cancellations:
        c = rng.random(n)
        late = np.array([t.late_cancel for t in types])[type_idx]
        status[~no_show & (c < late)] = "late_cancel"
        if scenario is None:
            status[~no_show & (c >= late) & (c < late + 0.06)] = "cancelled"
        else:  # cancelled in advance when booked (book_sessions), its slot rebooked
            status[cancelled] = "cancelled"

    # booking time: a working-hours clock time, before the start on a same-day booking
    # (never after the start: a session may begin before 07:15)
    sched_min = np.where(
        lead == 0,
        np.maximum(np.minimum(7 * 60, start_min - 15), start_min - rng.integers(15, 240, n)),
        rng.integers(7 * 60, 18 * 60, n),
    )
    frame = pd.DataFrame(
        {
            "appointment_id": _unique_ids(rng, n, 10**6, 10**7),
            "patient_id": patient_ids[pat],
            "provider": np.array(providers)[prov_idx],
            "appointment_type": np.array([t.id for t in types])[type_idx],
            "appt_date": appt_date,
            "scheduled_at": (appt_date - lead.astype("timedelta64[D]")).astype("datetime64[m]")
            + sched_min.astype("timedelta64[m]"),
            "start_at": appt_date.astype("datetime64[m]") + start_min.astype("timedelta64[m]"),
            "status": status,
            "age": age[pat],
            "sex": sex[pat],
            "reminder": reminder,
            "scholarship": scholarship[pat],
            "hypertension": hypertension[pat],
            "diabetes": diabetes[pat],
            "alcoholism": alcoholism[pat],
            "handicap": handicap[pat],
            "neighbourhood": np.array([f"BAIRRO {k:02d}" for k in range(40)])[rng.integers(0, 40, n_pat)][
                pat
            ],
            "lead_days": lead,
            "prior_no_shows": prior,
            "true_prob": prob,
            "known_prob": known,
        }
    )
    if scenario is not None:  # the booked end: what history draft reads each type's length from
        length = np.array([t.scheduled_min for t in types])[type_idx]
        frame["end_at"] = frame["start_at"] + pd.to_timedelta(length, unit="m")
    punctuality = scenario.arrivals.punctuality if scenario is not None else DEFAULT_PUNCTUALITY
    _add_timestamps(frame, rng, types, durations, type_idx, prov_idx, punctuality)
    return frame.sort_values(["appt_date", "start_at", "appointment_id"]).reset_index(drop=True)


def history_span(n: int, weeks: int, scenario: Scenario | None, cancellations: bool = True) -> int:
    """Weeks a history of ``n`` rows spans: ``weeks``, or with a scenario more when ``n`` rows would
    book more than a full week of its sessions in each (``full_week``): the rows are kept and the
    history runs longer, as a practice needs longer to book that many visits."""
    if scenario is None:
        return weeks
    return history_weeks(n, weeks, scenario, [t.id for t in _practice(scenario)[0]], cancellations)


def full_week(scenario: Scenario) -> tuple[float, str]:
    """Visits a week of ``scenario`` books at most in a synthetic history, and why that many."""
    mix = weekly_mix(scenario, [t.id for t in _practice(scenario)[0]])
    if mix.demand is not None and mix.demand <= mix.full_week:
        return mix.full_week, "its weekly demand"
    return mix.full_week, f"{FULL_FILL:.0%} of its sessions' slots"


def _unique_ids(rng, n: int, lo: int, hi: int) -> np.ndarray:
    ids = np.unique(rng.integers(lo, hi, n + n // 10 + 10))
    while len(ids) < n:  # pragma: no cover - astronomically unlikely
        ids = np.unique(np.concatenate([ids, rng.integers(lo, hi, n)]))
    return rng.permutation(ids)[:n].astype(str)


def _practice(scenario: Scenario | None):
    if scenario is None:
        types = list(_DEFAULT_TYPES)
        providers = list(_DEFAULT_PROVIDERS)
        sees = [np.arange(len(providers))] * len(types)
        durations = {(p, t.id): _scaled(t.duration, f) for p, f in _DEFAULT_PROVIDERS.items() for t in types}
        return types, providers, sees, durations, ("mon", "tue", "wed", "thu", "fri")
    types = [
        _Type(
            t.id,
            t.no_show,
            t.late_cancel,
            t.scheduled_min,
            t.duration,
            t.rooming_min.mean if t.rooming_min is not None else 0.0,
        )
        for t in scenario.appointment_types
    ]
    providers = [p.id for p in scenario.providers]
    sees = []
    keep = []
    for t in types:
        idx = np.array([i for i, p in enumerate(scenario.providers) if t.id in p.appointment_types])
        if len(idx):
            sees.append(idx)
            keep.append(t)
    durations = {
        (p.id, t.id): scenario.visit_duration(p.id, t.id)
        for p in scenario.providers
        for t in keep
        if t.id in p.appointment_types
    }
    return keep, providers, sees, durations, tuple(scenario.clinic.days_open)


def _scaled(d, factor: float):
    return Lognormal(mean=d.mean * factor, sd=d.sd * factor)


#: Check-in minus appointment time of the practice without a scenario (minutes; early on average).
DEFAULT_PUNCTUALITY = Normal(mean=-8, sd=12)
#: Synthetic check-ins are never earlier or later than this (minutes from the appointment).
CHECKIN_CLIP = (-45, 40)


def _add_timestamps(frame, rng, types, durations, type_idx, prov_idx, punctuality) -> None:
    n = len(frame)
    providers = frame["provider"].to_numpy()
    dur = np.zeros(n)
    for (p, t), d in durations.items():
        tid = next(k for k, ty in enumerate(types) if ty.id == t)
        mask = (providers == p) & (type_idx == tid)
        if mask.any():
            dur[mask] = d.sample(rng, int(mask.sum()))
    rooming = np.array([t.rooming_mean for t in types])[type_idx] * rng.gamma(6.0, 1 / 6.0, n)
    start = frame["start_at"].to_numpy().astype("datetime64[s]")
    punct = np.clip(np.asarray(punctuality.sample(rng, n), dtype=float), *CHECKIN_CLIP)
    checkin = start + (punct * 60).astype("timedelta64[s]")
    roomed = np.maximum(checkin, start) + (rng.exponential(6, n) * 60).astype("timedelta64[s]")
    p_start = roomed + (rooming * 60).astype("timedelta64[s]")
    p_end = p_start + (dur * 60).astype("timedelta64[s]")
    checkout = p_end + (rng.exponential(3, n) * 60).astype("timedelta64[s]")
    came = (frame["status"] == "attended").to_numpy()
    for name, values in (
        ("checkin_at", checkin),
        ("roomed_at", roomed),
        ("provider_start_at", p_start),
        ("provider_end_at", p_end),
        ("checkout_at", checkout),
    ):
        frame[name] = pd.Series(values).where(came)
    frame["true_duration"] = np.where(came, dur, np.nan)


def patient_requests(
    patient_ids: pd.Series, scenario: Scenario, monday: dt.date, n: int = 250, seed: int = 0
) -> pd.DataFrame:
    """``n`` synthetic pending requests for the week of ``monday`` made by patients of a synthetic
    history: ``synthetic_requests`` (types, providers, windows, times of day, urgency) with its
    sequential pseudonyms swapped for raw ids in a ``patient_id`` column, first, where the
    requests file has ``patient_ref`` (``history pseudonymize`` turns it into that column, in
    place); ``no_show_prob`` is empty.

    ``patient_ids`` holds one raw id per history row, so a patient who comes more often is more
    likely to be asking again; with at least ``n`` patients no one asks twice.
    """
    out = requests_frame(synthetic_requests(scenario, monday, n, seed))
    visits = patient_ids.astype(str).value_counts().sort_index()  # sorted: the same draw every run
    rng = keyed_generator(np.random.SeedSequence(seed), "synthetic-request-patients", monday.isoformat())
    w = visits.to_numpy(dtype=float)
    pick = rng.choice(len(visits), size=len(out), replace=len(out) > len(visits), p=w / w.sum())
    out = out.drop(columns=["patient_ref"])
    out.insert(0, "patient_id", visits.index.to_numpy()[pick])
    return out


def to_noshow_kaggle(history: pd.DataFrame) -> pd.DataFrame:
    """The public no-show dataset's layout (attended / no-show rows only, dates without times)."""
    h = history[history["status"].isin(["attended", "no_show"])]
    return pd.DataFrame(
        {
            "PatientId": h["patient_id"].to_numpy(),
            "AppointmentID": h["appointment_id"].to_numpy(),
            "Gender": h["sex"].to_numpy(),
            "ScheduledDay": pd.to_datetime(h["scheduled_at"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(),
            "AppointmentDay": pd.to_datetime(h["appt_date"]).dt.strftime("%Y-%m-%dT00:00:00Z").to_numpy(),
            "Age": h["age"].to_numpy(),
            "Neighbourhood": h["neighbourhood"].to_numpy(),
            "Scholarship": h["scholarship"].to_numpy(),
            "Hipertension": h["hypertension"].to_numpy(),
            "Diabetes": h["diabetes"].to_numpy(),
            "Alcoholism": h["alcoholism"].to_numpy(),
            "Handcap": h["handicap"].to_numpy(),
            "SMS_received": h["reminder"].astype(int).to_numpy(),
            "No-show": np.where(h["status"] == "no_show", "Yes", "No"),
        }
    )


def to_generic(history: pd.DataFrame) -> pd.DataFrame:
    """clinicflow's own field names (imports without a mapping file), timestamps to the second.

    A history drawn from a scenario also has each visit's booked end (``end_at``, after
    ``start_at``): the booked length is what ``history draft`` reads a type's scheduled length from.
    """
    columns = list(GENERIC_COLUMNS)
    if "end_at" in history.columns:
        columns.insert(columns.index("start_at") + 1, "end_at")
    out = history[columns].copy()
    for c in (
        "scheduled_at",
        "start_at",
        "end_at",
        "checkin_at",
        "roomed_at",
        "provider_start_at",
        "provider_end_at",
        "checkout_at",
    ):
        if c in out.columns:
            out[c] = pd.to_datetime(out[c]).dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
    out["reminder"] = np.where(out["reminder"], "yes", "no")
    return out


def write_history(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a layout frame as CSV, Excel or Parquet (by the file's extension)."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        frame.to_excel(p, index=False)
    elif ext in (".parquet", ".pq"):
        frame.to_parquet(p, index=False)
    else:
        frame.to_csv(p, index=False)
