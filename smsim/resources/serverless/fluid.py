"""The fluid (per-minute) form of a serverless endpoint: throttling, cold starts and per-ms
billing from each minute's arrival count, without simulating requests.

Per minute ``k`` with ``A`` arrivals (``lambda = A / 60``) and mean time in flight ``b``
(service, plus the cold start for the cold share, capped at the timeout):

* **In flight** ``N`` is an Erlang loss system: Poisson(``a = lambda b``) truncated at
  ``max_concurrency`` ``M``. An arrival finding ``M`` in flight is **throttled**: Erlang B
  ``B(M, a)`` (insensitive to the service distribution).
* **Cold starts.** An arrival runs warm when a container it can use is idle: one of the
  ``provisioned_concurrency`` ``P`` containers, or an on-demand one freed less than
  ``idle_reclaim_s`` ``R`` ago. Finding ``N = j >= P`` in flight, it is cold exactly when no
  more than ``j`` were in flight at once over the last ``R`` seconds (the pool is the window's
  maximum). The window is taken as ``R / b`` independent looks at each minute's ``N``:
  ``P(cold) = sum_j P(N = j) prod_i F_i(j)^(m_i)`` over the minutes ``i`` the window covers
  (``m_i`` their overlap over ``b_i``). For a trickle this is ``exp(-lambda (R + b))``, the
  chance that nothing ran in the window; under steady load, the chance of a new window peak.
  The pool's expected size, ``sum_j (1 - prod_i F_i(j)^(m_i))``, gives container-hours.
* **Timeouts and billing**: from the service and cold-start distributions (512 quantile points
  each): a request whose cold start plus service exceeds the timeout times out, billed up to
  it; billed time is rounded up to the millisecond, as the request tier does.

What it ignores: arrivals' timing inside a minute (a burst within a minute is spread over it),
and the correlation between successive minutes' in-flight counts beyond the window's looks.
``benchmarks/bench_fluid_error.py`` measures its error against the request tier.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Quantile points of the service and cold-start distributions.
N_POINTS = 512


@numba.njit(cache=True)
def _erlang_b(m, a):
    b = 1.0
    for k in range(1, m + 1):
        b = a * b / (k + a * b)
    return b


@numba.njit(cache=True)
def _log_cdf(a, m, jmax, out):
    """``log P(N <= j)`` for ``j = 0..jmax`` of Poisson(``a``) truncated at ``m``."""
    if a <= 0.0:
        for j in range(jmax + 1):
            out[j] = 0.0
        return
    p = math.exp(-a)
    c = p
    q = p  # the truncated distribution's normaliser: P(Poisson <= m)
    tot = p
    for j in range(1, m + 1):
        q *= a / j
        tot += q
    norm = tot
    for j in range(jmax + 1):
        if j > 0:
            p *= a / j
            c += p
        out[j] = math.log(min(c / norm, 1.0)) if c > 0.0 else -1e300


@numba.njit(cache=True)
def minutes(arrivals, busy_warm, busy_cold, m, prov, reclaim_s, out):
    """Per minute: ``out[:, k]`` = (throttle probability, P(cold | not throttled), P(provisioned |
    not throttled), expected pool of on-demand containers, mean in flight ``a``).

    The window's earlier minutes enter through their log-CDFs, kept in a ring of the last
    ``ceil(reclaim_s / 60) + 1`` minutes, so a minute costs O(window x m)."""
    n = arrivals.shape[0]
    n_ring = int(math.ceil(reclaim_s / 60.0)) + 2
    ring = np.zeros((n_ring, m + 1))  # looks x log P(N <= j) of earlier minutes
    own = np.zeros(m + 1)
    prev = np.zeros(m + 1)
    pj = np.zeros(m + 1)
    p_cold = 1.0
    for k in range(n):
        # the earlier minutes of the window: [t - reclaim_s, t) with t this minute's middle
        for j in range(m + 1):
            prev[j] = 0.0
        left = reclaim_s - 30.0
        i = k - 1
        while left > 0.0 and i >= 0 and k - i < n_ring:
            take = min(60.0, left)
            r = ring[i % n_ring]
            f = take / 60.0
            for j in range(m + 1):
                prev[j] += f * r[j]
            left -= take
            i -= 1
        lam = arrivals[k] / 60.0
        a = 0.0
        b = busy_warm
        if lam > 0.0:
            for _ in range(3):  # the cold share lengthens the time in flight
                b = busy_warm + p_cold * (busy_cold - busy_warm)
                a = lam * b
                jmax = min(m - 1, int(a + 8.0 * math.sqrt(a) + 10.0))
                _log_cdf(a, m, jmax, own)
                x = math.exp(-a)
                tot = 0.0
                cold = 0.0
                provisioned = 0.0
                for j in range(jmax + 1):
                    if j > 0:
                        x *= a / j
                    pj[j] = x
                    tot += x
                    w = math.exp(prev[j] + 30.0 / b * own[j])
                    if j < prov:
                        provisioned += x
                    else:
                        cold += x * w
                p_cold = cold / tot if tot > 0.0 else 0.0
                out[2, k] = provisioned / tot if tot > 0.0 else 0.0
        # this minute in the ring: 60 s of looks at its own N
        r = ring[k % n_ring]
        if a > 0.0:
            _log_cdf(a, m, m, own)
            for j in range(m + 1):
                r[j] = 60.0 / b * own[j]
        else:
            for j in range(m + 1):
                r[j] = 0.0
        pool = 0.0
        for j in range(m):
            w = math.exp(prev[j] + (30.0 / b * own[j] if a > 0.0 else 0.0))
            pool += 1.0 - w
            if w > 1.0 - 1e-12:
                break
        out[0, k] = _erlang_b(m, a) if a > 0.0 else 0.0
        out[1, k] = p_cold if a > 0.0 else 0.0
        out[3, k] = max(pool - prov, 0.0)
        out[4, k] = a


def points(profile, rng: np.random.Generator, n: int = N_POINTS, draws: int = 100_000) -> np.ndarray:
    """Equal-probability quantile points of a latency profile (from ``draws`` samples)."""
    x = profile.base().sample(rng, draws)
    return np.quantile(x, (np.arange(n) + 0.5) / n)


def billed_ms(run_s: np.ndarray) -> np.ndarray:
    """Billed seconds: rounded up to the millisecond (as :mod:`smsim.resources.serverless.pool`)."""
    return np.ceil(np.round(run_s * 1000.0, 6)) / 1000.0


__all__ = ["billed_ms", "minutes", "points"]
