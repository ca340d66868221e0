"""Synthetic arrival processes against their declared moments (STYLE lessons 5 and 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from smsim import rng as streams
from smsim.workload.arrivals import (
    Arrivals,
    MMPPArrivals,
    PoissonArrivals,
    SeasonalArrivals,
    Spike,
)
from smsim.workload.attributes import ConstantDist, EmpiricalDist, LognormalDist, RequestAttributes

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAY = 86400.0

# (generator, window length in seconds, chunk_s or None)
CASES = [
    pytest.param(PoissonArrivals(rate_per_s=2.0), 500.0, None, id="poisson"),
    pytest.param(PoissonArrivals(rate_per_s=2.0), 500.0, 23.0, id="poisson-small-chunks"),
    pytest.param(
        SeasonalArrivals(base_rate_per_s=0.01, daily_amplitude=0.7, peak_hour=9, weekend_factor=0.3,
                         time_zone="Europe/Paris", trend="linear", growth_pct_per_year=400,
                         spikes=[Spike(start_offset_s="2d", duration_s="30m", rate_multiplier=8)]),
        7 * DAY, None, id="seasonal-week",
    ),
    pytest.param(
        SeasonalArrivals(base_rate_per_s=0.5, daily_amplitude=1.0, peak_hour=3, trend="exponential",
                         growth_pct_per_year=-50),
        3 * 3600.0, None, id="seasonal-hours",
    ),
    pytest.param(MMPPArrivals(rates_per_s=(1.0, 20.0), mean_sojourn_s=(100, 20)), 2000.0, None, id="mmpp"),
    pytest.param(MMPPArrivals(rates_per_s=(1.0, 20.0), mean_sojourn_s=(100, 20)), 2000.0, 125.0,
                 id="mmpp-small-chunks"),
]


@pytest.mark.parametrize(("gen", "duration_s", "chunk_s"), CASES)
def test_counts_match_declared_mean_and_variance(gen, duration_s, chunk_s):
    """Over R = 100 independent windows, the count's mean and variance match the declared ones.

    Mean: |mean - E| < 4 sqrt(Var / R). Variance: (R - 1) s^2 / Var within the 0.01% and 99.99%
    quantiles of chi-square(R - 1) (counts are close to normal at these sizes).
    """
    reps = 100
    counts = np.array([
        sum(len(c) for c in gen.iter_chunks(streams.stream(7, "case", str(r)), duration_s, chunk_s, START))
        for r in range(reps)
    ])
    mean, var = gen.expected_count(duration_s, START), gen.count_variance(duration_s, START)
    assert abs(counts.mean() - mean) < 4 * np.sqrt(var / reps), (counts.mean(), mean)
    stat = (reps - 1) * counts.var(ddof=1) / var
    assert stats.chi2.ppf(1e-4, reps - 1) < stat < stats.chi2.ppf(1 - 1e-4, reps - 1), (counts.var(ddof=1), var)


@pytest.mark.parametrize(
    "gen",
    [PoissonArrivals(rate_per_s=3.0),
     SeasonalArrivals(base_rate_per_s=3.0, daily_amplitude=0.4, weekend_factor=0.5, time_zone="Asia/Kolkata"),
     MMPPArrivals(rates_per_s=(2.0, 9.0), mean_sojourn_s=(30, 10))],
)
def test_declared_long_run_mean_rate_is_the_weekly_average(gen):
    """With no trend or spike, the expected count over whole weeks is mean_rate_per_s x duration."""
    week = 7 * DAY
    assert gen.expected_count(4 * week, START) == pytest.approx(gen.mean_rate_per_s * 4 * week, rel=1e-6)


def test_poisson_does_not_run_fast():
    """10^6 expected arrivals: the count within 4 sigma (0.4%) and exponential gaps (KS test)."""
    gen = PoissonArrivals(rate_per_s=1000.0)
    trace = gen.generate(streams.stream(1, "fast"), 1000.0)
    assert abs(len(trace) - 1e6) < 4 * 1000
    gaps = np.diff(trace.arrival_s)
    assert gaps.min() >= 0
    assert stats.kstest(gaps[:20000] * 1000.0, "expon").pvalue > 1e-4
    assert gaps.mean() == pytest.approx(1e-3, rel=4 / 1000)


def test_seasonal_peak_at_the_local_hour_and_weekend_factor():
    gen = SeasonalArrivals(base_rate_per_s=1.0, daily_amplitude=0.8, peak_hour=15.5, weekend_factor=0.25,
                           time_zone="America/New_York")
    trace = gen.generate(streams.stream(2, "season"), 14 * DAY, START)
    local_h = ((trace.arrival_s + START.timestamp() - 5 * 3600) % DAY) / 3600  # January: UTC-5
    assert np.bincount(local_h.astype(int), minlength=24).argmax() == 15
    angle = np.angle(np.exp(2j * np.pi * local_h / 24).mean())
    assert (angle * 24 / (2 * np.pi)) % 24 == pytest.approx(15.5, abs=0.1)
    day = ((trace.arrival_s + START.timestamp() - 5 * 3600) // DAY).astype(np.int64)
    weekday = (day + 3) % 7
    per_day = np.bincount(weekday, minlength=7) / 2  # two of each weekday
    assert per_day[5:].mean() / per_day[:5].mean() == pytest.approx(0.25, rel=0.03)


def test_same_seed_same_trace_and_chunks_equal_generate():
    gen = MMPPArrivals(rates_per_s=(1.0, 10.0), mean_sojourn_s=(60, 10),
                       attributes=RequestAttributes(input_tokens=LognormalDist(median=500, p99=4000)))
    a = gen.generate(streams.stream(3, "x"), 3600.0)
    b = gen.generate(streams.stream(3, "x"), 3600.0)
    c = gen.generate(streams.stream(4, "x"), 3600.0)
    assert np.array_equal(a.arrival_s, b.arrival_s) and np.array_equal(a.input_tokens, b.input_tokens)
    assert len(a) != len(c) or not np.array_equal(a.arrival_s, c.arrival_s)
    chunks = list(gen.iter_chunks(streams.stream(3, "x"), 3600.0))
    assert np.array_equal(np.concatenate([ch.arrival_s for ch in chunks]), a.arrival_s)


def test_attributes_do_not_change_arrivals():
    plain = PoissonArrivals(rate_per_s=5.0)
    tokens = PoissonArrivals(rate_per_s=5.0, attributes=RequestAttributes(output_tokens=ConstantDist(value=7)))
    a = plain.generate(streams.stream(5, "a"), 100.0)
    b = tokens.generate(streams.stream(5, "a"), 100.0)
    assert np.array_equal(a.arrival_s, b.arrival_s)
    assert b.output_tokens is not None and set(b.output_tokens) == {7.0}


def test_chunks_cover_the_window_in_bounded_pieces():
    gen = PoissonArrivals(rate_per_s=100.0)
    chunks = list(gen.iter_chunks(streams.stream(6, "c"), 1000.0, chunk_s=300.0))
    assert [c.duration_s for c in chunks] == [300.0, 600.0, 900.0, 1000.0]
    for lo, c in zip([0, 300, 600, 900], chunks, strict=True):
        assert c.arrival_s.min() >= lo and c.arrival_s.max() < c.duration_s


def test_default_chunk_bounds_memory_for_large_traces():
    gen = PoissonArrivals(rate_per_s=1000.0)
    # 10^8 arrivals over ~28 h: chunks of ~10^6 arrivals each.
    assert gen.default_chunk_s(1e5) * 1000.0 <= 1.01e6


@pytest.mark.parametrize(
    "dist",
    [ConstantDist(value=3.0), LognormalDist(median=1000, p99=20000, integer=False),
     LognormalDist(median=200, p99=2000), EmpiricalDist(values=[1, 2, 2, 10])],
    ids=lambda d: d.kind,
)
def test_attribute_distributions_match_declared_moments(dist):
    x = dist.sample(streams.stream(8, "attr"), 400_000)
    slack = 0.5 if getattr(dist, "integer", False) else 0.0  # rounding moves the mean < 0.5
    assert abs(x.mean() - dist.mean) <= 5 * np.sqrt(dist.variance / x.size) + slack + 1e-12
    if isinstance(dist, LognormalDist):
        assert np.median(x) == pytest.approx(dist.median, rel=0.01)
        assert np.quantile(x, 0.99) == pytest.approx(dist.p99, rel=0.05)


def test_generators_embed_in_a_discriminated_union_and_refuse_bad_values():
    adapter = TypeAdapter(Arrivals)
    gen = adapter.validate_python({"kind": "mmpp", "rates_per_s": [1, 5], "mean_sojourn_s": ["5m", "30s"]})
    assert gen.mean_sojourn_s == (300.0, 30.0)
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Base'"):
        adapter.validate_python({"kind": "seasonal", "base_rate_per_s": 1, "time_zone": "Mars/Base"})
    with pytest.raises(ValidationError, match="needs trend 'linear' or 'exponential'"):
        adapter.validate_python({"kind": "seasonal", "base_rate_per_s": 1, "growth_pct_per_year": 10})
    with pytest.raises(ValidationError, match="p99 \\(10.0\\) must be greater than median \\(20.0\\)"):
        LognormalDist(median=20, p99=10)
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "poisson", "rate_per_s": 1, "rate": 2})


def test_scaled_generators_scale_their_mean_exactly():
    for gen in (PoissonArrivals(rate_per_s=2), SeasonalArrivals(base_rate_per_s=2, weekend_factor=0.5),
                MMPPArrivals(rates_per_s=(1, 4), mean_sojourn_s=(10, 5))):
        assert gen.scaled(2.5).mean_rate_per_s == pytest.approx(2.5 * gen.mean_rate_per_s)
