"""The kernel against queueing theory, with tolerances from batch-means confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from smsim import queueing as q
from smsim import rng as streams
from smsim.core.kernel import Kernel, KernelConfig, Records

BATCHES = 20
T_CRIT = float(stats.t.ppf(0.995, BATCHES - 1))  # two-sided 99% interval


def batch_ci(x: np.ndarray) -> tuple[float, float]:
    """(mean, half-width of the 99% interval) from ``BATCHES`` batch means (warm-up dropped)."""
    x = np.asarray(x, dtype=np.float64)[len(x) // 50 :]
    means = np.array([b.mean() for b in np.array_split(x, BATCHES)])
    return float(means.mean()), T_CRIT * float(means.std(ddof=1)) / np.sqrt(BATCHES)


def run(n, lam, services, *, instances, conc, routing="shared", seed=1, chunk_s=60.0):
    arr = np.cumsum(streams.stream(seed, "v", "arrivals").exponential(1 / lam, n))
    horizon = float(np.ceil(arr[-1] / chunk_s + 2) * chunk_s)
    k = Kernel(
        KernelConfig(horizon_s=horizon, concurrency=conc, routing=routing, timeout_s=np.inf,
                     record=True, window_s=chunk_s),
        rng=streams.stream(seed, "v", "routing"),
    )
    k.add_instances(instances, 0.0)
    parts = []
    edges = np.arange(0.0, horizon + chunk_s, chunk_s)
    cuts = np.searchsorted(arr, edges)
    for j in range(1, len(edges)):
        parts.append(k.advance(arr[cuts[j - 1] : cuts[j]], services[cuts[j - 1] : cuts[j]], edges[j]))
    rec = Records.concat(parts)
    return k, arr, rec


def test_mmc_wait_utilization_and_littles_law():
    lam, mu, c, n = 6.4, 1.0, 8, 300_000
    svc = streams.stream(1, "v", "service").exponential(1 / mu, n)
    k, arr, rec = run(n, lam, svc, instances=4, conc=2)
    wait = rec.start_s - arr
    m, h = batch_ci(wait)
    assert abs(m - q.mmc_wq(lam, mu, c)) <= h, (m, h, q.mmc_wq(lam, mu, c))
    m, h = batch_ci(wait > 0)
    assert abs(m - q.mmc_p_wait(lam, mu, c)) <= h, (m, h, q.mmc_p_wait(lam, mu, c))
    # Utilization from the kernel's busy/capacity integrals, batch means over minutes.
    w = k.windows()
    full = w[w.window_start_s + 60 <= arr[-1]]
    m, h = batch_ci(full.busy_server_s / full.capacity_server_s)
    assert abs(m - q.utilization(lam, mu, c)) <= h, (m, h)
    # Little's law on the sample path: time-average number in system (busy + waiting
    # integrals) equals arrival rate times mean response, exactly when every request is done.
    c_ = k.counts()
    assert c_["served"] == n and c_["queued"] == 0 and c_["in_service"] == 0
    horizon = k.clock_s
    area = w.busy_server_s.sum() + k.win[8, len(w):].sum() + w.waiting_request_s.sum()
    assert area / horizon == pytest.approx((n / horizon) * c_["mean_response_s"], rel=1e-9)
    # The streaming histogram reproduces the response-time quantiles within its 0.5%.
    resp = rec.end_s - arr
    for p in (0.5, 0.9, 0.99):
        exact = np.quantile(resp, p, method="lower")
        assert k.hist.quantile(p) == pytest.approx(exact, rel=0.005)
    # ... and the theoretical M/M/c p99 response time is inside the batch-means interval.
    m, h = batch_ci(resp > q.mmc_response_quantile(lam, mu, c, 0.99))
    assert abs(m - 0.01) <= h


def test_md1_matches_pollaczek_khinchine():
    lam, n = 0.7, 200_000
    _k, arr, rec = run(n, lam, np.ones(n), instances=1, conc=1, seed=2)
    m, h = batch_ci(rec.start_s - arr)
    assert abs(m - q.md1_wq(lam, 1.0)) <= h, (m, h, q.md1_wq(lam, 1.0))


def test_random_routing_is_independent_mmc_queues():
    # 4 instances x 2 slots, random routing: each instance is M/M/2 with lam / 4.
    lam, mu, n = 6.0, 1.0, 200_000
    svc = streams.stream(3, "v", "service").exponential(1 / mu, n)
    _k, arr, rec = run(n, lam, svc, instances=4, conc=2, routing="random", seed=3)
    assert np.bincount(rec.instance, minlength=4).min() > 0.24 * n
    m, h = batch_ci(rec.start_s - arr)
    theory = q.mmc_wq(lam / 4, mu, 2)
    assert abs(m - theory) <= h, (m, h, theory)
    # Least-outstanding routing sits between random routing and one shared queue.
    _, arr2, lor = run(n, lam, svc, instances=4, conc=2, routing="least_outstanding", seed=3)
    m_lor, h_lor = batch_ci(lor.start_s - arr2)
    assert q.mmc_wq(lam, mu, 8) - h_lor <= m_lor <= theory - h - h_lor
