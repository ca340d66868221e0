"""Trace transformations: rate scaling keeps the profile and the burstiness; windows; tiling; merging."""

from __future__ import annotations

import numpy as np
import pytest

from smsim import rng as streams
from smsim.workload.arrivals import MMPPArrivals, PoissonArrivals
from smsim.workload.request_trace import RequestTrace
from smsim.workload.transform import clip, merge, scale_rate, scale_time, shift, thin, tile


def _cv(trace: RequestTrace, window_s: float) -> float:
    counts = trace.to_counts(window_s).counts
    return counts.std() / counts.mean()


@pytest.mark.parametrize("factor", [0.3, 2.0, 2.5])
def test_scale_rate_multiplies_the_count_in_expectation(factor):
    base = PoissonArrivals(rate_per_s=10.0).generate(streams.stream(1, "base"), 1000.0)
    counts = [len(scale_rate(base, factor, streams.stream(1, "s", str(r)))) for r in range(50)]
    n = len(base)
    # thinning: Binomial(n, f); duplication: n*floor(f) + Binomial(n, f - floor(f))
    p = factor - np.floor(factor) if factor > 1 else factor
    sd = np.sqrt(n * p * (1 - p) / 50)
    assert abs(np.mean(counts) - factor * n) < 4 * sd + 1e-9


def test_duplication_keeps_burstiness_and_attributes():
    gen = MMPPArrivals(rates_per_s=(1.0, 30.0), mean_sojourn_s=(600, 60))
    base = gen.generate(streams.stream(2, "mmpp"), 86400.0)
    base = base.with_attributes(input_tokens=np.arange(len(base), dtype=float))
    doubled = scale_rate(base, 2.0, streams.stream(2, "x2"))
    assert len(doubled) == 2 * len(base)
    assert _cv(doubled, 300.0) == pytest.approx(_cv(base, 300.0), rel=0.05)
    assert np.array_equal(np.sort(doubled.input_tokens), np.repeat(base.input_tokens, 2))
    # independent superposition would have smoothed it by sqrt(2)
    other = gen.generate(streams.stream(3, "mmpp"), 86400.0)
    superposed = merge([base.with_attributes(input_tokens=None), other])
    assert _cv(superposed, 300.0) < 0.8 * _cv(base, 300.0)


def test_compress_keeps_the_length_and_multiplies_the_rate():
    base = PoissonArrivals(rate_per_s=5.0).generate(streams.stream(4, "c"), 100.0)
    out = scale_rate(base, 3.0, streams.stream(4, "d"), method="compress")
    assert out.duration_s == base.duration_s and len(out) == 3 * len(base)


def test_windows_and_time_scaling():
    trace = RequestTrace(np.array([1.0, 2.0, 5.0, 9.0]), 10.0, output_tokens=np.array([1.0, 2, 3, 4]))
    c = clip(trace, 2.0, 9.0)
    assert c.arrival_s.tolist() == [0.0, 3.0] and c.duration_s == 7.0 and c.output_tokens.tolist() == [2, 3]
    s = scale_time(trace, 2.0)
    assert s.arrival_s.tolist() == [2.0, 4.0, 10.0, 18.0] and s.duration_s == 20.0
    assert shift(trace, 5.0).arrival_s.tolist() == [6.0, 7.0, 10.0, 14.0]
    assert shift(trace, -2.0).arrival_s.tolist() == [0.0, 3.0, 7.0]
    assert len(thin(trace, 0.0, np.random.default_rng(0))) == 0


def test_tile_repeats_to_cover_the_horizon():
    trace = RequestTrace(np.array([0.0, 4.0]), 5.0, input_tokens=np.array([7.0, 8.0]))
    t = tile(trace, 12.0)
    assert t.arrival_s.tolist() == [0.0, 4.0, 5.0, 9.0, 10.0]
    assert t.input_tokens.tolist() == [7, 8, 7, 8, 7] and t.duration_s == 12.0


def test_merge_labels_models():
    a = RequestTrace(np.array([1.0, 3.0]), 4.0)
    b = RequestTrace(np.array([2.0]), 5.0)
    m = merge([a, b], names=["llama", "mistral"])
    assert m.arrival_s.tolist() == [1.0, 2.0, 3.0] and m.duration_s == 5.0
    assert m.model.tolist() == ["llama", "mistral", "llama"]
    already = RequestTrace(np.array([0.5]), 1.0, model_index=np.array([0]), models=("mistral",))
    m2 = merge([m, already])
    assert m2.models == ("llama", "mistral") and m2.model.tolist()[0] == "mistral"
