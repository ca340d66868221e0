"""Named, reproducible random streams.

One seed per run; every consumer asks for a stream by a stable name path (for example
``("endpoint", "chat", "arrivals")``). Streams are derived from ``numpy.random.SeedSequence``
with a spawn key hashed from the name, so adding a new stream never shifts the others, and the
same (seed, name) gives the same numbers in any process or executor.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key(name: tuple[str, ...]) -> tuple[int, ...]:
    digest = hashlib.blake2b("/".join(name).encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def seed_sequence(seed: int, *name: str) -> np.random.SeedSequence:
    """The SeedSequence for ``name`` under run ``seed``."""
    return np.random.SeedSequence(entropy=int(seed), spawn_key=_key(tuple(str(n) for n in name)))


def stream(seed: int, *name: str) -> np.random.Generator:
    """A fresh PCG64 generator for ``name`` under run ``seed``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *name)))


def replication_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent run seeds for replications of one scenario (common across variants)."""
    children = np.random.SeedSequence(int(seed)).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children]
