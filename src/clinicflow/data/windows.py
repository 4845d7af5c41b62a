"""Time-of-day windows (``allowed_windows``) and their weekdays a history shows, for ``history draft``.

A practice that keeps new patients to the morning never books one at 16:00, while the providers who
see new patients fill 16:00 with other visits. The history tells such a window; it also tells, just
as loudly, that nobody books a 40-minute visit at 11:50 in a session ending at noon, or anything at
lunch. So the draft claims a window only against what the type's own providers do:

1. **candidate**: the union of the type's booked spans (start to booked end) by the providers who
   see it, split where none of its visits lies for ``WINDOW_GAP`` minutes or more (as a lunch gap
   splits a session), each part widened to the quarter hour. Strays (manual overrides) are kept
   out of it while at most ``MAX_OUTSIDE_SHARE`` of the type's visits then lie outside (else every
   visit counts): visits in a quarter hour where the type starts under ``THIN`` of what its share
   of the providers' visits predicts there, then the parts of the union holding the fewest visits.
   A part that admits no slot of the type in any session of its providers is dropped (the plan
   could not use it).
2. **no window** when the candidate covers every session of every provider who sees the type (a
   window that restricts nothing), when those providers never book a visit the type could have
   taken outside it, or when more than ``MAX_OUTSIDE_SHARE`` of the type's visits lie outside.
3. **evidence**: the positions the window forbids are the starts of the providers' visits (of every
   type) from which a slot of the type would fit the session, but not the window; ``p`` is their
   share of all such starts. Were the type spread over the day like its providers' other visits, its
   ``n`` visits would start at a forbidden position ``Binomial(n, p)`` times; it started there ``k``
   times (the strays). The window is claimed when ``P(X <= k) < EVIDENCE``, ``(1 - p)^n`` when
   ``k = 0``. Counting only starts from which the type fits its session keeps a long type's absence
   from a session's last minutes (where it does not fit) from passing for a window. Short of
   ``EVIDENCE`` but under ``SUGGESTIVE`` the draft says so (no window); above it, nothing.

**Weekdays** (a window's ``days``). A practice that keeps procedures to Tuesdays and Thursdays never
books one on Monday, while the providers who see procedures book other visits then. Judged the same
way, against the type's own providers, after the windows above:

4. **weekdays**: among the weekdays its providers work, those where the type holds under ``THIN`` of
   what its share of its providers' visits predicts there are left out, while its visits on them
   (strays) stay within what is left of the ``MAX_OUTSIDE_SHARE`` allowance (else the busiest comes
   back, a habit and not an override). The visits counted are those from which a slot of the type
   fits a session *and the windows*; evidence as in step 3: ``p`` their share on the days left out,
   ``k`` the type's visits there; claimed when ``P(X <= k) < EVIDENCE``, said under ``SUGGESTIVE``.
5. **the windows again, from the kept days**: steps 1-3 on the visits and sessions of those days
   alone. Claimed, they apply on those days; not (they hold every session of those days), the
   type's window is the span of the sessions on its days (``08:00-17:00`` with ``days: [tue, thu]``):
   a window still. No window at all only when neither a time of day nor a weekday is left out.
6. **windows by weekday**: with two windows or more, on each kept day the test of step 4 over the
   windows instead of the days: a window the type keeps off that day (thin there, while its providers
   book plenty it would fit) no longer applies that day. Each span is then written once, with the
   days it applies on (none when it applies on every day its providers work), so procedures on
   Tuesday afternoons and Thursday mornings come back as two windows, each with its day.

Why in this order. Weekdays are judged inside the windows: a day is left out only where the providers
book visits the windows would admit. A type kept to mornings is never booked by a provider who works
Wednesday afternoons only; the windows already say so, and the practice's rule says "mornings", every
day, which is what the draft gives back (weekdays judged first would add ``days`` the windows already
carry). The windows are then drafted again from the kept days because their evidence must come from the
days the type is booked, and "holds every session" must be read on those days: else the days left
out pass for evidence of a time of day (a type booked all day on Tuesdays, in a practice whose Monday
session runs later, would get a window from Monday's late hours). By weekday, whole windows are
dropped, never narrowed: the windows' times are pooled over the kept days (all the visits), and a day
chooses among a few of them, a handful of comparisons that ``EVIDENCE`` covers. Drafting each day's
windows from that day's visits alone was tried: a fifth of the visits leaves 30-minute gaps by chance,
and as the candidate is made of those very gaps the test passed them for windows (a 3,000-row,
12-week synthetic family history drafted four telehealth windows on Fridays, chance 1e-8). So "consults
08:00-10:00 on Tuesdays and 08:00-12:00 on Thursdays" comes back as 08:00-12:00 on both: looser than
the practice's rule, never stricter than the history shows.

Windows follow the scenario's reading (``policies.py``, ``solver/booking.py``): a slot lies inside a
window when the whole slot does, ``start >= w.start`` and ``start + scheduled_min <= w.end``, on a
day among the window's ``days`` when it has any; the visits outside are counted so, against one
``MAX_OUTSIDE_SHARE`` allowance for windows, weekdays and windows by weekday together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.stats import binom

from ..domain.clock import WEEKDAYS, format_hhmm

#: The share of a type's visits allowed outside its drafted windows. A real export holds a few
#: manual overrides (a new patient squeezed in at 16:00 as a favour, a procedure moved to the end
#: of the day); a window that one such booking could break would never be drafted from a real
#: history, while more than 1% outside is a habit of the practice, not an exception, and the
#: window would forbid what the practice does. One allowance for the windows, the weekdays left out
#: and the windows left out by weekday together: the visits the drafted scenario forbids.
MAX_OUTSIDE_SHARE = 0.01
#: A window is claimed only when a type spread like its providers' other visits would have kept to
#: it by chance with a probability under this (``P(X <= k)``, see the module docstring). The
#: candidate is chosen after looking at the type's own visits, so the bar is set far below the
#: usual 5%, as for many comparisons at once: a working day holds some thousands of quarter-hour
#: spans a window could take.
EVIDENCE = 1e-6
#: Under this chance, but not under ``EVIDENCE``, the draft says the type may keep to a window the
#: history is too short to show, so the practice can check; above it the parts of the day a type
#: missed are what chance leaves in a few months of visits, and nothing is said.
SUGGESTIVE = 0.05
#: A quarter hour where the type starts fewer than this share of the visits its providers' starts
#: there predict (the type's share of their visits times their starts in it) holds strays: inside a
#: window the type starts at its share or more, a habit of the practice at half of it, an override
#: at a few hundredths.
THIN = 0.1
#: A stretch of this many minutes with none of the type's visits splits its windows, as a quiet
#: 30 minutes splits a day into sessions (``starter.py``).
WINDOW_GAP = 30

_QUARTER = 15
_DAY = 24 * 60

Span = tuple[int, int]
#: A drafted window: its span and the weekdays it applies on (empty: every day).
Entry = tuple[Span, tuple[str, ...]]


@dataclass(frozen=True)
class WindowFit:
    """One type's windows as drafted (``windows``, empty for none) and the figures behind them.

    ``n`` is the type's visits with the providers who see it, ``outside`` those outside the
    candidate windows, ``share_elsewhere`` the ``p`` of the evidence test and ``log10_chance``
    ``log10 P(X <= k)``; ``line`` is what the draft's "inferred" list says (``None``: nothing).
    """

    windows: list[Span]
    n: int = 0
    outside: int = 0
    candidate: list[Span] = field(default_factory=list)
    share_elsewhere: float = 0.0
    log10_chance: float = 0.0
    line: str | None = None


def union_windows(starts: np.ndarray, ends: np.ndarray) -> list[Span]:
    """The union of the spans ``[start, end]``, split where ``WINDOW_GAP`` minutes or more are
    uncovered and each part widened to the quarter hour (a window ``08:10-10:50`` in the history is
    a ``08:00-11:00`` one in the booking system, more likely than ``08:10-10:50``)."""
    order = np.argsort(starts, kind="stable")
    parts: list[list[float]] = []
    for a, b in zip(starts[order], ends[order], strict=True):
        if parts and a - parts[-1][1] < WINDOW_GAP:
            parts[-1][1] = max(parts[-1][1], b)
        else:
            parts.append([a, b])
    return [
        (_QUARTER * math.floor(a / _QUARTER), min(_DAY, _QUARTER * math.ceil(b / _QUARTER))) for a, b in parts
    ]


def inside(starts: np.ndarray, ends: np.ndarray, windows: Iterable[Span]) -> np.ndarray:
    """Whether each span ``[start, end]`` lies wholly inside one of the windows (the scenario's
    reading of ``allowed_windows``)."""
    ok = np.zeros(len(starts), bool)
    for a, b in windows:
        ok |= (starts >= a) & (ends <= b)
    return ok


def thin_starts(type_starts: np.ndarray, all_starts: np.ndarray) -> np.ndarray:
    """Which of the type's starts fall in a quarter hour where the type starts under ``THIN`` of
    its share of its providers' starts (``all_starts``, every type) times their starts there:
    strays. The share is taken over the quarter hours where the type is booked at all, its share
    inside its windows (its share of the whole day would understate what a window holds).

    Measured against the providers' own starts, not the type's busiest quarter hour, so a quarter
    hour that only one part-time provider works is not thin for having few visits of anything;
    ``all_starts`` leaves out the starts inside a session from which the type would not fit (a
    30-minute type is rare at 11:45 in sessions ending at noon, and not by anyone's rule)."""
    q_type = (type_starts // _QUARTER).astype(int)
    q_all = (all_starts // _QUARTER).astype(int)
    n_quarters = _DAY // _QUARTER + 1
    mine = np.bincount(q_type, minlength=n_quarters)
    theirs = np.bincount(q_all, minlength=n_quarters)
    booked = mine > 0
    if not theirs[booked].sum():
        return np.zeros(len(type_starts), bool)
    share = mine[booked].sum() / theirs[booked].sum()
    return (mine < THIN * share * theirs)[q_type]


def fit_positions(
    visits: pd.DataFrame, segments: Mapping[tuple[str, str], list[Span]], length: int
) -> np.ndarray:
    """Which visits (``provider``, ``weekday``, ``start``) start inside a session segment (a session
    split at its breaks) of their provider with room for a slot of ``length`` minutes from there
    (``length`` 0: which start inside a session at all)."""
    ok = np.zeros(len(visits), bool)
    start = visits["start"].to_numpy(float)
    for (pid, wd), segs in segments.items():
        mine = ((visits["provider"] == pid) & (visits["weekday"] == wd)).to_numpy()
        for a, z in segs:
            ok |= mine & (start >= a) & (start < z) & (start + length <= z)
    return ok


def admits(window: Span, length: int, segments: Iterable[Span]) -> bool:
    """Whether a slot of ``length`` minutes fits inside ``window`` in at least one of the segments:
    a window that no session can use would leave the type's demand nowhere to go in ``plan``."""
    return any(max(a, window[0]) + length <= min(z, window[1]) for a, z in segments)


def covers(windows: list[Span], length: int, segments: Iterable[Span]) -> bool:
    """Whether every segment with room for the type lies inside one window: then the window
    forbids nothing and is no window at all."""
    return all(any(w0 <= a and z <= w1 for w0, w1 in windows) for a, z in segments if z - a >= length)


def format_windows(windows: Iterable[Span]) -> str:
    """``08:00-11:00 & 13:00-15:00``."""
    return " & ".join(f"{format_hhmm(a)}-{format_hhmm(b)}" for a, b in windows)


def _chance_text(log10: float) -> str:
    if log10 < -300:
        return "under 1e-300"
    return f"{10**log10:.0e}" if log10 < -3 else f"{10**log10:.3f}"


def _candidate(
    starts: np.ndarray, ends: np.ndarray, keep: np.ndarray, length: int, segs: list[Span]
) -> tuple[list[Span], int]:
    """The windows the kept visits span, less those no session can use and the smallest ones that
    the overrides' allowance covers, and how many of all the type's visits lie outside them.

    A stray in a quarter hour few providers work cannot be told from the type's habit there by its
    count alone (3 visits where 5 were due), but when it stands apart from the type's other visits
    it makes a window of its own holding a handful of them: such windows go first, smallest first,
    while the visits left outside stay within ``MAX_OUTSIDE_SHARE``."""
    windows = [w for w in union_windows(starts[keep], ends[keep]) if admits(w, length, segs)]
    outside = int((~inside(starts, ends, windows)).sum())
    held = {w: int(inside(starts, ends, [w]).sum()) for w in windows}
    for w in sorted(windows, key=lambda w: (held[w], w))[:-1]:  # one window stays
        if outside + held[w] > MAX_OUTSIDE_SHARE * len(starts):
            break
        windows.remove(w)
        outside += held[w]
    return windows, outside


def _evidence(
    starts: np.ndarray, is_mine: np.ndarray, length: int, windows: list[Span]
) -> tuple[float, float] | None:
    """``p`` and ``log10 P(X <= k)`` for ``X ~ Binomial(n, p)`` (module docstring, step 3) over the
    starts of the providers' visits from which the type fits the session (``starts``; ``is_mine``:
    the type's own); ``None`` when none of them lies where the windows forbid the type or the type
    has none of them."""
    forbidden = ~inside(starts, starts + length, windows)
    n_fit, k = int(is_mine.sum()), int((forbidden & is_mine).sum())
    if not forbidden.any() or n_fit == 0:
        return None
    p = float(forbidden.mean())
    return p, float(binom.logcdf(k, n_fit, p)) / math.log(10)


def _verdict(type_id: str, fit: WindowFit) -> WindowFit:
    """The candidate claimed as the type's windows when the evidence is strong, with the line that
    says so; else no window, with a line that says why when the evidence is suggestive."""
    n, outside, windows = fit.n, fit.outside, fit.candidate
    shown = f"{format_windows(windows)} ({n - outside:,} of {n:,} visits, {outside / n:.1%} outside"
    chance = _chance_text(fit.log10_chance)
    if fit.log10_chance < math.log10(EVIDENCE):
        line = (
            f"{type_id}: booked only {shown}; its providers book {fit.share_elsewhere:.0%} of the visits "
            f"it would fit outside them: chance {chance} were it spread like them)"
        )
        return WindowFit(windows, n, outside, windows, fit.share_elsewhere, fit.log10_chance, line)
    if fit.log10_chance >= math.log10(SUGGESTIVE):
        return fit
    line = (
        f"{type_id}: no window drafted: booked {shown}), which could be chance: its providers book "
        f"{fit.share_elsewhere:.0%} of the visits it would fit outside them, and a type spread like "
        f"them would keep to these with chance {chance} (a window needs under {EVIDENCE:.0e})"
    )
    return WindowFit([], n, outside, windows, fit.share_elsewhere, fit.log10_chance, line)


def fit_type(
    type_id: str,
    visits: pd.DataFrame,
    eligible: list[str],
    segments: Mapping[tuple[str, str], list[Span]],
    length: int,
) -> WindowFit:
    """One type's windows from ``visits`` (``provider``, ``appointment_type``, ``weekday``,
    ``start``, ``end`` in minutes since midnight) and the sessions of the providers who see it
    (``eligible``; ``segments`` by provider and weekday). See the module docstring."""
    theirs = visits[visits["provider"].isin(eligible)]
    mine = theirs[theirs["appointment_type"] == type_id]
    n = len(mine)
    segs_by = {k: v for k, v in segments.items() if k[0] in eligible}
    segs = [s for v in segs_by.values() for s in v]
    if n == 0 or not segs:
        return WindowFit([])
    starts, ends = mine["start"].to_numpy(float), mine["end"].to_numpy(float)
    at, is_mine = theirs["start"].to_numpy(float), (theirs["appointment_type"] == type_id).to_numpy()
    fits = fit_positions(theirs, segs_by, length)
    counted = fits | ~fit_positions(theirs, segs_by, 0)
    stray = thin_starts(starts, at[counted])
    windows, outside = _candidate(starts, ends, ~stray, length, segs)
    if stray.any() and outside > MAX_OUTSIDE_SHARE * n:
        windows, outside = _candidate(starts, ends, np.ones(n, bool), length, segs)
    if not windows or covers(windows, length, segs):
        return WindowFit([], n, outside, windows)
    if outside > MAX_OUTSIDE_SHARE * n:
        line = (
            f"{type_id}: no window drafted: {outside:,} of its {n:,} visits lie outside "
            f"{format_windows(windows)}, more than the {MAX_OUTSIDE_SHARE:.0%} left to manual overrides"
        )
        return WindowFit([], n, outside, windows, line=line)
    evidence = _evidence(at[fits], is_mine[fits], length, windows)
    if evidence is None:  # its providers never book where the windows would forbid it
        return WindowFit([], n, outside, windows)
    return _verdict(type_id, WindowFit([], n, outside, windows, *evidence))


def clip(segments: Iterable[Span], windows: Iterable[Span]) -> list[Span]:
    """The parts of the segments inside the windows: where a slot of the type may lie once the
    windows hold, so that a weekday is judged on what the windows leave open, not on whole sessions."""
    windows = list(windows)
    return [(max(a, w0), min(z, w1)) for a, z in segments for w0, w1 in windows if max(a, w0) < min(z, w1)]


@dataclass(frozen=True)
class LeftOut:
    """Which ``units`` a type is left off (``dropped``): weekdays, or windows on one weekday; and
    the figures behind it, as ``WindowFit`` has them for a window: ``n`` the type's visits at the
    positions counted, ``outside`` its visits on the dropped units (those its time windows already
    hold: the others are the windows' strays), ``share_elsewhere`` the ``p`` of the evidence test
    and ``log10_chance`` ``log10 P(X <= k)``; ``claimed`` under ``EVIDENCE``; ``line`` when it is
    only suggestive."""

    units: list
    dropped: list = field(default_factory=list)
    n: int = 0
    outside: int = 0
    share_elsewhere: float = 0.0
    log10_chance: float = 0.0
    claimed: bool = False
    line: str | None = None

    @property
    def kept(self) -> list:
        """The units the type is drafted on: every one unless a restriction is claimed."""
        return [u for u in self.units if u not in self.dropped] if self.claimed else list(self.units)


def thin_units(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Which units (weekdays, or windows on a weekday) hold under ``THIN`` of the type's visits
    that its share of its providers' visits predicts (``mine``, ``theirs``: counts a unit, at the
    positions where the type fits): units it is booked on only by override. The share is taken over
    the units it is booked on at all, as ``thin_starts`` takes it over quarter hours; a unit where
    its providers book nothing the type would fit is never thin (leaving it out forbids nothing)."""
    booked = mine > 0
    if not theirs[booked].sum():
        return np.zeros(len(mine), bool)
    share = mine[booked].sum() / theirs[booked].sum()
    return mine < THIN * share * theirs


def _leave_out(
    units: list, mine: np.ndarray, theirs: np.ndarray, strays: np.ndarray, allowance: float
) -> LeftOut:
    """The thin units left out while their ``strays`` (the type's visits on them) stay within
    ``allowance`` (else the one with most goes back in: a habit, not an override), and the evidence:
    ``p`` the providers' share of the counted positions on them, ``P(Binomial(n, p) <= k)``."""
    drop = thin_units(mine, theirs)
    while drop.any() and strays[drop].sum() > allowance:
        drop[np.flatnonzero(drop)[np.argmax(strays[drop])]] = False
    if not drop.any():
        return LeftOut(units)
    n, k = int(mine.sum()), int(mine[drop].sum())
    p = float(theirs[drop].sum() / theirs.sum())
    log10 = float(binom.logcdf(k, n, p)) / math.log(10)
    dropped = [u for u, x in zip(units, drop, strict=True) if x]
    return LeftOut(units, dropped, n, int(strays[drop].sum()), p, log10, log10 < math.log10(EVIDENCE))


def _days_line(type_id: str, fit: LeftOut) -> str:
    return (
        f"{type_id}: no weekdays drafted: booked {fit.outside} times on {', '.join(fit.dropped)} ({fit.n:,} "
        f"visits in all), which could be chance: its providers book {fit.share_elsewhere:.0%} of the visits "
        f"it would fit on those days, and a type spread like them would keep off them with chance "
        f"{_chance_text(fit.log10_chance)} (weekdays need under {EVIDENCE:.0e})"
    )


def fit_days(
    type_id: str,
    visits: pd.DataFrame,
    eligible: list[str],
    segments: Mapping[tuple[str, str], list[Span]],
    length: int,
    windows: list[Span],
    allowance: float,
) -> LeftOut:
    """The weekdays a type is left off (module docstring, "Weekdays"), among those its providers
    work, judged inside its time ``windows`` (every session when none): the positions counted are
    its providers' visits from which a slot of the type fits a session and the windows.
    ``allowance``: how many of its visits inside the windows may lie on the days left out (the
    strays the windows have not used up)."""
    theirs = visits[visits["provider"].isin(eligible)]
    segs_by = {k: v for k, v in segments.items() if k[0] in eligible}
    days = [wd for wd in WEEKDAYS if any(k[1] == wd for k in segs_by)]
    if windows:
        segs_by = {k: clip(v, windows) for k, v in segs_by.items()}
    fits = fit_positions(theirs, segs_by, length)
    is_mine = (theirs["appointment_type"] == type_id).to_numpy()
    weekday = theirs["weekday"].to_numpy()
    mine = theirs[is_mine]
    held = inside(mine["start"].to_numpy(float), mine["end"].to_numpy(float), windows) if windows else True
    fit = _leave_out(
        days,
        np.array([(fits & is_mine & (weekday == d)).sum() for d in days]),
        np.array([(fits & (weekday == d)).sum() for d in days]),
        np.array([((mine["weekday"] == d).to_numpy() & held).sum() for d in days]),
        allowance,
    )
    if not fit.dropped or fit.claimed or fit.log10_chance >= math.log10(SUGGESTIVE):
        return fit
    return replace(fit, line=_days_line(type_id, fit))


def fit_day_windows(
    type_id: str,
    visits: pd.DataFrame,
    eligible: list[str],
    segments: Mapping[tuple[str, str], list[Span]],
    length: int,
    windows: list[Span],
    day: str,
    allowance: float,
) -> LeftOut:
    """Which of the type's (pooled) ``windows`` it keeps off on ``day`` (module docstring, "Windows
    by weekday"): the same test as for weekdays, over the windows of one day."""
    on_day = visits[visits["provider"].isin(eligible) & (visits["weekday"] == day)]
    segs = {k: v for k, v in segments.items() if k[0] in eligible and k[1] == day}
    is_mine = (on_day["appointment_type"] == type_id).to_numpy()
    mine = on_day[is_mine]
    fits = [fit_positions(on_day, {k: clip(v, [w]) for k, v in segs.items()}, length) for w in windows]
    spans = mine["start"].to_numpy(float), mine["end"].to_numpy(float)
    return _leave_out(
        list(windows),
        np.array([(f & is_mine).sum() for f in fits]),
        np.array([f.sum() for f in fits]),
        np.array([inside(*spans, [w]).sum() for w in windows]),
        allowance,
    )


@dataclass(frozen=True)
class TypeWindows:
    """One type's drafted ``allowed_windows`` (``entries``: each span with its weekdays, none for
    every day; empty for no window) and what the draft's "inferred" list says of them."""

    entries: list[Entry] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _span(days: Iterable[str], segments: Mapping[tuple[str, str], list[Span]], length: int) -> Span | None:
    """From the first session start to the last session end on ``days`` (segments with room for
    the type): the window of a type kept to some weekdays but to no part of them."""
    days = set(days)
    room = [s for k, v in segments.items() if k[1] in days for s in v if s[1] - s[0] >= length]
    return (min(a for a, _ in room), max(z for _, z in room)) if room else None


def day_entries(
    per_day: Mapping[str, list[Span] | None],
    days: list[str],
    segments: Mapping[tuple[str, str], list[Span]],
    length: int,
) -> list[Entry]:
    """The windows by weekday (``per_day``: the kept days, ``None`` for no time window) as
    ``allowed_windows``: each span once, with the weekdays it applies on, none when it applies on
    all of ``days`` (the providers' working days); the kept days with no time window take the span
    of their sessions. No window at all when every working day is kept and unrestricted."""
    free = [d for d, w in per_day.items() if w is None]
    if len(free) == len(days):
        return []
    windows_on = {d: w for d, w in per_day.items() if w}
    span = _span(free, segments, length)
    if span is not None:
        windows_on.update({d: [span] for d in free})
    by_span: dict[Span, list[str]] = {}
    for d in days:
        for w in windows_on.get(d, []):
            by_span.setdefault(w, []).append(d)
    return [(w, () if len(ds) == len(days) else tuple(ds)) for w, ds in sorted(by_span.items())]


def usable(entry: Entry, segments: Mapping[tuple[str, str], list[Span]], length: int) -> bool:
    """Whether a slot of the type fits the window in a session on one of its days (``admits``):
    ``plan`` can use every window drafted."""
    window, days = entry
    return any(admits(window, length, v) for (_, wd), v in segments.items() if not days or wd in days)


def outside_entries(mine: pd.DataFrame, entries: Iterable[Entry]) -> int:
    """How many of the type's visits (``weekday``, ``start``, ``end``) no window admits, read as
    the scenario reads ``allowed_windows``: the whole slot inside a window that applies that day."""
    start, end = mine["start"].to_numpy(float), mine["end"].to_numpy(float)
    ok = np.zeros(len(mine), bool)
    for (a, b), days in entries:
        on = mine["weekday"].isin(days).to_numpy() if days else True
        ok |= on & (start >= a) & (end <= b)
    return int((~ok).sum())


def format_entries(entries: list[Entry]) -> str:
    """``13:00-16:30 tue, thu``; windows on the same days share them (``08:00-12:00 & 13:00-16:30
    tue, thu``), groups on different days are split by ``;`` (``08:00-12:00 thu; 13:00-16:30 tue``),
    and a window on every day says so when others are not."""
    groups: dict[tuple[str, ...], list[Span]] = {}
    for w, days in entries:
        groups.setdefault(days, []).append(w)
    return "; ".join(
        format_windows(ws) + (f" {', '.join(days)}" if days else " every day" if len(groups) > 1 else "")
        for days, ws in groups.items()
    )


def _windows_line(
    type_id: str,
    n: int,
    outside: int,
    entries: list[Entry],
    days: LeftOut,
    pooled: WindowFit,
    by_day: Mapping[str, LeftOut],
) -> str:
    """The "booked only" line of a type with weekdays: each claim's share of the providers' visits
    it forbids and its chance, in the order they were drafted."""
    clauses = []
    if days.claimed:
        clauses.append(
            f"{days.share_elsewhere:.0%} of the visits it would fit on {', '.join(days.dropped)}: "
            f"chance {_chance_text(days.log10_chance)}"
        )
    if pooled.windows:
        where = f" on {', '.join(days.kept)}" if days.claimed else ""
        clauses.append(
            f"{pooled.share_elsewhere:.0%} of the visits it would fit{where} outside "
            f"{format_windows(pooled.windows)}: chance {_chance_text(pooled.log10_chance)}"
        )
    for d, fit in by_day.items():
        clauses.append(
            f"{fit.share_elsewhere:.0%} of the visits it would fit on {d} in {format_windows(fit.dropped)}: "
            f"chance {_chance_text(fit.log10_chance)}"
        )
    return (
        f"{type_id}: booked only {format_entries(entries)} ({n - outside:,} of {n:,} visits, "
        f"{outside / n:.1%} outside; its providers book {'; '.join(clauses)} were it spread like them)"
    )


def fit_windows(
    type_id: str,
    visits: pd.DataFrame,
    eligible: list[str],
    segments: Mapping[tuple[str, str], list[Span]],
    length: int,
) -> TypeWindows:
    """One type's ``allowed_windows`` with their weekdays (module docstring, "Weekdays" and
    "Windows by weekday"): time windows over every day, the weekdays left out inside them, the
    time windows again from the kept days, then which of them each kept day keeps to."""
    base = fit_type(type_id, visits, eligible, segments, length)
    lines = [base.line] if base.line else []
    if base.n == 0:
        return TypeWindows([], lines)
    mine = visits[visits["provider"].isin(eligible) & (visits["appointment_type"] == type_id)]
    allowance = MAX_OUTSIDE_SHARE * len(mine)
    used = base.outside if base.windows else 0
    days = fit_days(type_id, visits, eligible, segments, length, base.windows, allowance - used)
    lines += [days.line] if days.line else []
    pooled = base
    if days.claimed:
        kept = visits["weekday"].isin(days.kept)
        kept_segments = {k: v for k, v in segments.items() if k[1] in days.kept}
        pooled = fit_type(type_id, visits[kept], eligible, kept_segments, length)
    segs_by = {k: v for k, v in segments.items() if k[0] in eligible}
    per_day: dict[str, list[Span] | None] = {d: pooled.windows or None for d in days.kept}
    by_day: dict[str, LeftOut] = {}
    for d in days.kept if len(pooled.windows) > 1 else []:
        left = allowance - outside_entries(mine, day_entries(per_day, days.units, segs_by, length))
        fit = fit_day_windows(type_id, visits, eligible, segments, length, pooled.windows, d, left)
        if fit.claimed:
            per_day[d], by_day[d] = fit.kept, fit
    if not days.claimed and not by_day:  # the time windows alone, as drafted over every day
        return TypeWindows([(w, ()) for w in base.windows], lines)
    entries = [e for e in day_entries(per_day, days.units, segs_by, length) if usable(e, segs_by, length)]
    outside = outside_entries(mine, entries)
    if not entries or outside > allowance:  # the pooled windows' strays and the days' overran it
        return TypeWindows([(w, ()) for w in base.windows], lines)
    return TypeWindows(entries, [_windows_line(type_id, len(mine), outside, entries, days, pooled, by_day)])


def infer_windows(
    visits: pd.DataFrame,
    sees: Mapping[str, list[str]],
    segments: Mapping[tuple[str, str], list[Span]],
    lengths: Mapping[str, int],
) -> dict[str, TypeWindows]:
    """Every type's windows with their weekdays (``sees``: the types each drafted provider sees;
    ``lengths``: the drafted ``scheduled_min``)."""
    out = {}
    for tid, length in lengths.items():
        eligible = [pid for pid, types in sees.items() if tid in types]
        out[tid] = fit_windows(tid, visits, eligible, segments, length)
    return out
