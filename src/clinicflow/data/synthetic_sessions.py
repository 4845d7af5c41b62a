"""Where a synthetic history drawn from a scenario books its appointments: the practice's sessions.

A practice's own export is its templates, filled: each provider works their sessions on their
weekdays, visits follow one another back to back at their types' scheduled lengths, a session's
same-day holds are taken on the day, and the mix of types is the practice's weekly demand. A
history booked anywhere in the day (as the generator without a scenario does) drafts back as
08:00-17:00 for everyone (``clinicflow history draft``), so here the history is booked the way the
scenario says, in four steps:

1. **Who sees what** (``weekly_mix``): each type's weekly demand is split over the providers who see
   it so that every provider's booked minutes are the same share of their session minutes (an
   iterative proportional fit; demand rows naming a provider stay with that provider).
2. **Templates** (``_templates``): every session of every week is laid out from its start, slot
   after slot, each slot's type drawn from the provider's mix among the types that fit before the
   session's end (or the next break) and inside the type's allowed windows, preferring types that
   leave a remainder other slots fill exactly, so a provider-day is a template with no gaps that
   ends when the session does; the draw's weights are tuned on a pilot of templates so each
   provider's slots hold their mix (windows and session ends favour short types otherwise); the
   session's ``holds`` slots are spread evenly through it.
3. **Bookings** (``book_sessions``): the kept visits are split over (provider, type) cells by the
   mix (a multinomial draw: weekly counts vary as demand does), and each cell takes its hold slots
   first (booked the same day) and then slots at random (booked ahead, at least a day). Unbooked
   slots stay empty: a week books ``rows / weeks`` visits, at most a full week (its demand). A
   quieter week fills its holds in the same proportion as the rest, so same-day visits keep their
   share.
4. **Advance cancellations** sit on a slot a kept visit has: the cancelled booking held it first,
   and the slot went to someone else (the reading ``history draft`` makes of them).

Every draw comes from the generator passed in (the keyed ``synthetic-history`` stream), so the same
seed gives the same file.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from ..domain.clock import WEEKDAYS
from ..domain.scenario import Scenario

#: Share of a scenario history's bookings cancelled in advance (before their day): 6%, the rate the
#: generator without a scenario draws for visits that were not missed.
ADVANCE_CANCEL = 0.06
#: A week books at most this share of the slots its sessions hold, when the scenario has no weekly
#: demand or more than its sessions hold: a busy practice's fill, which leaves room for the
#: cancelled-and-rebooked slots and for a mix that a template cannot hold exactly.
FULL_FILL = 0.85
#: Rounds of the proportional fit that splits demand over providers (converges in a few dozen).
_FIT_ROUNDS = 300


@dataclass(frozen=True)
class WeeklyMix:
    """Weekly visits per (type, provider) and what a week of sessions can take.

    ``visits[t, p]`` are the visits of type ``t`` a week with provider ``p`` (types and providers
    in the generator's order); ``slots`` the slots a week's templates hold at that mix;
    ``demand`` the scenario's weekly demand (``None`` without demand rows).
    """

    visits: np.ndarray
    slots: float
    demand: float | None

    @property
    def full_week(self) -> float:
        """Kept visits a week books at most: the demand, but no more than ``FULL_FILL`` of the slots."""
        cap = FULL_FILL * self.slots
        return cap if self.demand is None else min(self.demand, cap)


def _lengths(scenario: Scenario, type_ids: list[str]) -> np.ndarray:
    return np.array([scenario.type_by_id[t].scheduled_min for t in type_ids], dtype=np.int64)


def _start_ok(scenario: Scenario, type_ids: list[str]) -> np.ndarray:
    """``ok[d, t, m]``: on weekday ``d`` (Monday 0) a slot of type ``t`` may start at minute ``m``
    of the day (its allowed windows, those of them that apply that day)."""
    lengths = _lengths(scenario, type_ids)
    ok = np.ones((len(WEEKDAYS), len(type_ids), 24 * 60 + 1), bool)
    for d, wd in enumerate(WEEKDAYS):
        for k, tid in enumerate(type_ids):
            windows = scenario.type_by_id[tid].allowed_windows
            if windows:
                ok[d, k] = False
                for w in windows:
                    if w.on(wd) and w.end - lengths[k] >= w.start:
                        ok[d, k, w.start : w.end - lengths[k] + 1] = True
    return ok


def _segments(scenario: Scenario, p) -> list[tuple[str, int, int, int, int]]:
    """(weekday, session number, segment start, segment end, session holds) of one provider's week:
    a session split at its breaks."""
    out = []
    for wd in WEEKDAYS:
        for k, sess in enumerate(sorted(p.sessions.get(wd, []), key=lambda s: s.start)):
            t = sess.start
            for b in [*sorted(sess.breaks, key=lambda b: b.start), None]:
                end = sess.end if b is None else b.start
                if end > t:
                    out.append((wd, k, t, end, sess.holds))
                if b is not None:
                    t = b.end
    return out


def weekly_mix(scenario: Scenario, type_ids: list[str]) -> WeeklyMix:
    """Split the scenario's weekly demand over the providers who see each type (see the module
    docstring, step 1), and count the slots a week of templates holds at that split.

    A type a provider sees but whose allowed windows leave no room in their sessions is not split
    to them. Without demand rows every type seen gets the same number of visits, as the generator
    without a scenario draws types uniformly.
    """
    providers = scenario.providers
    lengths = _lengths(scenario, type_ids).astype(float)
    ok = _start_ok(scenario, type_ids)
    minutes = np.zeros(len(providers))
    room = np.zeros((len(type_ids), len(providers)))  # minutes at which a slot of t may start
    for j, p in enumerate(providers):
        for wd, _k, a, z, _h in _segments(scenario, p):
            minutes[j] += z - a
            for i, tid in enumerate(type_ids):
                if tid in p.appointment_types and z - lengths[i] >= a:
                    room[i, j] += ok[WEEKDAYS.index(wd), i, a : int(z - lengths[i]) + 1].sum()
    support = room > 0
    index = {t: i for i, t in enumerate(type_ids)}
    pid = {p.id: j for j, p in enumerate(providers)}
    pooled = np.zeros(len(type_ids))
    fixed = np.zeros((len(type_ids), len(providers)))
    if scenario.demand:
        for d in scenario.demand:
            if d.type not in index:
                continue
            if d.provider is None:
                pooled[index[d.type]] += d.weekly
            elif support[index[d.type], pid[d.provider]]:
                fixed[index[d.type], pid[d.provider]] += d.weekly
        demand: float | None = float(pooled[support.any(axis=1)].sum() + fixed.sum())
    else:
        pooled[:] = 1.0
        demand = None
    pooled[~support.any(axis=1)] = 0.0
    # provider targets: the same share of every provider's session minutes booked
    total = float(((pooled + fixed.sum(axis=1)) * lengths).sum())
    target = minutes * total / max(minutes.sum(), 1.0) - (fixed * lengths[:, None]).sum(axis=0)
    target = np.maximum(target, 1e-9)
    x = support * minutes[None, :]
    x = x * (pooled / np.maximum(x.sum(axis=1), 1e-12))[:, None]
    for _ in range(_FIT_ROUNDS):
        booked = (x * lengths[:, None]).sum(axis=0)
        x = x * np.where(booked > 0, target / np.maximum(booked, 1e-12), 1.0)[None, :]
        x = x * (pooled / np.maximum(x.sum(axis=1), 1e-12))[:, None]
    visits = x + fixed
    per_provider = visits.sum(axis=0)
    mean_len = np.where(
        per_provider > 0,
        (visits * lengths[:, None]).sum(axis=0) / np.maximum(per_provider, 1e-12),
        lengths.mean(),
    )
    slots = float((minutes / mean_len).sum())
    return WeeklyMix(visits, slots, demand)


def history_weeks(n: int, weeks: int, scenario: Scenario, type_ids: list[str], cancellations: bool) -> int:
    """Weeks a history of ``n`` rows drawn from ``scenario`` spans: ``weeks``, or more when
    ``n`` rows (advance cancellations included) would book more than a full week
    (``WeeklyMix.full_week``) in each of them."""
    full = weekly_mix(scenario, type_ids).full_week
    kept = n * (1 - ADVANCE_CANCEL) if cancellations else n
    if full <= 0:
        return weeks
    return max(weeks, math.ceil(kept / full - 1e-9))


@dataclass(frozen=True)
class Booked:
    """The history's rows, as positions in the sessions: one entry per row."""

    date: np.ndarray  # datetime64[D]
    start_min: np.ndarray
    type_idx: np.ndarray
    prov_idx: np.ndarray
    lead: np.ndarray  # days booked ahead; 0 = a same-day hold
    cancelled: np.ndarray  # cancelled in advance (its slot went to a kept row)


def _pack(rng, weight, lengths, ok, tile, seg_prov, seg_day, seg_a, seg_z):
    """Lay slots from each segment's start to its end (vectorised over segments, one slot each per
    round): a slot's type is drawn by ``weight[provider]`` among the types that fit before the
    segment's end and start inside their allowed windows, and among those, the ones that leave a
    remainder ``tile`` says can be filled exactly, when there are. Returns each slot's segment,
    start and type."""
    cursor = seg_a.copy()
    active = np.arange(len(seg_a))
    out_seg, out_start, out_type = [], [], []
    while len(active):
        c = cursor[active]
        left = seg_z[active][None, :] - c[None, :] - lengths[:, None]  # [type, segment]
        fits = (left >= 0) & ok[seg_day[active], :, np.minimum(c, 24 * 60)].T
        clean = fits & tile[seg_prov[active][None, :], np.maximum(left, 0)]
        fits = np.where(clean.any(axis=0)[None, :], clean, fits)
        w = weight[seg_prov[active]] * fits.T  # [segment, type]
        total = w.sum(axis=1)
        go = total > 0
        active, w, total, c = active[go], w[go], total[go], c[go]
        if not len(active):
            break
        cum = np.cumsum(w, axis=1)
        u = rng.random(len(active)) * total
        t = np.minimum((cum <= u[:, None]).sum(axis=1), len(lengths) - 1)
        out_seg.append(active)
        out_start.append(c)
        out_type.append(t)
        cursor[active] = c + lengths[t]
    if not out_seg:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_seg), np.concatenate(out_start), np.concatenate(out_type)


#: Weeks of templates laid out to tune the draw's weights, and how many times they are tuned.
_PILOT_WEEKS, _PILOT_ROUNDS = 208, 2


def _templates(rng, scenario: Scenario, type_ids: list[str], mix: WeeklyMix, start: dt.date, weeks: int):
    """Every slot of every session of ``weeks`` weeks from ``start`` (step 2 of the module docstring).

    Returns the slots' session instance, date, start minute, type and provider, sorted by session
    and start, and each session instance's holds."""
    lengths = _lengths(scenario, type_ids)
    ok = _start_ok(scenario, type_ids)
    n_prov = len(scenario.providers)
    specs = []  # (provider, weekday offset, session key, seg start, seg end, holds)
    for j, p in enumerate(scenario.providers):
        for wd, k, a, z, h in _segments(scenario, p):
            specs.append((j, (WEEKDAYS.index(wd) - start.weekday()) % 7, (j, wd, k), a, z, h))
    if not specs:
        raise ValueError("the scenario has no clinic session to book a history into")
    session_keys = sorted({s[2] for s in specs}, key=lambda key: (key[0], WEEKDAYS.index(key[1]), key[2]))
    session_no = {key: i for i, key in enumerate(session_keys)}
    holds_spec = np.zeros(len(session_keys), np.int64)
    for s in specs:
        holds_spec[session_no[s[2]]] = s[5]
    n_spec = len(session_keys)
    spec_prov = np.array([s[0] for s in specs])
    spec_off = np.array([s[1] for s in specs])
    spec_day = np.array([WEEKDAYS.index(s[2][1]) for s in specs])  # for windows of some days only
    spec_sess = np.array([session_no[s[2]] for s in specs])
    spec_a = np.array([s[3] for s in specs])
    spec_z = np.array([s[4] for s in specs])
    given = mix.visits.T > 0  # [provider, type]
    # tile[p, r]: r minutes can be filled exactly by slots of the types provider p is given; a slot
    # leaving a remainder no slot fills is drawn only when no other fits, so a template runs to its
    # session's end (the last visit ends as the session does, as a practice's template does)
    tile = np.zeros((n_prov, 24 * 60 + 1), bool)
    tile[:, 0] = True
    for j in range(n_prov):
        mine = lengths[given[j]]
        for r in range(1, 24 * 60 + 1):
            tile[j, r] = any(tile[j, r - n] for n in mine if n <= r)
    # The draw's weights: windows, session ends and the exact fill all favour some types, so the
    # weights are tuned on a pilot of templates until each provider's template holds the types in
    # the proportions of their weekly mix; every cell then has the same spare slots for the
    # bookings (step 3), and a type kept to a window is not short of slots.
    want = mix.visits.T / np.maximum(mix.visits.T.sum(axis=1, keepdims=True), 1e-12)
    weight = want.copy()
    pilot = np.tile(np.arange(len(specs)), _PILOT_WEEKS)
    for _ in range(_PILOT_ROUNDS):
        seg, _s, t = _pack(
            rng, weight, lengths, ok, tile, spec_prov[pilot], spec_day[pilot], spec_a[pilot], spec_z[pilot]
        )
        got = np.zeros((n_prov, len(type_ids)))
        np.add.at(got, (spec_prov[pilot][seg], t), 1)
        got /= np.maximum(got.sum(axis=1, keepdims=True), 1)
        weight = np.where(given & (got > 0), weight * want / np.maximum(got, 1e-12), weight)
    # segment instances: spec g in week w, less the sessions not worked that date (closed dates,
    # time off, a surgeon's dated OR block): a practice's export has no visit in them
    week = np.repeat(np.arange(weeks), len(specs))
    g = np.tile(np.arange(len(specs)), weeks)
    worked = _worked(scenario, specs, start, week, g)
    week, g = week[worked], g[worked]
    seg_prov = spec_prov[g]
    seg_session = week * n_spec + spec_sess[g]  # session instance
    seg_date = np.datetime64(start, "D") + (7 * week + spec_off[g]).astype("timedelta64[D]")
    seg, slot_start, slot_type = _pack(
        rng, weight, lengths, ok, tile, seg_prov, spec_day[g], spec_a[g], spec_z[g]
    )
    session = seg_session[seg]
    order = np.lexsort((slot_start, session))
    seg, session, slot_start, slot_type = seg[order], session[order], slot_start[order], slot_type[order]
    holds = np.tile(holds_spec, weeks)
    return session, seg_date[seg], slot_start, slot_type, seg_prov[seg], holds


def _worked(scenario: Scenario, specs: list, start: dt.date, week: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Which segment instances (spec ``g`` in week ``week``) lie in a session worked that date
    (``Scenario.sessions_on``); all of them when the scenario has no dated exception."""
    dated = scenario.clinic.closed_dates or any(p.time_off for p in scenario.providers)
    dated = dated or (scenario.surgery is not None and any(b.date for b in scenario.surgery.blocks))
    ok = np.ones(len(g), bool)
    if not dated:
        return ok
    cache: dict[tuple, bool] = {}
    for i, (w, s) in enumerate(zip(week.tolist(), g.tolist(), strict=True)):
        j, off, (_j, wd, k) = specs[s][0], specs[s][1], specs[s][2]
        date = start + dt.timedelta(days=7 * w + off)
        key = (j, date, k)
        if key not in cache:
            p = scenario.providers[j]
            sess = sorted(p.sessions.get(wd, []), key=lambda x: x.start)[k]
            cache[key] = any(x == sess for x in scenario.sessions_on(p, date))
        ok[i] = cache[key]
    return ok


def _hold_slots(session: np.ndarray, holds: np.ndarray) -> np.ndarray:
    """Which slots are same-day holds: each session's ``holds`` spread evenly through its slots
    (slots sorted by session and start)."""
    n_sessions = len(holds)
    m = np.bincount(session, minlength=n_sessions)
    first = np.concatenate([[0], np.cumsum(m)[:-1]])
    h = np.minimum(holds, m)
    owner = np.repeat(np.arange(n_sessions), h)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(h) - h, h)
    rank = np.floor((k + 0.5) * m[owner] / h[owner]).astype(np.int64)
    is_hold = np.zeros(len(session), bool)
    is_hold[first[owner] + rank] = True
    return is_hold


def _ahead(rng, n: int) -> np.ndarray:
    """Days a visit is booked ahead when not on the day: the generator's lead-time law, at least a day."""
    return np.clip(np.round(rng.lognormal(np.log(9), 1.0, n)), 1, 120).astype(np.int64)


def book_sessions(
    rng, n: int, scenario: Scenario, type_ids: list[str], start: dt.date, weeks: int, cancellations: bool
) -> Booked:
    """``n`` rows booked into the scenario's sessions over ``weeks`` weeks from ``start`` (steps 2-4
    of the module docstring); ``weeks`` is what ``history_weeks`` says."""
    mix = weekly_mix(scenario, type_ids)
    session, date, slot_start, slot_type, slot_prov, holds = _templates(
        rng, scenario, type_ids, mix, start, weeks
    )
    is_hold = _hold_slots(session, holds)
    n_cancel = int(rng.binomial(n, ADVANCE_CANCEL)) if cancellations else 0
    n_kept = n - n_cancel
    n_types = len(type_ids)
    prob = mix.visits.T.ravel()  # cells (provider, type)
    want = rng.multinomial(n_kept, prob / prob.sum()) if prob.sum() > 0 else np.zeros(len(prob), int)
    cell = slot_prov * n_types + slot_type
    # a full week takes every hold on the day; a quieter one (fewer rows a week) as many fewer as it
    # has fewer visits, so same-day bookings keep their share of the week
    full = mix.full_week * weeks
    same_day = is_hold & (rng.random(len(cell)) < (min(1.0, n_kept / full) if full > 0 else 1.0))
    # each cell: its same-day holds first, then its other slots in random order
    key = rng.random(len(cell)) + (~same_day)
    order = np.lexsort((key, cell))
    counts = np.bincount(cell, minlength=len(prob))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(cell), np.int64)
    rank[order] = np.arange(len(cell)) - first[cell[order]]
    booked = rank < want[cell]
    short = np.maximum(want - counts, 0).reshape(-1, n_types).sum(axis=1)  # per provider
    if short.any():  # a cell wanted more slots than its templates hold: the provider's other slots
        for p in np.flatnonzero(short):
            free = np.flatnonzero(~booked & ~same_day & (slot_prov == p))
            take = rng.permutation(free)[: short[p]]
            booked[take] = True
            short[p] -= len(take)
        rest = int(short.sum())
        if rest:
            free = np.flatnonzero(~booked)
            if rest > len(free):
                raise ValueError(f"{n:,} rows do not fit the sessions of {weeks} weeks")
            booked[rng.permutation(free)[:rest]] = True
    kept = np.flatnonzero(booked)
    lead = np.where(same_day[kept], 0, _ahead(rng, len(kept)))
    # advance cancellations: a booked-ahead slot, held first by the cancelled booking
    ahead = np.flatnonzero(~same_day[kept])
    if n_cancel:
        pool = ahead if len(ahead) else np.arange(len(kept))
        held = rng.choice(pool, n_cancel, replace=n_cancel > len(pool))
        slots = np.concatenate([kept, kept[held]])
        lead = np.concatenate([lead, lead[held] + _ahead(rng, n_cancel)])
    else:
        slots = kept
    cancelled = np.arange(len(slots)) >= len(kept)
    return Booked(date[slots], slot_start[slots], slot_type[slots], slot_prov[slots], lead, cancelled)
