"""Event loops for the clinic model: a lean one (the default) and SimPy's, with identical semantics.

The clinic model (``clinic.py``) is written as callbacks against three operations: ``now``,
``schedule(delay, fn, arg)`` — call ``fn(arg)`` ``delay`` minutes from now — and ``run(until)``.
Events fire in time order and, at equal times, in the order they were scheduled; ``run`` stops before
any event at ``until``. That is exactly how ``simpy.Environment`` orders timeouts of one priority
(time, then event id), so:

* ``SimPyEngine`` runs the model on SimPy's own event loop — the reference;
* ``LeanEngine`` runs it on a bare ``heapq`` of ``(time, sequence, fn, arg)`` tuples, which skips
  SimPy's Event objects, callback lists and process bookkeeping, roughly halving the cost per event.

Both see the same floating-point times (``now + delay``) and the same tie order, so they give the same
records bit for bit (``tests/test_sim_engines.py`` checks it on every example practice and on random
clinics). The lean loop is the default because the simulator's speed is what makes 1,000-replication
what-if comparisons interactive.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

ENGINES = ("lean", "simpy")


class LeanEngine:
    """A heap of ``(time, sequence, fn, arg)``: the least a discrete-event loop needs."""

    __slots__ = ("_queue", "_seq", "now")

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list = []
        self._seq = 0

    def schedule(self, delay: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        self._seq += 1
        heappush(self._queue, (self.now + delay, self._seq, fn, arg))

    def run(self, until: float) -> None:
        q = self._queue
        pop = heappop
        while q and q[0][0] < until:
            t, _, fn, arg = pop(q)
            self.now = t
            fn(arg)
        self.now = until


class SimPyEngine:
    """The same interface on ``simpy.Environment``: each scheduled call is a SimPy timeout."""

    __slots__ = ("env",)

    def __init__(self) -> None:
        import simpy

        self.env = simpy.Environment()

    @property
    def now(self) -> float:
        return self.env.now

    def schedule(self, delay: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        self.env.timeout(delay).callbacks.append(lambda _event: fn(arg))

    def run(self, until: float) -> None:
        self.env.run(until=until)


def make_engine(name: str) -> LeanEngine | SimPyEngine:
    if name == "lean":
        return LeanEngine()
    if name == "simpy":
        return SimPyEngine()
    raise ValueError(f"unknown simulation engine {name!r}; expected one of {', '.join(ENGINES)}")
