"""Confidence intervals and fast sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from clinicflow.domain.distributions import Deterministic, Empirical, Exponential, Gamma, Lognormal, Normal
from clinicflow.stats import mean_ci


def test_mean_ci_matches_the_t_formula():
    x = [1.0, 2.0, 3.0, 4.0]
    mean, lo, hi, sd, n = mean_ci(x)
    assert (mean, n) == (2.5, 4)
    assert sd == pytest.approx(math.sqrt(5 / 3))
    assert hi - mean == pytest.approx(3.182446305284263 * sd / 2)  # t(0.975, 3)
    assert mean - lo == pytest.approx(hi - mean)


def test_mean_ci_skips_nan_and_handles_tiny_samples():
    assert mean_ci([np.nan, 2.0, 4.0])[4] == 2
    m, lo, _hi, sd, n = mean_ci([3.0])
    assert (m, n) == (3.0, 1) and math.isnan(lo) and math.isnan(sd)
    assert mean_ci([])[4] == 0


def test_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        _, lo, hi, _, _ = mean_ci(rng.normal(10.0, 3.0, 8))
        hits += lo <= 10.0 <= hi
    # Exact for normal data: coverage 0.95; 2000 trials give sd 0.005, so +-3 sd is 0.935-0.965.
    assert 0.935 <= hits / 2000 <= 0.965


DISTS = [
    Deterministic(value=4),
    Exponential(mean=12),
    Lognormal(mean=18, sd=7),
    Lognormal(mu=2.5, sigma=0.4),
    Gamma(mean=2.5, sd=1),
    Gamma(shape=3, scale=2),
    Normal(mean=-8, sd=12),
    Normal(mean=0, sd=0),
    Empirical(values=[5, 10, 20], weights=[1, 2, 1]),
]


def _scipy_ppf(dist):
    """The distribution's quantile by ``scipy.stats``: the reference the fast ``scipy.special``
    formulas of ``domain/distributions.py`` are checked against."""
    if isinstance(dist, Exponential):
        return stats.expon(scale=dist.mean_).ppf
    if isinstance(dist, Lognormal):
        mu, sigma = dist.params
        return stats.lognorm(s=sigma, scale=math.exp(mu)).ppf
    if isinstance(dist, Gamma):
        k, theta = dist.params
        return stats.gamma(a=k, scale=theta).ppf
    if isinstance(dist, Normal) and dist.sd_ > 0:
        return stats.norm(dist.mean_, dist.sd_).ppf
    return None


@pytest.mark.parametrize("dist", DISTS, ids=repr)
@settings(max_examples=30, deadline=None)
@given(u=st.floats(1e-9, 1 - 1e-9))
def test_quantile_equals_scipy_stats(dist, u):
    ref = _scipy_ppf(dist)
    if ref is None:  # deterministic, zero-sd normal, empirical: exact by construction
        assert float(dist.quantile(u)) == float(dist.quantile(np.array([u]))[0])
        return
    assert float(dist.quantile(u)) == pytest.approx(float(ref(u)), rel=1e-9, abs=1e-9)
    arr = np.array([u, 0.5])
    np.testing.assert_allclose(dist.quantile(arr), ref(arr), rtol=1e-9, atol=1e-9)
