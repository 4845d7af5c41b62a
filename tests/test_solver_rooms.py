"""Exam-room assignment (solver/rooms.py): valid rooms, an exact optimum where one is known, the
greedy start and its fallback, and the plain-words error when the rooms cannot hold the day."""

from __future__ import annotations

import itertools

import pytest

from clinicflow.domain.rooms import Rooms
from clinicflow.errors import InfeasibleError
from clinicflow.solver.rooms import _cost, _greedy, assign_rooms


def _with_rooms(scenario, **rooms):
    return scenario.model_copy(update={"rooms": Rooms(**rooms)})


def _check(intervals, assigned, proc):
    for (*_, is_proc), r in zip(intervals, assigned, strict=True):
        if is_proc:
            assert r in proc
    by_room: dict = {}
    for (_, s, e, _), r in zip(intervals, assigned, strict=True):
        by_room.setdefault(r, []).append((s, e))
    for spans in by_room.values():
        spans.sort()
        for (_, e1), (s2, _) in itertools.pairwise(spans):
            assert e1 <= s2, "two slots overlap in one room"


def test_two_streams_per_provider_get_two_rooms_each(family):
    # five providers, each with two patients roomed at once all morning, in ten exam rooms: the
    # optimum puts every provider in exactly two rooms (objective 5 x 2 x 4 = 40)
    sc = _with_rooms(family, ids=[f"E{i}" for i in range(10)] + ["P1", "P2"], procedure_rooms=["P1", "P2"])
    intervals = [
        (f"doc{p}", 480 + 20 * k + 10 * lane, 500 + 20 * k + 10 * lane, False)
        for p in range(5)
        for lane in range(2)
        for k in range(12)
    ]
    out = assign_rooms(sc, intervals, label="Monday", seed=0)
    _check(intervals, out, {"P1", "P2"})
    assert _cost(intervals, out, {"P1", "P2"}) == 40
    assert all(
        len({r for (p, *_), r in zip(intervals, out, strict=True) if p == f"doc{q}"}) == 2 for q in range(5)
    )


def test_greedy_fails_when_regular_visits_fill_the_procedure_room_cp_sat_still_assigns(family):
    # one exam room and one procedure room; the 08:25 procedure is placed first, and then the
    # 08:10 visit finds neither room free once the 08:00 one took the exam room
    sc = _with_rooms(family, ids=["E1", "P1"], procedure_rooms=["P1"])
    intervals = [("a", 480, 500, False), ("b", 490, 515, False), ("b", 505, 530, True)]
    assert _greedy(intervals, ["E1", "P1"], {"P1"}) is None
    # the only assignment: the 08:10 visit overlaps both others, so it takes the exam room
    assert assign_rooms(sc, intervals, label="Monday", seed=0) == ["P1", "E1", "P1"]


def test_the_result_is_never_worse_than_the_greedy_start(family):
    sc = _with_rooms(family, ids=["E1", "E2", "E3", "P1"], procedure_rooms=["P1"])
    intervals = [
        (prov, 480 + 20 * k + off, 500 + 20 * k + off, k % 5 == 4 and prov == "x")
        for prov, off in (("x", 0), ("y", 5), ("z", 10))
        for k in range(16)
    ]
    rooms = ["E1", "E2", "E3", "P1"]
    greedy = _greedy(intervals, rooms, {"P1"})
    assert greedy is not None
    out = assign_rooms(sc, intervals, label="Tuesday", seed=0)
    _check(intervals, out, {"P1"})
    assert _cost(intervals, out, {"P1"}) <= _cost(intervals, greedy, {"P1"})


def test_more_overlapping_slots_than_rooms_is_explained(family):
    sc = _with_rooms(family, ids=["E1", "E2"])
    intervals = [("a", 480, 500, False), ("b", 485, 505, False), ("c", 490, 510, False)]
    with pytest.raises(InfeasibleError) as e:
        assign_rooms(sc, intervals, label="Wednesday 2026-12-02", seed=0)
    assert "no exam-room assignment exists on Wednesday 2026-12-02" in str(e.value)
