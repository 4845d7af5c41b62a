"""Random streams: every draw in clinicflow comes from here.

One ``SeedSequence`` per run; replication ``r`` gets ``SeedSequence(seed).spawn(n)[r]`` so results do
not depend on how replications are spread over workers. Inside a replication, draws that belong to
something with an identity (a patient slot, a surgical case) come from a generator keyed by that
identity, so two scenarios run on the same seed give the same patient the same punctuality,
show/no-show and durations: common random numbers, and a paired comparison, for free.
"""

from __future__ import annotations

import hashlib

import numpy as np


def replication_sequences(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Independent sequences for replications 0..n-1 (stable for a given seed, whatever n's split)."""
    return np.random.SeedSequence(seed).spawn(n)


def replication_sequence(seed: int, r: int) -> np.random.SeedSequence:
    """Sequence of replication ``r`` alone: equal to ``replication_sequences(seed, n)[r]`` for any n > r."""
    return np.random.SeedSequence(seed, spawn_key=(r,))


def _key_words(key: tuple) -> tuple[int, ...]:
    digest = hashlib.blake2b("\x1f".join(map(str, key)).encode(), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def keyed_sequence(parent: np.random.SeedSequence, *key: object) -> np.random.SeedSequence:
    """A child sequence determined by ``parent`` and a stable key (e.g. ("patient", date, provider, start))."""
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, *_key_words(key)))


def keyed_generator(parent: np.random.SeedSequence, *key: object) -> np.random.Generator:
    """A generator for the draws of one identified thing (a patient, a case, a source of walk-ins)."""
    return np.random.default_rng(keyed_sequence(parent, *key))
