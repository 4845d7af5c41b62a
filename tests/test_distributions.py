"""Distributions: sampled moments agree with the stated ones inside confidence bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter

from clinicflow.domain.distributions import DistributionSpec

ADAPTER = TypeAdapter(DistributionSpec)

SPECS = [
    {"dist": "exponential", "mean": 15},
    {"dist": "lognormal", "mean": 20, "sd": 8},
    {"dist": "lognormal", "mu": 2.9, "sigma": 0.4},
    {"dist": "gamma", "mean": 25, "sd": 8},
    {"dist": "gamma", "shape": 4, "scale": 3},
    {"dist": "normal", "mean": -8, "sd": 12},
    {"dist": "empirical", "values": [5, 10, 15, 40], "weights": [1, 2, 2, 1]},
    7.5,
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"] if isinstance(s, dict) else "number")
def test_sample_moments_match(spec):
    d = ADAPTER.validate_python(spec)
    rng = np.random.default_rng(20261125)
    n = 200_000
    x = d.sample(rng, n)
    assert x.shape == (n,)
    # the sample mean is within 4.5 standard errors of the stated mean (false alarm ~ 1e-5)
    se = d.sd / math.sqrt(n)
    assert abs(x.mean() - d.mean) <= 4.5 * se + 1e-12
    if d.sd > 0:
        # Var(s^2) ~ (m4 - sd^4) / n (m4 the fourth central moment, from the sample), so by the delta
        # method se(s) ~ sqrt(m4 - sd^4) / (2 sd sqrt(n)): ~0.3% of sd for the exponential here. The
        # 3% band this replaced was ~10 standard errors wide and let a 2% error in sd through.
        m4 = np.mean((x - x.mean()) ** 4)
        se_sd = math.sqrt(m4 - x.var() ** 2) / (2 * d.sd * math.sqrt(n))
        assert abs(x.std() - d.sd) <= 4.5 * se_sd, (x.std(), d.sd, se_sd)
    # the quantile function agrees with the sample: P(X < q) <= p <= P(X <= q) (equality if
    # continuous), up to 4.5 binomial standard errors of the empirical proportion (0.003 at p = 0.5)
    for p in (0.1, 0.5, 0.9):
        q = d.quantile(p)
        tol = 4.5 * math.sqrt(p * (1 - p) / n)
        assert np.mean(x < q) - tol <= p <= np.mean(x <= q) + tol, (p, q)


def test_moment_parametrization_is_exact():
    d = ADAPTER.validate_python({"dist": "lognormal", "mean": 20, "sd": 8})
    assert d.mean == pytest.approx(20)
    assert d.sd == pytest.approx(8)
    g = ADAPTER.validate_python({"dist": "gamma", "mean": 25, "sd": 5})
    assert g.params == pytest.approx((25.0, 1.0))


def test_number_means_deterministic():
    d = ADAPTER.validate_python(3)
    assert d.dist == "deterministic" and d.mean == 3 and d.sd == 0
    assert (d.sample(np.random.default_rng(0), 4) == 3).all()


def test_same_generator_state_same_draws():
    d = ADAPTER.validate_python({"dist": "gamma", "mean": 25, "sd": 8})
    a = d.sample(np.random.default_rng(5), 10)
    b = d.sample(np.random.default_rng(5), 10)
    assert (a == b).all()


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "lognormal", "mean": 20, "sd": 8, "mu": 1},
        {"dist": "gamma", "shape": 2},
        {"dist": "empirical", "values": [1, 2], "weights": [1]},
        {"dist": "exponential", "mean": 0},
        {"dist": "lognormal"},
    ],
)
def test_bad_specs_rejected(spec):
    with pytest.raises(ValueError):
        ADAPTER.validate_python(spec)
