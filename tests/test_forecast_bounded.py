"""``auto`` passes over models whose sample paths run away from the history's levels.

A unit-root model on ``log1p(y)`` compounds its hourly spread on the log scale; 1,344 hours
ahead its back-transformed paths reach hundreds of times the history. The fleet below is
``bench_commit_prior.py``'s simulated fleet 9 with 56 days of history: ``auto`` used to pick
log1p(ETS(A,N,A)), the hourly 99th percentile of whose paths reached 111 times the history's
largest hour (``benchmarks/bench_forecast_paths.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smsim.forecast import forecast_series
from smsim.forecast.api import forecast_with_paths
from smsim.forecast.models.base import Forecaster
from smsim.forecast.models.registry import Log1p
from smsim.forecast.plausible import CEILING_RATIO, peak_ratio, plausible, upper_quantile

HORIZON = 56 * 24


def simulated_fleet(fleet: int, days: int) -> pd.Series:
    """Hourly USD: log level jumps (sd 0.7) between regimes of mean 30 days, a daily cycle,
    weekends at 0.8, lognormal noise (``benchmarks/bench_commit_prior.py``'s generator)."""
    rng = np.random.default_rng(np.random.SeedSequence([2026, fleet]))
    log_level = np.empty(days)
    level = np.log(100.0)
    left = rng.exponential(30.0) * rng.uniform()
    for day in range(days):
        if left <= 0:
            level += rng.normal(0.0, 0.7)
            left = rng.exponential(30.0)
        left -= 1.0
        log_level[day] = level
    amplitude = rng.uniform(0.2, 0.6)
    hours = np.arange(days * 24)
    shape = 1.0 + amplitude * np.sin(2 * np.pi * (hours % 24 - 6) / 24)
    weekend = np.where((hours // 24) % 7 >= 5, 0.8, 1.0)
    noise = np.exp(rng.normal(0.0, 0.15, len(hours)) - 0.15**2 / 2)
    usd = np.exp(np.repeat(log_level, 24)) * shape * weekend * noise
    return pd.Series(usd, index=pd.date_range("2026-01-05", periods=len(usd), freq="h", tz="UTC"))


class _Known(Forecaster):
    """Fixed moments: mean ``log(11)`` (10 after expm1) and sd 1 at every step."""

    name = "known"

    def _fit(self, y):
        pass

    def _moments(self, h):
        return np.full(h, np.log(11.0)), np.ones(h)


def test_a_log1p_models_upper_quantile_is_the_transformed_inner_one():
    y = pd.Series(np.linspace(0.0, 10.0, 30), index=pd.date_range("2026-01-01", periods=30, freq="D"))
    model = Log1p(_Known()).fit(y, ())
    # expm1(log 11 + z_0.99) with z_0.99 = 2.3263: 11 e^2.3263 - 1 = 111.65
    mean, top = upper_quantile(model, 5)
    assert mean == pytest.approx(np.full(5, 10.0))
    assert top == pytest.approx(np.full(5, 11 * np.exp(2.326348) - 1), rel=1e-6)
    # deviations from the point forecast (10) scaled by one half: 10 + 101.65 / 2
    assert upper_quantile(model, 5, 0.5)[1] == pytest.approx(np.full(5, 10 + (11 * np.exp(2.326348) - 11) / 2), rel=1e-6)
    # against a reference of 10 (the point forecast's level): 111.65 / 10
    assert peak_ratio(model, 10.0, 5) == pytest.approx(11.165, abs=1e-3)
    # a reference below the point forecast is raised to it
    assert peak_ratio(model, 1.0, 5) == pytest.approx(11.165, abs=1e-3)
    assert peak_ratio(model, 10.0, 5, 0.5) == pytest.approx(6.0825, abs=1e-3)
    assert CEILING_RATIO == 5.0 and not plausible(peak_ratio(model, 10.0, 5, 0.5))
    # a higher reference (a wider seasonal random walk) lets the same model through: 111.65 / 25
    assert peak_ratio(model, 25.0, 5) == pytest.approx(4.466, abs=1e-3)
    assert plausible(peak_ratio(model, 25.0, 5))
    assert not plausible(float("inf")) and not plausible(float("nan"))


def test_a_runaway_log1p_model_is_passed_over_and_the_paths_stay_bounded():
    y = simulated_fleet(9, 112).iloc[: 56 * 24]
    with pytest.warns(Warning):  # the passed-over note is raised with the paths
        result, paths, model = forecast_with_paths(y, HORIZON, 200, seed=0)
    assert result.model != "ets+log1p" and not model.name.endswith("+log1p")
    assert any("ets+log1p backtested better" in note for note in result.notes)
    assert np.all(np.isfinite(paths))
    top = float(np.quantile(paths, 0.99, axis=0).max())
    point = float(result.frame["mean"].max())
    assert top <= CEILING_RATIO * max(y.max(), point)
    # the old pick's single paths reached over a thousand times the history's largest hour
    assert paths.max() < 20 * y.max()


def test_an_ensemble_averages_only_bounded_members():
    from smsim.forecast.backtest import select

    y = simulated_fleet(9, 112).iloc[: 56 * 24]
    winner, results, fitted = select(y, HORIZON, [24, 168])
    runaway = {n for n, b in results.items() if b.peak_ratio is not None and not plausible(b.peak_ratio)}
    assert {"ets+log1p", "theta+log1p", "mstl+log1p"} <= runaway
    assert winner not in runaway
    if "ensemble" in fitted:
        assert not {m.name for m in fitted["ensemble"].fitted_} & runaway


def test_co2_forecast_is_unchanged():
    """The README's co2 example: log1p(ETS(A,A,A)), backtest MASE 0.5002, two years ahead."""
    import statsmodels.api as sm

    y = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate().rename("y")
    result = forecast_series(y, 24)
    assert result.model == "ets+log1p" and result.form == "log1p(ETS(A,A,A))"
    assert round(result.mase, 4) == 0.5002
    assert result.frame["mean"].iloc[0] == pytest.approx(371.97786631425924, rel=1e-9)
    assert not any("passed over" in note for note in result.notes)
