"""Random streams: independent of worker layout, keyed for common random numbers."""

import numpy as np

from clinicflow.streams import (
    KeyedStreams,
    key_words,
    keyed_generator,
    keyed_stream,
    replication_sequence,
    replication_sequences,
)


def test_replication_sequence_matches_spawn():
    seqs = replication_sequences(42, 10)
    for r in (0, 3, 9):
        a = np.random.default_rng(seqs[r]).random(5)
        b = np.random.default_rng(replication_sequence(42, r)).random(5)
        assert (a == b).all()


def test_keyed_generators_are_stable_and_distinct():
    ss = replication_sequence(1, 0)
    a = keyed_generator(ss, "patient", "2026-11-30", "dr_a", 480).random(3)
    b = keyed_generator(ss, "patient", "2026-11-30", "dr_a", 480).random(3)
    c = keyed_generator(ss, "patient", "2026-11-30", "dr_a", 500).random(3)
    d = keyed_generator(replication_sequence(1, 1), "patient", "2026-11-30", "dr_a", 480).random(3)
    assert (a == b).all()
    assert not np.allclose(a, c)
    assert not np.allclose(a, d)


def test_keyed_streams_are_the_standalone_streams_in_any_order():
    rep = replication_sequence(7, 2)
    keys = [("patient", "2026-11-30", "dr_a", 480, k) for k in range(5)] + [("walk-ins", "2026-11-30", 9)]
    want = {k: keyed_stream(rep, *k).random(8) for k in keys}
    ks = KeyedStreams(rep)
    for k in reversed(keys):  # the order keys are visited in does not matter
        assert (ks.at(key_words(*k)).random(8) == want[k]).all()
    # a stream does not depend on what was drawn before moving to it (Poisson uses several draws)
    ks.at(key_words(*keys[0])).poisson(30.0, 5)
    assert (ks.at(key_words(*keys[1])).random(8) == want[keys[1]]).all()
    # distinct keys, distinct replications: distinct draws
    rows = np.array(list(want.values()))
    assert len(np.unique(rows.round(12), axis=0)) == len(keys)
    assert not np.allclose(keyed_stream(replication_sequence(7, 3), *keys[0]).random(8), want[keys[0]])


def test_keyed_stream_draws_are_uniform():
    """Many keys' first draws pooled: uniform (Kolmogorov-Smirnov) and uncorrelated across columns."""
    from scipy import stats

    rep = replication_sequence(0, 0)
    ks = KeyedStreams(rep)
    u = np.array([ks.at(key_words("patient", i)).random(8) for i in range(4000)])
    assert stats.kstest(u[:, 0], "uniform").pvalue > 0.001
    assert stats.kstest(u.ravel(), "uniform").pvalue > 0.001
    c = np.corrcoef(u.T)[np.triu_indices(8, 1)]
    assert np.abs(c).max() < 4 / np.sqrt(4000)  # |r| of independent columns: sd 1/sqrt(n)
