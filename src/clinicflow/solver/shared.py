"""Shared resources across provider-sessions: what the blocks timed so far use of exam rooms,
procedure rooms and MAs on each date (``Ledger``), and whether a slot or a timed block fits in what
is left.

Blocks of a day are timed one after another (``plan.py``), each against this ledger; the CP-SAT
timing model, the local search and the plain-words diagnosis all ask it the same questions, so
they agree on what "fits" means.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from ..domain.scenario import Scenario
from .ma_load import MILLI, windowed
from .week import ma_by_minute

if TYPE_CHECKING:
    from .ma_load import Profile
    from .timing import Slot

DAY = 24 * 60 + 240  # minutes tracked per day (sessions may run late)


class Ledger:
    """Minute-by-minute use of shared resources on each date by sessions already timed: rooms and
    procedure rooms in units, MAs in thousandths of an MA of expected load (``ma_load.MILLI``)."""

    def __init__(self, scenario: Scenario):
        self.s = scenario
        self.use: dict = {}
        self._mas: dict[str, np.ndarray] = {}  # MAs on duty per minute, by weekday
        self._free: dict = {}  # what is left, by (date, resource), until the next add

    def _arr(self, date: dt.date, res: str) -> np.ndarray:
        return self.use.setdefault((date, res), np.zeros(DAY, dtype=np.int32))

    def capacity(self, date: dt.date, res: str) -> int | np.ndarray:
        """Units of ``res`` on ``date``: a count, or for MAs one per minute (their shifts); see
        ``free`` for the MAs' unit."""
        if res == "rooms":
            return self.s.rooms.n
        if res == "proc":
            return len(self.s.rooms.procedure_rooms)
        wd = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[date.weekday()]
        if wd not in self._mas:  # free() is called per slot and grid point: build it once
            self._mas[wd] = ma_by_minute(self.s, wd, DAY)
        return self._mas[wd]

    def free(self, date: dt.date, res: str) -> np.ndarray:
        """What is left of ``res`` each minute; for MAs the thousandths of MA-minutes left in the
        window of ``ma_load.WINDOW`` minutes that begins at each minute."""
        key = (date, res)
        if key not in self._free:  # free() is called per slot and grid point by the searches
            if res == "ma":
                left = windowed(MILLI * self.capacity(date, res).astype(np.int64) - self._arr(date, res))
            else:
                left = self.capacity(date, res) - self._arr(date, res)
            self._free[key] = left
        return self._free[key]

    def add(self, date: dt.date, res: str, start: int, length: int) -> None:
        if length > 0:
            self._arr(date, res)[start : start + length] += 1
            self._free.pop((date, res), None)

    def add_ma(self, date: dt.date, load: np.ndarray) -> None:
        """Add an expected MA load (thousandths of an MA, one value per minute of the day)."""
        self._arr(date, "ma")[:] += load.astype(np.int32)
        self._free.pop((date, "ma"), None)


def slot_resources(slot: Slot) -> dict[str, int]:
    """The resources a slot holds as a whole unit from its start, and for how many minutes. (MAs
    are not among them: a slot's MA load is a profile, ``Slot.ma``.)"""
    out = {}
    if slot.room_min:
        out["rooms"] = slot.room_min
        out["own_rooms"] = slot.room_min
    if slot.procedure:
        out["proc"] = slot.room_min
    return out


def resources_ok(
    ledger: Ledger | None, date: dt.date, provider_rooms: int, slots: list[Slot], starts
) -> bool:
    """Whether timed slots fit the provider's rooms and what other sessions left of shared resources.

    The local search asks this for every improving move, so it allocates one day's array per
    resource, not one per slot (``np.zeros`` in ``setdefault`` ran for every slot), and lays MA
    profiles down in place (``Profile.add_at``); the answer is the same."""
    use: dict[str, np.ndarray] = {}
    on_duty = ledger.capacity(date, "ma") if ledger is not None else None
    for s, g in zip(slots, starts, strict=True):
        for res, length in slot_resources(s).items():
            arr = use.get(res)
            if arr is None:
                arr = use[res] = np.zeros(DAY, dtype=np.int64)
            arr[g : g + length] += 1
        if s.ma is not None and ledger is not None:
            arr = use.get("ma")
            if arr is None:
                arr = use["ma"] = np.zeros(DAY, dtype=np.int64)
            s.ma.add_at(arr, g, on_duty)
    if "ma" in use:
        use["ma"] = windowed(capped_ma(use["ma"], provider_rooms))
    for res, arr in use.items():
        if res == "own_rooms":
            if (arr > provider_rooms).any():
                return False
        elif ledger is not None and (arr > ledger.free(date, res)).any():
            return False
    return True


def capped_ma(load: np.ndarray, provider_rooms: int) -> np.ndarray:
    """A provider's expected MA load, capped at ``rooms_at_once`` MAs: patients are roomed in the
    provider's rooms, so no more of them than that are with an MA at once (the profiles, which
    leave out the queue for a room, would otherwise count the overlap of neighbouring slots' tails
    that the room queue resolves)."""
    return np.minimum(load, provider_rooms * MILLI)


def ma_fits(free: np.ndarray, p: Profile, g: int, on_duty: np.ndarray | None = None) -> bool:
    a, window = p.windowed_at(g, on_duty)
    return bool((free[a : a + len(window)] >= window).all())


def blocked_by(ledger: Ledger | None, date: dt.date, slot: Slot, g: int) -> set[str]:
    """The shared resources that have no room for this slot alone at ``g``."""
    if ledger is None:
        return set()
    out = {
        res
        for res, length in slot_resources(slot).items()
        if res != "own_rooms" and (ledger.free(date, res)[g : g + length] < 1).any()
    }
    if slot.ma is not None:
        on_duty = ledger.capacity(date, "ma")
        # no start where no MA is on duty: a patient who comes early waits for the MAs' shift
        # (``ma_load.defer``), but the sampled days do not model a wait at the appointment time
        if on_duty[g] == 0 or not ma_fits(ledger.free(date, "ma"), slot.ma, g, on_duty):
            out.add("ma")
    return out


def slot_fits(ledger: Ledger | None, date: dt.date, slot: Slot, g: int) -> bool:
    """Whether shared resources have room for this slot alone at ``g`` (a domain filter)."""
    return not blocked_by(ledger, date, slot, g)


def commit(ledger: Ledger, date: dt.date, slots: list[Slot], starts: list[int], provider_rooms: int) -> None:
    """Record a timed block's use of shared resources (its MA load capped, ``capped_ma``)."""
    ma = np.zeros(DAY, dtype=np.int64)
    for s, g in zip(slots, starts, strict=True):
        for res, length in slot_resources(s).items():
            if res != "own_rooms":
                ledger.add(date, res, g, length)
        if s.ma is not None:
            ma += s.ma.at(g, DAY, ledger.capacity(date, "ma"))
    ledger.add_ma(date, capped_ma(ma, provider_rooms))
