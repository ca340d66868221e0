"""Forecasting models behind one contract.

Every model is ``fit(y, season_lengths) -> self``, ``predict(h, levels) -> DataFrame`` with
columns ``mean, lo-80, hi-80, ...`` indexed by the future stamps, ``forecast(y, h, levels)``
(fit then predict) and ``simulate(h, n_paths, rng) -> ndarray (n_paths, h)`` sample paths.

Models reduce their forecast to two moments per step, ``(mean, sd)``; intervals are
``mean +- z * sd`` here and are recalibrated out of sample in :mod:`smsim.forecast.intervals`.
Fitting works on a numpy copy of the most recent ``max_obs`` values (statsmodels cost grows
with length and old history adds little to a next-quarter forecast).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from smsim import notices
from smsim.forecast.series import detect_freq
from smsim.forecast.series import season_lengths as default_seasons

#: Longest season an ETS model estimates directly; longer cycles are left to MSTL.
MAX_DIRECT_SEASON = 24
#: Longest season given seasonal ARMA terms; longer ones become Fourier regressors.
MAX_SARIMA_SEASON = 12


def z_value(level: float) -> float:
    """The standard-normal quantile giving a central ``level`` % interval."""
    return float(stats.norm.ppf(0.5 + level / 200.0))


def interval_frame(index: pd.DatetimeIndex, mean: np.ndarray, half_widths: dict[float, np.ndarray]
                   ) -> pd.DataFrame:
    """``mean, lo-L, hi-L`` columns, with widths forced to grow with the level (nested bands)."""
    data: dict[str, np.ndarray] = {"mean": np.asarray(mean, float)}
    widest = np.zeros(len(mean))
    for level in sorted(half_widths):
        widest = np.maximum(widest, np.nan_to_num(np.asarray(half_widths[level], float)))
        data[f"lo-{_fmt(level)}"] = data["mean"] - widest
        data[f"hi-{_fmt(level)}"] = data["mean"] + widest
    frame = pd.DataFrame(data, index=index)
    frame.index.name = "ds"
    return frame


def _fmt(level: float) -> str:
    return f"{level:g}"


class Forecaster:
    """Base class: dates, the constant-series shortcut, intervals and generic sample paths."""

    name: ClassVar[str] = "base"
    max_obs: ClassVar[int] = 2000

    def fit(self, y: pd.Series, season_lengths: Sequence[int] | None = None) -> Forecaster:
        if not isinstance(y.index, pd.DatetimeIndex):
            raise TypeError("y needs a DatetimeIndex")
        values = np.asarray(y.to_numpy(dtype=float))[-self.max_obs:]
        if len(values) < 3 or not np.all(np.isfinite(values)):
            raise ValueError(f"{self.name}: need at least 3 finite values, got {len(values)}")
        self.offset_ = y.index.freq or pd.tseries.frequencies.to_offset(pd.infer_freq(y.index))
        self.last_ = y.index[-1]
        if season_lengths is None:
            season_lengths = default_seasons(detect_freq(y.index), len(values))
        self.seasons_ = tuple(int(m) for m in season_lengths if 1 < m and 2 * m <= len(values))
        self.y_ = values
        self.constant_ = bool(np.ptp(values) == 0)
        self.warnings_ = Counter()
        if not self.constant_:
            with self._recording():
                self._fit(values)
        return self

    @contextmanager
    def _recording(self) -> Iterator[None]:
        """Run library code with its warnings counted in ``warnings_`` instead of printed."""
        with notices.record() as caught, np.errstate(all="ignore"):
            try:
                yield
            finally:
                counts = getattr(self, "warnings_", None)
                if counts is None:
                    counts = self.warnings_ = Counter()
                counts.update(notices.count(caught))

    def predict_moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Point forecast and predictive standard deviation for steps 1..h."""
        if self.constant_:
            return np.full(h, self.y_[-1]), np.zeros(h)
        with self._recording():
            mean, sd = self._moments(h)
        mean = np.asarray(mean, float)
        sd = np.asarray(sd, float)
        sd = np.where(np.isfinite(sd), np.maximum(sd, 0.0), np.nanmax(np.r_[sd[np.isfinite(sd)],
                                                                            0.0]))
        if not np.all(np.isfinite(mean)):
            raise FloatingPointError(f"{self.name}: non-finite forecast")
        return mean, sd

    def future_index(self, h: int) -> pd.DatetimeIndex:
        idx = pd.date_range(self.last_, periods=h + 1, freq=self.offset_)[1:]
        idx.name = "ds"
        return idx

    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        mean, sd = self.predict_moments(h)
        return interval_frame(self.future_index(h), mean,
                              {lv: z_value(lv) * sd for lv in levels})

    def forecast(self, y: pd.Series, h: int, levels: Sequence[float] = (80, 95),
                 season_lengths: Sequence[int] | None = None) -> pd.DataFrame:
        return self.fit(y, season_lengths).predict(h, levels)

    def simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Sample paths, shape ``(n_paths, h)``.

        The default draws Gaussian paths whose step-h marginal matches ``predict_moments``
        and whose increments are independent, so errors persist along a path (a high
        month tends to be followed by a high month), as cumulative spend needs.
        """
        mean, sd = self.predict_moments(h)
        if self.constant_:
            return np.tile(mean, (n_paths, 1))
        with self._recording():
            native = self._simulate(h, n_paths, rng)
        if native is not None and np.all(np.isfinite(native)):
            return native
        return gaussian_paths(mean, sd, n_paths, rng)

    def fixed(self) -> Forecaster:
        """An unfitted copy that re-estimates parameters but keeps the chosen form or order.

        The backtest refits this at every origin: choosing the form once, on the whole series,
        costs a small optimistic bias in backtest accuracy and saves most of the fitting time.
        """
        return type(self)()

    # subclasses implement these
    def _fit(self, y: np.ndarray) -> None:
        raise NotImplementedError

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray | None:
        return None


def gaussian_paths(mean: np.ndarray, sd: np.ndarray, n_paths: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Paths ``mean + cumulative independent increments`` with marginal sd ``sd`` (made monotone)."""
    sd = np.maximum.accumulate(np.asarray(sd, float))
    inc = np.sqrt(np.diff(np.r_[0.0, sd**2]))
    return mean + np.cumsum(rng.standard_normal((n_paths, len(mean))) * inc, axis=1)


class SeasonalNaive(Forecaster):
    """Repeat the last season; the baseline every other model must beat.

    Errors are those of a seasonal random walk: the sd after ``k`` whole seasons ahead is
    ``sigma * sqrt(k)``, sigma estimated from the seasonal differences.
    """

    name = "snaive"

    def _fit(self, y: np.ndarray) -> None:
        self.m_ = self.seasons_[0] if self.seasons_ else 1
        diff = y[self.m_:] - y[:-self.m_]
        self.sigma_ = float(np.sqrt(np.mean(diff**2)))

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(h)
        mean = self.y_[-self.m_:][steps % self.m_]
        return mean, self.sigma_ * np.sqrt(steps // self.m_ + 1)

    def _simulate(self, h, n_paths, rng):
        m = self.m_
        cycles = -(-h // m)
        shocks = rng.standard_normal((n_paths, cycles, m)) * self.sigma_
        walk = np.cumsum(shocks, axis=1).reshape(n_paths, cycles * m)[:, :h]
        return self.predict_moments(h)[0] + walk


class ETS(Forecaster):
    """Exponential smoothing (statsmodels ``ETSModel``) with the form chosen by AICc.

    Initial states come from the usual decomposition heuristic rather than the likelihood:
    estimating 24 seasonal states makes a fit ~20x slower for a negligible gain in AICc.
    Candidates: additive errors; no, additive or damped trend; no, additive or (for positive
    data) multiplicative seasonality at the shortest season up to ``MAX_DIRECT_SEASON``.
    ``seasonal=False`` restricts to non-seasonal forms (used on MSTL remainders).
    """

    name = "ets"

    def __init__(self, seasonal: bool = True, form: tuple | None = None) -> None:
        self.seasonal = seasonal
        self.form = form

    def fixed(self) -> ETS:
        return ETS(self.seasonal, getattr(self, "spec_", None))

    def _fit(self, y: np.ndarray) -> None:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        endog = pd.Series(y)
        m = next((s for s in self.seasons_ if s <= MAX_DIRECT_SEASON), None)
        seasonals: list[str | None] = [None]
        if self.seasonal and m and len(y) >= 2 * m + 4:
            seasonals += ["add"] + (["mul"] if y.min() > 0 else [])
        forms = [(t, dmp, sea) for sea in seasonals
                 for t, dmp in ((None, False), ("add", False), ("add", True))]
        if self.form is not None:
            forms = [self.form] if self.form[2] is None or (m and len(y) >= 2 * m + 4) else \
                [(self.form[0], self.form[1], None)]
            if self.form[2] == "mul" and y.min() <= 0:
                forms = [(self.form[0], self.form[1], "add")]
        best = None
        for trend, damped, seasonal in forms:
            try:
                res = ETSModel(endog, error="add", trend=trend, damped_trend=damped,
                               seasonal=seasonal, seasonal_periods=m if seasonal else None,
                               initialization_method="heuristic",
                               ).fit(disp=False, maxiter=100)
            except Exception:  # noqa: BLE001 - a form that cannot be fitted is skipped
                continue
            if np.isfinite(res.aicc) and (best is None or res.aicc < best.aicc):
                best = res
        if best is None:
            raise FloatingPointError("ets: no form could be fitted")
        self.res_ = best
        self.spec_ = (best.model.trend, bool(best.model.damped_trend), best.model.seasonal)
        self.form_ = (f"ETS(A,{'Ad' if best.model.damped_trend else (best.model.trend or 'N')[0]},"
                      f"{(best.model.seasonal or 'N')[0]})").upper().replace("AD", "Ad")

    def _moments(self, h):
        n = self.res_.nobs
        # Multiplicative forms have no closed-form variance: statsmodels simulates it, so the
        # simulation gets a fixed seed (the same fit must always give the same bands).
        pred = self.res_.get_prediction(start=n, end=n + h - 1, rng=np.random.default_rng(20260101))
        return np.asarray(pred.predicted_mean), np.sqrt(np.asarray(pred.forecast_variance))

    def _simulate(self, h, n_paths, rng):
        sim = self.res_.simulate(h, anchor="end", repetitions=n_paths, rng=rng)
        return np.asarray(sim, float).reshape(h, n_paths).T


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
            big_d = 1 if m and len(y) >= 3 * m and _seasonal_strength(y, m) > 0.64 else 0
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


def _seasonal_strength(y: np.ndarray, m: int) -> float:
    """Wang-Smith-Hyndman seasonal strength ``1 - var(R) / var(S + R)`` from an STL fit."""
    from statsmodels.tsa.seasonal import STL

    res = STL(y, period=m, robust=True).fit()
    denom = np.var(res.seasonal + res.resid)
    return float(max(0.0, 1 - np.var(res.resid) / denom)) if denom > 0 else 0.0


class Theta(Forecaster):
    """The Theta method (statsmodels ``ThetaModel``), deseasonalised at the shortest season.

    The Theta forecast equals simple exponential smoothing with drift (Hyndman and Billah,
    2003), so its sd is SES's ``sigma * sqrt(1 + (h - 1) alpha^2)``; statsmodels' own interval
    grows like ``2 h`` for a small alpha, far wider than the method's actual errors.
    """

    name = "theta"

    def _fit(self, y):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = self.seasons_[0] if self.seasons_ else 1
        positive = y.min() > 0
        model = ThetaModel(y, period=m, deseasonalize=m > 1,
                           method="multiplicative" if positive else "additive")
        self.res_ = model.fit()
        # sigma^2 of the one-step SES errors on the deseasonalised data (statsmodels' own
        # sigma2 fits an ARIMA(0,1,1) state space, ~40x the cost of the whole Theta fit, on
        # the raw series, seasonality included)
        adjusted, seasonal = model._deseasonalize_data()
        alpha = float(self.res_.params.iloc[1])
        level, errors = float(adjusted[0]), np.empty(len(adjusted) - 1)
        for t in range(1, len(adjusted)):
            errors[t - 1] = adjusted[t] - level
            level += alpha * errors[t - 1]
        scale = float(np.mean(seasonal)) if model._method.startswith("mul") and len(seasonal) \
            else 1.0
        self.alpha_ = alpha
        self.sigma2_ = float(np.mean(errors**2)) * scale**2

    def _moments(self, h):
        mean = np.asarray(self.res_.forecast(h))
        sd = np.sqrt(self.sigma2_ * (1 + np.arange(h) * self.alpha_**2))
        return mean, sd


class MSTL(Forecaster):
    """Several seasonalities (e.g. daily and weekly in hourly data) removed by statsmodels MSTL.

    The deseasonalised series is forecast by a non-seasonal ETS (or ARIMA); each seasonal
    component is carried forward by repeating its last cycle. The uncertainty is that of the
    remainder model (seasonal shapes are treated as known).
    """

    name = "mstl"

    def __init__(self, remainder: str = "ets", inner: Forecaster | None = None) -> None:
        self.remainder = remainder
        self.inner = inner

    def fixed(self) -> MSTL:
        inner = getattr(self, "inner_", None)
        return MSTL(self.remainder, inner.fixed() if inner is not None else None)

    def _fit(self, y):
        from statsmodels.tsa.seasonal import MSTL as _SM

        inner = self.inner or (ETS(seasonal=False) if self.remainder == "ets"
                               else ARIMA(seasonal=False))
        periods = [m for m in self.seasons_ if 2 * m <= len(y)]
        if periods:
            res = _SM(y, periods=periods if len(periods) > 1 else periods[0]).fit()
            seasonal = np.asarray(res.seasonal, float).reshape(len(y), -1)
        else:
            seasonal = np.zeros((len(y), 0))
        self.periods_ = periods
        self.seasonal_ = seasonal
        adjusted = y - seasonal.sum(axis=1)
        inner.fit(pd.Series(adjusted, index=pd.RangeIndex(len(y)).map(_fake_date)), ())
        self.inner_ = inner
        self.form_ = f"MSTL{list(periods)}+{getattr(inner, 'form_', inner.name)}"

    def _future_seasonal(self, h):
        total = np.zeros(h)
        for j, m in enumerate(self.periods_):
            last = self.seasonal_[-m:, j]
            total += last[np.arange(h) % m]
        return total

    def _moments(self, h):
        mean, sd = self.inner_.predict_moments(h)
        return mean + self._future_seasonal(h), sd

    def _simulate(self, h, n_paths, rng):
        return self.inner_.simulate(h, n_paths, rng) + self._future_seasonal(h)


def _fake_date(i: int) -> pd.Timestamp:
    return pd.Timestamp("2000-01-01") + pd.Timedelta(days=int(i))


class Log1p(Forecaster):
    """Another model fitted to ``log1p(y)``, for non-negative counts whose noise grows with level.

    The point forecast is ``expm1`` of the inner forecast (the back-transformed median, the
    right point for absolute-error accuracy); the sd is half the back-transformed
    ``mean +- sd`` range, so bands widen at busy hours and narrow at quiet ones; sample paths are
    the inner paths transformed back.
    """

    def __init__(self, inner: str | Forecaster = "ets") -> None:
        self.inner = make_model(inner) if isinstance(inner, str) else inner
        self.name = f"{self.inner.name}+log1p"

    def fixed(self) -> Log1p:
        return Log1p(self.inner.fixed())

    def fit(self, y: pd.Series, season_lengths: Sequence[int] | None = None) -> Log1p:
        values = y.to_numpy(dtype=float)
        if np.any(values < 0):
            raise ValueError("log1p: the series has negative values")
        self.inner.fit(pd.Series(np.log1p(values), index=y.index), season_lengths)
        for attr in ("offset_", "last_", "seasons_", "constant_", "warnings_"):
            setattr(self, attr, getattr(self.inner, attr))
        self.y_ = values[-len(self.inner.y_):]
        self.form_ = f"log1p({getattr(self.inner, 'form_', self.inner.name)})"
        return self

    def _moments(self, h):
        mu, sd = self.inner.predict_moments(h)
        mu = np.minimum(mu, 700.0)
        return np.expm1(mu), (np.expm1(np.minimum(mu + sd, 700.0)) - np.expm1(mu - sd)) / 2

    def _simulate(self, h, n_paths, rng):
        return np.expm1(np.minimum(self.inner.simulate(h, n_paths, rng), 700.0))


class Ensemble(Forecaster):
    """The mean of several models' forecasts.

    Averaging the point forecasts of different model families is among the most reliable
    accuracy gains in forecasting. The sd is the mean of the members' sds (errors of
    different models are strongly correlated, so this is close to and not below the truth);
    intervals are recalibrated out of sample anyway.
    """

    name = "ensemble"

    def __init__(self, members: Sequence[str | Forecaster] = ("ets", "arima", "theta")) -> None:
        self.members = tuple(members)

    def fixed(self) -> Ensemble:
        fitted = getattr(self, "fitted_", None)
        return Ensemble([m.fixed() for m in fitted] if fitted else self.members)

    def _fit(self, y):
        fitted = []
        series = pd.Series(y, index=pd.RangeIndex(len(y)).map(_fake_date))
        for member in self.members:
            model = make_model(member) if isinstance(member, str) else member
            try:
                fitted.append(model.fit(series, self.seasons_))
            except Exception:  # noqa: BLE001 - a member that fails is left out
                continue
        if not fitted:
            raise FloatingPointError("ensemble: no member could be fitted")
        self.fitted_ = fitted
        for m in fitted:
            self.warnings_.update(getattr(m, "warnings_", {}))
        self.form_ = "mean(" + ", ".join(getattr(m, "form_", m.name) for m in fitted) + ")"

    def _moments(self, h):
        moments = [m.predict_moments(h) for m in self.fitted_]
        return (np.mean([m for m, _ in moments], axis=0), np.mean([s for _, s in moments], axis=0))


MODELS: dict[str, type[Forecaster]] = {
    cls.name: cls for cls in (SeasonalNaive, ETS, ARIMA, ARMA, Theta, MSTL, Ensemble)
}


def make_model(name: str, **kwargs) -> Forecaster:
    """A fresh model by name (``snaive``, ``ets``, ``arima``, ``arma``, ``theta``, ``mstl``,
    ``ensemble``)."""
    try:
        return MODELS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
