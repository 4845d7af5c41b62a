"""What a week of the practice can hold: the numbers a coordinator checks first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .clock import format_hhmm, weekday_of
from .scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from .surgery import Facility


@dataclass(frozen=True)
class PracticeSummary:
    """Weekly capacity against weekly demand, in provider minutes.

    ``demand_min`` prices each request at its type's scheduled length, so ``load`` above 1
    means the template cannot hold the expected requests without overbooking.
    """

    name: str
    timezone: str
    days_open: tuple[str, ...]
    providers: int
    sessions_per_week: int
    rooms: int
    procedure_rooms: int
    front_desk: int
    medical_assistants: int
    appointment_types: int
    provider_minutes: int
    hold_slots: int
    demand_visits: float
    demand_min: float
    or_blocks: int
    by_provider: pd.DataFrame
    #: Where staffing differs from the counts above, in words: "wed 3 MAs", "mon, wed 13:00-17:00 5 MAs".
    staffing_exceptions: tuple[str, ...] = ()
    #: Dated exceptions to the weekly pattern: the clinic's closed dates (ISO) and each provider's
    #: time off in words ("pa_brooks time off 2026-12-04 (conference)").
    closed_dates: tuple[str, ...] = ()
    time_off: tuple[str, ...] = ()
    #: Dated exceptions that change nothing (time off on days without a session, a closed date the
    #: clinic is not open anyway): most often a mistyped date, so ``validate`` says so.
    idle_exceptions: tuple[str, ...] = ()
    #: The OR facilities in words: "stluke (hospital; OR3, OR4, OR5; 20 min from the clinic)" — the
    #: travel time decides which clinic sessions an OR block cancels (``Surgery.clashes``).
    facilities: tuple[str, ...] = ()

    @property
    def load(self) -> float:
        if not self.provider_minutes:  # a surgery-only practice: no clinic sessions, no clinic demand
            return 0.0 if not self.demand_min else float("inf")
        return self.demand_min / self.provider_minutes

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "by_provider"}
        d["days_open"] = list(self.days_open)
        d["staffing_exceptions"] = list(self.staffing_exceptions)
        d["closed_dates"] = list(self.closed_dates)
        d["time_off"] = list(self.time_off)
        d["idle_exceptions"] = list(self.idle_exceptions)
        d["facilities"] = list(self.facilities)
        d["load"] = round(self.load, 4)
        d["by_provider"] = self.by_provider.to_dict(orient="records")
        return d


def summarize(s: Scenario) -> PracticeSummary:
    import pandas as pd  # here, not at the top: ``import clinicflow`` (and every command) loads this module

    rows = []
    for p in s.providers:
        rows.append(
            {
                "provider": p.id,
                "name": p.name,
                "role": p.role,
                "sessions": p.weekly_sessions,
                "minutes": p.weekly_minutes,
                "holds": sum(x.holds for ss in p.sessions.values() for x in ss),
                "days": ",".join(d for d in s.clinic.days_open if d in p.sessions),
                "or_days": ",".join(p.or_days),
            }
        )
    by_provider = pd.DataFrame(rows)
    types = s.type_by_id
    return PracticeSummary(
        name=s.clinic.name,
        timezone=s.clinic.timezone,
        days_open=tuple(s.clinic.days_open),
        providers=len(s.providers),
        sessions_per_week=int(by_provider["sessions"].sum()),
        rooms=s.rooms.n,
        procedure_rooms=len(s.rooms.procedure_rooms),
        front_desk=s.staff.front_desk.count,
        medical_assistants=s.staff.medical_assistants.count,
        appointment_types=len(s.appointment_types),
        provider_minutes=int(by_provider["minutes"].sum()),
        hold_slots=int(by_provider["holds"].sum()),
        demand_visits=float(sum(d.weekly for d in s.demand)),
        demand_min=float(sum(d.weekly * types[d.type].scheduled_min for d in s.demand)),
        or_blocks=len(s.surgery.blocks) if s.surgery else 0,
        by_provider=by_provider,
        staffing_exceptions=_staffing_exceptions(s),
        closed_dates=tuple(d.isoformat() for d in s.clinic.closed_dates),
        time_off=tuple(f"{p.id} {t.label(dated=True)}" for p in s.providers for t in p.time_off),
        idle_exceptions=_idle_exceptions(s),
        facilities=tuple(_facility(f) for f in s.surgery.facilities) if s.surgery else (),
    )


def _facility(f: Facility) -> str:
    where = f"{f.travel_min} min from the clinic" if f.travel_min else "at the clinic"
    return f"{f.id} ({f.kind.upper() if f.kind == 'asc' else f.kind}; {', '.join(f.rooms)}; {where})"


def _idle_exceptions(s: Scenario) -> tuple[str, ...]:
    out = [
        f"closed {d.isoformat()}: the clinic is not open on {weekday_of(d)} anyway"
        for d in s.clinic.closed_dates
        if weekday_of(d) not in s.clinic.days_open
    ]
    for p in s.providers:
        for t in p.time_off:
            days = [t.date + dt.timedelta(days=k) for k in range((t.last - t.date).days + 1)]
            if not any(t.covers(d, x.start, x.end) for d in days for x in p.sessions.get(weekday_of(d), [])):
                out.append(f"{p.id} {t.label(dated=True)}: no session of {p.id} falls in it")
    return tuple(out)


def _staffing_exceptions(s: Scenario) -> tuple[str, ...]:
    """The per-day counts and shifts a coordinator should see next to the usual counts."""

    def counts(desk, mas) -> str:
        parts = ([f"{desk} front desk"] if desk is not None else []) + (
            [f"{mas} MAs"] if mas is not None else []
        )
        return ", ".join(parts)

    out = [f"{day} {counts(o.front_desk, o.medical_assistants)}" for day, o in s.staff.by_day.items()]
    out += [
        f"{', '.join(sh.days)} {format_hhmm(sh.start)}-{format_hhmm(sh.end)} "
        f"{counts(sh.front_desk, sh.medical_assistants)}"
        for sh in s.staff.shifts
    ]
    return tuple(out)


def weekly_staff_cost(s: Scenario, week: dt.date | None = None) -> dict[str, float]:
    """Weekly staff cost by role, in the scenario's currency.

    Support staff are paid for the clinic's opening hours on each open day (with the per-day
    counts, and shifts for part of a day); providers for their session hours. Overtime is not included here: it is a simulated
    quantity and is priced by the simulator's KPIs. With ``week`` (any date in it) the cost is that
    week's: closed dates pay nobody, and sessions cancelled by time off or a dated OR block pay no
    provider, as the simulated week of that date has them.
    """
    c = s.clinic
    if week is None:
        days: list[tuple[str, dt.date | None]] = [(d, None) for d in c.days_open]
    else:
        monday = week - dt.timedelta(days=week.weekday())
        dates = (monday + dt.timedelta(days=i) for i in range(7))
        days = [(weekday_of(d), d) for d in dates if weekday_of(d) in c.days_open and d not in c.closed_dates]

    def hours(role) -> float:
        return sum(s.staff.staffed_minutes(role, d, c.opens, c.closes) for d, _ in days) / 60

    def sessions(p):
        if week is None:
            return [x for ss in p.sessions.values() for x in ss]
        return [x for wd, d in days if wd in p.sessions for x in s.sessions_on(p, d)]

    desk = hours("front_desk") * s.staff.front_desk.hourly_cost
    mas = hours("medical_assistants") * s.staff.medical_assistants.hourly_cost
    providers = sum((sess.end - sess.start) / 60 * p.hourly_cost for p in s.providers for sess in sessions(p))
    return {
        "front_desk": round(desk, 2),
        "medical_assistants": round(mas, 2),
        "providers": round(providers, 2),
        "total": round(desk + mas + providers, 2),
    }
