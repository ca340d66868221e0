"""Streaming histogram error bound, service-time profile moments, and window metrics."""

from __future__ import annotations

import numpy as np
import pytest

from smsim import rng as streams
from smsim.core import latency
from smsim.core.histogram import LogHistogram
from smsim.core.kernel import Kernel, KernelConfig

QS = np.array([0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0])


@pytest.mark.parametrize("err", [0.01, 0.005])
def test_histogram_meets_its_stated_relative_error(err):
    g = streams.stream(1, "hist")
    x = np.concatenate([g.lognormal(-3.0, 1.5, 200_000), g.exponential(20.0, 1000)])
    h = LogHistogram(relative_error=err)
    for part in np.array_split(x, 7):  # streamed in chunks
        h.add(part)
    exact = np.quantile(x, QS, method="lower")
    got = h.quantile(QS)
    assert np.all(np.abs(got - exact) <= err * exact + 1e-15)
    assert h.count == x.size and h.mean == pytest.approx(x.mean(), rel=1e-12)
    assert h.n_buckets < 3000  # bounded, independent of the number of values


def test_histogram_merge_equals_single_pass():
    g = streams.stream(2, "hist")
    a, b = g.gamma(2.0, 0.1, 5000), g.gamma(2.0, 0.3, 7000)
    h1, h2, h = LogHistogram(), LogHistogram(), LogHistogram()
    h1.add(a)
    h2.add(b)
    h.add(np.concatenate([a, b]))
    np.testing.assert_array_equal(h1.merge(h2).counts, h.counts)
    assert set(h.summary()) == {"count", "mean", "p50", "p90", "p99", "p999"}
    assert np.isnan(LogHistogram().quantile(0.5))


PROFILES = [
    latency.Deterministic(value_s=0.25),
    latency.LogNormal(median_s=0.08, p99_s=0.4),
    latency.Gamma(mean=0.2, cv=0.5),
    latency.Gamma(mean=1.0, cv=1.0),
    latency.Empirical(samples_s=(0.1, 0.2, 0.2, 0.9)),
    latency.scaled(latency.LogNormal(median_s=0.08, p99_s=0.4), 1.6),
]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: type(p).__name__)
def test_every_profile_declares_its_moments(profile):
    n = 400_000
    x = profile.sample(streams.stream(3, "svc"), n)
    assert x.shape == (n,) and np.all(x >= 0)
    se = np.sqrt(profile.var_s2 / n)
    assert abs(x.mean() - profile.mean_s) <= 5 * se + 1e-12
    # Variance: 5 standard errors of the sample variance (via the 4th moment).
    m4 = np.mean((x - x.mean()) ** 4)
    se_var = np.sqrt(max(m4 - x.var() ** 2, 0.0) / n)
    assert abs(x.var() - profile.var_s2) <= 5 * se_var + 1e-12
    assert profile.scv == pytest.approx(profile.var_s2 / profile.mean_s**2 if profile.mean_s else 0)


def test_lognormal_quantiles_speedup_and_tokens():
    p = latency.LogNormal(median_s=0.1, p99_s=0.5, per_unit_s=0.002)
    x = p.sample(streams.stream(4, "svc"), 200_000)
    assert np.quantile(x, 0.5) == pytest.approx(0.1, rel=0.02)
    assert np.quantile(x, 0.99) == pytest.approx(0.5, rel=0.05)
    fast = latency.scaled(p, 2.0)
    assert fast.mean_s == pytest.approx(p.mean_s / 2) and fast.scv == pytest.approx(p.scv)
    tokens = np.full(10, 100.0)
    y = p.sample(streams.stream(4, "svc"), 10, tokens=tokens)
    np.testing.assert_allclose(y - x[:10], 0.2)
    assert latency.moments_with_tokens(p, 100.0, 25.0) == pytest.approx(
        (p.mean_s + 0.2, p.var_s2 + 0.002**2 * 25.0))
    assert latency.Gamma(mean=0.2, cv=1.0).scv == pytest.approx(1.0)


def test_window_metrics_count_what_happened_where():
    k = Kernel(KernelConfig(horizon_s=180.0, concurrency=1, timeout_s=10.0, queue_limit=1,
                            window_s=60.0, window_histograms=True, backend="python"))
    k.add_instances(1, 0.0)
    # t=10: served 10..15; t=11: waits till 15, served 15..35 -> cut? no (deadline 21) -> cut at
    # 21; t=12: queue full (one waiting) -> dropped; t=70: served 70..71.
    k.advance(np.array([10.0, 11.0, 12.0]), np.array([5.0, 20.0, 1.0]), 60.0)
    k.advance(np.array([70.0]), np.array([1.0]), 120.0)
    w = k.windows()
    assert list(w.arrivals) == [3, 1] and list(w.dropped) == [1, 0]
    assert list(w.served) == [1, 1] and list(w.timed_out) == [1, 0]
    assert list(w.busy_server_s) == [11.0, 1.0] and list(w.capacity_server_s) == [60.0, 60.0]
    assert list(w.waiting_request_s) == [4.0, 0.0]
    assert list(w.in_flight_end) == [0, 0] and list(w.queue_end) == [0, 0]
    assert w.mean_response_s.tolist() == pytest.approx([5.0, 1.0], rel=0.01)
    assert k.window_quantiles(0.5)[:2] == pytest.approx([5.0, 1.0], rel=0.005)
    c = k.counts()
    assert (c["served"], c["timed_out_service"], c["dropped"]) == (2, 1, 1)
