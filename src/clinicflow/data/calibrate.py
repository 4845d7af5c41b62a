"""Turning history into scenario parameters: no-show and late-cancel probabilities per appointment
type, visit-duration distributions per type and per provider, patients' punctuality, and a
per-appointment no-show score for the ``no_show_prob`` column of a schedule (which ``plan`` and
``simulate`` read) and of a pending-requests file (which ``plan --requests`` carries onto the rows
it books).

The new scenario is rebuilt from plain data and validated like any scenario file, so what is
written always loads. Groups with too few observations keep the scenario's value (and say so);
per-type rates are pooled towards the practice's rate (``pooling.py``), so a type with few visits
is not given a rate of 0 or 1 by chance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from ..domain.clock import WEEKDAYS
from ..domain.scenario import Scenario
from ..errors import InputError
from ..scenario_file import scenario_from_dict, scenario_to_dict
from .durations import MIN_VISITS, fit_durations
from .noshow import NoShowModel
from .pooling import pool_rates
from .store import store_path


@dataclass
class Calibration:
    """The calibrated scenario and a record of every value changed or left alone."""

    scenario: Scenario
    changes: list[dict] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how values were estimated (the pooling's weight)

    def as_dict(self) -> dict:
        return {"changes": self.changes, "kept": self.kept, "notes": self.notes}


def _dist_data(spec) -> dict:
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)


def _type_rates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """SELECT appointment_type,
                  count(*) FILTER (WHERE status <> 'cancelled') AS booked,
                  count(*) FILTER (WHERE status = 'no_show') AS no_shows,
                  count(*) FILTER (WHERE status = 'late_cancel') AS late_cancels
           FROM appointments WHERE appointment_type IS NOT NULL GROUP BY 1 ORDER BY 1"""
    ).df()


def calibrate_scenario(
    scenario: Scenario, con: duckdb.DuckDBPyConnection, min_n: int = MIN_VISITS
) -> Calibration:
    """A copy of ``scenario`` with probabilities and durations fitted from the store."""
    data = scenario_to_dict(scenario)
    changes: list[dict] = []
    kept: list[str] = []
    notes: list[str] = []
    types = {t["id"]: t for t in data["appointment_types"]}
    # late cancellations are only estimable when the source records cancellations at all
    records_cancels = (
        con.execute(
            "SELECT count(*) FROM appointments WHERE status IN ('late_cancel', 'cancelled')"
        ).fetchall()[0][0]
        > 0
    )

    rates = _type_rates(con)
    seen_types = set(rates["appointment_type"])
    # partial pooling towards the practice's rate (pooling.py): 0 no-shows in 32 visits is not 0.0
    pooled = {
        name: pool_rates(rates[col], rates["booked"])
        for name, col in (("no_show", "no_shows"), ("late_cancel", "late_cancels"))
    }
    for name, pool in pooled.items():
        if name == "late_cancel" and not records_cancels:
            continue
        notes.append(
            f"{name} rates pooled towards the practice's {pool.practice_rate:.1%} with the weight of "
            f"{pool.weight:,.0f} visits (empirical Bayes across {len(rates)} types)"
        )
    for i, r in enumerate(rates.itertuples()):
        if r.appointment_type not in types:
            kept.append(f"history type {r.appointment_type!r} is not in the scenario (ignored)")
            continue
        t = types[r.appointment_type]
        if r.booked < min_n:
            kept.append(
                f"appointment_types[{r.appointment_type}]: only {r.booked} booked visits (< {min_n}); rates kept"
            )
            continue
        fields = ["no_show"] + (["late_cancel"] if records_cancels else [])
        for name in fields:
            new = round(float(pooled[name].rates[i]), 4)
            changes.append(
                {
                    "field": f"appointment_types[{r.appointment_type}].{name}",
                    "old": t.get(name, 0.0),
                    "new": new,
                    "n": int(r.booked),
                }
            )
            t[name] = new
    for tid in types:
        if tid not in seen_types:
            kept.append(f"appointment_types[{tid}]: no history; no_show and duration kept")

    providers = {p["id"]: p for p in data["providers"]}
    for fit in fit_durations(con, min_n=min_n):
        spec = _dist_data(fit.best.spec())
        if fit.appointment_type not in types:
            continue
        if fit.provider is None:
            t = types[fit.appointment_type]
            changes.append(
                {
                    "field": f"appointment_types[{fit.appointment_type}].duration",
                    "old": t["duration"],
                    "new": spec,
                    "n": fit.n,
                    "excluded": fit.excluded,
                    "fit": fit.best.as_dict(),
                }
            )
            t["duration"] = spec
        elif (
            fit.provider in providers and fit.appointment_type in providers[fit.provider]["appointment_types"]
        ):
            p = providers[fit.provider]
            vd = p.setdefault("visit_durations", {})
            changes.append(
                {
                    "field": f"providers[{fit.provider}].visit_durations.{fit.appointment_type}",
                    "old": vd.get(fit.appointment_type),
                    "new": spec,
                    "n": fit.n,
                    "excluded": fit.excluded,
                    "fit": fit.best.as_dict(),
                }
            )
            vd[fit.appointment_type] = spec
    _punctuality(con, data, changes, kept, min_n)
    try:
        calibrated = scenario_from_dict(data)
    except InputError as err:  # e.g. a fitted no-show rate beside a late-cancel rate the history cannot fit
        raise InputError(
            store_path(con), err.where, f"the fitted values make the scenario invalid: {err.message}"
        ) from None
    return Calibration(calibrated, changes, kept, notes)


#: Check-in times further than this from the appointment (minutes) are taken as recording errors
#: (a wrong date, a check-in entered at the end of the day), not as punctuality.
PUNCTUALITY_RANGE_MIN = 180


def checkin_minutes(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Minutes from appointment time to check-in of attended visits (negative = early)."""
    return (
        con.execute(
            """SELECT epoch(checkin_at - start_at) / 60.0 FROM appointments
               WHERE status = 'attended' AND checkin_at IS NOT NULL AND start_at IS NOT NULL"""
        )
        .df()
        .iloc[:, 0]
        .to_numpy(dtype=float)
    )


def _punctuality(con, data: dict, changes: list[dict], kept: list[str], min_n: int) -> None:
    """``arrivals.punctuality`` as a normal distribution fitted to check-in minus appointment time.

    Punctuality drives the slot timing (a patient 8 minutes early on average, with a 12-minute sd,
    is what makes a double-booked start or a tighter spacing pay) and the simulated arrivals. The
    check-in is the closest recorded instant to arrival; it comes after any queue at the desk, so
    the fit reads patients as slightly later than they arrived, by the queue at the desk (0.06 min a
    patient in the family practice's simulation). The scenario's model is normal, so the fit is the
    sample mean and sd.
    """
    x = checkin_minutes(con)
    wild = np.abs(x) > PUNCTUALITY_RANGE_MIN
    x = x[~wild]
    arrivals = data.setdefault("arrivals", {})
    if len(x) < min_n:
        kept.append(
            f"arrivals.punctuality: only {len(x)} attended visits with a check-in time (< {min_n}); kept"
        )
        return
    new = {"dist": "normal", "mean": round(float(x.mean()), 1), "sd": round(float(x.std(ddof=1)), 1)}
    changes.append(
        {"field": "arrivals.punctuality", "old": arrivals.get("punctuality", 0), "new": new, "n": len(x)}
    )
    arrivals["punctuality"] = new
    if wild.any():
        kept.append(
            f"arrivals.punctuality: {int(wild.sum())} check-in times more than {PUNCTUALITY_RANGE_MIN} min "
            "from the appointment left out (recording errors)"
        )


def schedule_features(schedule: pd.DataFrame, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Model features of each schedule row, with the patient's history before the row's date.

    A schedule carries no booking time, so ``lead_days`` (and whether a reminder was sent) are
    unknown: the model treats them as missing. Demographics come from the patient's most recent
    stored appointment.
    """
    s = pd.DataFrame(
        {
            "idx": np.arange(len(schedule)),
            "date": pd.to_datetime(schedule["date"]),
            "start_min": schedule["start_min"].astype(int).to_numpy(),
            "provider": schedule["provider"].astype(str).to_numpy(),
            "appointment_type": schedule["appointment_type"].astype(str).to_numpy(),
            "patient_ref": schedule["patient_ref"]
            .astype("object")
            .where(schedule["patient_ref"].notna(), None)
            .to_numpy(),
        }
    )
    con.register("sched", s)
    try:
        df = con.execute(
            """SELECT s.idx, s.provider, s.appointment_type,
                      NULL::DOUBLE AS lead_days, NULL::DOUBLE AS reminder_num,
                      isodow(CAST(s.date AS DATE)) AS weekday_num, s.start_min // 60 AS hour,
                      arg_max(a.age, a.appt_date) AS age, arg_max(a.sex, a.appt_date) AS sex,
                      arg_max(a.scholarship, a.appt_date) AS scholarship,
                      arg_max(a.hypertension, a.appt_date) AS hypertension,
                      arg_max(a.diabetes, a.appt_date) AS diabetes,
                      arg_max(a.alcoholism, a.appt_date) AS alcoholism,
                      arg_max(a.handicap, a.appt_date) AS handicap,
                      count(a.appointment_ref) FILTER (WHERE a.status <> 'cancelled') AS prior_appointments,
                      count(a.appointment_ref) FILTER (WHERE a.status = 'no_show') AS prior_no_shows,
                      count(a.appointment_ref) FILTER (WHERE a.status = 'late_cancel') AS prior_late_cancels,
                      date_diff('day', max(a.appt_date), CAST(s.date AS DATE)) AS days_since_last
               FROM sched s LEFT JOIN appointments a
                 ON a.patient_ref = s.patient_ref AND a.appt_date < CAST(s.date AS DATE)
               GROUP BY s.idx, s.provider, s.appointment_type, s.date, s.start_min
               ORDER BY s.idx"""
        ).df()
    finally:
        con.unregister("sched")
    df["prior_no_show_rate"] = df["prior_no_shows"] / df["prior_appointments"].where(
        df["prior_appointments"] > 0
    )
    df["prior_no_show_logit"] = np.log(
        (df["prior_no_shows"] + 0.5) / (df["prior_appointments"] - df["prior_no_shows"] + 2.5)
    )
    return df


def _booking_mix(con: duckdb.DuckDBPyConnection, k: int = 100) -> pd.DataFrame:
    """``k`` (lead days, reminder) pairs spread evenly over the stored kept appointments, ordered by
    lead time: the empirical distribution that a schedule row's unknown booking is averaged over."""
    return con.execute(
        f"""WITH v AS (
              SELECT date_diff('day', CAST(scheduled_at AS DATE), appt_date) AS lead_days,
                     CASE WHEN reminder THEN 1.0 WHEN NOT reminder THEN 0.0 END AS reminder_num,
                     row_number() OVER (ORDER BY date_diff('day', CAST(scheduled_at AS DATE), appt_date),
                                        reminder, appointment_ref) AS i,
                     count(*) OVER () AS n
              FROM appointments WHERE status <> 'cancelled' AND scheduled_at IS NOT NULL)
            SELECT lead_days, reminder_num FROM v
            WHERE i IN (SELECT DISTINCT CAST(ceil((j + 0.5) * n / {k}) AS BIGINT) FROM v, range({k}) t(j))"""
    ).df()


_GRID_ROWS = 200_000  # rows of (feature row x booking pair) predicted at a time


def _mix_average(feats: pd.DataFrame, con: duckdb.DuckDBPyConnection, model: NoShowModel) -> np.ndarray:
    """Each feature row's predicted no-show probability averaged over the practice's booking mix.

    Neither a schedule row nor a request says when (or whether with a reminder) the appointment
    is or will be booked, so the lead time and reminder are not guessed: the probability is the
    mean over 100 evenly spaced (lead days, reminder) pairs of the stored kept appointments, the
    practice's own mix. Rows alike in every other feature, and repeated pairs, are predicted once
    (a request spreads over dozens of near-identical pseudo-rows); the mean is taken over the same
    100 values either way.
    """
    mix = _booking_mix(con)
    if not len(mix):
        return model.predict(feats)
    booking = ["lead_days", "reminder_num"]
    others = [c for c in model.used if c not in booking] or ["idx"]
    row_code = feats.groupby(others, dropna=False, sort=False).ngroup().to_numpy()
    pair_code = mix.groupby(booking, dropna=False, sort=False).ngroup().to_numpy()
    _, first_row = np.unique(row_code, return_index=True)
    _, first_pair = np.unique(pair_code, return_index=True)
    rows = feats.iloc[first_row].drop(columns=booking)
    pairs = mix.iloc[first_pair].reset_index(drop=True)
    p = np.empty((len(rows), len(pairs)))
    step = max(1, _GRID_ROWS // len(pairs))  # the model's design matrix of a grid is wide: in pieces
    for a in range(0, len(rows), step):
        p[a : a + step] = model.predict(rows.iloc[a : a + step].merge(pairs, how="cross")).reshape(
            -1, len(pairs)
        )
    mean = pd.Series(p[:, pair_code].ravel()).groupby(np.repeat(np.arange(len(rows)), len(mix))).mean()
    return mean.to_numpy()[row_code]


def score_schedule(
    schedule: pd.DataFrame, con: duckdb.DuckDBPyConnection, model: NoShowModel
) -> pd.DataFrame:
    """The schedule with ``no_show_prob`` filled for booked rows that name a patient.

    A schedule does not say when each appointment was booked, so each row's probability is the
    average over the practice's own mix of lead times and reminders (100 evenly spaced points of
    the stored distribution) rather than a guess at one lead time. Other rows (templates, holds,
    rows without a patient) keep their value; an empty value means "use the appointment type's
    probability".
    """
    out = schedule.copy()
    rows = (out["kind"] == "booked").to_numpy() & out["patient_ref"].notna().to_numpy()
    if rows.any():
        feats = schedule_features(out[rows].reset_index(drop=True), con)
        out.loc[rows, "no_show_prob"] = np.round(_mix_average(feats, con, model), 4)
    return out


#: A request's window is scored on at most this many of its working days (the first ones).
REQUEST_MAX_DAYS = 10


def _request_slots(requests_df: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The pseudo-appointments a request is scored on: one row per (day, hour, provider) it could
    be booked into, with the request's position in ``req``.

    Providers are the preferred one, else everyone who sees the type; days are the dates of
    [earliest_date, latest_date] on which the clinic is open and one of them has a session (the
    first ``REQUEST_MAX_DAYS``; the earliest date when there is none), each with the providers who
    work that weekday; hours are the whole hours of the clinic's opening hours in the asked time
    of day (morning before 12:00, afternoon from 12:00). A provider without any session counts as
    working every open day.
    """
    c = scenario.clinic
    hours = [h * 60 for h in range(-(-c.opens // 60), -(-c.closes // 60))] or [c.opens]
    by_tod = {
        "morning": [m for m in hours if m < 12 * 60],
        "afternoon": [m for m in hours if m >= 12 * 60],
        "any": hours,
    }
    seers = {
        t.id: [p.id for p in scenario.providers if t.id in p.appointment_types]
        for t in scenario.appointment_types
    }
    open_days = set(c.days_open)
    works = {
        p.id: ({d for d, s in p.sessions.items() if s} & open_days) or open_days for p in scenario.providers
    }
    cols: dict[str, list] = {k: [] for k in ("req", "date", "start_min", "provider", "appointment_type")}
    refs = []
    for i, r in enumerate(requests_df.to_dict(orient="records")):
        tid = str(r["appointment_type"])
        pref = r.get("preferred_provider")
        blank = pref is None or (isinstance(pref, float) and np.isnan(pref)) or str(pref).strip() == ""
        provs = [str(pref).strip()] if not blank else seers.get(tid) or [p.id for p in scenario.providers]
        days_worked = set().union(*(works.get(p, open_days) for p in provs))
        first = dt.date.fromisoformat(str(r["earliest_date"])[:10])
        last = dt.date.fromisoformat(str(r["latest_date"])[:10])
        days = [
            first + dt.timedelta(days=k)
            for k in range((last - first).days + 1)
            if WEEKDAYS[(first + dt.timedelta(days=k)).weekday()] in days_worked
        ][:REQUEST_MAX_DAYS] or [first]
        tod = r.get("time_of_day")
        minutes = by_tod.get(str(tod).strip().lower() if isinstance(tod, str) else "any") or hours
        for day in days:
            weekday = WEEKDAYS[day.weekday()]
            on_duty = [p for p in provs if weekday in works.get(p, open_days)] or provs
            k = len(on_duty) * len(minutes)
            cols["req"] += [i] * k
            cols["date"] += [day] * k
            cols["provider"] += [p for p in on_duty for _ in minutes]
            cols["start_min"] += minutes * len(on_duty)
            cols["appointment_type"] += [tid] * k
            refs += [r["patient_ref"]] * k
    out = pd.DataFrame(cols)
    out["patient_ref"] = pd.Series(refs, dtype="object")
    return out


def score_requests(
    requests_df: pd.DataFrame, scenario: Scenario, con: duckdb.DuckDBPyConnection, model: NoShowModel
) -> pd.DataFrame:
    """The requests table (as ``requests_frame`` makes it) with ``no_show_prob`` filled for every
    request, rounded to 4 decimals.

    A request is not booked yet: neither its date, hour and provider nor its lead time and
    reminder are known, and each moves the model's prediction (Mondays and early or late hours
    miss more; so do patients who wait longer). Rather than guess one slot, the score is the
    model's average over every slot the request could take — each working day of its window (the
    first 10), each whole clinic hour of its time of day, the preferred provider or else each who
    sees the type — crossed with the practice's own mix of lead times and reminders, as
    ``score_schedule`` does for a booked row: the probability of a no-show for this patient when
    booked somewhere the request allows, all slots taken as equally likely. The patient's history
    (prior visits and no-shows, age, sex) comes from the store as of each day; a patient not in
    the store is scored as a patient without history.
    """
    out = requests_df.copy()
    slots = _request_slots(out, scenario)
    if not len(slots):
        out["no_show_prob"] = np.nan
        return out
    p = _mix_average(schedule_features(slots, con), con, model)
    by_request = pd.Series(p).groupby(slots["req"].to_numpy()).mean()
    out["no_show_prob"] = np.round(by_request.reindex(np.arange(len(out))).to_numpy(), 4)
    return out


def known_patients(con: duckdb.DuckDBPyConnection, refs) -> int:
    """How many of the distinct patient references ``refs`` have an appointment in the store.

    The analyst's check that a file was pseudonymized with the import's key: a patient the store
    does not know is scored as one without history, so a file of strangers scores everyone alike.
    """
    wanted = pd.DataFrame(
        {"patient_ref": pd.Series(list(dict.fromkeys(r for r in refs if r)), dtype="object")}
    )
    if wanted.empty:
        return 0
    con.register("wanted", wanted)
    try:
        return int(
            con.execute(
                "SELECT count(*) FROM wanted w WHERE EXISTS "
                "(SELECT 1 FROM appointments a WHERE a.patient_ref = w.patient_ref)"
            ).fetchall()[0][0]
        )
    finally:
        con.unregister("wanted")
