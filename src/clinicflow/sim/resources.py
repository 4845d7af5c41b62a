"""A lean priority resource for SimPy.

``simpy.PriorityResource`` builds a request object, a context manager and a sorted queue per use; a
clinic day makes thousands of requests, so this pool keeps only a count of free units, a heap of waiting
events and (optionally) the ids of the free units, and hands a released unit straight to the next
waiter. Semantics are those of a non-preemptive priority queue: lower key first, FIFO among equal keys.
"""

from __future__ import annotations

import heapq

import simpy

#: Returned by ``Pool.take`` when no unit is free: the caller must wait on ``acquire``.
BUSY = object()


class Pool:
    """``capacity`` identical servers (desk clerks, MAs, exam rooms, a provider's room slots)."""

    __slots__ = ("_seq", "_waiting", "env", "free", "ids")

    def __init__(self, env: simpy.Environment, capacity: int, ids: list[int] | None = None):
        self.env = env
        self.free = capacity
        self.ids = list(reversed(ids)) if ids is not None else None
        self._waiting: list = []
        self._seq = 0

    def acquire(self, key: float = 0.0) -> simpy.Event:
        """An event that fires with the unit's id (or None) once a unit is this caller's."""
        ev = simpy.Event(self.env)
        if self.free > 0 and not self._waiting:
            self.free -= 1
            ev.succeed(self.ids.pop() if self.ids is not None else None)
        else:
            self._seq += 1
            heapq.heappush(self._waiting, (key, self._seq, ev))
        return ev

    def take(self):
        """A free unit right now (its id or None) without an event, or ``BUSY``.

        Skipping the event when a unit is free saves a trip through the event queue; the caller
        continues at once, which is what an uncontended resource means.
        """
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return self.ids.pop() if self.ids is not None else None
        return BUSY

    def release(self, unit: int | None = None) -> None:
        """Give a unit back; the first waiter (lowest key) gets it at once."""
        if self._waiting:
            heapq.heappop(self._waiting)[2].succeed(unit)
        else:
            self.free += 1
            if self.ids is not None:
                self.ids.append(unit)

    @property
    def queue_length(self) -> int:
        return len(self._waiting)
