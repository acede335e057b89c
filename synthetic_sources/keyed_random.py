"""Random draws keyed by a record's identity rather than by its position in a stream.

A source writer must give a record the same defects (a typo, a swapped date, a late arrival)
whether the world was generated to last night or to tonight, and whatever else exists. Drawing
from a sequential stream would tie a record's fate to how many records came before it, so
instead every draw is a pure function of ``(seed, salt, key)``: a splitmix64 hash, vectorised.
"""

from __future__ import annotations

import hashlib

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _salt_value(seed: int, salt: str) -> np.uint64:
    digest = hashlib.blake2b(f"{seed}:{salt}".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def hashes(seed: int, salt: str, keys) -> np.ndarray:
    """64-bit hashes of ``keys`` (integers), one independent family per ``(seed, salt)``."""
    k = np.asarray(keys, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        return _mix(_mix(k) ^ _salt_value(seed, salt))


def uniform(seed: int, salt: str, keys) -> np.ndarray:
    """Uniform floats in [0, 1), one per key."""
    return (hashes(seed, salt, keys) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def integers(seed: int, salt: str, keys, low: int, high: int) -> np.ndarray:
    """Integers in [low, high), one per key."""
    return low + np.floor(uniform(seed, salt, keys) * (high - low)).astype(np.int64)


def bernoulli(seed: int, salt: str, keys, p) -> np.ndarray:
    """Booleans that are true with probability ``p`` (scalar or per key)."""
    return uniform(seed, salt, keys) < np.asarray(p, dtype=np.float64)


def choice(seed: int, salt: str, keys, options, p=None) -> np.ndarray:
    """One of ``options`` per key, with probabilities ``p`` (default equal)."""
    options = np.asarray(options)
    if p is None:
        idx = integers(seed, salt, keys, 0, len(options))
    else:
        cdf = np.cumsum(np.asarray(p, dtype=np.float64))
        cdf /= cdf[-1]
        idx = np.minimum(np.searchsorted(cdf, uniform(seed, salt, keys), side="right"), len(options) - 1)
    return options[idx]


def normal(seed: int, salt: str, keys) -> np.ndarray:
    """Standard normal draws (Box-Muller on two keyed uniforms)."""
    u1 = np.maximum(uniform(seed, salt + "#1", keys), 1e-300)
    u2 = uniform(seed, salt + "#2", keys)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
