"""The harmonic regression models against closed forms, and how ``auto`` prunes its candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smsim.forecast.backtest import auto_candidates, stationary_candidates
from smsim.forecast.models.harmonic import (
    HarmonicAR,
    HarmonicSES,
    HarmonicTheta,
    _psi_weights,
    fourier_columns,
)


def _hourly(values) -> pd.Series:
    return pd.Series(np.asarray(values, float),
                     index=pd.date_range("2026-01-05", periods=len(values), freq="h"))


def _two_cycles(n: int) -> np.ndarray:
    t = np.arange(n)
    return (50 + 10 * np.cos(2 * np.pi * t / 24) + 4 * np.sin(2 * np.pi * 2 * t / 24)
            + 6 * np.cos(2 * np.pi * t / 168 - 1.0))


def test_fourier_basis_leaves_out_the_zero_sine():
    cols = fourier_columns(np.arange(12.0), (12,), (6,))
    assert cols.shape == (12, 11)  # cos 1..6, sin 1..5: sin(pi t) is identically zero
    assert np.abs(cols).sum(axis=0).min() > 1


def test_a_noiseless_daily_and_weekly_cycle_is_forecast_exactly():
    y = _two_cycles(1008 + 48)
    for model in (HarmonicAR(), HarmonicSES()):
        fitted = model.fit(_hourly(y[:1008]), (24, 168))
        mean, _ = fitted.predict_moments(48)
        assert np.max(np.abs(mean - y[1008:])) < 1e-6, fitted.form_


def test_ar_errors_give_the_ar1_mean_and_sd():
    # y = cycle + x, x AR(1) with phi 0.7, sigma 2: the h-step forecast of x is phi^h x_n and
    # its sd sigma * sqrt(sum_{j<h} phi^(2j))
    rng = np.random.default_rng(11)
    n, phi, sigma = 4000, 0.7, 2.0
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal(0, sigma)
    y = _two_cycles(n) + x
    model = HarmonicAR(order=1)
    model.max_obs = n
    fitted = model.fit(_hourly(y), (24, 168))
    assert fitted.phi_[0] == pytest.approx(phi, abs=0.03)
    mean, sd = fitted.predict_moments(6)
    resid_n = fitted.resid_tail_[-1]
    expected = fitted._seasonal_future(6) + fitted.phi_[0] ** np.arange(1, 7) * resid_n
    assert mean == pytest.approx(expected, rel=1e-12)
    # the seasonal part itself is the true cycle, up to estimation error of the mean
    assert fitted._seasonal_future(6) == pytest.approx(_two_cycles(n + 6)[n:], abs=0.6)
    closed = fitted.sigma_ * np.sqrt(np.cumsum(fitted.phi_[0] ** (2 * np.arange(6))))
    assert sd == pytest.approx(closed, rel=1e-9)
    assert fitted.sigma_ == pytest.approx(sigma, rel=0.05)


def test_psi_weights_of_an_ar2_by_hand():
    # psi_1 = phi1, psi_2 = phi1^2 + phi2, psi_3 = phi1 psi_2 + phi2 psi_1
    phi = np.array([0.5, 0.3])
    assert _psi_weights(phi, 4) == pytest.approx([1.0, 0.5, 0.55, 0.425])


def test_hses_follows_a_level_shift_and_has_the_ses_spread():
    y = _two_cycles(1008)
    y[-200:] += 30.0  # the level moved 200 hours ago
    fitted = HarmonicSES().fit(_hourly(y), (24, 168))
    mean, sd = fitted.predict_moments(24)
    truth = _two_cycles(1008 + 24)[1008:] + 30.0
    # the seasonal fit on the whole series absorbs part of the shift; the level carries it
    assert np.mean(np.abs(mean - truth)) < 2.0
    alpha, beta, phi = fitted.smoothing_
    assert beta == 0  # no trend here: SES, whose sd is sigma * sqrt(1 + (h - 1) alpha^2)
    assert sd == pytest.approx(fitted.sigma_ * np.sqrt(1 + np.arange(24) * alpha**2), rel=1e-12)


@pytest.mark.parametrize("alpha, beta, phi", [(0.3, 0.1, 0.9), (0.05, 0.15, 1.0), (0.5, 0.0, 1.0)])
def test_holt_filter_equals_the_recursion(alpha, beta, phi):
    from scipy.signal import lfilter

    from smsim.forecast.models.harmonic import _holt_filters

    y = np.random.default_rng(8).normal(0, 1, 300).cumsum()
    level, slope, lv, sl = np.empty(300), np.empty(300), 0.0, 0.0
    x = y - y[0]
    for t in range(300):
        new = alpha * x[t] + (1 - alpha) * (lv + phi * sl)
        sl = beta * (new - lv) + (1 - beta) * phi * sl
        lv = new
        level[t], slope[t] = lv, sl
    num, den = _holt_filters(alpha, beta, phi)
    assert lfilter(num[0], den, x) == pytest.approx(level, abs=1e-9)
    assert lfilter(num[1], den, x) == pytest.approx(slope, abs=1e-9)


def test_a_growing_series_gets_the_trend_and_the_damped_holt_spread():
    rng = np.random.default_rng(5)
    n = 1000
    y = _two_cycles(n) + 0.2 * np.arange(n) + rng.normal(0, 1.0, n)
    fitted = HarmonicSES().fit(_hourly(y), (24, 168))
    alpha, beta, phi = fitted.smoothing_
    assert beta > 0 and fitted.slope_ == pytest.approx(0.2, abs=0.05)
    mean, sd = fitted.predict_moments(48)
    truth = _two_cycles(n + 48)[n:] + 0.2 * np.arange(n, n + 48)
    assert np.mean(np.abs(mean - truth)) < 3.0
    # ETS(A,Ad,N): var_h = sigma^2 (1 + sum_{j<h} (alpha + alpha beta phi_j)^2), phi_j = phi + .. + phi^j
    phis = np.array([sum(phi**i for i in range(1, j + 1)) for j in range(48)])
    c = alpha + alpha * beta * phis
    closed = fitted.sigma_ * np.sqrt(1 + np.r_[0.0, np.cumsum(c[1:] ** 2)])
    assert sd == pytest.approx(closed, rel=1e-9)


def test_fixed_copies_keep_the_form_and_refit_the_coefficients():
    rng = np.random.default_rng(3)
    y = _two_cycles(900) + rng.normal(0, 2, 900)
    full = HarmonicAR().fit(_hourly(y), (24, 168))
    part = full.fixed().fit(_hourly(y[:700]), (24, 168))
    assert part.harmonics_ == full.harmonics_ and part.p_ == full.p_
    assert not np.allclose(part.coef_, full.coef_)
    ses = HarmonicSES().fit(_hourly(y), (24, 168))
    assert ses.fixed().fit(_hourly(y[:700]), (24, 168)).smoothing_ == ses.smoothing_


def test_auto_prunes_to_the_harmonic_family_for_long_seasons():
    hourly = _hourly(np.arange(400.0))
    assert auto_candidates(hourly, (24, 168), 48) == (
        "snaive", "dhr", "hses", "htheta", "dhr+log1p", "hses+log1p", "htheta+log1p")
    assert "ets" in auto_candidates(hourly, (24, 168), 8760)  # a commitment's year: the full set
    assert "dhr+log1p" not in auto_candidates(hourly - 1000, (24, 168), 48)  # negative values
    monthly = pd.Series(np.arange(60.0), index=pd.date_range("2020-01-01", periods=60, freq="MS"))
    short = auto_candidates(monthly, (12,))
    assert {"ets", "arima", "theta", "mstl", "ets+log1p"} <= set(short)
    assert "dhr" not in short
    assert stationary_candidates((24, 168), True, 48) == ("dhr", "dhr+log1p")
    assert stationary_candidates((24, 168), False, 8760) == ("arma",)  # a commitment's year
    assert stationary_candidates((7,), False, 30) == ("arma",)


def test_theta_drift_is_half_the_slope_and_follows_hyndman_billah():
    # Theta = SES plus half the least-squares slope b0 as drift:
    # y_hat(n+h) = l_n + b0 / 2 * (h - 1 + 1/alpha - (1 - alpha)^n / alpha)
    rng = np.random.default_rng(9)
    n = 900
    y = _two_cycles(n) + 0.1 * np.arange(n) + rng.normal(0, 0.5, n)
    fitted = HarmonicTheta().fit(_hourly(y), (24, 168))
    assert fitted.drift_ == pytest.approx(0.05, rel=0.05)
    alpha = fitted.smoothing_[0]
    mean, sd = fitted.predict_moments(24)
    h = np.arange(1, 25)
    expected = (fitted._seasonal_future(24) + fitted.level_
                + fitted.drift_ * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha))
    assert mean == pytest.approx(expected, rel=1e-12)
    assert sd == pytest.approx(fitted.sigma_ * np.sqrt(1 + (h - 1) * alpha**2), rel=1e-12)
