"""A lean priority pool of identical units (desk clerks, MAs, exam rooms, a provider's room slots).

``simpy.PriorityResource`` builds a request object, a context manager and a sorted queue per use; a
clinic day makes thousands of requests, so this pool keeps only a count of free units, a heap of
waiting callbacks and (optionally) the ids of the free units, and hands a released unit straight to
the next waiter. Semantics are those of a non-preemptive priority queue: lower key first, FIFO among
equal keys. The waiter is called back through the engine (zero delay), so it continues after whatever
else happens at the same instant was already scheduled — as a SimPy request event would.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

#: Returned by ``Pool.take`` when no unit is free: the caller must ``wait``.
BUSY = object()


class Pool:
    """``capacity`` identical servers; ``ids`` names them when it matters which one (rooms)."""

    __slots__ = ("_seq", "_waiting", "capacity", "engine", "free", "ids", "owed")

    def __init__(self, engine, capacity: int, ids: list[int] | None = None):
        self.engine = engine
        self.capacity = capacity
        self.free = capacity
        self.ids = list(reversed(ids)) if ids is not None else None
        self._waiting: list = []
        self._seq = 0
        self.owed = 0  # units to withdraw as they come back (a shift ended while they were busy)

    def take(self):
        """A free unit right now (its id or None), or ``BUSY``.

        Taking a free unit costs no event: the caller continues at once, which is what an
        uncontended resource means.
        """
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return self.ids.pop() if self.ids is not None else None
        return BUSY

    def wait(self, key: float, fn: Callable[[Any], None], arg: Any) -> None:
        """Queue ``fn(arg)`` for the next unit; the unit's id is set as ``arg.unit`` for named pools."""
        self._seq += 1
        heappush(self._waiting, (key, self._seq, fn, arg))

    def release(self, unit: int | None = None) -> None:
        """Give a unit back; the first waiter (lowest key) gets it at once."""
        if self.owed:
            self.owed -= 1
        elif self._waiting:
            _, _, fn, arg = heappop(self._waiting)
            if self.ids is not None:
                arg.unit = unit
            self.engine.schedule(0.0, fn, arg)
        else:
            self.free += 1
            if self.ids is not None:
                self.ids.append(unit)

    def resize(self, capacity: int) -> None:
        """A shift change (unnamed pools only): new units serve waiters at once; units withdrawn
        while busy finish what they are doing and leave when they would have been released."""
        delta, self.capacity = capacity - self.capacity, capacity
        while delta > 0 and self.owed:
            self.owed -= 1
            delta -= 1
        for _ in range(delta):
            self.release()
        for _ in range(-delta):
            if self.free > 0:
                self.free -= 1
            else:
                self.owed += 1

    @property
    def queue_length(self) -> int:
        return len(self._waiting)
