"""Random streams: independent of worker layout, keyed for common random numbers."""

import numpy as np

from clinicflow.streams import keyed_generator, replication_sequence, replication_sequences


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
