"""Fenton–Wilkinson overtime risk against theory and Monte Carlo."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from clinicflow.domain.distributions import Gamma, Lognormal
from clinicflow.solver.overtime import (
    expected_overtime_planes,
    fw_expected_overtime,
    fw_overtime_probability,
    fw_quantile,
    max_variance,
    max_variance_table,
    monte_carlo_total,
    sum_moments,
    variance_chord,
    variance_segments,
    within_segments,
)


def test_single_lognormal_is_exact():
    d = Lognormal(mean=100, sd=30)
    assert fw_quantile(d.mean, d.sd**2, 0.8) == pytest.approx(float(d.quantile(0.8)), rel=1e-12)
    mu, sigma = d.params
    c = 140.0
    assert fw_overtime_probability(d.mean, d.sd**2, c) == pytest.approx(
        stats.lognorm(sigma, scale=math.exp(mu)).sf(c)
    )
    # E[(X - c)+] by numerical integration of the survival function
    xs = np.linspace(c, 2000, 200_001)
    integral = np.trapezoid(stats.lognorm(sigma, scale=math.exp(mu)).sf(xs), xs)
    assert fw_expected_overtime(d.mean, d.sd**2, c) == pytest.approx(integral, rel=1e-4)


@pytest.mark.parametrize(
    "cases",
    [
        [(125, 30)] * 3,  # three knee replacements
        [(50, 14)] * 6 + [(100, 22)],  # scopes and an ACL
        [(25, 8)] * 6 + [(20, 6)] * 4,  # hand list
        [(90, 25), (95, 28), (85, 25), (50, 14)],  # trauma day
    ],
)
@pytest.mark.parametrize("turnover", [Lognormal(mean=32, sd=10), Gamma(mean=17, sd=5)])
def test_fenton_wilkinson_matches_simulation(cases, turnover):
    """The approximated 80th percentile and overtime probability agree with 400k simulated days."""
    dists = [Lognormal(mean=m, sd=s) for m, s in cases] + [turnover] * (len(cases) - 1)
    mean, var = sum_moments(dists)
    n = 400_000
    total = monte_carlo_total(dists, np.random.default_rng(11), n)
    # the sum's mean and variance are exact (independent terms): the sample's agree within 4.5
    # standard errors (se of the variance from the sample's fourth central moment); rel=0.002 on
    # the mean was ~10 standard errors, and the variance, which the quantile hides, was not checked
    assert abs(total.mean() - mean) < 4.5 * math.sqrt(var / n)
    m4 = np.mean((total - total.mean()) ** 4)
    assert abs(total.var() - var) < 4.5 * math.sqrt((m4 - total.var() ** 2) / n), (total.var(), var)
    q80 = fw_quantile(mean, var, 0.8)
    assert q80 == pytest.approx(np.quantile(total, 0.8), rel=0.01)
    cap = q80
    p_sim = (total > cap).mean()
    assert abs(p_sim - 0.2) < 0.01  # the limit means what it says
    eo = fw_expected_overtime(mean, var, cap)
    assert eo == pytest.approx(np.maximum(total - cap, 0).mean(), rel=0.05)


@pytest.mark.parametrize("target", [0.05, 0.1, 0.2, 0.3])
def test_max_variance_is_the_boundary(target):
    cap = 480
    for m in (300, 380, 430, 470):
        v = max_variance(m, cap, target)
        assert fw_quantile(m, v, 1 - target) <= cap * (1 + 1e-9)
        if m >= 430:  # the physical branch: the limit is exactly binding there
            assert fw_quantile(m, v, 1 - target) == pytest.approx(cap, rel=1e-9)
            assert fw_quantile(m, v * 1.01, 1 - target) > cap
    assert max_variance(cap + 1, cap, target) < 0


def test_table_and_chord_are_conservative_and_valid():
    cap, target, var_cap = 480, 0.2, 6000
    table = max_variance_table(cap, target, var_cap)
    for m, v in enumerate(table):
        if m > 0 and 0 <= v < var_cap:
            assert fw_quantile(m, v, 0.8) <= cap + 1e-9  # floor: never over the limit
    _m0, slope = variance_chord(table, var_cap)
    # the chord is a relaxation: every allowed (M, V) satisfies it
    for m, v in enumerate(table):
        assert min(max(v, 0), var_cap) <= slope * (cap - m) + 1e-9


def test_overtime_planes_stay_under_the_function():
    cap, target, var_cap = 480, 0.2, 8000
    planes = expected_overtime_planes(cap, target, var_cap)
    assert len(planes) > 20
    rng = np.random.default_rng(0)
    worst_under = 0.0
    for _ in range(2000):
        m = rng.uniform(250, cap)
        v = rng.uniform(0, min(var_cap, max_variance(m, cap, target)))
        s = math.sqrt(v)
        est = max(0.0, *(a * m + b * s + c for a, b, c in planes))
        true = fw_expected_overtime(m, v, cap)
        assert est <= true + 0.25
        worst_under = max(worst_under, true - est)
    assert worst_under < 3.0  # a close estimate, not just a bound


@settings(max_examples=300, deadline=None)
@given(
    cap=st.sampled_from([240, 360, 480, 600]),
    target=st.sampled_from([0.05, 0.1, 0.2, 0.3]),
    var_cap=st.sampled_from([1000, 4000, 12000, 40000]),
    m=st.integers(0, 600),
    v=st.integers(0, 40000),
)
def test_segments_never_allow_a_room_day_over_the_limit(cap, target, var_cap, m, v):
    """Whatever the model accepts passes the exact Fenton–Wilkinson test."""
    segs = variance_segments(cap, target, var_cap)
    if within_segments(m, v, segs):
        assert m <= cap
        if m > 0:
            assert fw_quantile(m, v, 1 - target) <= cap * (1 + 1e-9)
        else:
            assert v == 0


@pytest.mark.parametrize("target", [0.1, 0.2, 0.3])
def test_segments_lose_little(target):
    """The inner approximation is tight: for each variance a room-day can carry, the largest load
    the model accepts is within a few minutes of the exact limit (away from the variance cap)."""
    cap, var_cap = 480, 8000
    segs = variance_segments(cap, target, var_cap)
    assert all(within_segments(m, 0, segs) for m in range(cap + 1))  # a fixed-length day always fits
    for v in range(0, int(0.9 * var_cap), 100):
        exact = max(m for m in range(1, cap + 1) if max_variance(m, cap, target) >= v)
        model = max(m for m in range(cap + 1) if within_segments(m, v, segs))
        assert exact - model <= 3, (v, exact, model)
