"""Arrivals per minute of a workload, for the fluid tier and predictive scaling.

* synthetic generators expecting at most :data:`EXACT_MAX_REQUESTS` requests over the horizon:
  the generator's own arrivals, streamed chunk by chunk from the same random stream the request
  tier uses and counted per minute, so for one seed both tiers see the very same traffic;
* larger synthetic workloads, without materializing requests: ``poisson`` / ``seasonal`` a
  Poisson count of the rate's integral over each minute (midpoint rule); ``mmpp`` the hidden
  two-state path drawn exactly, its rate integrated over each minute, then a Poisson count;
* recorded traces and mixes: materialized once and counted per minute. Arrivals less than
  :data:`BATCH_TOL_S` apart form a batch (see :mod:`smsim.resources.realtime.fluid`).
"""

from __future__ import annotations

import numpy as np

from smsim.workload.arrivals import ArrivalProcess, MMPPArrivals
from smsim.workload.spec import materialize

#: Up to this many expected requests (a day at ~23 per second), synthetic arrivals are generated
#: exactly and counted (about 0.4 us per request; the rate-integral path costs ~0.3 us per minute).
EXACT_MAX_REQUESTS = 2e6


#: Arrivals closer than this (s) are one batch.
BATCH_TOL_S = 1e-3



def minute_counts(workload, rng: np.random.Generator, n_minutes: int, horizon_s: float, start,
                  base_dir=None, exact_max_requests: float = EXACT_MAX_REQUESTS,
                  times: list[np.ndarray] | None = None) -> tuple[np.ndarray, float, object | None]:
    """``(arrivals per minute, arrival scv within a minute, a trace sample or None)``.

    When ``times`` is a list and the arrivals are materialized (generated exactly or a trace),
    their sorted arrival times (s) are appended to it, for models that look inside a minute.
    """
    edges = np.arange(n_minutes + 1) * 60.0
    edges[-1] = min(edges[-1], horizon_s)
    lo, width = edges[:-1], np.diff(edges)
    if isinstance(workload, MMPPArrivals):
        p = workload.scaled(getattr(workload, "rate_scale", 1.0))
        if p.expected_count(horizon_s) <= exact_max_requests:
            return _exact_counts(p, rng, n_minutes, horizon_s, start, times)
        lam = _mmpp_minute_integrals(p, rng, edges)
        return rng.poisson(lam).astype(np.float64), 1.0, None
    if isinstance(workload, ArrivalProcess):
        p = workload.scaled(getattr(workload, "rate_scale", 1.0))
        lam = np.maximum(p.rate(lo + width / 2.0, start) * width, 0.0)
        if lam.sum() <= exact_max_requests:
            return _exact_counts(p, rng, n_minutes, horizon_s, start, times)
        return rng.poisson(lam).astype(np.float64), 1.0, None
    trace = materialize(workload, rng, horizon_s, start, base_dir)
    t = trace.arrival_s
    if times is not None:
        times.append(np.asarray(t, dtype=np.float64))
    counts = np.bincount((t // 60.0).astype(np.int64), minlength=n_minutes)[:n_minutes].astype(np.float64)
    first = _batch_starts(t)
    return counts, _local_scv(t[first == np.arange(t.size)]), trace



def _batch_starts(t: np.ndarray) -> np.ndarray:
    """Index of the first arrival of each arrival's batch (sorted ``t``; gaps <= BATCH_TOL_S)."""
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(t.size, dtype=np.bool_)
    new[1:] = np.diff(t) > BATCH_TOL_S
    return np.maximum.accumulate(np.where(new, np.arange(t.size), 0))



def batch_positions(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(minute, position, count)`` of arrivals at positions ``>= 1`` in their batch, by minute."""
    first = _batch_starts(t)
    pos = np.arange(t.size) - first
    keep = pos >= 1
    if not keep.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    width = int(pos.max()) + 1
    key = (t[first[keep]] // 60.0).astype(np.int64) * width + pos[keep]
    u, cnt = np.unique(key, return_counts=True)
    return u // width, u % width, cnt.astype(np.float64)



def _exact_counts(p: ArrivalProcess, rng, n_minutes, horizon_s, start,
                  times: list[np.ndarray] | None = None) -> tuple[np.ndarray, float, object]:
    """Per-minute counts of the (scaled) generator's own arrivals, streamed as the request tier
    streams them (:func:`smsim.workload.spec.iter_chunks` with the default chunks)."""
    counts = np.zeros(n_minutes)
    first = None
    for chunk in p.iter_chunks(rng, horizon_s, None, start):
        if first is None and len(chunk.arrival_s):
            first = chunk
        m = (chunk.arrival_s // 60.0).astype(np.int64)
        if times is not None:
            times.append(np.asarray(chunk.arrival_s, dtype=np.float64))
        counts += np.bincount(m, minlength=n_minutes)[:n_minutes]
    return counts, 1.0, first



def _mmpp_minute_integrals(p: MMPPArrivals, rng: np.random.Generator, edges: np.ndarray) -> np.ndarray:
    """The integral of an MMPP's (random) rate over each interval ``[edges[k], edges[k+1])``."""
    m0, m1 = p.mean_sojourn_s
    horizon = float(edges[-1])
    state = int(rng.random() >= m0 / (m0 + m1))
    n_guess = int(2 * horizon / (m0 + m1) * 2 + 32)
    ends, states = [], []
    t = 0.0
    while t < horizon:
        d = rng.exponential(1.0, n_guess) * np.where((state + np.arange(n_guess)) % 2 == 0, m0, m1)
        e = t + np.cumsum(d)
        ends.append(e)
        states.append((state + np.arange(n_guess)) % 2)
        state = int((state + n_guess) % 2)
        t = float(e[-1])
    end = np.concatenate(ends)
    st = np.concatenate(states)
    n_seg = int(np.searchsorted(end, horizon, side="left")) + 1
    end, st = np.minimum(end[:n_seg], horizon), st[:n_seg]
    begin = np.concatenate([[0.0], end[:-1]])
    rates = np.asarray(p.rates_per_s, dtype=np.float64)[st]
    cum_t = np.concatenate([[0.0], end])
    cum_mass = np.concatenate([[0.0], np.cumsum(rates * (end - begin))])
    return np.diff(np.interp(edges, cum_t, cum_mass))



def _local_scv(t: np.ndarray) -> float:
    """scv of inter-arrival gaps after dividing each by the mean gap of its minute."""
    if t.size < 3:
        return 1.0
    gaps = np.diff(t)
    minute = (t[1:] // 60.0).astype(np.int64)
    sums = np.bincount(minute, weights=gaps)
    counts = np.bincount(minute)
    mean = sums[minute] / counts[minute]
    ok = (mean > 0) & (counts[minute] >= 5)
    if ok.sum() < 10:
        return 1.0
    x = gaps[ok] / mean[ok]
    return float(min(max(x.var() / x.mean() ** 2, 0.05), 50.0))
