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
#: Smoothing constants tried for :class:`HarmonicSES` (one-step squared error picks one).
ALPHAS = np.linspace(0.02, 0.98, 25)


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
    """Fourier seasons removed, the level smoothed exponentially (alpha by one-step error)."""

    name = "hses"

    def __init__(self, harmonics: tuple[int, ...] | None = None, alpha: float | None = None,
                 differences: bool | None = None) -> None:
        super().__init__(harmonics)
        self.alpha = alpha
        self.differences = differences

    def fixed(self) -> HarmonicSES:
        return HarmonicSES(getattr(self, "harmonics_", None), getattr(self, "alpha_", None),
                           getattr(self, "differences_", None))

    def _fit(self, y: np.ndarray) -> None:
        """Seasons regressed on levels and on differences (robust to a level shift); the one
        whose smoothed level gives the smaller one-step error is kept."""
        burn = min(len(y) // 4, max(self.seasons_, default=8))
        ways = (self.differences,) if self.differences is not None else (False, True)
        best = None
        for on_differences in ways:
            adjusted = self._fit_seasonal(y, on_differences) + self.coef_[0]
            alpha, level = self._smooth(adjusted, burn)
            err = adjusted[1:] - level[:-1]
            sse = float(np.sum(err[burn:] ** 2))
            if best is None or sse < best[0]:
                best = (sse, on_differences, alpha, float(level[-1]), self.coef_.copy(),
                        self.harmonics_)
        sse, self.differences_, self.alpha_, self.level_, self.coef_, self.harmonics_ = best
        self.coef_[0] = 0.0  # the level carries the mean
        self.sigma_ = float(np.sqrt(sse / max(len(y) - 1 - burn - 1, 1)))
        how = "differences" if self.differences_ else "levels"
        self.form_ = (f"HSES{list(self.seasons_)}K{list(self.harmonics_)} alpha={self.alpha_:.2f}"
                      f" seasons on {how}")

    def _smooth(self, adjusted: np.ndarray, burn: int) -> tuple[float, np.ndarray]:
        """The smoothing constant with the least one-step squared error, and its levels."""
        alphas = ALPHAS if self.alpha is None else np.array([self.alpha])
        best = None
        for a in alphas:
            level = lfilter([a], [1.0, -(1.0 - a)], adjusted, zi=[(1.0 - a) * adjusted[0]])[0]
            sse = float(np.sum((adjusted[1:] - level[:-1])[burn:] ** 2))
            if best is None or sse < best[0]:
                best = (sse, float(a), level)
        return best[1], best[2]

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        mean = self._seasonal_future(h) + self.level_
        sd = self.sigma_ * np.sqrt(1.0 + np.arange(h) * self.alpha_**2)
        return mean, sd
