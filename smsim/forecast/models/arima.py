"""ARIMA with automatic order selection (AICc) and KPSS differencing behind the forecaster contract."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from smsim.forecast.models.base import MAX_SARIMA_SEASON, Forecaster, seasonal_strength


class ARIMA(Forecaster):
    """(S)ARIMA with orders chosen by a small stepwise AICc search (Hyndman-Khandakar style).

    ``D`` is 1 when STL seasonal strength exceeds 0.64, ``d`` comes from repeated KPSS tests
    at 5 %; then from four starting models the search moves one of p, q, P, Q by one while
    AICc improves, at most ``max_fits`` fits. Seasonal ARMA terms are used for seasons up to
    ``MAX_SARIMA_SEASON``; longer cycles (24 and 168 in hourly data) are Fourier terms
    estimated by least squares first, the ARIMA fitted to what is left (two-step harmonic
    regression), because a 24-lag seasonal state space takes minutes to fit in statsmodels and
    a joint regression-with-ARMA-errors fit several seconds. Harmonic coefficients are treated
    as known in the sd.
    """

    name = "arima"
    max_obs = 400
    max_fits = 7
    fourier_terms = 3
    stationary: ClassVar[bool] = False

    def __init__(self, seasonal: bool = True, order: tuple | None = None,
                 max_sarima_season: int = MAX_SARIMA_SEASON) -> None:
        self.seasonal = seasonal
        self.order = order
        self.max_sarima_season = max_sarima_season

    def fixed(self) -> ARIMA:
        return ARIMA(self.seasonal, getattr(self, "spec_", None), self.max_sarima_season)

    def _fit(self, y: np.ndarray) -> None:
        seasons = self.seasons_ if self.seasonal else ()
        m = next((s for s in seasons if s <= self.max_sarima_season), 0)
        self.fourier_ = tuple(s for s in seasons if s > self.max_sarima_season)
        exog = self._exog(0, len(y))
        self.harmonic_ = None
        if exog is not None:
            design = np.column_stack([np.ones(len(y)), np.arange(len(y)), exog])
            coef = np.linalg.lstsq(design, y, rcond=None)[0]
            self.harmonic_ = coef[2:]
            y = y - exog @ self.harmonic_
            exog = None
        if self.stationary:
            d, big_d = 0, 0
        elif self.order is not None and (self.order[5] == 0 or self.order[6] == m):
            d, big_d = self.order[1], self.order[5]
        else:
            big_d = 1 if m and len(y) >= 3 * m and seasonal_strength(y, m) > 0.64 else 0
            d = _ndiffs(y[m:] - y[:-m] if big_d else y)
        trend = "c" if d + big_d == 0 else ("t" if d + big_d == 1 else "n")
        fitted: dict[tuple, object] = {}

        def score(order):
            if order in fitted:
                return fitted[order]
            p, q, sp, sq = order
            res = None
            try:
                from statsmodels.tsa.arima.model import ARIMA as _SM

                spec = _SM(y, order=(p, d, q),
                           seasonal_order=(sp, big_d, sq, m) if m else (0, 0, 0, 0),
                           trend=trend)
                try:  # innovations MLE is several times faster than the state-space MLE
                    res = spec.fit(method="innovations_mle")
                except Exception:  # noqa: BLE001
                    res = spec.fit(method_kwargs={"maxiter": 50})
                if not np.isfinite(res.aicc):
                    res = None
            except Exception:  # noqa: BLE001 - an order that fails to fit is skipped
                res = None
            fitted[order] = res
            return res

        starts = [(1, 1, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
        if not m:
            starts = [(1, 1, 0, 0), (0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0)]
        searching = True
        if self.order is not None:
            o = self.order
            starts = [(o[0], o[2], o[3] if m else 0, o[4] if m else 0), (0, 0, 0, 0)]
            searching = False
        for order in starts:
            score(order)
            if not searching and fitted[order] is not None:
                break
        best = _best(fitted)
        while searching and best is not None and len(fitted) < self.max_fits:
            improved = False
            for k, delta in ((0, 1), (0, -1), (1, 1), (1, -1), (2, 1), (2, -1), (3, 1), (3, -1)):
                cand = list(best)
                cand[k] += delta
                limit = 2 if k < 2 else (1 if m else 0)
                if not 0 <= cand[k] <= limit or tuple(cand) in fitted:
                    continue
                res = score(tuple(cand))
                if res is not None and res.aicc < fitted[best].aicc - 1e-9:
                    best, improved = tuple(cand), True
                    break
                if len(fitted) >= self.max_fits:
                    break
            if not improved:
                break
        if best is None:
            raise FloatingPointError("arima: no order could be fitted")
        self.res_ = fitted[best]
        self.n_ = len(y)
        p, q, sp, sq = best
        self.spec_ = (p, d, q, sp, big_d, sq, m)
        self.form_ = (f"ARIMA({p},{d},{q})" + (f"({sp},{big_d},{sq})[{m}]" if m else "")
                      + "".join(f"+F[{s}]" for s in self.fourier_))

    def _exog(self, start: int, stop: int) -> np.ndarray | None:
        """Fourier regressors (sin, cos of k = 1..K cycles) for positions ``start..stop-1``."""
        if not self.fourier_:
            return None
        t = np.arange(start, stop)
        cols = []
        for s in self.fourier_:
            for k in range(1, min(self.fourier_terms, s // 2) + 1):
                cols += [np.sin(2 * np.pi * k * t / s), np.cos(2 * np.pi * k * t / s)]
        return np.column_stack(cols)

    def _seasonal(self, h: int) -> np.ndarray:
        if self.harmonic_ is None:
            return np.zeros(h)
        return self._exog(self.n_, self.n_ + h) @ self.harmonic_

    def _moments(self, h):
        fc = self.res_.get_forecast(h)
        return (np.asarray(fc.predicted_mean) + self._seasonal(h),
                np.sqrt(np.asarray(fc.var_pred_mean)))

    def _simulate(self, h, n_paths, rng):
        sim = self.res_.simulate(h, anchor="end", repetitions=n_paths, rng=rng)
        return np.asarray(sim, float).reshape(h, n_paths).T + self._seasonal(h)


class ARMA(ARIMA):
    """Stationary ARMA(p, q) with a constant, every season as Fourier terms: a bounded long run.

    The :class:`ARIMA` search with ``d = D = 0`` imposed, for series that test stationary
    (:mod:`smsim.forecast.stationarity`). statsmodels' ARIMA enforces stationary AR parameters
    (``enforce_stationarity=True``), so the h-step forecast reverts to the constant plus the
    seasonal harmonics and its variance converges to the process variance,
    ``sigma^2 * sum_j psi_j^2``, where every unit-root model here (seasonal naive, ETS, Theta,
    ARIMA with ``d >= 1``) has a variance growing without bound. It is fitted on up to 1,500
    values (the mean and variance it reverts to are estimated from all of them).
    """

    name = "arma"
    max_obs = 1500
    stationary = True

    def __init__(self, order: tuple | None = None) -> None:
        super().__init__(seasonal=True, order=order, max_sarima_season=1)

    def fixed(self) -> ARMA:
        return ARMA(getattr(self, "spec_", None))


def _best(fitted: dict) -> tuple | None:
    ok = [(res.aicc, order) for order, res in fitted.items() if res is not None]
    return min(ok)[1] if ok else None


def _ndiffs(y: np.ndarray, max_d: int = 2) -> int:
    """Differences needed for KPSS (level stationarity, 5 %) not to reject."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(y) > 10 and np.ptp(y) > 0:
        try:
            p_value = kpss(y, regression="c", nlags="auto")[1]
        except Exception:  # noqa: BLE001
            break
        if p_value >= 0.05:
            break
        y = np.diff(y)
        d += 1
    return d
