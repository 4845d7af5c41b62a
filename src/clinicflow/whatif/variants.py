"""Variant files: a base scenario plus the changes a practice manager wants to try.

A variant names its base and a few typed changes ("one more MA on Tuesday and Thursday", "two more
exam rooms", "Dr. Okafor off on Friday", "reminders: no-shows × 0.7"), plus a generic ``set`` patch
for anything else. Variants validate like scenarios — one line naming the variant file and the
field — and the scenario they produce is validated again, so a variant can never smuggle in an
impossible practice.
"""

from __future__ import annotations

import copy
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from ..domain import Provider, Scenario, Session
from ..domain.base import Frozen, Identifier
from ..domain.clock import ClockTime, Weekday, format_hhmm
from ..domain.staff import Staff
from ..errors import InputError
from ..scenario_file import (
    format_path,
    load_scenario,
    read_yaml,
    scenario_from_dict,
    scenario_to_dict,
    validation_to_input_error,
)

TemplatePolicy = Literal["evenly_spaced", "bailey_welch", "optimized"]
#: How an error of the scenario a variant produces begins (a sweep names its own option instead).
MAKES_INVALID = "the variant makes the scenario invalid: "


class ExtraShift(Frozen):
    """Staff added (or, negative, removed) for part of some days, on top of whoever is on duty."""

    days: list[Weekday] = Field(min_length=1)
    start: ClockTime
    end: ClockTime
    front_desk: int = Field(default=0, ge=-50, le=50)
    medical_assistants: int = Field(default=0, ge=-100, le=100)

    @model_validator(mode="after")
    def _valid(self):
        if self.end <= self.start:
            raise ValueError(f"end {format_hhmm(self.end)} must be after start {format_hhmm(self.start)}")
        if not self.front_desk and not self.medical_assistants:
            raise ValueError("an extra shift adds or removes front_desk or medical_assistants")
        return self


class TargetedReminders(Frozen):
    """Reminder calls to the booked patients scored most likely to miss, not to everyone.

    A reminder cuts a patient's no-show probability by about the same *fraction* whoever gets it,
    so the patients with the highest scores gain the most per call: the point of scoring patients
    at all (e.g. Shah et al., JGIM 2016, phone calls to high-risk patients). Acts on a week whose
    booked rows carry each patient's ``no_show_prob`` (``calibrate --requests`` then ``plan``, or
    ``calibrate --schedule``)."""

    share: float = Field(
        gt=0.0, le=1.0, description="the share of scored booked patients called, highest first"
    )
    no_show_scale: float = Field(
        ge=0.0, le=1.0, description="multiplies a called patient's no-show probability (about 0.6)"
    )
    minutes_each: float = Field(
        default=0.0,
        ge=0.0,
        le=60.0,
        description="front-desk minutes a call takes, priced at the desk's hourly cost in staff_cost_week",
    )


class Variant(Frozen):
    """Changes to a base scenario. Every field is optional; an empty variant equals its base."""

    name: str = Field(min_length=1)
    base: str | None = Field(default=None, description="base scenario file, relative to the variant file")
    description: str = ""
    extra_rooms: int = Field(
        default=0, ge=-50, le=50, description="exam rooms added (or removed if negative)"
    )
    front_desk: int | None = Field(default=None, ge=0, le=50, description="front-desk clerks on every day")
    medical_assistants: int | None = Field(default=None, ge=0, le=100, description="MAs on every day")
    extra_mas_on: dict[Weekday, int] = Field(default_factory=dict, description="MAs added on given weekdays")
    extra_desk_on: dict[Weekday, int] = Field(
        default_factory=dict, description="clerks added on given weekdays"
    )
    extra_shifts: list[ExtraShift] = Field(
        default_factory=list,
        description="staff added for part of some days, e.g. one more MA on Tuesday afternoons "
        "({days: [tue], start: '13:00', end: '17:00', medical_assistants: 1}); counts are added to "
        "whoever is on duty then (negative: fewer)",
    )
    providers_off: dict[Identifier, list[Weekday]] = Field(
        default_factory=dict, description="provider id -> weekdays without sessions"
    )
    extra_sessions: dict[Identifier, dict[Weekday, list[Session]]] = Field(
        default_factory=dict, description="provider id -> weekday -> sessions added"
    )
    add_providers: list[Provider] = Field(default_factory=list)
    no_show_scale: float = Field(
        default=1.0, ge=0.0, le=5.0, description="multiplies every no-show probability"
    )
    walk_in_scale: float = Field(default=1.0, ge=0.0, le=20.0, description="multiplies walk-in rates")
    demand_scale: float = Field(default=1.0, ge=0.0, le=5.0, description="multiplies weekly demand")
    targeted_reminders: TargetedReminders | None = Field(
        default=None,
        description="reminder calls to the scored booked patients most likely to miss "
        "({share: 0.25, no_show_scale: 0.6}); needs a week whose booked rows carry no_show_prob",
    )
    overbooking: bool | None = None
    template_policy: TemplatePolicy | None = None
    replan: bool = Field(default=True, description="re-plan the schedule when capacity changes")
    set: dict[str, Any] = Field(default_factory=dict, description="deep-merge patch onto the base scenario")

    @field_validator("extra_mas_on", "extra_desk_on")
    @classmethod
    def _bounded(cls, value: dict[str, int]) -> dict[str, int]:
        for day, n in value.items():
            if not -50 <= n <= 50:
                raise ValueError(f"expected a change between -50 and 50 on {day}, got {n}")
        return value

    @property
    def is_identity(self) -> bool:
        """True when the variant changes nothing (neither the scenario nor the scheduling policy)."""
        return (
            not self.changes_capacity
            and self.no_show_scale == 1
            and self.walk_in_scale == 1
            and self.demand_scale == 1
            and self.targeted_reminders is None
            and not self.set
            and self.overbooking is None
            and self.template_policy is None
        )

    @property
    def changes_capacity(self) -> bool:
        """Whether the template's capacity may differ from the base's (then the schedule is re-planned)."""
        return bool(
            self.extra_rooms
            or self.front_desk is not None
            or self.medical_assistants is not None
            or self.extra_mas_on
            or self.extra_desk_on
            or self.extra_shifts
            or self.providers_off
            or self.extra_sessions
            or self.add_providers
            or self.demand_scale != 1
            or self.set
        )


def _add_staff(
    staff: dict,
    key: str,
    day: str,
    window: tuple[int, int],
    n: int,
    hours,
    *,
    file,
    where,
    shifts_only: bool = False,
) -> None:
    """Add ``n`` of ``key`` on ``day`` during ``window`` to the scenario dict's staff, written as
    single-day shifts over the clinic's ``hours`` (``shifts_only``: only where a shift already sets
    the count — the day's own count is changed by the caller). In place."""
    cur = Staff.model_validate(staff)
    start, end = window
    base = cur.base(key, day)
    covered = [(sh.start, sh.end) for sh in cur.shifts if day in sh.days and getattr(sh, key) is not None]
    steps = cur.steps(key, day, *hours)
    cuts = {*hours, *(t for iv in [window, *covered] for t in iv if hours[0] < t < hours[1])}
    new_steps = []
    for lo, hi in pairwise(sorted(cuts)):
        count = next(c for a, b, c in steps if a <= lo < b)
        inside = start <= lo and hi <= end
        if shifts_only:
            inside = inside and any(s <= lo and hi <= e for s, e in covered)
        total = count + n if inside else count
        if total < 0:
            raise _problem(file, where, f"would leave {total} {key.replace('_', ' ')} on {day}")
        new_steps.append((lo, hi, total))
    # this day's shifts for the role are rewritten from the new steps
    kept = []
    for sh in staff.get("shifts", []):
        if day in sh.get("days", []) and key in sh:
            rest = [d for d in sh["days"] if d != day]
            if rest:
                kept.append({**sh, "days": rest})
            other = {k: v for k, v in sh.items() if k not in ("days", key)}
            if "front_desk" in other or "medical_assistants" in other:
                kept.append({**other, "days": [day]})
        else:
            kept.append(sh)
    for lo, hi, total in new_steps:
        if total != base:
            kept.append({"days": [day], "start": format_hhmm(lo), "end": format_hhmm(hi), key: total})
    staff["shifts"] = kept


def _deep_merge(base: Any, patch: Any) -> Any:
    """Mappings merge key by key; anything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _deep_merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(patch)


def _problem(file, where: tuple, message: str) -> InputError:
    return InputError(file, format_path(where), message)


def apply_variant(base: Scenario, v: Variant, file: str | Path | None = None) -> Scenario:
    """The scenario that results from applying ``v`` to ``base`` (validated)."""
    data = scenario_to_dict(base)
    provider_ids = [p["id"] for p in data["providers"]]
    days_open = data["clinic"]["days_open"]

    if v.extra_rooms:
        rooms = data["rooms"]
        ids = list(base.rooms.room_ids)
        if v.extra_rooms > 0:
            n = len(ids)
            new = []
            k = n
            while len(new) < v.extra_rooms:
                k += 1
                rid = f"R{k:02d}"
                if rid not in ids:
                    new.append(rid)
            ids += new
        else:
            removable = [r for r in ids if r not in base.rooms.procedure_rooms]
            if len(removable) < -v.extra_rooms:
                raise _problem(
                    file,
                    ("extra_rooms",),
                    f"cannot remove {-v.extra_rooms} rooms: only {len(removable)} non-procedure rooms exist",
                )
            if len(ids) + v.extra_rooms < 1:
                raise _problem(file, ("extra_rooms",), "would leave no exam room (expected at least 1)")
            drop = set(removable[v.extra_rooms :])
            ids = [r for r in ids if r not in drop]
        rooms.pop("count", None)
        rooms["ids"] = ids

    staff = data["staff"]
    hours = (base.clinic.opens, base.clinic.closes)
    # "N on every day" replaces the base's per-day and per-shift counts for that role too.
    for key, value in (("front_desk", v.front_desk), ("medical_assistants", v.medical_assistants)):
        if value is None:
            continue
        staff[key]["count"] = value
        for day_counts in staff.get("by_day", {}).values():
            day_counts.pop(key, None)
        staff["by_day"] = {d: c for d, c in staff.get("by_day", {}).items() if c}
        for sh in staff.get("shifts", []):
            sh.pop(key, None)
        staff["shifts"] = [
            sh for sh in staff.get("shifts", []) if "front_desk" in sh or "medical_assistants" in sh
        ]
    for key, extra, field in (
        ("medical_assistants", v.extra_mas_on, "extra_mas_on"),
        ("front_desk", v.extra_desk_on, "extra_desk_on"),
    ):
        for day, n in extra.items():
            if day not in days_open:
                raise _problem(file, (field, day), f"the clinic is not open on {day}")
            by_day = staff.setdefault("by_day", {})
            current = base.staff.mas_on(day) if key == "medical_assistants" else base.staff.desk_on(day)
            if v.medical_assistants is not None and key == "medical_assistants":
                current = v.medical_assistants
            if v.front_desk is not None and key == "front_desk":
                current = v.front_desk
            if current + n < 0:
                raise _problem(file, (field, day), f"would leave {current + n} staff on {day}")
            by_day.setdefault(day, {})[key] = current + n
            # shifts that set this role on this day get the extra staff too
            _add_staff(staff, key, day, hours, n, hours, file=file, where=(field, day), shifts_only=True)
    for i, sh in enumerate(v.extra_shifts):
        for day in sh.days:
            if day not in days_open:
                raise _problem(file, ("extra_shifts", i, "days"), f"the clinic is not open on {day}")
            for key in ("front_desk", "medical_assistants"):
                n = getattr(sh, key)
                if n:
                    _add_staff(
                        staff, key, day, (sh.start, sh.end), n, hours, file=file, where=("extra_shifts", i)
                    )

    for pid, days in v.providers_off.items():
        if pid not in provider_ids:
            raise _problem(
                file,
                ("providers_off", pid),
                f"unknown provider {pid!r} (expected one of: {', '.join(provider_ids)})",
            )
        p = data["providers"][provider_ids.index(pid)]
        for day in days:
            p.get("sessions", {}).pop(day, None)

    for pid, days in v.extra_sessions.items():
        if pid not in provider_ids:
            raise _problem(
                file,
                ("extra_sessions", pid),
                f"unknown provider {pid!r} (expected one of: {', '.join(provider_ids)})",
            )
        p = data["providers"][provider_ids.index(pid)]
        for day, sessions in days.items():
            p.setdefault("sessions", {}).setdefault(day, []).extend(
                x.model_dump(mode="json", exclude_none=True) for x in sessions
            )

    for i, p in enumerate(v.add_providers):
        if p.id in provider_ids:
            raise _problem(file, ("add_providers", i, "id"), f"provider {p.id!r} already exists in the base")
        data["providers"].append(p.model_dump(mode="json", by_alias=True, exclude_none=True))
        provider_ids.append(p.id)

    if v.no_show_scale != 1:
        for t in data["appointment_types"]:
            t["no_show"] = min(1.0, t.get("no_show", 0.0) * v.no_show_scale)
            if t["no_show"] + t.get("late_cancel", 0.0) > 1:
                t["late_cancel"] = 1.0 - t["no_show"]
    if v.walk_in_scale != 1:
        arr = data.setdefault("arrivals", {})
        arr["walk_ins_per_hour"] = arr.get("walk_ins_per_hour", 0.0) * v.walk_in_scale
        arr["walk_ins_by_hour"] = {h: r * v.walk_in_scale for h, r in arr.get("walk_ins_by_hour", {}).items()}
    if v.demand_scale != 1:
        for d in data.get("demand", []):
            d["weekly"] = d["weekly"] * v.demand_scale

    if v.set:
        data = _deep_merge(data, v.set)

    left = any(sessions for p in data["providers"] for sessions in (p.get("sessions") or {}).values())
    if base.has_clinic_sessions and not left:  # said in the variant's words, before the scenario's check
        raise _problem(
            file,
            ("providers_off",) if v.providers_off else (),
            "the variant leaves no provider session in the week (nothing to schedule or simulate)",
        )
    try:
        result = scenario_from_dict(data, file)
    except InputError as err:
        raise InputError(file, err.where, f"{MAKES_INVALID}{err.message}") from None
    unroomed = _rooming_without_mas(result)
    if unroomed and not _rooming_without_mas(base):
        raise _problem(
            file,
            ("medical_assistants",) if v.medical_assistants is not None else (),
            f"would leave no medical assistant on duty all week, while {', '.join(unroomed)} "
            f"need{'s' if len(unroomed) == 1 else ''} MA rooming (rooming_min); expected at least 1",
        )
    deskless = _days_without_desk(result, base)
    if deskless:
        d = result.staff.front_desk
        raise _problem(
            file,
            ("front_desk",) if v.front_desk is not None else (),
            f"would leave no front-desk clerk on {', '.join(deskless)}, while checking a patient in takes "
            f"{d.check_in_min.mean:g} min and out {d.checkout_min.mean:g} min (staff.front_desk); expected "
            "at least 1 (a practice with self check-in sets check_in_min and checkout_min to 0)",
        )
    return result


def _days_without_desk(scenario: Scenario, base: Scenario) -> list[str]:
    """Open days the variant leaves without a clerk at any hour while the base had one, when
    checking in or out takes time.

    The simulator reads a desk of 0 as no desk step at all (a practice with kiosks), so a what-if
    that removes the clerks would skip check-in and checkout and read as quicker and cheaper, when
    the work has only gone undone.
    """
    d = scenario.staff.front_desk
    if d.check_in_min.mean <= 0 and d.checkout_min.mean <= 0:
        return []
    c = scenario.clinic

    def staffed(s: Scenario, day: str) -> bool:
        return any(n for *_, n in s.staff.steps("front_desk", day, c.opens, c.closes))

    return [day for day in c.days_open if not staffed(scenario, day) and staffed(base, day)]


def _rooming_without_mas(scenario: Scenario) -> list[str]:
    """Types a working provider sees that need an MA, when no MA is on duty at any time of the week.

    Such patients are roomed and then wait for an MA who never comes (unseen at close, their rooms
    held all day), so a what-if with them reads as cheap and quick. A day without MAs is left to the
    planner, which keeps those types off that day (or says why it cannot).
    """
    c = scenario.clinic
    steps = (scenario.staff.steps("medical_assistants", d, c.opens, c.closes) for d in c.days_open)
    if any(n for day in steps for *_, n in day):
        return []
    needs_ma = {t.id for t in scenario.appointment_types if t.needs_ma}
    working = [p for p in scenario.providers if any(p.sessions.values())]
    return list(dict.fromkeys(t for p in working for t in p.appointment_types if t in needs_ma))


def variant_from_dict(data: dict, file: str | Path | None = None) -> Variant:
    """Validate a mapping (a parsed file, or the dashboard's form) into a Variant, with one-line errors."""
    try:
        return Variant.model_validate(data)
    except ValidationError as e:
        raise validation_to_input_error(e, file, data, {}, Variant) from None


def variant_text(fields: dict, name: str, base: str | None = None) -> str:
    """A variant file's text for ``fields`` (the dashboard's what-if form), named ``name``, on the
    scenario file ``base``: what ``clinicflow compare BASE variant.yaml`` runs again.

    Why: a practice manager who finds a change worth making on the What-if page takes it away as
    a file, to share, keep beside the scenario, or re-run with more replications; the fields are
    validated first, so the file never says something ``load_variant`` would refuse."""
    import yaml

    data = {"name": name, **({"base": base} if base else {}), **fields}
    variant_from_dict(data, "variant")  # refuses what a file could not hold
    head = (
        "# A what-if variant from the clinicflow dashboard. Keep it beside its base scenario, or give\n"
        "# the base on the command line:  clinicflow compare BASE.yaml this-file.yaml\n"
    )
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)


def load_variant(path: str | Path, base: Scenario | None = None) -> tuple[Variant, Scenario, Scenario]:
    """Read a variant file; return (variant, base scenario, variant scenario).

    The base comes from ``base`` when given, else from the file's ``base:`` path (relative to the
    variant file).
    """
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a mapping with at least 'name' and some changes")
    try:
        v = Variant.model_validate(data)
    except ValidationError as e:
        raise validation_to_input_error(e, path, data, lines, Variant) from None
    if base is None:
        if v.base is None:
            raise InputError(path, "base", "no base scenario: give 'base: path/to/scenario.yaml'")
        base_path = (Path(path).parent / v.base).resolve()
        if not base_path.is_file():
            raise InputError(path, "base", f"base scenario not found: {v.base}")
        base = load_scenario(base_path)
    return v, base, apply_variant(base, v, path)


def schedule_under(
    variant: Variant | None, schedule: pd.DataFrame, notes: list[str] | None = None
) -> pd.DataFrame:
    """A kept schedule as the variant would run it: rows that carry their own ``no_show_prob`` (a
    patient's score from ``calibrate``, or a rate an EHR export wrote) scaled by ``no_show_scale``,
    then the ``targeted_reminders`` applied to the scored booked patients most likely to miss.

    ``apply_variant`` scales the scenario's per-type rates, which reach only rows without their own
    value; without this, reminders did nothing at all to a planned or scored week (measured: the
    README's planned week, paired difference exactly 0 on every KPI). ``notes`` gets a line saying
    whom the targeted reminders reached."""
    if variant is None or "no_show_prob" not in schedule:
        return _targeted(variant, schedule, notes)
    p = pd.to_numeric(schedule["no_show_prob"], errors="coerce")
    if variant.no_show_scale != 1 and not p.isna().all():
        schedule = schedule.copy()
        schedule["no_show_prob"] = (p * variant.no_show_scale).clip(upper=1.0)
    return _targeted(variant, schedule, notes)


def _scored_booked(schedule: pd.DataFrame) -> pd.Series:
    """The no-show scores of a week's booked patients who carry one."""
    if "no_show_prob" not in schedule or "kind" not in schedule:
        return pd.Series(dtype=float)
    p = pd.to_numeric(schedule["no_show_prob"], errors="coerce")
    return p[schedule["kind"].eq("booked") & p.notna()]


def reminder_calls(variant: Variant | None, schedule: pd.DataFrame) -> int:
    """How many patients the variant's ``targeted_reminders`` call in this week (0 without them)."""
    t = variant.targeted_reminders if variant is not None else None
    scored = _scored_booked(schedule)
    if t is None or scored.empty:
        return 0
    return max(1, round(t.share * len(scored)))


def _targeted(variant: Variant | None, schedule: pd.DataFrame, notes: list[str] | None) -> pd.DataFrame:
    t = variant.targeted_reminders if variant is not None else None
    if t is None:
        return schedule
    scored = _scored_booked(schedule)
    if scored.empty:
        raise InputError(
            None,
            "targeted_reminders",
            "needs a week whose booked patients carry their no_show_prob scores (compare --schedule a week "
            "planned with scored requests, or scored by calibrate --schedule)",
        )
    p = pd.to_numeric(schedule["no_show_prob"], errors="coerce")
    k = reminder_calls(variant, schedule)
    called = scored.sort_values(ascending=False, kind="stable").index[:k]
    out = schedule.copy()
    out.loc[called, "no_show_prob"] = p.loc[called] * t.no_show_scale
    if notes is not None:
        notes.append(
            f"reminder calls to the {k} of {len(scored)} scored booked patients most likely to miss "
            f"(scores {p.loc[called].min():.2f}–{p.loc[called].max():.2f})"
        )
    return out
