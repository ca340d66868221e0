"""Harmonic regression models: every season as Fourier terms, fitted by least squares.

Hourly traffic has a daily and a weekly cycle (24 and 168 steps). State-space models with a
168-state season take seconds per fit in statsmodels, and STL decompositions a large fraction
of a second; a Fourier basis turns both cycles into a few dozen regression columns whose fit is
one least-squares solve. Two models share the basis and differ in how the deseasonalised level
moves, so a backtest can choose between them:

* :class:`HarmonicAR` (``dhr``, dynamic harmonic regression): a fixed mean plus AR(p) errors;
  the forecast reverts to the seasonal mean (stationary traffic).
* :class:`HarmonicSES` (``hses``): the level follows simple exponential smoothing, the
  forecast continues from the last level (traffic whose level wanders or shifts), like MSTL's
  ETS remainder, without the STL cost.

The number of harmonics per season, the AR order, the smoothing constant and whether the
seasons are estimated on levels or differences are chosen once on the whole series (AICc,
one-step error); :meth:`fixed` keeps them, so a rolling-origin backtest re-estimates only the
coefficients, one small solve per origin: the fits are reused across origins. Coefficient uncertainty is left out of the sd; the
backtest's conformal calibration widens the bands where that matters.
"""

from __future__ import annotations

from itertools import product

import numpy as np
from scipy.signal import lfilter

from smsim.forecast.models.base import Forecaster

#: Harmonics tried per season (capped at half the season); 168-step weekly cycles share
#: harmonics 7, 14, ... with the daily one, so they get at most 6 of their own.
HARMONIC_GRID = (2, 4, 8)
MAX_LONG_SEASON_HARMONICS = 6
#: AR orders tried for the errors of :class:`HarmonicAR`.
MAX_AR_ORDER = 4




def fourier_columns(t: np.ndarray, seasons: tuple[int, ...], harmonics: tuple[int, ...]
                    ) -> np.ndarray:
    """``cos`` and ``sin`` of ``2 pi k t / m`` for each season ``m`` and ``k <= K_m``.

    The sine at ``k = m / 2`` is identically zero and is left out.
    """
    return _columns(t, seasons, harmonics)[0]


def _columns(t: np.ndarray, seasons: tuple[int, ...], harmonics: tuple[int, ...]
             ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The Fourier columns and, per column, ``(season index, harmonic)``."""
    cols, keys = [], []
    for i, (m, k_max) in enumerate(zip(seasons, harmonics)):
        for k in range(1, k_max + 1):
            angle = 2 * np.pi * k * t / m
            cols.append(np.cos(angle))
            keys.append((i, k))
            if 2 * k != m:
                cols.append(np.sin(angle))
                keys.append((i, k))
    return (np.column_stack(cols) if cols else np.zeros((len(t), 0))), keys


def _solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Least squares from the normal equations (Fourier columns are near orthogonal; a tiny
    ridge guards the rare collinear case)."""
    ridge = 1e-10 * max(float(np.trace(gram)) / max(len(gram), 1), 1.0)
    return np.linalg.solve(gram + ridge * np.eye(len(gram)), rhs)


def _aicc(sse: float, n: int, k: int) -> float:
    if sse <= 0 or n - k - 1 <= 0:
        return -np.inf if sse <= 0 else np.inf
    return n * np.log(sse / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def harmonic_grid(seasons: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every combination of harmonics per season that the grid allows."""
    options = []
    for i, m in enumerate(seasons):
        cap = m // 2 if i == 0 else min(m // 2, MAX_LONG_SEASON_HARMONICS)
        options.append(sorted({min(k, cap) for k in HARMONIC_GRID}))
    return list(product(*options)) if options else [()]


class _Harmonic(Forecaster):
    """Shared part: the basis, its choice by AICc, and the deterministic seasonal forecast."""

    max_obs = 2016  # twelve weeks of hours

    def __init__(self, harmonics: tuple[int, ...] | None = None, **kwargs) -> None:
        self.harmonics = harmonics

    def _basis(self, start: int, stop: int) -> np.ndarray:
        t = np.arange(start, stop, dtype=float)
        return np.column_stack([np.ones(len(t)), fourier_columns(t, self.seasons_,
                                                                 self.harmonics_)])

    def _fit_seasonal(self, y: np.ndarray, on_differences: bool = False) -> np.ndarray:
        """Choose the harmonics (unless fixed) by AICc and fit the basis; returns the residual.

        The widest basis is built once; each candidate is a subset of its columns, solved
        from slices of one Gram matrix, so trying the grid costs little more than one fit.
        ``on_differences`` regresses ``diff(y)`` on the differenced basis (no intercept): a
        level shift is then one outlying difference instead of a step that the slow weekly
        harmonics would bend towards, which suits a model whose level moves.
        """
        fixed = self.harmonics is not None and len(self.harmonics) == len(self.seasons_)
        grid = [tuple(self.harmonics)] if fixed else harmonic_grid(self.seasons_)
        widest = tuple(max(c[i] for c in grid) for i in range(len(self.seasons_)))
        cols, keys = _columns(np.arange(len(y), dtype=float), self.seasons_, widest)
        x = np.column_stack([np.ones(len(y)), cols])
        xs, target = (np.diff(x, axis=0), np.diff(y)) if on_differences else (x, y)
        gram, rhs, yy = xs.T @ xs, xs.T @ target, float(target @ target)
        first = 1 if on_differences else 0  # the differenced intercept column is all zeros
        best = None
        for combo in grid:
            idx = [0] + [j + 1 for j, (i, k) in enumerate(keys) if k <= combo[i]]
            use = idx[first:]
            coef = _solve(gram[np.ix_(use, use)], rhs[use]) if use else np.zeros(0)
            sse = max(yy - float(coef @ rhs[use]), 0.0)
            score = _aicc(sse, len(target), len(use))
            if best is None or score < best[0]:
                best = (score, combo, idx, np.r_[np.zeros(first), coef])
        _, self.harmonics_, idx, self.coef_ = best
        return y - x[:, idx] @ self.coef_

    def _seasonal_future(self, h: int) -> np.ndarray:
        n = len(self.y_)
        return self._basis(n, n + h) @ self.coef_


class HarmonicAR(_Harmonic):
    """Fourier seasons plus AR(p) errors (``p`` by AICc up to :data:`MAX_AR_ORDER`)."""

    name = "dhr"

    def __init__(self, harmonics: tuple[int, ...] | None = None, order: int | None = None
                 ) -> None:
        super().__init__(harmonics)
        self.order = order

    def fixed(self) -> HarmonicAR:
        return HarmonicAR(getattr(self, "harmonics_", None), getattr(self, "p_", None))

    def _fit(self, y: np.ndarray) -> None:
        r = self._fit_seasonal(y)
        orders = [self.order] if self.order is not None else range(MAX_AR_ORDER + 1)
        best = None
        for p in orders:
            phi, sigma2, sse, n_eff = _ar_fit(r, p, MAX_AR_ORDER)
            score = _aicc(sse, n_eff, p + 1)
            if best is None or score < best[0]:
                best = (score, p, phi, sigma2)
        _, self.p_, self.phi_, sigma2 = best
        self.sigma_ = float(np.sqrt(sigma2))
        self.resid_tail_ = r[-max(self.p_, 1):]
        self.form_ = f"DHR{list(self.seasons_)}K{list(self.harmonics_)}+AR({self.p_})"

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        p, phi = self.p_, self.phi_
        history = list(self.resid_tail_[-p:]) if p else []
        ar = np.empty(h)
        for i in range(h):
            ar[i] = float(np.dot(phi, history[::-1][:p])) if p else 0.0
            history.append(ar[i])
        psi = _psi_weights(phi, h)
        sd = self.sigma_ * np.sqrt(np.cumsum(psi**2))
        return self._seasonal_future(h) + ar, sd


def _ar_fit(r: np.ndarray, p: int, p_max: int) -> tuple[np.ndarray, float, float, int]:
    """Least-squares AR(p) without intercept on the same sample for every ``p <= p_max``."""
    target = r[p_max:]
    if p == 0:
        sse = float(np.sum(target**2))
        return np.zeros(0), sse / max(len(target), 1), sse, len(target)
    lags = np.column_stack([r[p_max - j:len(r) - j] for j in range(1, p + 1)])
    phi, *_ = np.linalg.lstsq(lags, target, rcond=None)
    roots = np.abs(np.roots(np.r_[1.0, -phi]))
    if roots.size and roots.max() >= 0.999:  # keep the error process stationary
        phi = phi * (0.999 / roots.max()) ** np.arange(1, p + 1)
    resid = target - lags @ phi
    sse = float(np.sum(resid**2))
    return phi, sse / max(len(target) - p, 1), sse, len(target)


def _psi_weights(phi: np.ndarray, h: int) -> np.ndarray:
    """MA(infinity) weights of an AR process, ``psi_0 = 1``."""
    psi = np.zeros(h)
    psi[0] = 1.0
    for i in range(1, h):
        psi[i] = sum(phi[j] * psi[i - 1 - j] for j in range(min(len(phi), i)))
    return psi


class HarmonicSES(_Harmonic):
    """Fourier seasons removed, the level (and a damped trend, when AICc wants one) smoothed
    exponentially: ETS(A,N,N), ETS(A,A,N) or ETS(A,Ad,N) on the deseasonalised series.

    Holt's recursions are a linear filter of the series, so every (alpha, beta, phi) of the
    grid is one ``scipy.signal.lfilter`` call instead of a Python loop over the hours.
    """

    name = "hses"
    #: trend constants searched (0: no trend)
    trend_grid: tuple[float, ...] = (0.0, 0.01, 0.05, 0.15)

    def __init__(self, harmonics: tuple[int, ...] | None = None, smoothing: tuple | None = None,
                 differences: bool | None = None) -> None:
        super().__init__(harmonics)
        self.smoothing = smoothing
        self.differences = differences

    def fixed(self) -> HarmonicSES:
        return type(self)(getattr(self, "harmonics_", None), getattr(self, "smoothing_", None),
                          getattr(self, "differences_", None))

    def _after_fit(self, adjusted: np.ndarray) -> None:
        """Hook for what a subclass estimates on the deseasonalised series."""

    def _fit(self, y: np.ndarray) -> None:
        """Seasons regressed on levels and on differences (robust to a level shift); the one
        whose smoothed level gives the smaller one-step error is kept."""
        burn = min(len(y) // 4, max(self.seasons_, default=8))
        ways = (self.differences,) if self.differences is not None else (False, True)
        best = None
        for on_differences in ways:
            adjusted = self._fit_seasonal(y, on_differences) + self.coef_[0]
            fit = _holt_search(adjusted, burn, self.smoothing, self.trend_grid)
            if best is None or fit[0] < best[0]:
                best = (*fit, on_differences, self.coef_.copy(), self.harmonics_, adjusted)
        (_, self.smoothing_, self.level_, self.slope_, self.sigma_, self.differences_,
         self.coef_, self.harmonics_, adjusted) = best
        self.coef_[0] = 0.0  # the level carries the mean
        alpha, beta, phi = self.smoothing_
        trend = "N" if beta == 0 else ("A" if phi == 1 else f"Ad phi={phi:g}")
        how = "differences" if self.differences_ else "levels"
        self.form_ = (f"HSES{list(self.seasons_)}K{list(self.harmonics_)} ETS(A,{trend},N) "
                      f"alpha={alpha:.2f} beta={beta:g}, seasons on {how}")
        self._after_fit(adjusted)

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        alpha, beta, phi = self.smoothing_
        j = np.arange(1, h + 1)
        damp = j.astype(float) if phi == 1 else phi * (1 - phi**j) / (1 - phi)
        mean = self._seasonal_future(h) + self.level_ + damp * self.slope_
        c = alpha + alpha * beta * np.r_[0.0, damp[:-1]]  # c_j for j = 0 .. h-1, c_0 unused
        var = 1.0 + np.r_[0.0, np.cumsum(c[1:] ** 2)]
        return mean, self.sigma_ * np.sqrt(var)


#: The smoothing grid: level constants, trend constants (0: no trend) and dampings.
HOLT_ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 0.98)
HOLT_PHIS = (0.9, 0.98, 1.0)


def _holt_filters(alpha: float, beta: float, phi: float):
    """``(b, a)`` of the filters from the series to the level and to the slope (state space
    ``x_t = A x_{t-1} + K y_t``)."""
    from scipy.signal import ss2tf

    a_mat = np.array([[1 - alpha, (1 - alpha) * phi], [-alpha * beta, phi * (1 - alpha * beta)]])
    k = np.array([[alpha], [alpha * beta]])
    # the state after step t includes y_t: outputs A x_{t-1} + K y_t
    num, den = ss2tf(a_mat, k, a_mat, k)
    return num, den


def _holt_search(adjusted: np.ndarray, burn: int, fixed: tuple | None,
                 betas: tuple[float, ...] = (0.0,)) -> tuple[float, tuple, float, float, float]:
    """``(aicc, (alpha, beta, phi), level_n, slope_n, sigma)`` of the best smoothing."""
    origin = adjusted[0]
    x = adjusted - origin  # start from level adjusted[0] and slope 0 (zero filter state)
    grid = [fixed] if fixed is not None else [(a, b, p) for a in HOLT_ALPHAS for b in betas
                                              for p in (HOLT_PHIS if b else (1.0,))]
    best = None
    n = len(x) - 1 - burn
    for alpha, beta, phi in grid:
        num, den = _holt_filters(alpha, beta, phi)
        level = lfilter(num[0], den, x)
        slope = lfilter(num[1], den, x) if beta else np.zeros_like(x)
        err = x[1:] - (level[:-1] + phi * slope[:-1])
        sse = float(np.sum(err[burn:] ** 2))
        k = 1 if beta == 0 else (2 if phi == 1 else 3)
        score = _aicc(sse, n, k + 1)
        if best is None or score < best[0]:
            best = (score, (alpha, beta, phi), float(level[-1] + origin), float(slope[-1]),
                    float(np.sqrt(sse / max(n - k, 1))))
    return best



class HarmonicTheta(HarmonicSES):
    """Fourier seasons removed, the Theta method on the rest: simple exponential smoothing plus
    half the series' least-squares slope as a drift (Hyndman and Billah, 2003), which carries a
    steady growth far ahead where an exponentially smoothed trend is too noisy to be chosen."""

    name = "htheta"
    trend_grid = (0.0,)

    def _after_fit(self, adjusted: np.ndarray) -> None:
        t = np.arange(len(adjusted), dtype=float)
        self.drift_ = 0.5 * float(np.polyfit(t, adjusted, 1)[0])
        self.n_ = len(adjusted)
        self.form_ = self.form_.replace("HSES", "HTheta", 1) + f", drift {self.drift_:.4g}/step"

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        mean, sd = super()._moments(h)
        alpha = self.smoothing_[0]
        j = np.arange(1, h + 1)
        return mean + self.drift_ * (j - 1 + 1 / alpha - (1 - alpha) ** self.n_ / alpha), sd
