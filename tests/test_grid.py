"""Sweep grids and the cost-versus-wait frontier."""

from __future__ import annotations

import pandas as pd
import pytest

from clinicflow import InputError
from clinicflow.whatif import apply_variant
from clinicflow.whatif.grid import cheapest_meeting, grid_variants, pareto_front, parse_vary


def test_parse_vary_forms():
    assert parse_vary("rooms=8..14") == ("rooms", [8, 9, 10, 11, 12, 13, 14])
    assert parse_vary("mas=2,3,5") == ("mas", [2, 3, 5])
    knob, vals = parse_vary("noshow=0.6..1:0.2")
    assert knob == "noshow" and vals == pytest.approx([0.6, 0.8, 1.0])


@pytest.mark.parametrize("bad", ["rooms", "beds=1..3", "rooms=9..3", "rooms=1.5..3", "mas=a,b"])
def test_parse_vary_rejects(bad):
    with pytest.raises(InputError):
        parse_vary(bad)


def test_grid_builds_valid_variants(family):
    grid = grid_variants(family, [parse_vary("rooms=10..12"), parse_vary("mas=3..4")])
    assert len(grid) == 6
    settings, v = grid[0]
    assert settings == {"rooms": 10, "mas": 3}
    s = apply_variant(family, v)
    assert s.rooms.n == 10 and s.staff.mas_on("mon") == 3
    # the base point of the grid is the base scenario's capacity
    base_point = next(v for st, v in grid if st == {"rooms": 12, "mas": 4})
    s = apply_variant(family, base_point)
    assert s.rooms.n == 12 and s.staff.mas_on("mon") == 4


def test_pareto_front_and_cheapest():
    df = pd.DataFrame(
        {"cost": [100, 120, 110, 130, 100], "p90": [30, 20, 25, 20, 35]},
        index=list("abcde"),
    )
    eff = pareto_front(df, "cost", "p90")
    assert eff.to_dict() == {"a": True, "b": True, "c": True, "d": False, "e": False}
    assert cheapest_meeting(df, "cost", "p90", 25).name == "c"
    assert cheapest_meeting(df, "cost", "p90", 10) is None


def test_a_setting_where_nobody_is_seen_is_not_efficient():
    # no demand: no wait to report (NaN), and NaN compares false, so it used to be "efficient"
    df = pd.DataFrame({"cost": [50, 100, 120], "p90": [float("nan"), 30, 20]}, index=list("xab"))
    assert pareto_front(df, "cost", "p90").to_dict() == {"x": False, "a": True, "b": True}
    assert cheapest_meeting(df, "cost", "p90", 1000).name == "a"
