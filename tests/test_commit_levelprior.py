"""The level prior: a floor under the paths' level spread when the history cannot show it.

Closed forms: on paths that agree on a flat level ``L`` (a model certain of the level), the floor
makes day ``k``'s level ``L * exp(X_k - s^2 k / 2)`` with ``X_k ~ N(0, s^2 k)``, so its log has
variance ``s^2 k`` and its mean stays ``L``. Pooled over days 1..K, the usage is a lognormal
mixture, and the best single commitment covers its d-quantile ``x`` solving
``(1/K) sum_k Phi((ln(x / L) + s^2 k / 2) / (s sqrt(k))) = d``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from smsim.commit.api import recommend_commitment
from smsim.commit.economics import PlanTerms
from smsim.commit.levelprior import level_floor_paths, level_prior_applies
from smsim.commit.sizing import optimal_commitment
from smsim.errors import InputError
from smsim.forecast.stationarity import check_series_stationarity, check_stationarity


def _hourly(values, start: str = "2026-01-05") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="h", tz="UTC"))


def _flat_paths(level: float, n_paths: int, days: int) -> np.ndarray:
    return np.full((n_paths, days * 24), level)


def test_floor_gives_each_day_the_random_walk_variance_and_keeps_the_mean():
    s, days, n_paths = 0.1, 56, 4000
    out = level_floor_paths(_flat_paths(50.0, n_paths, days), s, seed=3)
    daily = out.reshape(n_paths, days, 24)
    assert np.all(daily == daily[:, :, :1])  # one factor per path and day
    log_level = np.log(daily[:, :, 0] / 50.0)
    for k in (1, 14, 56):
        # sample variance of n normals: relative sd sqrt(2 / (n - 1)) = 2.2 %; allow 4 sd
        assert log_level[:, k - 1].var() == pytest.approx(s**2 * k, rel=0.09)
        # mean of the lognormal factor is 1: standard error sqrt(exp(s^2 k) - 1) / sqrt(n)
        se = np.sqrt(np.expm1(s**2 * k) / n_paths)
        assert daily[:, k - 1, 0].mean() / 50.0 == pytest.approx(1.0, abs=4 * se)


def test_paths_already_wider_than_the_floor_are_left_alone():
    rng = np.random.default_rng(0)
    days = 28
    # log level already a random walk of 0.3 per day: variance 0.09 k > 0.01 k
    walk = np.exp(np.cumsum(rng.normal(0, 0.3, (500, days)), axis=1))
    paths = np.repeat(100 * walk, 24, axis=1)
    assert np.array_equal(level_floor_paths(paths, 0.1, seed=0), paths)
    assert np.array_equal(level_floor_paths(paths, 0.0, seed=0), paths)


def test_floor_is_deterministic_and_handles_a_partial_last_day():
    paths = _flat_paths(10.0, 50, 3)[:, :60]  # 2.5 days
    a = level_floor_paths(paths, 0.2, seed=7)
    b = level_floor_paths(paths, 0.2, seed=7)
    assert a.shape == (50, 60) and np.array_equal(a, b)
    assert not np.array_equal(a, level_floor_paths(paths, 0.2, seed=8))


def _mixture_quantile(level: float, s: float, days: int, d: float) -> float:
    k = np.arange(1, days + 1)

    def cdf(x):
        return float(np.mean(norm.cdf((np.log(x / level) + s**2 * k / 2) / (s * np.sqrt(k))))) - d

    return brentq(cdf, level * 1e-6, level * 10)


@pytest.mark.parametrize("d", [0.2, 0.44])
def test_single_purchase_on_floored_paths_matches_the_lognormal_mixture_quantile(d):
    level, s, days = 371.0, 0.1, 56
    terms = PlanTerms.of(d, "1y", "no-upfront", 0.0)
    certain = _flat_paths(level, 2000, days)
    assert optimal_commitment(certain, terms).commitment_usd_per_hour == pytest.approx((1 - d) * level)
    widened = level_floor_paths(certain, s, seed=1)
    x = _mixture_quantile(level, s, days, d)
    got = optimal_commitment(widened, terms).covered_usd_per_hour
    assert got == pytest.approx(x, rel=0.03)
    # at d = 0.2 the floor alone takes the covered level from 371 to about 0.68 of it
    assert got < (0.75 if d == 0.2 else 0.9) * level


def _flat_history(days: int, level: float, seed: int = 0) -> pd.Series:
    """A level that holds, with a deep daily cycle: hourly values that pass ADF and KPSS."""
    rng = np.random.default_rng(seed)
    hours = np.arange(days * 24)
    cycle = 1 + 0.5 * np.sin(2 * np.pi * hours / 24)
    return _hourly(level * cycle * np.exp(rng.normal(0, 0.1, len(hours))))


def test_two_flat_weeks_are_no_evidence_of_a_bounded_level():
    history = _flat_history(14, 371.0)
    assert check_stationarity(history.to_numpy()).stationary  # the hourly tests pass on 14 days
    verdict = check_series_stationarity(history)  # but 14 daily totals are too few to test
    assert not verdict.stationary and verdict.daily is not None and verdict.daily.n == 14
    assert level_prior_applies(len(history))  # but the daily totals need 28 days to be tested
    assert level_prior_applies(28 * 24 - 1) and not level_prior_applies(28 * 24)


def test_first_tranche_after_two_flat_weeks_is_below_the_floors_quantile():
    """Paths certain of the level (a model that believed two flat weeks) at d = 0.2: without the
    prior both purchases commit 0.8 x 371; with it the single purchase is the mixture quantile and
    the ladder's first tranche is at most that."""
    level, d, days = 371.0, 0.2, 56
    history = _hourly(np.full(14 * 24, level))
    paths = _flat_paths(level, 2000, days)  # the pooled quantile's Monte Carlo error ~2 %
    kw = dict(discount=d, horizon_hours=days * 24, paths=paths, stage_at_hours=None, ladder_every_hours=14 * 24)
    off = recommend_commitment(history, level_prior_sd_per_day=0.0, **kw)
    on = recommend_commitment(history, **kw)
    assert off.recommended_usd_per_hour == pytest.approx(0.8 * level)
    assert off.ladder["first_usd_per_hour"] == pytest.approx(0.8 * level)
    assert on.level_prior == {"sd_per_day": 0.08, "applied": True}
    bound = (1 - d) * _mixture_quantile(level, 0.08, days, d)  # 0.66 x 371 covered
    assert on.recommended_usd_per_hour == pytest.approx(bound, rel=0.05)
    assert on.ladder["first_usd_per_hour"] <= on.recommended_usd_per_hour
    assert on.ladder["first_usd_per_hour"] < 0.6 * level
    assert any("cannot show how far the level moves" in n for n in on.notes)


def test_a_steady_fleet_with_enough_history_keeps_its_recommendation():
    """60 days of the bounded 1-6 instance walk: enough history for the forecast's stationarity
    tests to decide, so the prior does not apply and the recommendation is the one without it."""
    rng = np.random.default_rng(21)
    steps = rng.integers(-1, 2, 60 * 24)
    k, level = np.empty(len(steps)), 3
    for i, step in enumerate(steps):
        level = min(6, max(1, level + step))
        k[i] = level
    history = _hourly(1.41 * k, "2026-01-01")
    assert not level_prior_applies(len(history))
    kw = dict(discount=0.2, horizon_hours=90 * 24, n_paths=50, stage_at_hours=None, ladder_every_hours=0)
    on = recommend_commitment(history, **kw)
    off = recommend_commitment(history, level_prior_sd_per_day=0.0, **kw)
    assert on.level_prior["applied"] is False
    assert on.recommended_usd_per_hour == off.recommended_usd_per_hour


@pytest.mark.parametrize("bad", [-0.1, float("nan"), 2.0])
def test_a_bad_prior_step_is_an_input_error(bad):
    with pytest.raises(InputError, match="level prior"):
        recommend_commitment(_flat_history(7, 10.0), discount=0.2, horizon_hours=240, n_paths=5,
                             level_prior_sd_per_day=bad)


def test_cli_reports_the_prior_and_refuses_a_bad_step(tmp_path):
    from typer.testing import CliRunner

    from smsim.cli import app

    p = tmp_path / "usage.csv"
    history = _flat_history(14, 371.0)
    pd.DataFrame({"timestamp": history.index, "ondemand_usd": history.to_numpy()}).to_csv(p, index=False)
    runner = CliRunner()
    args = ["commit", str(p), "--discount", "0.2", "--horizon", "56d", "--paths", "20", "--ladder-every", "14d",
            "--stage-at", "0", "--json"]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["level_prior"] == {"sd_per_day": 0.08, "applied": True}
    off = json.loads(runner.invoke(app, [*args, "--level-prior", "0"]).stdout)
    assert off["level_prior"]["applied"] is False
    assert doc["recommended_commitment_usd_per_hour"] < off["recommended_commitment_usd_per_hour"]
    bad = runner.invoke(app, [*args, "--level-prior", "-1"])
    assert bad.exit_code == 2 and "level prior" in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("blow_up", [np.inf, 8.46e30])
def test_a_diverging_usage_forecast_is_an_input_error_naming_the_model(monkeypatch, blow_up):
    """A forecast whose paths run to infinity (or to 10^30 USD/h) is refused in words, not a traceback."""
    import smsim.forecast as forecast

    def diverging(y, horizon, n_paths, seed, model):
        paths = np.full((n_paths, horizon), 10.0)
        paths[0, -1] = blow_up
        return paths

    monkeypatch.setattr(forecast, "sample_paths", diverging)
    with pytest.raises(InputError, match=r"usage forecast \(smsim.forecast:auto\) diverged"):
        recommend_commitment(_flat_history(7, 10.0), discount=0.2, horizon_hours=240, n_paths=5)
