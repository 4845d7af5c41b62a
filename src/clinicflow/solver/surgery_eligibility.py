"""Which room-days a case may go to, and — when none — why, in plain words.

Filters are applied in the order a coordinator would check them (authorization, dates, the
surgeon's blocks, facility eligibility, equipment, length). When a filter leaves no room-day,
the reason names every condition applied so far, e.g. "no block of dr_alvarez at a facility
with a C-arm before its deadline 2026-12-02". The same candidate lists feed the CP-SAT model
and the first-come baseline, so both respect exactly the same rules.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ..domain.cases import SurgicalCase
from ..domain.scenario import Scenario
from ..domain.surgery_schedule import RoomDay
from .overtime import fw_quantile


def equipment_name(eq: str) -> str:
    """'c_arm' → 'C-arm', 'robot' → 'robot'."""
    parts = eq.split("_")
    if len(parts[0]) == 1:
        parts[0] = parts[0].upper()
    return "-".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class CaseFacts:
    """What the models need about one case: its moments and its planned (mean) length."""

    case: SurgicalCase
    mean: float
    var: float
    planned: int  # booked minutes: the mean, rounded
    needs: tuple[str, ...]
    asc_allowed: bool
    weight: int  # priority weight in the objective


def case_facts(case: SurgicalCase, scenario: Scenario, week_end: dt.date) -> CaseFacts:
    d = case.duration(scenario)
    urgent = case.deadline is not None and case.deadline <= week_end
    return CaseFacts(
        case=case,
        mean=d.mean,
        var=d.sd**2,
        planned=max(1, round(d.mean)),
        needs=case.needs(scenario),
        asc_allowed=case.asc_allowed(scenario),
        weight=case.priority + (1 if urgent else 0),
    )


def candidates(
    facts: CaseFacts, room_days: list[RoomDay], scenario: Scenario, week: tuple[dt.date, dt.date]
) -> tuple[list[RoomDay], str | None]:
    """The room-days the case may go to, or ([], reason)."""
    c = facts.case
    sg = scenario.surgery
    assert sg is not None
    monday, sunday = week
    if c.auth_status == "denied":
        return [], "authorization denied"
    if c.auth_status == "pending":
        return [], (f"authorization pending until {c.auth_date}" if c.auth_date else "authorization pending")
    if c.deadline is not None and c.deadline < monday:
        return [], f"clinical deadline {c.deadline} passed before the week: needs an urgent add-on"
    if c.latest_date < monday or c.earliest_date > sunday:
        return (
            [],
            f"patient available {c.earliest_date} to {c.latest_date}, outside the week {monday} to {sunday}",
        )
    first, last = max(c.first_date, monday), min(c.last_date, sunday)
    if first > last:
        if c.auth_date and c.auth_date > min(c.last_date, sunday):
            return [], f"authorization approved only from {c.auth_date}, after the last possible day {last}"
        return [], f"clinical deadline {c.deadline} is before the patient's earliest date {c.earliest_date}"

    phrase = [f"no block of {c.surgeon}"]
    rds = [r for r in room_days if r.owner in (None, c.surgeon)]
    if not rds:
        return [], f"no block of {c.surgeon} and no open OR time this week"
    surgeon = scenario.provider_by_id.get(c.surgeon)
    off = surgeon.time_off if surgeon is not None else []
    rds = [r for r in rds if not any(t.covers(r.date, r.start, r.end) for t in off)]
    if not rds:
        return [], f"{c.surgeon} has time off whenever their block or open OR time is this week"

    when = []
    if first > monday or last < sunday:
        if c.deadline is not None and last == c.deadline:
            when = (
                [f"before its deadline {c.deadline}"]
                if first <= monday
                else [f"between {first} and {last} (deadline)"]
            )
        else:
            when = [f"between {first} and {last}"]
    rds = [r for r in rds if first <= r.date <= last]
    if not rds:
        return [], " ".join([*phrase, "or open OR time", *when])

    if not facts.asc_allowed:
        why = (
            "procedure not done at an ASC" if not _type_asc(c, scenario) else "patient not cleared for an ASC"
        )
        rds = [r for r in rds if r.kind != "asc"]
        if not rds:
            return [], " ".join([*phrase, "at a hospital", *when]) + f" ({why})"
        phrase.append("at a hospital")

    if facts.needs:
        have = {f.id: f.equipment for f in sg.facilities}
        rds = [r for r in rds if all(have[r.facility].get(e, 0) > 0 for e in facts.needs)]
        with_ = "with a " + _and([equipment_name(e) for e in facts.needs])
        if not rds:
            return [], " ".join([*phrase, with_, *when])
        phrase.append(with_)

    q = 1 - sg.overtime_target
    alone = fw_quantile(facts.mean, facts.var, q)
    fits = [r for r in rds if alone <= r.minutes and facts.planned <= r.minutes]
    if not fits:
        longest = max(r.minutes for r in rds)
        return [], (
            f"case too long: its {q:.0%} duration ({math.ceil(alone)} min) exceeds every eligible block "
            f"(longest {longest} min)"
        )
    return fits, None


def _type_asc(case: SurgicalCase, scenario: Scenario) -> bool:
    assert scenario.surgery is not None
    return next(ct for ct in scenario.surgery.case_types if ct.id == case.case_type).asc_eligible
