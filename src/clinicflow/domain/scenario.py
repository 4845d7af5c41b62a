"""The scenario: one practice, fully described, validated across its parts."""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from pydantic import Field, model_validator

from .appointment import AppointmentType
from .arrivals import Arrivals
from .base import Frozen
from .clinic import Clinic
from .clock import WEEKDAYS, format_hhmm
from .costs import Costs
from .demand import Demand
from .provider import Provider, Session, TimeOff
from .rooms import Rooms
from .staff import Staff
from .surgery import Surgery


class CrossReferenceProblem(ValueError):
    """A cross-reference problem, with the field path it belongs to."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


#: Why every session of a closed date is cancelled (``Scenario.cancelled_on``).
CLOSED = "the clinic is closed"


#: Time off typed in one go (``plan --off``, ``book --off``, the dashboard's sick-day box).
OFF_FORMAT = "PROVIDER:YYYY-MM-DD[..YYYY-MM-DD][:HH:MM-HH:MM]"
_OFF = re.compile(
    r"^(?P<prov>[^:]+):(?P<d1>\d{4}-\d{2}-\d{2})(?:\.\.(?P<d2>\d{4}-\d{2}-\d{2}))?"
    r"(?::(?P<t1>\d{1,2}:\d{2})-(?P<t2>\d{1,2}:\d{2}))?$"
)


def parse_time_off(text: str, scenario: Scenario) -> tuple[str, TimeOff]:
    """``dr_okafor:2026-12-01`` → (``dr_okafor``, a whole day off); ValueError in words otherwise
    (the format, an unknown provider, a date or hours out of order)."""
    from pydantic import ValidationError

    m = _OFF.match(text.strip())
    if m is None:
        raise ValueError(f"expected {OFF_FORMAT}, got {text!r}")
    if m["prov"] not in scenario.provider_by_id:
        known = ", ".join(p.id for p in scenario.providers)
        raise ValueError(f"unknown provider {m['prov']!r} (expected one of: {known})")
    fields = {"date": m["d1"], "until": m["d2"], "start": m["t1"], "end": m["t2"]}
    try:
        return m["prov"], TimeOff.model_validate({k: x for k, x in fields.items() if x})
    except ValidationError as e:
        raise ValueError(f"{text!r}: {e.errors()[0]['msg'].removeprefix('Value error, ')}") from None


class Cancelled(NamedTuple):
    """A weekly session that does not happen on one date, and why (for the plan's summary)."""

    provider: str
    date: dt.date
    session: Session
    why: str


class Scenario(Frozen):
    """Everything the solver, the simulator and the data layer need to know about a practice.

    Individual parts validate themselves; the checks here are the ones that need two parts at
    once (a provider that sees an unknown type, a session on a closed day …).
    """

    version: int = Field(default=1, ge=1, le=1)
    clinic: Clinic
    appointment_types: list[AppointmentType] = Field(min_length=1)
    providers: list[Provider] = Field(min_length=1)
    rooms: Rooms
    staff: Staff
    arrivals: Arrivals = Field(default_factory=Arrivals)
    demand: list[Demand] = Field(default_factory=list)
    costs: Costs = Field(default_factory=Costs)
    surgery: Surgery | None = None

    @model_validator(mode="after")
    def _cross_references(self):
        problem = next(iter(cross_reference_problems(self)), None)
        if problem is not None:
            raise problem
        return self

    # -- lookups -------------------------------------------------------------------------------
    @property
    def has_clinic_sessions(self) -> bool:
        """Whether any provider has a clinic session; a surgery-only scenario (OR blocks alone) has
        none, and the clinic commands and pages refuse it."""
        return any(sessions for p in self.providers for sessions in p.sessions.values())

    @property
    def type_by_id(self) -> dict[str, AppointmentType]:
        """A new dict on every call: take it once outside a loop. Not cached on purpose — a copy
        made with ``model_copy(update=…)`` (``with_time_off``, the replay's scenario) would carry a
        cache of the fields it replaced (measured: an 8× booking spent 19 of its 35 s rebuilding
        ``provider_by_id`` inside its loop)."""
        return {t.id: t for t in self.appointment_types}

    @property
    def provider_by_id(self) -> dict[str, Provider]:
        """A new dict on every call: take it once outside a loop (see ``type_by_id``)."""
        return {p.id: p for p in self.providers}

    def appointment_type(self, type_id: str) -> AppointmentType:
        return self.type_by_id[type_id]

    def provider(self, provider_id: str) -> Provider:
        return self.provider_by_id[provider_id]

    def visit_duration(self, provider_id: str, type_id: str):
        """The visit-duration distribution for a provider and type (provider override first)."""
        p = self.provider_by_id[provider_id]
        return p.visit_durations.get(type_id) or self.type_by_id[type_id].duration

    def no_show_probability(self, type_id: str) -> float:
        return self.type_by_id[type_id].no_show

    # -- dated availability ----------------------------------------------------------------------
    def with_time_off(self, extra: list[tuple[str, TimeOff]]) -> Scenario:
        """This scenario with more time off (``plan --off``, ``book --off``: a provider calls in sick
        after the file was written); the providers must exist."""
        more: dict[str, list[TimeOff]] = {}
        for pid, t in extra:
            more.setdefault(pid, []).append(t)
        providers = [
            p.model_copy(update={"time_off": [*p.time_off, *more[p.id]]}) if p.id in more else p
            for p in self.providers
        ]
        return self.model_copy(update={"providers": providers})

    def sessions_on(self, provider: str | Provider, date: dt.date) -> list[Session]:
        """The provider's clinic sessions on ``date``, by start time: the weekday's pattern less
        clinic closures, time off and the surgeon's dated OR blocks. The planner, the baselines and
        the simulator all ask here, so a cancelled session has no slots, no idle time and no
        overtime anywhere."""
        p = self.provider_by_id[provider] if isinstance(provider, str) else provider
        weekly = sorted(p.sessions.get(WEEKDAYS[date.weekday()], []), key=lambda x: x.start)
        if not weekly:
            return []
        gone = {id(c.session) for c in self._cancelled(p, date, weekly)}
        return [x for x in weekly if id(x) not in gone]

    def cancelled_on(self, date: dt.date) -> list[Cancelled]:
        """Every weekly session that does not happen on ``date``, with the reason in plain words."""
        out: list[Cancelled] = []
        for p in self.providers:
            weekly = sorted(p.sessions.get(WEEKDAYS[date.weekday()], []), key=lambda x: x.start)
            out.extend(self._cancelled(p, date, weekly))
        return out

    def _cancelled(self, p: Provider, date: dt.date, weekly: list[Session]) -> list[Cancelled]:
        if not weekly:
            return []
        if date in self.clinic.closed_dates:
            return [Cancelled(p.id, date, x, CLOSED) for x in weekly]
        blocks = [
            b for b in (self.surgery.blocks if self.surgery else []) if b.date == date and b.surgeon == p.id
        ]
        out = []
        for x in weekly:
            off = next((t for t in p.time_off if t.covers(date, x.start, x.end)), None)
            if off is not None:
                out.append(Cancelled(p.id, date, x, off.label()))
                continue
            b = next((b for b in blocks if self.surgery.clashes(b, x.start, x.end)), None)
            if b is not None:
                t = self.surgery.travel_min(b.facility)
                away = f", {t} min away" if t and not (b.start < x.end and x.start < b.end) else ""
                out.append(
                    Cancelled(
                        p.id,
                        date,
                        x,
                        f"in the OR ({b.facility} {b.room} {format_hhmm(b.start)}-{format_hhmm(b.end)}{away})",
                    )
                )
        return out


def _dupes(ids: list[str]) -> str | None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            return i
        seen.add(i)
    return None


def cross_reference_problems(s: Scenario):
    """Yield every cross-reference problem as a CrossReferenceProblem with its field path."""
    type_ids = [t.id for t in s.appointment_types]
    if (d := _dupes(type_ids)) is not None:
        yield CrossReferenceProblem(("appointment_types", type_ids.index(d), "id"), f"duplicate id {d!r}")
    prov_ids = [p.id for p in s.providers]
    if (d := _dupes(prov_ids)) is not None:
        idx = len(prov_ids) - 1 - prov_ids[::-1].index(d)
        yield CrossReferenceProblem(("providers", idx, "id"), f"duplicate provider id {d!r}")
    known_types = set(type_ids)
    room_ids = set(s.rooms.room_ids)

    for j, r in enumerate(s.rooms.procedure_rooms):
        if r not in room_ids:
            yield CrossReferenceProblem(
                ("rooms", "procedure_rooms", j), f"unknown room {r!r} (expected one of the room ids)"
            )
    if any(t.procedure for t in s.appointment_types) and not s.rooms.procedure_rooms:
        yield CrossReferenceProblem(
            ("rooms", "procedure_rooms"),
            "a procedure appointment type exists but no procedure room is listed",
        )

    c = s.clinic
    for i, p in enumerate(s.providers):
        for j, t in enumerate(p.appointment_types):
            if t not in known_types:
                yield CrossReferenceProblem(
                    ("providers", i, "appointment_types", j),
                    f"unknown appointment type {t!r} (expected one of: {', '.join(type_ids)})",
                )
        for t in p.visit_durations:
            if t not in p.appointment_types:
                yield CrossReferenceProblem(
                    ("providers", i, "visit_durations", t),
                    f"duration override for {t!r}, which this provider does not see",
                )
        for day, sessions in p.sessions.items():
            if day not in c.days_open:
                yield CrossReferenceProblem(
                    ("providers", i, "sessions", day),
                    f"the clinic is not open on {day} (days_open: {', '.join(c.days_open)})",
                )
            for k, sess in enumerate(sessions):
                if sess.start < c.opens:
                    yield CrossReferenceProblem(
                        ("providers", i, "sessions", day, k, "start"),
                        f"session starts at {format_hhmm(sess.start)}, before the clinic opens "
                        f"at {format_hhmm(c.opens)}",
                    )
                if sess.end > c.closes:
                    yield CrossReferenceProblem(
                        ("providers", i, "sessions", day, k, "end"),
                        f"session ends at {format_hhmm(sess.end)}, after the clinic closes "
                        f"at {format_hhmm(c.closes)}",
                    )
        if p.rooms_at_once > s.rooms.n:
            yield CrossReferenceProblem(
                ("providers", i, "rooms_at_once"),
                f"expected at most the clinic's {s.rooms.n} rooms, got {p.rooms_at_once}",
            )
        if p.or_days:
            if s.surgery is None:
                yield CrossReferenceProblem(
                    ("providers", i, "or_days"), "OR days given but the scenario has no surgery section"
                )
            else:
                block_days = {b.day for b in s.surgery.blocks if b.surgeon == p.id and b.day}
                for j, d in enumerate(p.or_days):
                    if d not in block_days:
                        yield CrossReferenceProblem(
                            ("providers", i, "or_days", j),
                            f"{p.id} has no OR block on {d} in surgery.blocks",
                        )
        if s.surgery is not None:
            # A weekly OR block and a weekly clinic session at once — or closer than the drive
            # between them — put the surgeon in two places every week; a dated block instead
            # cancels that day's session (Scenario.sessions_on).
            for bi, b in enumerate(s.surgery.blocks):
                if b.surgeon != p.id or b.day is None:
                    continue
                for k, sess in enumerate(p.sessions.get(b.day, [])):
                    if not s.surgery.clashes(b, sess.start, sess.end):
                        continue
                    where = ("providers", i, "sessions", b.day, k)
                    session = f"{p.id}'s clinic session {format_hhmm(sess.start)}-{format_hhmm(sess.end)} on {b.day}"
                    block = (
                        f"their OR block {format_hhmm(b.start)}-{format_hhmm(b.end)} at {b.facility} {b.room}"
                    )
                    if b.start < sess.end and sess.start < b.end:
                        yield CrossReferenceProblem(
                            where,
                            f"{session} overlaps {block} (surgery.blocks[{bi}]); expected them in one place",
                        )
                    else:
                        t = s.surgery.travel_min(b.facility)
                        gap = b.start - sess.end if b.start >= sess.end else sess.start - b.end
                        yield CrossReferenceProblem(
                            where,
                            f"{session} and {block} (surgery.blocks[{bi}]) are {gap} min apart; expected at "
                            f"least {t} min to travel between the clinic and {b.facility} (travel_min)",
                        )

    has_sessions = s.has_clinic_sessions
    if s.surgery is None and not has_sessions:
        # a clinic without a session or an OR block has nothing to plan, simulate or compare;
        # left in, each command failed later with a message that named no file
        yield CrossReferenceProblem(
            ("providers",),
            "no provider has a session in the week (expected at least one under providers[].sessions)",
        )
    elif not has_sessions and s.demand:
        # a surgery-only scenario asks for no clinic visits; demand with no session to meet it
        # showed as "load inf%" and failed later in plan, simulate and compare
        yield CrossReferenceProblem(
            ("demand",),
            f"{len(s.demand)} demand row(s) ask for clinic visits but no provider has a clinic session "
            "(expected sessions under providers[].sessions, or no demand rows in a surgery-only scenario)",
        )

    for i, t in enumerate(s.appointment_types):
        if t.no_show + t.late_cancel > 1:
            yield CrossReferenceProblem(
                ("appointment_types", i, "late_cancel"), "expected no_show + late_cancel <= 1"
            )

    first_row: dict[tuple[str, str | None], int] = {}
    for i, d in enumerate(s.demand):
        # a second row for the same type (and provider) was summed by the capacity summary but
        # read last-wins by the template rules: ambiguous, so refused
        j = first_row.setdefault((d.type, d.provider), i)
        if j != i:
            whose = f" and provider {d.provider!r}" if d.provider is not None else ""
            yield CrossReferenceProblem(
                ("demand", i, "type"),
                f"demand for {d.type!r}{whose} is already given in demand[{j}] (expected one row per type"
                " and provider)",
            )
        if d.type not in known_types:
            yield CrossReferenceProblem(
                ("demand", i, "type"),
                f"unknown appointment type {d.type!r} (expected one of: {', '.join(type_ids)})",
            )
        if d.provider is not None:
            if d.provider not in prov_ids:
                yield CrossReferenceProblem(
                    ("demand", i, "provider"),
                    f"unknown provider {d.provider!r} (expected one of: {', '.join(prov_ids)})",
                )
            elif d.type not in s.provider_by_id[d.provider].appointment_types:
                yield CrossReferenceProblem(
                    ("demand", i, "type"), f"provider {d.provider!r} does not see {d.type!r}"
                )
        elif d.type in known_types and not any(d.type in p.appointment_types for p in s.providers):
            yield CrossReferenceProblem(("demand", i, "type"), f"no provider sees {d.type!r}")

    for t, _w in s.arrivals.walk_in_mix.items():
        if t not in known_types:
            yield CrossReferenceProblem(
                ("arrivals", "walk_in_mix", t),
                f"unknown appointment type {t!r} (expected one of: {', '.join(type_ids)})",
            )
    if (
        s.arrivals.walk_ins_per_hour > 0 or any(s.arrivals.walk_ins_by_hour.values())
    ) and not s.arrivals.walk_in_mix:
        yield CrossReferenceProblem(
            ("arrivals", "walk_in_mix"), "walk-ins arrive but walk_in_mix names no appointment type"
        )

    for day in s.staff.by_day:
        if day not in c.days_open:
            yield CrossReferenceProblem(("staff", "by_day", day), f"the clinic is not open on {day}")
    for i, sh in enumerate(s.staff.shifts):
        for day in sh.days:
            if day not in c.days_open:
                yield CrossReferenceProblem(
                    ("staff", "shifts", i, "days"), f"the clinic is not open on {day}"
                )
        if sh.start < c.opens or sh.end > c.closes:
            yield CrossReferenceProblem(
                ("staff", "shifts", i, "start" if sh.start < c.opens else "end"),
                f"shift {format_hhmm(sh.start)}-{format_hhmm(sh.end)} is outside the clinic's hours "
                f"{format_hhmm(c.opens)}-{format_hhmm(c.closes)}",
            )

    if s.surgery is not None:
        yield from _surgery_problems(s)


def _surgery_problems(s: Scenario):
    sg = s.surgery
    fac = {f.id: f for f in sg.facilities}
    fac_ids = [f.id for f in sg.facilities]
    if (d := _dupes(fac_ids)) is not None:
        yield CrossReferenceProblem(
            ("surgery", "facilities", fac_ids.index(d), "id"), f"duplicate facility id {d!r}"
        )
    surgeons = {p.id for p in s.providers if p.role == "surgeon"}
    equipment = {e for f in sg.facilities for e in f.equipment}
    for i, b in enumerate(sg.blocks):
        if b.facility not in fac:
            yield CrossReferenceProblem(
                ("surgery", "blocks", i, "facility"),
                f"unknown facility {b.facility!r} (expected one of: {', '.join(fac_ids)})",
            )
            continue
        f = fac[b.facility]
        if b.room not in f.rooms:
            yield CrossReferenceProblem(
                ("surgery", "blocks", i, "room"),
                f"unknown room {b.room!r} at {f.id} (expected one of: {', '.join(f.rooms)})",
            )
        if b.surgeon is not None and b.surgeon not in surgeons:
            yield CrossReferenceProblem(
                ("surgery", "blocks", i, "surgeon"),
                f"unknown surgeon {b.surgeon!r} (expected a provider with role surgeon: "
                f"{', '.join(sorted(surgeons)) or 'none'})",
            )
        if b.start < f.staffed_start or b.end > f.staffed_end:
            yield CrossReferenceProblem(
                ("surgery", "blocks", i, "end" if b.end > f.staffed_end else "start"),
                f"block {format_hhmm(b.start)}-{format_hhmm(b.end)} is outside {f.id}'s staffed hours "
                f"{format_hhmm(f.staffed_start)}-{format_hhmm(f.staffed_end)}",
            )
    # Two blocks in one room at the same time, or one surgeon in two blocks at once.
    for i, a in enumerate(sg.blocks):
        for j in range(i + 1, len(sg.blocks)):
            b = sg.blocks[j]
            same_slot = (a.day is not None and a.day == b.day) or (a.date is not None and a.date == b.date)
            if not same_slot or not (a.start < b.end and b.start < a.end):
                continue
            if a.facility == b.facility and a.room == b.room:
                yield CrossReferenceProblem(("surgery", "blocks", j), f"overlaps block {i} in room {b.room}")
            elif a.surgeon is not None and a.surgeon == b.surgeon:
                yield CrossReferenceProblem(
                    ("surgery", "blocks", j),
                    f"surgeon {b.surgeon} would be in two blocks at once (see block {i})",
                )
    for i, ct in enumerate(sg.case_types):
        for j, e in enumerate(ct.equipment):
            if e not in equipment:
                yield CrossReferenceProblem(
                    ("surgery", "case_types", i, "equipment", j),
                    f"unknown equipment {e!r} (no facility lists it)",
                )
