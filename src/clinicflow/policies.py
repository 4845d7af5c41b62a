"""Simple scheduling policies: the baseline schedule every optimized schedule is compared with.

An *evenly spaced* schedule fills each provider session back to back with slots at the appointment
types' scheduled lengths, mixing the types in proportion to demand. It is what a practice without a
planner does, and what ``clinicflow simulate`` runs when no schedule file is given.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .domain.clock import WEEKDAYS, format_hhmm
from .domain.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

#: The template policies a what-if arm plans its week with (``whatif.schedules.schedule_for``): this
#: module's evenly spaced schedule, the planner's template timed by the Bailey-Welch rule, and the
#: planner's optimized week. Named here, where importing costs nothing (``compare --help`` lists them).
POLICIES = ("evenly_spaced", "bailey_welch", "optimized")


def _working_intervals(session) -> list[tuple[int, int]]:
    """The session minus its breaks, in order."""
    out, t = [], session.start
    for b in sorted(session.breaks, key=lambda b: b.start):
        if b.start > t:
            out.append((t, b.start))
        t = max(t, b.end)
    if session.end > t:
        out.append((t, session.end))
    return out


def demand_mix(scenario: Scenario, provider_id: str) -> dict[str, float]:
    """Weekly demand of each type this provider sees (pooled demand plus the provider's own).

    Types with no demand line get a small weight so that a provider who sees only unlisted types
    still gets a schedule.
    """
    prov = scenario.provider_by_id[provider_id]
    mix = {t: 0.0 for t in prov.appointment_types}
    for d in scenario.demand:
        if d.type in mix and d.provider in (None, provider_id):
            mix[d.type] += d.weekly
    if not any(mix.values()):
        mix = dict.fromkeys(mix, 1.0)
    return {t: w for t, w in mix.items() if w > 0}


def _session_slots(
    scenario: Scenario, provider_id: str, session, mix: dict[str, float], counts: dict[str, int], weekday: str
) -> list[tuple]:
    """(start, end, type, kind) slots for one session.

    Regular slots follow the largest-deficit rule over the provider's whole week (``counts`` carries
    the week's tally from session to session): the type whose count lags its demand share the most
    is placed, among those that fit the time left in the current working interval, their allowed
    windows and ``max_per_session``. Holds (the provider's shortest type) are spread evenly through
    the session: the k-th hold goes in once (k - 1/2)/holds of the working time has passed, and
    a hold is forced when only the room for the remaining holds is left.
    """
    types = scenario.type_by_id
    max_per = {d.type: d.max_per_session for d in scenario.demand if d.max_per_session is not None}
    hold_type = min(
        scenario.provider_by_id[provider_id].appointment_types,
        key=lambda t: (types[t].scheduled_min, t),
    )
    hold_len = types[hold_type].scheduled_min
    intervals = _working_intervals(session)
    total_min = sum(b - a for a, b in intervals)
    wsum = sum(mix.values())
    shares = {t: w / wsum for t, w in mix.items()}
    in_session = dict.fromkeys(mix, 0)
    holds_left = session.holds
    slots: list[tuple] = []
    elapsed = 0
    for k, (a, b) in enumerate(intervals):
        t = a
        later = sum(e - s for s, e in intervals[k + 1 :])
        while True:
            room_left = (b - t) + later
            placed = session.holds - holds_left
            n = sum(counts.values())
            regular = []
            for tid, share in shares.items():
                at = types[tid]
                end = t + at.scheduled_min
                if end > b or not at.allowed_in(weekday, t, end):
                    continue
                if tid in max_per and in_session[tid] >= max_per[tid]:
                    continue
                if holds_left and room_left - at.scheduled_min < holds_left * hold_len:
                    continue
                regular.append((share * (n + 1) - counts[tid], tid))
            hold_fits = holds_left > 0 and t + hold_len <= b
            hold_due = elapsed + hold_len / 2 >= (placed + 0.5) * total_min / max(session.holds, 1)
            if hold_fits and (hold_due or not regular):
                slots.append((t, t + hold_len, hold_type, "hold"))
                holds_left -= 1
                t += hold_len
                elapsed += hold_len
                continue
            if not regular:
                break
            # Largest deficit first; ties go to the type listed first for the provider.
            _, choice = max(regular, key=lambda c: c[0])
            length = types[choice].scheduled_min
            slots.append((t, t + length, choice, "template"))
            counts[choice] += 1
            in_session[choice] += 1
            t += length
            elapsed += length
        elapsed += b - t
    return slots


def evenly_spaced_schedule(scenario: Scenario, week_start: dt.date) -> pd.DataFrame:
    """A validated schedule frame for the week starting ``week_start`` (any weekday; usually a Monday).

    Each provider session is filled back to back with slots at the types' scheduled lengths, types
    in proportion to the demand mix among the types the provider sees, respecting breaks, allowed
    windows and ``max_per_session``; each session's ``holds`` are left as hold slots of the provider's
    shortest type (the same-day / sick-visit slots walk-ins fill).
    """
    import pandas as pd  # here, not at the top: the command line imports POLICIES at start-up

    from .domain.schedule import validate_schedule

    rows = []
    tallies = {}
    for prov in scenario.providers:
        mix = demand_mix(scenario, prov.id)
        tallies[prov.id] = (mix, dict.fromkeys(mix, 0))
    for offset in range(7):
        date = week_start + dt.timedelta(days=offset)
        day = WEEKDAYS[date.weekday()]
        if day not in scenario.clinic.days_open:
            continue
        for prov in scenario.providers:
            for session in scenario.sessions_on(prov, date):
                mix, counts = tallies[prov.id]
                for start, end, tid, kind in _session_slots(scenario, prov.id, session, mix, counts, day):
                    rows.append(
                        {
                            "date": date.isoformat(),
                            "provider": prov.id,
                            "start": format_hhmm(start),
                            "end": format_hhmm(end),
                            "appointment_type": tid,
                            "kind": kind,
                        }
                    )
    frame = pd.DataFrame(rows, columns=["date", "provider", "start", "end", "appointment_type", "kind"])
    return validate_schedule(frame, scenario, "<evenly spaced schedule>")
