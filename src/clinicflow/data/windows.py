"""Time-of-day windows (``allowed_windows``) a history shows, for ``history draft``.

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

Windows follow the scenario's reading (``policies.py``, ``solver/booking.py``): a slot lies inside a
window when the whole slot does, ``start >= w.start`` and ``start + scheduled_min <= w.end``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom

from ..domain.clock import format_hhmm

#: The share of a type's visits allowed outside its drafted windows. A real export holds a few
#: manual overrides (a new patient squeezed in at 16:00 as a favour, a procedure moved to the end
#: of the day); a window that one such booking could break would never be drafted from a real
#: history, while more than 1% outside is a habit of the practice, not an exception, and the
#: window would forbid what the practice does.
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


def infer_windows(
    visits: pd.DataFrame,
    sees: Mapping[str, list[str]],
    segments: Mapping[tuple[str, str], list[Span]],
    lengths: Mapping[str, int],
) -> dict[str, WindowFit]:
    """Every type's windows (``sees``: the types each drafted provider sees; ``lengths``: the
    drafted ``scheduled_min``)."""
    out = {}
    for tid, length in lengths.items():
        eligible = [pid for pid, types in sees.items() if tid in types]
        out[tid] = fit_type(tid, visits, eligible, segments, length)
    return out
