"""Streaming quantile histogram with bounded memory and a stated relative error.

Values (seconds, or any positive quantity) fall into log-spaced buckets: bucket ``k >= 1``
covers ``[lo * g^(k-1), lo * g^k)`` with ``g = (1 + e) / (1 - e)``; bucket 0 holds values
below ``lo`` (including 0) and the last bucket values at or above ``hi``. A quantile is
reported as ``2 lo g^(k-1) g / (1 + g)``, the point of the bucket whose relative distance to
both edges is ``e`` — so every reported quantile is within relative error ``e`` of a value
that the exact (order statistic) quantile estimator could return, for values in
``[lo, hi)`` (the DDSketch construction). Values below ``lo`` are reported as ``lo / 2`` (absolute
error < ``lo``); values at or above ``hi`` are clamped.

Defaults: ``e = 0.5%``, ``lo = 1 us``, ``hi = 1e5 s`` -> ~2,300 buckets (18 KiB) regardless of
how many values are added. ``count``/``mean`` are exact (an exact running sum is kept).

A bucket is decided by comparisons with its exact lower edges (``edges[k] = lo g^(k-1)``,
``edges[0] = 0``), never by rounding a logarithm, so every way of filling a histogram (numpy
here, the compiled request kernel, its plain-Python twin) puts a value in the same bucket. The
kernel finds the bucket without a logarithm: ``lut`` gives, for the binary exponent and the top
bits of the mantissa of a value (:data:`LUT_SUB` slots per power of two, from ``2^lut_e0``),
the bucket of the slot's lower end; at most a few edge comparisons finish the search
(``_bucket`` in :mod:`smsim.core._kernel_numba`). The layout
is plain arrays (``counts``, ``edges``, ``lut``) so the kernel adds into it without calling
Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["LUT_SUB", "LogHistogram", "bucket_index"]

#: Lookup slots per power of two (a slot spans at most 1/LUT_SUB relative width).
LUT_SUB = 128


def bucket_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bucket of each value: the last ``k`` with ``edges[k] <= x`` (0 below ``lo``, for 0 and
    for NaN), at most the last bucket."""
    x = np.asarray(x, dtype=np.float64)
    k = np.searchsorted(edges, x, side="right") - 1
    k = np.where(np.isnan(x), 0, k)
    return np.clip(k, 0, edges.size - 1).astype(np.int64)


@dataclass
class LogHistogram:
    """Bounded-memory histogram; ``relative_error`` is the stated quantile accuracy."""

    relative_error: float = 0.005
    lo: float = 1e-6
    hi: float = 1e5
    counts: np.ndarray = field(init=False, repr=False)
    total: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        if not 0 < self.relative_error < 0.5:
            raise ValueError(f"relative_error must be in (0, 0.5), found {self.relative_error}")
        if not 0 < self.lo < self.hi:
            raise ValueError(f"need 0 < lo < hi, found lo={self.lo}, hi={self.hi}")
        self.gamma = (1 + self.relative_error) / (1 - self.relative_error)
        self.log_lo = math.log(self.lo)
        self.inv_log_g = 1.0 / math.log(self.gamma)
        n = math.ceil((math.log(self.hi) - self.log_lo) * self.inv_log_g) + 2
        self.counts = np.zeros(n, dtype=np.int64)
        self.edges = np.zeros(n)
        self.edges[1:] = self.lo * self.gamma ** np.arange(n - 1, dtype=np.float64)
        # Slots from 2^(lut_e0 - 1) (below lo: bucket 0) to past the last edge.
        self.lut_e0 = math.frexp(self.lo)[1] - 1
        e1 = math.frexp(self.edges[-1])[1] + 1
        slot_lo = np.ldexp(0.5 + np.arange(LUT_SUB) / (2 * LUT_SUB), 0)
        starts = np.concatenate([slot_lo * 2.0**e for e in range(self.lut_e0, e1 + 1)])
        self.lut = bucket_index(starts, self.edges)

    @property
    def n_buckets(self) -> int:
        return int(self.counts.size)

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    @property
    def mean(self) -> float:
        n = self.count
        return self.total / n if n else math.nan

    def add(self, values: np.ndarray) -> None:
        """Add an array of non-negative values."""
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size == 0:
            return
        idx = bucket_index(values, self.edges)
        self.counts += np.bincount(idx, minlength=self.n_buckets)
        self.total += float(values.sum())

    def merge(self, other: LogHistogram) -> LogHistogram:
        """Add ``other`` into this histogram (same layout required); returns self."""
        if (self.relative_error, self.lo, self.hi) != (other.relative_error, other.lo, other.hi):
            raise ValueError("cannot merge histograms with different bucket layouts")
        self.counts += other.counts
        self.total += other.total
        return self

    def copy(self) -> LogHistogram:
        h = LogHistogram(self.relative_error, self.lo, self.hi)
        h.counts = self.counts.copy()  # the layout arrays are equal by construction
        h.total = self.total
        return h

    def representative(self) -> np.ndarray:
        """The value reported for each bucket (seconds)."""
        k = np.arange(self.n_buckets, dtype=np.float64)
        upper = np.exp(self.log_lo + k / self.inv_log_g)
        rep = upper * 2.0 / (1.0 + self.gamma)
        rep[0] = self.lo / 2.0
        return rep

    def quantile(self, q: float | np.ndarray) -> float | np.ndarray:
        """Quantile(s) by the lower order statistic: the value of rank ``floor(q (n - 1))``."""
        return quantiles_from_counts(self.counts, self.representative(), q)

    def summary(self) -> dict[str, float]:
        """count, mean, p50, p90, p99, p99.9 (seconds)."""
        qs = self.quantile(np.array([0.5, 0.9, 0.99, 0.999]))
        return {
            "count": float(self.count),
            "mean": self.mean,
            "p50": float(qs[0]),
            "p90": float(qs[1]),
            "p99": float(qs[2]),
            "p999": float(qs[3]),
        }


def quantiles_from_counts(
    counts: np.ndarray, representative: np.ndarray, q: float | np.ndarray
) -> float | np.ndarray:
    """Quantiles from bucket counts; ``counts`` may be 2-D (one row per window)."""
    scalar = np.ndim(q) == 0
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"quantiles must be in [0, 1], found {q}")
    counts = np.asarray(counts)
    cum = np.cumsum(counts, axis=-1)
    n = cum[..., -1:]
    rank = np.floor(qs * np.maximum(n - 1, 0))  # broadcast over rows
    out = np.empty(cum.shape[:-1] + qs.shape)
    if cum.ndim == 1:
        idx = np.searchsorted(cum, rank, side="right")
        out[:] = representative[np.minimum(idx, representative.size - 1)]
        if n[0] == 0:
            out[:] = math.nan
    else:
        for r in range(cum.shape[0]):
            idx = np.searchsorted(cum[r], rank[r], side="right")
            out[r] = representative[np.minimum(idx, representative.size - 1)]
        out[n[:, 0] == 0] = math.nan
    return float(out[0]) if scalar and cum.ndim == 1 else out
