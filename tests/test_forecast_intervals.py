"""Calibrated intervals cover what they claim out of sample, and bands stay nested."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.forecast.intervals import binomial_interval, calibrate, conformal_quantile
from smsim.forecast.models.base import interval_frame


def test_conformal_widens_overconfident_model_to_nominal_coverage() -> None:
    # the model claims sd 1 but the errors have sd 2: an 80% model band covers ~52%
    rng = np.random.default_rng(7)
    errors, sd = rng.normal(0, 2.0, (5, 40)), np.ones((5, 40))
    cal = calibrate(errors, sd, (80, 95))
    assert cal.source == {80.0: "conformal", 95.0: "conformal"}
    assert cal.model_coverage[80.0] < 0.65
    fresh = np.abs(rng.normal(0, 2.0, 2000))
    for level in (80.0, 95.0):
        covered = np.mean(fresh <= cal.multipliers[level])
        # the multiplier is estimated from 200 scores: allow its sampling error plus the test's
        lo, hi = binomial_interval(level, 200, confidence=0.99)
        assert lo - 0.02 <= covered <= hi + 0.02, (level, covered)
        assert abs(cal.coverage[level] - level / 100) < 0.08


def test_calibrated_model_keeps_its_own_widths() -> None:
    rng = np.random.default_rng(11)
    errors = rng.normal(0, 3.0, (6, 50))
    cal = calibrate(errors, np.full((6, 50), 3.0), (80, 95))
    assert cal.source == {80.0: "model", 95.0: "model"}
    assert abs(cal.multipliers[80.0] - 1.2816) < 1e-3


def test_too_few_origins_falls_back_to_model_widths() -> None:
    cal = calibrate(np.ones((1, 12)), np.ones((1, 12)), (80,))
    assert cal.source == {80.0: "model"} and cal.coverage == {80.0: None}


def test_conformal_quantile_is_the_finite_sample_rank() -> None:
    scores = np.arange(1, 10, dtype=float)  # n = 9: 80% -> ceil(10 * 0.8) = 8th smallest
    assert conformal_quantile(scores, 80) == 8.0
    assert conformal_quantile(scores, 99) == 9.0


def test_bands_are_nested_even_when_a_lower_level_is_wider() -> None:
    idx = pd.date_range("2024-01-01", periods=3, freq="D")
    frame = interval_frame(idx, np.zeros(3), {80: np.full(3, 2.0), 95: np.full(3, 1.0)})
    assert (frame["lo-95"] <= frame["lo-80"]).all() and (frame["hi-80"] <= frame["hi-95"]).all()
