"""ETS fits no multiplicative season (with additive errors, an infinite-variance form): its paths stay bounded.

With additive errors the level is updated by ``alpha * e / s`` and a seasonal index near zero
makes that update unbounded (the form has infinite forecast variance); over weeks of hourly
steps its simulated paths reach hundreds or thousands of times the history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from smsim.forecast import sample_paths
from smsim.forecast.models.ets import ETS

HORIZON = 56 * 24


def fleet(seed: int = 0, days: int = 56) -> pd.Series:
    """Hourly USD: level 100 then 200 (a step halfway), a daily cycle of +-50 %, lognormal noise."""
    rng = np.random.default_rng(seed)
    hours = np.arange(days * 24)
    level = 100.0 * np.where(hours < days * 12, 1.0, 2.0)
    shape = 1 + 0.5 * np.sin(2 * np.pi * (hours % 24 - 6) / 24)
    y = level * shape * np.exp(rng.normal(0, 0.15, hours.size))
    return pd.Series(y, index=pd.date_range("2026-01-05", periods=hours.size, freq="h"))


def test_additive_error_multiplicative_season_explodes_on_this_series():
    # the mechanism the restriction avoids, on the very series below
    y = fleet()
    res = ETSModel(pd.Series(y.to_numpy()), error="add", seasonal="mul", seasonal_periods=24,
                   initialization_method="heuristic").fit(disp=False, maxiter=100)
    sim = np.asarray(res.simulate(HORIZON, anchor="end", repetitions=50, rng=np.random.default_rng(1)))
    assert np.nanmax(np.abs(sim)) > 100 * y.max()


def test_a_seasonal_series_gets_an_additive_season_and_stays_bounded():
    y = fleet()
    model = ETS().fit(y, [24, 168])
    assert model.form_ == "ETS(A,N,A)"
    assert model.res_.model.seasonal == "add"
    paths = model.simulate(HORIZON, 50, np.random.default_rng(1))
    assert paths.shape == (50, HORIZON)
    assert np.all(np.isfinite(paths))
    # a random-walk level with additive noise: eight weeks ahead within 10x the history's peak
    assert paths.max() < 10 * y.max()
    assert paths.min() > -10 * y.max()


def test_a_multiplicative_form_given_by_hand_is_fitted_with_an_additive_season():
    y = fleet()
    model = ETS(form=(None, False, "mul")).fit(y, [24, 168])
    assert model.form_ == "ETS(A,N,A)"
    assert model.fixed().fit(y.iloc[: 40 * 24], [24, 168]).form_ == "ETS(A,N,A)"


def test_sample_paths_of_ets_stay_within_the_history_scale():
    y = fleet()
    paths = sample_paths(y, HORIZON, 40, seed=3, model="ets")
    assert np.all(np.isfinite(paths))
    assert paths.max() < 10 * y.max()
