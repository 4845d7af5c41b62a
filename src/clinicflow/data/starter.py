"""A first scenario drafted from the history store, for a practice that has no scenario file yet.

Writing a scenario by hand (providers, each one's weekly sessions, visit types and lengths, demand,
no-show rates, durations) is the step that keeps a practice from starting. Most of it is in the
appointment history already:

- **providers** and the visit types each one sees (a type makes up at least 2% of their visits);
- **sessions**: the weekdays a provider works in at least ``MIN_WEEK_SHARE`` of the weeks, from the
  10th percentile of their first appointment's start to the 90th percentile of their last
  appointment's end that weekday, split where fewer than ``GAP_SHARE`` of those days have anything
  booked for 30 minutes or more (lunch), with a break where as few have anything booked for 15 to 29
  minutes inside a session; times to the nearest quarter hour;
- **same-day holds**: per session, the mean number of visits booked on the day itself;
- **visit types**: scheduled length (median of booked end minus start, to 5 minutes; without booked
  ends, the median visit rounded up), and **weekly demand** (booked visits over the weeks of the
  history, cancellations in advance left out: their slot went to someone else);
- **time-of-day windows** (``allowed_windows``) where a type keeps to part of the day, or to some
  weekdays (a window's ``days``), while the providers who see it book other visits in the rest, and
  the evidence is strong (``windows.py``);
- then ``calibrate_scenario`` fits no-show and late-cancel rates, duration distributions per type
  and provider, and punctuality, as it does for any scenario.

What a history cannot tell (exam rooms, front desk and MAs, hourly costs, rooming time, which types
are telehealth or procedures) is given on the command line or assumed, and every assumption is
listed (``Draft.assumed``), so the practice knows what to check before trusting a plan made on the
draft.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from ..domain.base import Identifier
from ..domain.clinic import check_zone
from ..domain.clock import WEEKDAYS, format_hhmm, parse_hhmm
from ..errors import InputError
from ..scenario_file import dump_scenario, scenario_from_dict
from .calibrate import Calibration, calibrate_scenario
from .durations import MIN_VISITS
from .store import store_path
from .windows import Span, infer_windows

#: A provider's weekday is a working day when they saw patients on at least this share of its weeks.
MIN_WEEK_SHARE = 0.3
#: Inside a working day, a stretch of 30+ minutes booked on fewer than this share of the days is a gap.
GAP_SHARE = 0.1
#: A quiet stretch this long (minutes) but under 30, inside a session, is a break.
BREAK_MIN = 15
#: A type is on a provider's list when it is at least this share of their visits.
MIN_TYPE_SHARE = 0.02
#: Staffing and costs assumed when not given, with where they come from (family-practice.yaml cites
#: the sources: BLS wages, MGMA staffing ratios).
ASSUMED = {
    "provider_cost": 100.0,
    "rooms_per_provider": 2,
    "ma_per_provider": 1.0,
    "providers_per_clerk": 3,
    "clerk_cost": 18.0,
    "ma_cost": 21.0,
}

_BIN = 5  # minutes
_LAST_END = 23 * 60 + 45  # the latest quarter hour a session may end


@dataclass
class Draft:
    """The drafted scenario (calibrated), what was inferred, and what was assumed."""

    calibration: Calibration
    inferred: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)

    @property
    def scenario(self):
        return self.calibration.scenario

    def to_yaml(self, source: str) -> str:
        """The scenario file, headed by what was inferred from ``source`` and what was assumed, so
        whoever opens the file later sees what to check."""
        header = [
            f"# {self.scenario.clinic.name}: drafted by `clinicflow history draft` from the history in {source}.",
            "# Inferred from the history:",
            *(f"#   {line}" for line in self.inferred),
            "# Assumed (the history cannot tell them) -- check before planning:",
            *(f"#   {line}" for line in self.assumed),
            "",
        ]
        return "\n".join(header) + dump_scenario(self.scenario)


def _visits(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """SELECT provider, appointment_type, appt_date, start_at, end_at, scheduled_at,
                  epoch(provider_end_at - provider_start_at) / 60.0 AS visit_min
           FROM appointments
           WHERE status <> 'cancelled' AND provider IS NOT NULL AND appointment_type IS NOT NULL
             AND start_at IS NOT NULL"""
    ).df()


def _check_ids(df: pd.DataFrame, db: str | None) -> None:
    """Ids go into the scenario and must match the store's values for the calibration to find them."""
    from pydantic import TypeAdapter, ValidationError

    ident = TypeAdapter(Identifier)
    for col, what in (("provider", "provider"), ("appointment_type", "appointment type")):
        for value in sorted(df[col].unique()):
            try:
                ident.validate_python(value)
            except ValidationError:
                raise InputError(
                    db,
                    col,
                    f"the {what} {value!r} is not a scenario id (a letter, then letters, digits, _ . -): "
                    "give it one with the mapping file's recode section and import again",
                ) from None


def _quarter(minute: float) -> int:
    return int(15 * round(minute / 15))


def _sessions(days: pd.DataFrame) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Sessions of one provider on one weekday from the days they worked it (``start``/``end`` in
    minutes after midnight, ``day``), each with its breaks: a quiet stretch of 30 minutes or more
    splits the day (lunch), one of 15 to 29 minutes inside a session is a break (a slot left free
    is booked on most days; a break on almost none)."""
    first = days.groupby("day")["start"].min()
    last = days.groupby("day")["end"].max()
    lo = max(0, _quarter(np.quantile(first, 0.1)))
    hi = min(_LAST_END, _quarter(np.quantile(last, 0.9)))  # a clock time: "24:00" is not one
    if hi - lo < 30:
        return []
    bins = np.arange(lo, hi, _BIN)
    # which days have anything booked in each bin: +1 where a visit's bins begin, -1 after they end,
    # summed along the bins (vectorized: a big history has a million visits)
    day = days["day"].factorize()[0]
    first_bin = np.clip(np.floor((days["start"].to_numpy(float) - lo) / _BIN), 0, len(bins)).astype(int)
    past_bin = np.clip(np.ceil((days["end"].to_numpy(float) - lo) / _BIN), 0, len(bins)).astype(int)
    ok = past_bin > first_bin
    edges = np.zeros((day.max() + 1, len(bins) + 1), int)
    np.add.at(edges, (day[ok], first_bin[ok]), 1)
    np.add.at(edges, (day[ok], past_bin[ok]), -1)
    busy = (np.cumsum(edges, axis=1)[:, :-1] > 0).sum(axis=0)
    share = busy / days["day"].nunique()
    quiet = share < GAP_SHARE
    sessions, breaks, start, i = [], [], lo, 0
    while i < len(bins):
        if quiet[i]:
            j = i
            while j < len(bins) and quiet[j]:
                j += 1
            inside = i > 0 and j < len(bins)
            if inside and (j - i) * _BIN >= 30:  # a gap inside the day: the session ends
                sessions.append((start, _quarter(bins[i]), breaks))
                start, breaks = _quarter(bins[j]), []
            elif inside and (j - i) * _BIN >= BREAK_MIN:
                a, b = _quarter(bins[i]), _quarter(bins[j - 1] + _BIN)
                if b - a >= BREAK_MIN:
                    breaks.append((a, b))
            i = j
        else:
            i += 1
    sessions.append((start, hi, breaks))
    return [(s, e, [(a, b) for a, b in brk if s < a and b < e]) for s, e, brk in sessions if e - s >= 30]


def _segments(start: int, end: int, breaks: list[tuple[int, int]]) -> list[Span]:
    """A session split at its breaks: the stretches a slot can lie in."""
    out, t = [], start
    for a, b in [*sorted(breaks), (end, end)]:
        if a > t:
            out.append((t, a))
        t = b
    return out


def _draft_windows(
    df: pd.DataFrame,
    types: list[dict],
    providers: list[dict],
    segments: dict[tuple[str, str], list[Span]],
    lengths: dict[str, int],
) -> list[str]:
    """Set each type's ``allowed_windows`` the history shows (``windows.py``); the lines to list
    as inferred. After the providers: a window is judged against those who see the type."""
    sees = {p["id"]: p["appointment_types"] for p in providers}
    fits = infer_windows(
        df[["provider", "appointment_type", "weekday", "start", "end"]], sees, segments, lengths
    )
    for t in types:
        entries = fits[t["id"]].entries
        if entries:
            t["allowed_windows"] = [
                {"start": format_hhmm(a), "end": format_hhmm(b), **({"days": list(days)} if days else {})}
                for (a, b), days in entries
            ]
    return [line for t in types for line in fits[t["id"]].lines]


def check_timezone(timezone: str) -> None:
    """The zone is told against ``--timezone`` before any fit (the draft would name the store)."""
    try:
        check_zone(timezone)
    except ValueError as err:
        raise InputError("--timezone", None, str(err)) from None


def draft_scenario(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    timezone: str,
    rooms: int | None = None,
    front_desk: int | None = None,
    mas: int | None = None,
    provider_cost: float | None = None,
    min_n: int = MIN_VISITS,
) -> Draft:
    """A scenario drafted from the store's history and calibrated on it (see the module docstring)."""
    check_timezone(timezone)
    db = store_path(con)
    df = _visits(con)
    if df.empty:
        raise InputError(
            db,
            None,
            "no booked visit with a provider, an appointment type and a start time: nothing to draft "
            "a scenario from (import a history with those columns first)",
        )
    _check_ids(df, db)
    start = pd.to_datetime(df["start_at"])
    df["day"] = pd.to_datetime(df["appt_date"]).dt.date
    df["weekday"] = [WEEKDAYS[d.weekday()] for d in df["day"]]
    df["start"] = start.dt.hour * 60 + start.dt.minute
    booked_len = (pd.to_datetime(df["end_at"]) - start).dt.total_seconds() / 60
    booked_len = booked_len.where((booked_len > 0) & (booked_len <= 8 * 60))
    inferred: list[str] = []
    assumed: list[str] = []

    # visit types: scheduled length and weekly demand
    first, last = min(df["day"]), max(df["day"])
    calendar = pd.date_range(first, last, freq="D")
    weeks = max(1.0, len(calendar) / 7)
    types, lengths, demand = [], {}, []
    for tid, g in df.groupby("appointment_type"):
        booked = booked_len[g.index].dropna()
        if len(booked):
            length = max(5, int(5 * round(float(booked.median()) / 5)))
            how = "the median booked length"
        elif g["visit_min"].notna().any():
            length = max(5, int(5 * math.ceil(float(g["visit_min"].median()) / 5)))
            how = "the median visit rounded up: no booked end times"
        else:
            length = 15
            how = "assumed: the history has neither booked end times nor visit times"
            assumed.append(f"appointment_types[{tid}].scheduled_min: 15")
        lengths[tid] = length
        mean = round(0.85 * length, 1)
        types.append(
            {
                "id": tid,
                "name": tid.replace("_", " ").capitalize(),
                "scheduled_min": length,
                "duration": {"dist": "lognormal", "mean": mean, "sd": round(0.4 * mean, 1)},
                "no_show": 0.1,
                "rooming_min": {"dist": "lognormal", "mean": 6, "sd": 2},
            }
        )
        weekly = round(len(g) / weeks, 1)
        demand.append({"type": tid, "weekly": weekly})
        inferred.append(f"{tid}: {length} min ({how}); {weekly:g} booked a week over {weeks:.1f} weeks")
    assumed.append("appointment_types[*].rooming_min: lognormal 6 ± 2 min (the history has no rooming work)")
    assumed.append(
        "appointment_types[*]: in person, any patient, no procedure room "
        "(set mode: telehealth, procedure: true where a type has them)"
    )
    df["end"] = df["start"] + booked_len.fillna(df["appointment_type"].map(lengths))
    same_day = pd.to_datetime(df["scheduled_at"]).dt.date == df["day"]
    has_booking_time = df["scheduled_at"].notna().any()

    # providers: types, weekly sessions, same-day holds
    weekday_weeks = pd.Series([WEEKDAYS[d.weekday()] for d in calendar]).value_counts()
    cost = ASSUMED["provider_cost"] if provider_cost is None else provider_cost
    providers, busy_bins = [], np.zeros((7, 24 * 60 // _BIN))
    segments: dict[tuple[str, str], list[Span]] = {}
    for pid, g in df.groupby("provider"):
        mix = g["appointment_type"].value_counts(normalize=True)
        sees = sorted(t for t, share in mix.items() if share >= MIN_TYPE_SHARE)
        sessions: dict[str, list] = {}
        for wd, days in g.groupby("weekday"):
            worked = days["day"].nunique() / weekday_weeks[wd]
            if worked < MIN_WEEK_SHARE:
                continue
            out = []
            for s, e, brk in _sessions(days):
                inside = days[(days["start"] >= s) & (days["start"] < e)]
                holds = round(same_day[inside.index].sum() / days["day"].nunique()) if has_booking_time else 0
                session = {"start": format_hhmm(s), "end": format_hhmm(e), "holds": holds}
                if brk:
                    session["breaks"] = [{"start": format_hhmm(a), "end": format_hhmm(b)} for a, b in brk]
                out.append(session)
                segments.setdefault((pid, wd), []).extend(_segments(s, e, brk))
                busy_bins[WEEKDAYS.index(wd), s // _BIN : e // _BIN] += 1
            if out:
                sessions[wd] = out
        if not sessions:
            inferred.append(f"{pid}: left out (worked no weekday in {MIN_WEEK_SHARE:.0%} of its weeks)")
            continue
        providers.append(
            {
                "id": pid,
                "name": pid,
                "role": "MD",
                "hourly_cost": cost,
                "appointment_types": sees,
                "sessions": {wd: sessions[wd] for wd in WEEKDAYS if wd in sessions},
            }
        )
        days_txt = ", ".join(
            f"{wd} "
            + " & ".join(
                f"{x['start']}-{x['end']}"
                + "".join(f" (break {b['start']}-{b['end']})" for b in x.get("breaks", []))
                for x in sessions[wd]
            )
            for wd in WEEKDAYS
            if wd in sessions
        )
        inferred.append(f"{pid}: {days_txt}; sees {', '.join(sees)}")
    if not providers:
        raise InputError(
            db,
            "provider",
            f"no provider worked any weekday in {MIN_WEEK_SHARE:.0%} of its weeks: no session to draft",
        )
    inferred.extend(_draft_windows(df, types, providers, segments, lengths))
    if not has_booking_time:
        assumed.append("sessions[*].holds: 0 (the history has no booking times to tell same-day visits)")
    given = " (given)" if provider_cost is not None else ""
    assumed.append(f"providers[*].role: MD; hourly_cost: {cost:g}{given}")
    peak = int(busy_bins.max())  # providers working at once, at the busiest moment of the week

    days_open = [wd for wd in WEEKDAYS if any(wd in p["sessions"] for p in providers)]
    starts = [x["start"] for p in providers for v in p["sessions"].values() for x in v]
    ends = [x["end"] for p in providers for v in p["sessions"].values() for x in v]
    opens = format_hhmm(max(0, parse_hhmm(min(starts)) - 30))
    closes = format_hhmm(min(24 * 60 - 1, parse_hhmm(max(ends)) + 30))

    def staffed(given: int | None, default: int, what: str) -> int:
        if given is None:
            assumed.append(f"{what}: {default} (not given)")
            return default
        return given

    n_rooms = staffed(rooms, ASSUMED["rooms_per_provider"] * peak, "rooms.count")
    n_desk = staffed(front_desk, max(1, math.ceil(peak / ASSUMED["providers_per_clerk"])), "front desk")
    n_mas = staffed(mas, max(1, round(ASSUMED["ma_per_provider"] * peak)), "medical assistants")
    assumed.append(
        f"staff hourly costs: front desk ${ASSUMED['clerk_cost']:g}, MAs ${ASSUMED['ma_cost']:g}; "
        "check-in 3 ± 1.5 min, checkout 2 ± 1 min; no walk-ins"
    )
    data = {
        "version": 1,
        "clinic": {
            "name": name,
            "timezone": timezone,
            "days_open": days_open,
            "opens": opens,
            "closes": closes,
        },
        "appointment_types": types,
        "providers": providers,
        "rooms": {"count": n_rooms, "turnover_min": {"dist": "gamma", "mean": 2.5, "sd": 1}},
        "staff": {
            "front_desk": {
                "count": n_desk,
                "hourly_cost": ASSUMED["clerk_cost"],
                "check_in_min": {"dist": "lognormal", "mean": 3, "sd": 1.5},
                "checkout_min": {"dist": "lognormal", "mean": 2, "sd": 1},
            },
            "medical_assistants": {"count": n_mas, "hourly_cost": ASSUMED["ma_cost"]},
        },
        "arrivals": {"punctuality": {"dist": "normal", "mean": 0, "sd": 10}},
        "demand": demand,
    }
    skeleton = scenario_from_dict(data, db)
    return Draft(calibrate_scenario(skeleton, con, min_n=min_n), inferred, assumed)
