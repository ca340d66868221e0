"""The stationary ARMA's long run against AR(1) theory, and when ``auto`` switches to it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smsim.forecast.api import forecast_series, long_horizon_stationarity
from smsim.forecast.models.registry import make_model


def _ar1(n: int, phi: float, mu: float, sigma: float, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = rng.normal(0, sigma / np.sqrt(1 - phi**2))
    e = rng.normal(0, sigma, n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return pd.Series(mu + x, index=pd.date_range("2026-01-01", periods=n, freq="D"))


def test_arma_reverts_to_the_mean_with_the_process_variance():
    # AR(1), phi 0.8, sigma 1: the h-step mean is mu + phi^h (y_n - mu) and the h-step variance
    # sigma^2 (1 - phi^(2h)) / (1 - phi^2), converging to 1 / 0.36 (sd 1.667)
    y = _ar1(1500, 0.8, 10.0, 1.0, seed=3)
    model = make_model("arma").fit(y, ())
    mean, sd = model.predict_moments(400)
    assert model.form_.startswith("ARIMA(") and ",0," in model.form_
    assert mean[-1] == pytest.approx(y.mean(), abs=0.05)
    assert abs(mean[-1] - 10.0) < 4 * 1.667 * np.sqrt((1 + 0.8) / (1 - 0.8) / 1500)  # 4 se of the mean
    assert sd[-1] == pytest.approx(1 / np.sqrt(1 - 0.8**2), rel=0.1)
    assert sd[-1] == pytest.approx(sd[-100], rel=1e-6)  # converged, not growing
    assert sd[0] == pytest.approx(1.0, rel=0.1)  # one step ahead: the innovation sd
    refit = model.fixed().fit(y.iloc[:1200], ())
    assert refit.form_ == model.form_


def test_auto_switches_only_past_the_backtest_and_only_when_stationary():
    y = _ar1(400, 0.8, 10.0, 1.0, seed=4)
    assert long_horizon_stationarity(y, 20) is None  # the backtest covers 20 steps
    assert long_horizon_stationarity(y, 365).stationary
    assert forecast_series(y, 365, model="auto").model.startswith("arma")
    walk = pd.Series(50 + np.cumsum(np.random.default_rng(5).normal(0, 1, 400)), index=y.index)
    verdict = long_horizon_stationarity(walk, 365)
    assert verdict is not None and not verdict.stationary
    assert not forecast_series(walk, 365, model="auto").model.startswith("arma")



def test_a_slow_trend_under_a_daily_cycle_is_not_called_stationary():
    """The bundled projection history (eight weeks of hourly requests growing about 2 % a week
    under a deep daily cycle): hour by hour ADF and KPSS call it stationary, its 56 daily totals
    keep a unit root, so auto keeps the models that can follow a trend."""
    from pathlib import Path

    from smsim.forecast.stationarity import check_stationarity

    frame = pd.read_csv(Path(__file__).resolve().parents[1] / "scenarios" / "data" / "projection_history.csv")
    y = pd.Series(frame["count"].to_numpy(float),
                  index=pd.DatetimeIndex(pd.to_datetime(frame["timestamp"]).dt.tz_localize(None), freq="h"))
    assert check_stationarity(y.to_numpy()).stationary  # the hourly tests alone are fooled
    verdict = long_horizon_stationarity(y, 24 * 90)
    assert verdict is not None and not verdict.stationary
    daily = verdict.summary()["daily_totals"]
    assert daily["n"] == 56 and not daily["stationary"] and daily["adf_p"] > 0.5
    assert not forecast_series(y, 24 * 90, model="auto").model.startswith("arma")
    # fewer than 28 whole days: the totals cannot be tested, so the series is not called stationary
    short = long_horizon_stationarity(y.iloc[: 21 * 24], 24 * 90)
    assert not short.stationary
    assert short.summary()["daily_totals"] == {"stationary": False, "adf_p": None, "kpss_stat": None,
                                               "kpss_critical_1pct": None, "n": 21}
