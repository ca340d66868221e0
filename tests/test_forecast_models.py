"""The model contract, checked once over every model, and known answers on simple series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smsim.forecast.models.registry import MODELS, make_model


def _weekly_pattern(n: int = 56, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 10 * np.sin(2 * np.pi * t / 7) + 0.3 * t + rng.normal(0, 1.0, n)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq="D"))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_contract(name: str) -> None:
    y, h, levels = _weekly_pattern(), 10, (80, 95)
    # seasonal ARMA fits take seconds each in statsmodels; the contract is the same without
    seasons = () if name in ("arima", "ensemble") else (7,)
    fitted = make_model(name).fit(y, seasons)
    frame = fitted.predict(h, levels)
    assert list(frame.columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert len(frame) == h and frame.index[0] == y.index[-1] + pd.Timedelta(days=1)
    pd.testing.assert_frame_equal(frame, make_model(name).forecast(y, h, levels, seasons))
    assert np.isfinite(frame.to_numpy()).all()
    assert (frame["lo-95"] <= frame["lo-80"]).all() and (frame["lo-80"] <= frame["mean"]).all()
    assert (frame["mean"] <= frame["hi-80"]).all() and (frame["hi-80"] <= frame["hi-95"]).all()
    paths = fitted.simulate(h, 64, np.random.default_rng(1))
    assert paths.shape == (64, h) and np.isfinite(paths).all()


def test_seasonal_naive_repeats_last_season_exactly() -> None:
    y = _weekly_pattern(28)
    frame = make_model("snaive").fit(y, (7,)).predict(14)
    np.testing.assert_array_equal(frame["mean"].to_numpy(), np.tile(y.to_numpy()[-7:], 2))
    # a second season ahead is one more seasonal random-walk step: sd grows by sqrt(2)
    width = (frame["hi-80"] - frame["lo-80"]).to_numpy()
    np.testing.assert_allclose(width[7:], width[:7] * np.sqrt(2))


@pytest.mark.parametrize("name", ["snaive", "ets", "arima", "theta"])
def test_constant_series_forecasts_the_constant(name: str) -> None:
    y = pd.Series(42.0, index=pd.date_range("2024-01-01", periods=30, freq="D"))
    frame = make_model(name).fit(y).predict(5)
    np.testing.assert_allclose(frame.to_numpy(), 42.0)


def _line() -> pd.Series:
    rng = np.random.default_rng(3)
    t = np.arange(60)
    return pd.Series(10 + 2.0 * t + rng.normal(0, 0.2, 60),
                     index=pd.date_range("2020-01-01", periods=60, freq="MS"))


def test_ets_extrapolates_a_linear_trend() -> None:
    mean = make_model("ets").fit(_line(), ()).predict(6)["mean"].to_numpy()
    np.testing.assert_allclose(mean, 10 + 2.0 * np.arange(60, 66), rtol=0.02)


def test_theta_extrapolates_half_the_trend_slope() -> None:
    # the classical Theta forecast is SES with drift b0 / 2 (Hyndman and Billah, 2003)
    mean = make_model("theta").fit(_line(), ()).predict(6)["mean"].to_numpy()
    np.testing.assert_allclose(np.diff(mean), 1.0, atol=0.05)
    assert abs(mean[0] - 130.0) < 2.0


def test_log1p_wraps_a_model_on_the_count_scale() -> None:
    from smsim.forecast.models.registry import Log1p

    rng = np.random.default_rng(3)
    t = np.arange(84)
    counts = rng.poisson(np.exp(3 + np.sin(2 * np.pi * t / 7))).astype(float)
    y = pd.Series(counts, index=pd.date_range("2024-01-01", periods=84, freq="D"))
    fitted = Log1p("ets").fit(y, (7,))
    mean, sd = fitted.predict_moments(14)
    assert fitted.name == "ets+log1p" and (mean >= 0).all() and (sd > 0).all()
    # busy days get wider bands than quiet ones, as count noise grows with the level
    assert sd[np.argmax(mean)] > sd[np.argmin(mean)]
    refit = fitted.fixed().fit(y.iloc[:70], (7,))
    assert refit.form_ == fitted.form_
    assert (fitted.simulate(14, 16, np.random.default_rng(0)) >= 0).all()


def test_selection_keeps_the_baseline_without_a_consistent_win() -> None:
    from smsim.forecast.backtest import Backtest, beats

    def bt(errors: list[float]) -> Backtest:
        e = np.asarray(errors)[:, None] * np.ones((1, 4))
        return Backtest("x", e, np.zeros_like(e), np.ones_like(e), np.ones(len(errors)))

    baseline = bt([2.0, 2.0, 2.0, 2.0])
    assert not beats(bt([0.5, 0.5, 3.0, 3.0]), baseline)  # lower mean, one lucky half
    assert beats(bt([1.5, 1.5, 1.5, 2.5]), baseline)
    assert not beats(bt([2.5, 2.5, 2.5, 2.5]), baseline)
