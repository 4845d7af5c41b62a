"""The planner's expected MA load (``solver/ma_load.py``) against exact answers and the checker."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from clinicflow import scenario_from_dict
from clinicflow.domain.schedule import validate_schedule
from clinicflow.solver.ma_load import MILLI, profile
from schedule_checker import MA_TOLERANCE, _rooming_load, check_schedule
from test_solver_timing import SMALL


def _small(punctuality, **type_changes):
    d = copy.deepcopy(SMALL)
    d["appointment_types"][0].update(type_changes)
    d["arrivals"] = {"punctuality": punctuality}
    return scenario_from_dict(d, "small.yaml")


def test_punctual_patients_with_fixed_rooming_load_one_ma_for_exactly_the_rooming_minutes():
    s = _small(
        {"dist": "deterministic", "value": 0},
        no_show=0.0,
        rooming_min={"dist": "deterministic", "value": 5},
    )
    p = profile(s, "v", with_desk=False)
    assert p.offset == 0
    assert p.load.tolist() == [MILLI] * 5
    # 20% absent, two minutes late, a 3-minute check-in: the same five minutes, two to five later
    s = _small(
        {"dist": "deterministic", "value": 2},
        no_show=0.2,
        rooming_min={"dist": "deterministic", "value": 5},
    )
    s = scenario_from_dict(
        copy.deepcopy(s.model_dump(mode="json", exclude_none=True))
        | {"staff": SMALL["staff"] | {"front_desk": SMALL["staff"]["front_desk"] | {"check_in_min": 3}}},
        "small.yaml",
    )
    p = profile(s, "v", with_desk=True)
    assert p.offset == 5
    assert p.load.tolist() == [800] * 5


def test_load_sums_to_expected_rooming_minutes_of_the_patients_who_come(family):
    """Over all minutes the load is E[rooming] x P(comes): no-shows and late cancellations stay
    away, patients later than the cut-off are rebooked."""
    from scipy.stats import norm

    pun = family.arrivals.punctuality
    on_time = norm.cdf(family.arrivals.late_cutoff_min, pun.mean, pun.sd)
    for t in family.appointment_types:
        if not t.needs_ma:
            assert profile(family, t.id, True).load.sum() == 0
            continue
        expect = t.rooming_min.mean * (1 - t.no_show - t.late_cancel) * on_time
        got = profile(family, t.id, True).load.sum() / MILLI
        assert got == pytest.approx(expect, rel=0.01), t.id


@pytest.mark.parametrize("desk", [True, False])
def test_quadrature_agrees_with_the_checkers_monte_carlo(family, desk):
    for tid in ("new_patient", "follow_up", "procedure"):
        p = profile(family, tid, desk)
        lo, q = _rooming_load(family, tid, desk)
        a = np.zeros(200)
        b = np.zeros(200)
        a[p.offset + 100 : p.offset + 100 + len(p.load)] = p.load / MILLI
        b[lo + 100 : lo + 100 + len(q)] = q
        # the checker's tolerance covers a whole day's sum; one slot is well inside a fifth of it
        assert np.abs(a - b).max() < MA_TOLERANCE / 5, tid
    # with a desk the load comes about the check-in time later
    assert (
        profile(family, "follow_up", True).load.argmax() > profile(family, "follow_up", False).load.argmax()
    )


def _rows(family, starts: list[tuple[str, int]]) -> pd.DataFrame:
    raw = pd.DataFrame(
        [
            {"date": "2026-11-30", "provider": prov, "start": f"{start // 60:02d}:{start % 60:02d}"}
            | {"appointment_type": "follow_up", "kind": "template"}
            for prov, start in starts
        ]
    )
    return validate_schedule(raw, family)


def test_checker_flags_more_expected_rooming_than_mas(family):
    """Four providers double-booked at 08:00 are within four MAs (patients spread over half an
    hour); a crowd at 08:00 is not, even with each provider's load capped at two rooms."""
    provs = ["dr_okafor", "dr_lindqvist", "dr_ramirez", "np_haddad", "dr_chen", "pa_brooks"]
    ok = _rows(family, [(p, 480) for p in provs[:4] for _ in range(2)])
    crowd = _rows(family, [(p, 480) for p in provs for _ in range(8)])
    assert not [v for v in check_schedule(family, ok) if "MA-minutes" in v]
    bad = [v for v in check_schedule(family, crowd) if "MA-minutes" in v]
    assert len(bad) == 1 and "(only 60 on duty)" in bad[0], bad


def test_add_at_lays_a_profile_down_as_at_does_with_and_without_deferral():
    """``Profile.add_at`` (the local search's in-place sum) equals adding ``Profile.at``: with MAs on
    duty all day, with a shift that starts mid-morning (rooming deferred) and ends early, for slots
    at the day's edges."""
    from clinicflow.solver.ma_load import Profile

    rng = np.random.default_rng(11)
    day = 600
    duties = [None, np.full(day, 2), np.r_[np.zeros(120, int), np.full(300, 1), np.zeros(180, int)]]
    for _ in range(300):
        p = Profile(int(rng.integers(-10, 40)), rng.integers(0, MILLI, size=int(rng.integers(1, 60))))
        on_duty = duties[int(rng.integers(0, len(duties)))]
        base = rng.integers(0, 3 * MILLI, size=day)
        start = int(rng.integers(-30, day + 10))
        got = base.copy()
        p.add_at(got, start, on_duty)
        assert np.array_equal(got, base + p.at(start, day, on_duty)), (start, p.offset)
