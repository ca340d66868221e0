"""One model selection gives both the forecast and the sample paths, equal to the two calls'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import smsim.forecast.api as forecast_api
from smsim.forecast import forecast_series, forecast_with_paths, sample_paths_fitted


def _hourly(days: int = 21) -> pd.Series:
    """Hourly counts with a daily cycle, slow growth and noise (seeded)."""
    rng = np.random.default_rng(7)
    t = np.arange(days * 24)
    level = 100.0 * (1.0 + 0.002 * t / 24) * (1.3 + np.sin(2 * np.pi * (t % 24) / 24))
    index = pd.date_range("2026-01-01", periods=t.size, freq="h")
    return pd.Series(rng.poisson(level).astype(float), index=index, name="chat")


@pytest.fixture
def selections(monkeypatch):
    """How many times a model is selected by backtest."""
    calls = []
    real = forecast_api.select

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(forecast_api, "select", counted)
    return calls


@pytest.mark.parametrize("levels", [(80, 95), (50, 90)])
def test_one_selection_gives_the_forecast_and_the_paths_of_two(selections, levels):
    y = _hourly()
    fc, paths, model = forecast_with_paths(y, 48, 20, seed=3, levels=levels, nonnegative=True, unique_id="chat")
    assert len(selections) == 1
    alone = forecast_series(y, 48, levels, nonnegative=True, unique_id="chat")
    alone_paths, alone_model = sample_paths_fitted(y, 48, 20, 3, nonnegative=True)
    assert len(selections) == 3  # the two calls select once each
    pd.testing.assert_frame_equal(fc.frame, alone.frame, check_exact=True)
    assert fc.summary() == alone.summary()
    assert paths.shape == (20, 48) and np.array_equal(paths, alone_paths)
    assert model.name == alone_model.name == fc.model
    # the paths' spread is scaled by the 80 % band's calibration whatever levels the forecast has
    assert (paths >= 0).all()


def test_a_named_model_is_fitted_not_selected(selections):
    fc, paths, _ = forecast_with_paths(_hourly(), 24, 5, seed=1, model="snaive")
    assert selections == [] and fc.model == "snaive" and paths.shape == (5, 24)
    assert np.array_equal(paths, sample_paths_fitted(_hourly(), 24, 5, 1, "snaive")[0])
