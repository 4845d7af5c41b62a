"""Plain-words infeasibility: which rules conflict, for which provider, on which day.

Two layers. ``check_week`` runs before any solve and catches the conflicts a coordinator makes
most often (holds and per-session floors that do not fit a session, a floor for a type whose
allowed windows miss the session, rooming with no MA on duty) with exact arithmetic in the
message. Anything subtler reaches the template model, which is then re-solved with one
assumption literal per rule; CP-SAT's ``sufficient_assumptions_for_infeasibility`` returns a set
of rules that cannot hold together, and ``explain_template_core`` words each one.
"""

from __future__ import annotations

import numpy as np

from ..domain.clock import format_hhmm
from ..domain.scenario import Scenario
from ..errors import InfeasibleError
from .template import SHARED_SLACK, Rule, demand_rows, footprints, per_session_bounds
from .week import DAY_NAMES, Block, ProviderSession, hold_type, ma_by_minute, type_allowed_in


def _when(ps: ProviderSession) -> str:
    return (
        f"{ps.provider}'s {DAY_NAMES[ps.weekday]} {ps.date.isoformat()} session "
        f"{format_hhmm(ps.start)}-{format_hhmm(ps.end)}"
    )


def week_problems(scenario: Scenario, sessions: list[ProviderSession]) -> list[str]:
    """Every conflict found by arithmetic alone, as sentences."""
    types = scenario.type_by_id
    out: list[str] = []
    for ps in sessions:
        prov = scenario.provider_by_id[ps.provider]
        ht = hold_type(scenario, ps.provider)
        hold_min = ps.holds * types[ht].scheduled_min
        floors = []
        for t in prov.appointment_types:
            lo, _hi = per_session_bounds(scenario, ps.provider, t)
            if lo:
                floors.append((t, lo))
                room = sum(
                    (seg.minutes // types[t].scheduled_min)
                    for seg in ps.segments
                    if type_allowed_in(scenario, t, seg)
                )
                if room < lo:
                    wins = types[t].windows_label()
                    out.append(
                        f"{_when(ps)}: the demand rule min_per_session={lo} for {t} cannot be met — "
                        f"{t} is only allowed {wins or 'in the session'} and at most {room} "
                        f"{types[t].scheduled_min}-min slot(s) fit there"
                    )
        if ps.holds and types[ht].allowed_windows:
            room = sum(
                seg.minutes // types[ht].scheduled_min
                for seg in ps.segments
                if type_allowed_in(scenario, ht, seg)
            )
            if room < ps.holds:
                wins = types[ht].windows_label()
                out.append(
                    f"{_when(ps)} keeps {ps.holds} same-day hold(s) reserved as {ht}, but {ht} is only "
                    f"allowed {wins} and at most {room} {types[ht].scheduled_min}-min slot(s) fit there"
                )
        need = hold_min + sum(lo * types[t].scheduled_min for t, lo in floors)
        if need > ps.minutes:
            parts = []
            if ps.holds:
                parts.append(f"{ps.holds} same-day hold(s) × {types[ht].scheduled_min} min = {hold_min} min")
            parts += [
                f"min_per_session {lo} × {t} ({types[t].scheduled_min} min) = {lo * types[t].scheduled_min} min"
                for t, lo in floors
            ]
            out.append(
                f"{_when(ps)} has {ps.minutes} working minutes but its rules need {need}: " + "; ".join(parts)
            )
        if not ma_by_minute(scenario, ps.weekday)[ps.start : ps.end].any():
            needs_ma = [t for t, _ in floors if types[t].needs_ma]
            if ps.holds and types[ht].needs_ma:
                needs_ma.append(f"{ht} (same-day holds)")
            if needs_ma:
                out.append(
                    f"{_when(ps)}: no medical assistant works on {DAY_NAMES[ps.weekday]} during the session "
                    f"(staff.by_day, staff.shifts), but {', '.join(needs_ma)} need rooming by an MA"
                )
    return out


def check_week(scenario: Scenario, sessions: list[ProviderSession]) -> None:
    problems = week_problems(scenario, sessions)
    if problems:
        raise InfeasibleError("the week cannot be built: these rules conflict", problems)


def explain_empty_week(scenario: Scenario, sessions: list[ProviderSession]) -> InfeasibleError:
    """Why a template placed no slot at all in the week: nothing asked for, or no visit fits."""
    types = scenario.type_by_id
    if not any(round(d.weekly) > 0 for d in scenario.demand) and not any(ps.holds for ps in sessions):
        return InfeasibleError(
            "the week cannot be built: there is nothing to schedule",
            ["no demand row asks for a visit (demand[].weekly) and no session keeps same-day holds"],
        )
    reasons = []
    for ps in sessions:
        prov = scenario.provider_by_id[ps.provider]
        shortest = min(prov.appointment_types, key=lambda t: types[t].scheduled_min)
        longest = max((seg.minutes for seg in ps.segments), default=0)
        if longest < types[shortest].scheduled_min:
            reasons.append(
                f"{_when(ps)} has at most {longest} working minutes in a row, shorter than "
                f"{ps.provider}'s shortest visit ({shortest}, {types[shortest].scheduled_min} min)"
            )
    if not reasons:
        reasons.append(
            "no session has room for a visit type with demand (see appointment_types[].allowed_windows "
            "and demand[].max_per_session)"
        )
    return InfeasibleError("the week cannot be built: no visit fits in any session", reasons)


def describe_rule(scenario: Scenario, rule: Rule) -> str:
    types = scenario.type_by_id
    if rule.kind == "window":
        t = types[rule.type_id]
        wins = t.windows_label()
        return f"{rule.type_id} slots only in its allowed windows ({wins})"
    ps = rule.session
    if rule.kind == "holds":
        ht = hold_type(scenario, ps.provider)
        return f"{_when(ps)} keeps {rule.value} same-day hold(s) of {types[ht].scheduled_min} min (reserved as {ht})"
    if rule.kind == "min_per_session":
        return f"{_when(ps)} needs at least {rule.value} {rule.type_id} slot(s) (demand min_per_session)"
    return f"{_when(ps)} allows at most {rule.value} {rule.type_id} slot(s) (demand max_per_session)"


def explain_template_core(scenario: Scenario, core: tuple) -> InfeasibleError:
    """An ``InfeasibleError`` naming the rules of an infeasible core (and session lengths)."""
    if not core:
        return InfeasibleError(
            "the week cannot be built: session lengths cannot hold the slots the rules require",
            ["no single rule is to blame: check session lengths against holds and per-session minimums"],
        )
    reasons = [describe_rule(scenario, r) for r in core]
    sessions = {r.session.key: r.session for r in core if r.session is not None}
    reasons += [f"{_when(ps)} has {ps.minutes} working minutes" for ps in sessions.values()]
    return InfeasibleError("the week cannot be built: these rules conflict", reasons)


def explain_timing(
    scenario: Scenario, ps: ProviderSession, block: Block, slots: list, ledger, status: str
) -> InfeasibleError:
    """Why a block's slots found no start times: a shared resource used up, or time ran out."""
    if status != "infeasible":
        return InfeasibleError(
            f"slot timing for {_when(ps)} found no schedule within its time limit",
            ["raise --time-limit, or use fewer sampled days"],
        )
    from .shared import blocked_by

    names = {
        "ma": f"medical assistants (at most {int(ledger.capacity(ps.date, 'ma')[block.start : block.end].max())} on duty)",
        "rooms": f"exam rooms ({scenario.rooms.n})",
        "proc": f"procedure rooms ({len(scenario.rooms.procedure_rooms)})",
    }
    reasons = []
    anywhere: set[str] = set()
    for s in slots:
        sets = [blocked_by(ledger, ps.date, s, g) for g in range(s.lo, s.hi + 1, 5)]
        anywhere.update(*sets)
        always = set.intersection(*sets) if sets else set()
        if always:  # no start in the slot's whole range has room for it
            reasons.append(
                f"a {s.type_id} slot between {format_hhmm(s.lo)} and {format_hhmm(s.hi)} finds no free "
                + " and ".join(names[b] for b in sorted(always))
                + " at any start (other providers' patients hold them, or none is on duty)"
            )
    if not reasons and anywhere:
        # each slot fits somewhere alone, but not all of them together
        parts = []
        if "ma" in anywhere:
            on = ledger.capacity(ps.date, "ma")[block.start : block.end]
            bare = np.flatnonzero(on == 0)
            gap = (
                f"; none on duty {format_hhmm(block.start + int(bare[0]))}-{format_hhmm(block.start + int(bare[-1]) + 1)}"
                " (staff.by_day, staff.shifts), and patients who come early need one before their time"
                if len(bare)
                else ""
            )
            parts.append(f"the MA rooming its patients need does not fit the {names['ma']}{gap}")
        for res in ("rooms", "proc"):
            if res in anywhere:
                parts.append(f"other providers' patients hold {names[res]} for part of the block")
        reasons.append(
            f"the {len(slots)} slots of {format_hhmm(block.start)}-{format_hhmm(block.end)} do not fit together: "
            + "; ".join(parts)
        )
    if not reasons:
        reasons.append(
            f"the {len(slots)} slots of {format_hhmm(block.start)}-{format_hhmm(block.end)} cannot be "
            f"ordered within the block with at most {scenario.provider_by_id[ps.provider].rooms_at_once} "
            "patient(s) roomed at once"
        )
    return InfeasibleError(f"slot timing is infeasible for {_when(ps)}", sorted(set(reasons)))


def explain_shortfall(
    scenario: Scenario, sessions: list[ProviderSession], coverage: list[dict], grid: int = 5
) -> list[str]:
    """Why each demand row the template could not fill is short, in words a coordinator can act on.

    Missing slots are soft (the template trades them by weight), so a short week is planned, not
    refused; but "new_patient 0/30" alone does not say whether a window, a per-session cap, the
    procedure rooms or plain lack of provider time is to blame. Each row gets the first of these
    that explains it by arithmetic, in that order."""
    types = scenario.type_by_id
    rows = demand_rows(scenario)
    need = sum(d.weekly * types[d.type].scheduled_min for d, _ in rows)
    hold_min = sum(ps.holds * types[hold_type(scenario, ps.provider)].scheduled_min for ps in sessions)
    have = sum(ps.minutes for ps in sessions) - hold_min
    out: list[str] = []
    for (d, provs), c in zip(rows, coverage, strict=True):
        asked = round(d.weekly)
        if c["planned"] >= asked:
            continue
        t = types[d.type]
        head = f"{d.type}{f' with {d.provider}' if d.provider else ''} {c['planned']}/{asked}"
        mine = [ps for ps in sessions if ps.provider in provs]
        if not mine:
            out.append(f"{head}: no provider who sees it works this week")
            continue
        fits, capped, open_sessions, caps = 0, 0, 0, set()
        for ps in mine:
            foot = footprints(scenario, ps.provider, grid)[d.type]
            n = sum(seg.minutes // foot for seg in ps.segments if type_allowed_in(scenario, d.type, seg))
            _lo, hi = per_session_bounds(scenario, ps.provider, d.type)
            fits += n
            capped += n if hi is None else min(n, hi)
            open_sessions += n > 0
            caps.add(hi)
        windows = t.windows_label()
        if fits == 0:
            out.append(
                f"{head}: its allowed windows ({windows}) fall outside every session of "
                f"{', '.join(sorted(set(provs)))} (appointment_types[{d.type}].allowed_windows)"
            )
        elif fits < asked and t.allowed_windows:
            out.append(
                f"{head}: its allowed windows ({windows}) hold at most {fits} {t.scheduled_min}-min "
                f"slot(s) in the week's sessions (appointment_types[{d.type}].allowed_windows)"
            )
        elif capped < asked and capped < fits:
            each = "/".join(str(h) for h in sorted(h for h in caps if h is not None))
            out.append(
                f"{head}: demand max_per_session allows {each} a session and {open_sessions} "
                f"session(s) can hold it, so at most {capped}"
            )
        elif (
            t.procedure
            and (k := _procedure_room_slots(scenario, sessions, d.type, grid, SHARED_SLACK)) < asked
        ):
            out.append(
                f"{head}: the {len(scenario.rooms.procedure_rooms)} procedure room(s), planned to "
                f"{SHARED_SLACK:.0%} of their minutes, hold about {k} such slot(s) in the week"
            )
        elif need > have:
            out.append(
                f"{head}: the sessions hold {have:,.0f} minutes of visits after same-day holds and "
                f"demand asks for {need:,.0f} ({need / have:.0%}); the template keeps the slots worth "
                f"most per minute, and {d.type} is worth {d.weight:g} per {t.scheduled_min}-min slot "
                f"(demand weight)"
            )
        else:
            out.append(
                f"{head}: the exam rooms, procedure rooms or MAs shared at the times it is allowed "
                "were taken by other slots worth more (demand weight)"
            )
    return out


def _procedure_room_slots(scenario: Scenario, sessions, type_id: str, grid: int, share: float) -> int:
    """About how many slots of a procedure type the procedure rooms hold in the week: each room's
    minutes inside the type's windows on the open days, at ``share``, over slot plus turnover."""
    c = scenario.clinic
    t = scenario.type_by_id[type_id]
    turnover = scenario.rooms.turnover_min.mean
    length = -(-(t.scheduled_min + turnover) // grid) * grid
    minutes = 0
    for weekday in (ps.weekday for ps in {ps.date: ps for ps in sessions}.values()):  # each date once
        spans = [(w.start, w.end) for w in t.allowed_windows if w.on(weekday)]
        if not t.allowed_windows:
            spans = [(c.opens, c.closes)]
        minutes += sum(max(0, min(b, c.closes) - max(a, c.opens)) for a, b in spans)
    return int(len(scenario.rooms.procedure_rooms) * minutes * share // length)
