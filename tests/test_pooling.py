"""Partial pooling of per-type rates (``clinicflow.data.pooling``): exact cases, and on simulated
practices with known rates it estimates the prior's weight and beats the raw rates."""

from __future__ import annotations

import numpy as np
import pytest

from clinicflow.data.pooling import MAX_WEIGHT, pool_rates


def test_hand_computed_weight_and_rates():
    # two types: 10/100 and 40/100; p = 0.25; sum n (r - p)^2 / (p (1 - p)) = 4.5 / 0.1875 = 24;
    # rho = (24 - 1) / (200 - 20000 / 200) = 0.23; m = 1 / 0.23 - 1
    res = pool_rates([10, 40], [100, 100])
    m = 1 / 0.23 - 1
    assert res.practice_rate == pytest.approx(0.25)
    assert res.weight == pytest.approx(m)
    assert res.rates == pytest.approx([(10 + 0.25 * m) / (100 + m), (40 + 0.25 * m) / (100 + m)])


def test_zero_events_in_a_small_type_is_not_a_zero_rate():
    res = pool_rates([0, 300, 500], [32, 2000, 3000])
    assert 0.01 < res.rates[0] < res.practice_rate  # drawn in from 0, not to the practice's rate
    assert res.rates[1] == pytest.approx(300 / 2000, abs=2e-3) and res.rates[2] == pytest.approx(
        500 / 3000, abs=2e-3
    )


def test_nothing_to_pool_with():
    assert pool_rates([3], [40]).rates == pytest.approx([3 / 40])  # one type: its own rate
    none = pool_rates([0, 0], [50, 80])  # a practice rate of 0: nothing to lean on
    assert none.weight == 0 and none.rates == pytest.approx([0, 0])
    same = pool_rates([10, 20, 30], [100, 200, 300])  # no spread beyond noise: the practice's rate
    assert same.weight == MAX_WEIGHT and same.rates == pytest.approx([0.1, 0.1, 0.1])


def test_on_simulated_practices_it_recovers_the_weight_and_beats_raw_rates():
    """True type rates from Beta(a, b) with a + b = 40 (the prior's weight), 200 types of 30-300
    visits each: the estimated weight is within 25% of 40 in most practices, and the pooled rates'
    squared error is below the raw rates' in all but a few of 100 practices (fixed seed)."""
    rng = np.random.default_rng(11)
    a, b = 6.0, 34.0
    weights, wins = [], 0
    for _ in range(100):
        truth = rng.beta(a, b, 200)
        n = rng.integers(30, 301, 200)
        x = rng.binomial(n, truth)
        res = pool_rates(x, n)
        weights.append(res.weight)
        wins += np.mean((res.rates - truth) ** 2) < np.mean((x / n - truth) ** 2)
    assert np.median(weights) == pytest.approx(a + b, rel=0.25)
    assert wins >= 95
