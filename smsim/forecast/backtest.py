"""Rolling-origin backtest and model selection by MASE.

The last ``n_origins`` windows of ``horizon`` steps are forecast from the data before each
window, with a fresh parameter fit every time. The model form (ETS components, ARIMA orders)
is the one chosen on the whole series and is not re-selected at each origin: that saves most of
the fitting time at the cost of a small optimistic bias in backtest accuracy. The stored errors and sds feed interval calibration;
MASE (scaled by the in-sample seasonal-naive error of each training window) ranks models.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smsim.forecast.intervals import Calibration, calibrate
from smsim.forecast.models.base import Forecaster
from smsim.forecast.models.registry import make_model
from smsim.forecast.plausible import peak_ratio, plausible, reference_level

#: Models tried by ``auto`` (MSTL joins when the data covers at least one season twice; the
#: ``+log1p`` variants when the series is non-negative). Seasonal naive is always among them,
#: so the pick cannot be worse than the baseline on the backtest.
AUTO_CANDIDATES = ("snaive", "ets", "arima", "theta")
#: Models also tried on ``log1p(y)`` for non-negative series (counts, spend): their noise
#: usually grows with the level, which the log scale makes constant.
LOG_CANDIDATES = ("ets", "theta", "mstl")
#: Models tried by ``auto`` for a stationary series beyond the longest backtested step: the
#: ones whose spread stays bounded (see :func:`smsim.forecast.api.long_horizon_stationarity`).
STATIONARY_CANDIDATES = ("arma",)
#: Models tried by ``auto`` when a season is longer than :data:`LONG_SEASON` steps (24 and
#: 168 in hourly data, 288 in 5-minute data): the harmonic regressions fit both cycles in one
#: least-squares solve each, where the state-space and STL candidates need seconds per fit
#: and model only the shortest cycle directly. This is the pruning that makes hundreds of
#: hourly series fast; ``--model`` still runs any model on any series.
FAST_CANDIDATES = ("snaive", "dhr", "hses", "htheta")
FAST_LOG_CANDIDATES = ("dhr", "hses", "htheta")
LONG_SEASON = 24


def candidate_model(name: str) -> Forecaster:
    """A fresh ``auto`` candidate by name (``ets``, ``mstl+log1p``, ...).

    ARIMA in ``auto`` takes every season as Fourier regressors: a seasonal-ARMA fit takes
    seconds to tens of seconds per order in statsmodels (against a fraction of a second for
    the harmonic regression), and the explicit ``arima`` model keeps the seasonal ARMA terms.
    """
    from smsim.forecast.models.arima import ARIMA
    from smsim.forecast.models.registry import Log1p

    if name.endswith("+log1p"):
        return Log1p(candidate_model(name[: -len("+log1p")]))
    if name == "arima":
        return ARIMA(max_sarima_season=1)
    return make_model(name)


@dataclass
class Backtest:
    """One model's backtest: arrays are ``(origins, steps)``."""

    model: str
    actual: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    scale: np.ndarray  # per origin: in-sample seasonal-naive MAE of its training window
    seconds: float = 0.0
    #: for a non-negative series forecast past the backtest: the paths' largest upper 1 % over
    #: the horizon / the level the history supports (:func:`smsim.forecast.plausible.peak_ratio`)
    peak_ratio: float | None = None

    @property
    def errors(self) -> np.ndarray:
        return self.actual - self.mean

    @property
    def mase(self) -> float:
        """Mean MASE over origins; nan when the series was too short for any origin."""
        if self.actual.size == 0:
            return float("nan")
        return float(np.mean(np.mean(np.abs(self.errors), axis=1) / self.scale))

    @property
    def origin_mase(self) -> np.ndarray:
        """MASE of each origin's window."""
        return np.mean(np.abs(self.errors), axis=1) / self.scale

    @property
    def smape(self) -> float:
        return smape(self.actual, self.mean) if self.actual.size else float("nan")


def beats(candidate: Backtest, baseline: Backtest) -> bool:
    """Whether ``candidate`` is better than ``baseline`` in mean MASE *and* at most origins.

    A lower mean alone is often one lucky window out of four; asking for a win at a strict
    majority of origins as well keeps the baseline unless the improvement is consistent.
    """
    if not np.isfinite(candidate.mase) or candidate.mase >= baseline.mase:
        return False
    if candidate.origin_mase.shape != baseline.origin_mase.shape:
        return True
    wins = np.sum(candidate.origin_mase < baseline.origin_mase)
    return bool(wins > candidate.origin_mase.size / 2)


def mase_scale(y: np.ndarray, m: int) -> float:
    """Mean absolute seasonal-naive (lag ``m``, or 1 if too short) in-sample error; >0."""
    lag = m if m > 1 and len(y) > m else 1
    scale = float(np.mean(np.abs(y[lag:] - y[:-lag]))) if len(y) > lag else 0.0
    return scale if scale > 0 else max(float(np.mean(np.abs(y))), 1e-9)


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray, m: int) -> float:
    return float(np.mean(np.abs(np.asarray(actual) - forecast)) / mase_scale(train, m))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent (0-200); a step where both are 0 counts as exact."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    denom = np.abs(a) + np.abs(f)
    ratio = np.where(denom > 0, 2 * np.abs(a - f) / np.where(denom > 0, denom, 1), 0.0)
    return float(100 * np.mean(ratio))


def plan_origins(n: int, horizon: int, n_origins: int, min_train: int) -> tuple[int, list[int]]:
    """Backtest horizon and training-end positions (oldest first), fitting inside ``n``.

    The horizon is at least 8 steps (so a one-step request still gives enough scores) and
    shrinks, then the number of origins shrinks, until every training window has
    ``min_train`` points.
    """
    h = max(horizon, 8)
    h = min(h, max((n - min_train) // max(n_origins, 1), 1))
    k = n_origins
    while k > 0 and n - k * h < min_train:
        k -= 1
    return h, [n - (i + 1) * h for i in reversed(range(k))]


def min_train_length(season_lengths: Sequence[int]) -> int:
    """Shortest training window a backtest origin gets: two of the longest season and more."""
    m = season_lengths[0] if season_lengths else 1
    return max(2 * max(season_lengths, default=1) + 2, 3 * m, 16)


def backtest_steps(n: int, horizon: int, season_lengths: Sequence[int], n_origins: int = 4) -> int:
    """The longest step ahead that a backtest of ``n`` values scores (0 when it has no origin)."""
    h, ends = plan_origins(n, horizon, n_origins, min_train_length(season_lengths))
    return h if ends else 0


def run_backtest(y: pd.Series, model: str | Forecaster, horizon: int, *, n_origins: int = 4,
                 season_lengths: Sequence[int] = (), min_train: int | None = None) -> Backtest:
    """Backtest ``model`` on ``y``; raises if a fit fails.

    ``model`` is a name (selected afresh at each origin) or a model fitted on the whole
    series, whose :meth:`~smsim.forecast.models.base.Forecaster.fixed` copy is refitted.
    """
    import time

    values = y.to_numpy(dtype=float)
    m = season_lengths[0] if season_lengths else 1
    min_train = min_train or min_train_length(season_lengths)
    h, ends = plan_origins(len(values), horizon, n_origins, min_train)
    start = time.perf_counter()
    actual, mean, sd, scale = [], [], [], []
    for end in ends:
        train = y.iloc[:end]
        seasons = [s for s in season_lengths if 2 * s <= end]
        fresh = make_model(model) if isinstance(model, str) else model.fixed()
        fitted = fresh.fit(train, seasons)
        mu, sigma = fitted.predict_moments(h)
        actual.append(values[end:end + h])
        mean.append(mu)
        sd.append(sigma)
        scale.append(mase_scale(values[:end], m))
    shape = (len(ends), h)
    name = model if isinstance(model, str) else model.name
    return Backtest(name, np.reshape(actual, shape), np.reshape(mean, shape),
                    np.reshape(sd, shape), np.asarray(scale), time.perf_counter() - start)


def ensemble_backtest(parts: Sequence[Backtest]) -> Backtest:
    """The backtest of the mean of ``parts`` (no refitting: the members' forecasts averaged)."""
    return Backtest("ensemble", parts[0].actual, np.mean([p.mean for p in parts], axis=0),
                    np.mean([p.sd for p in parts], axis=0), parts[0].scale,
                    sum(p.seconds for p in parts))


def auto_candidates(y: pd.Series, season_lengths: Sequence[int],
                    horizon: int | None = None) -> tuple[str, ...]:
    """The models ``auto`` backtests on ``y``, pruned by its seasons before anything is fitted.

    A season longer than :data:`LONG_SEASON` steps and a horizon of at most two of those seasons
    (two weeks of hours: capacity and traffic forecasts) select the harmonic family
    (:data:`FAST_CANDIDATES`). Otherwise, and for longer horizons (a projection's months, a
    commitment's year), seasonal naive, ETS, ARIMA, Theta and MSTL: the harmonic models treat
    their seasonal coefficients and a slowly smoothed level as known, so their spread months
    ahead is too narrow, and one series forecast far ahead is worth the slower fits. The
    ``+log1p`` variants join for non-negative, non-constant series.
    """
    values = y.to_numpy(dtype=float)
    log = bool((values >= 0).all()) and np.ptp(values) > 0
    longest = max(season_lengths, default=1)
    if longest > LONG_SEASON and (horizon is None or horizon <= 2 * longest):
        return FAST_CANDIDATES + (tuple(f"{c}+log1p" for c in FAST_LOG_CANDIDATES) if log
                                  else ())
    candidates = AUTO_CANDIDATES + (("mstl",) if season_lengths else ())
    if log:
        candidates += tuple(f"{c}+log1p" for c in LOG_CANDIDATES if c != "mstl" or season_lengths)
    return candidates


def stationary_candidates(season_lengths: Sequence[int], nonnegative: bool,
                          horizon: int) -> tuple[str, ...]:
    """The bounded-spread models ``auto`` keeps for a stationary series past the backtest.

    ``arma`` (Fourier seasonality with ARMA errors, a statsmodels fit) in general. With a
    season longer than :data:`LONG_SEASON` and a horizon of at most two of those seasons (two
    weeks of hours), the harmonic regression with AR errors (``dhr``), the same kind of model
    at a fraction of the cost. Over a commitment's year the ARMA fit is worth its seconds: on a
    persistent steady fleet ``dhr``'s low-order AR errors revert too fast, and the steady-fleet
    case of ``bench_commit.py`` realized 83 % of the hindsight savings with it against 94 %.
    """
    longest = max(season_lengths, default=1)
    fast = longest > LONG_SEASON and horizon <= 2 * longest
    names = ("dhr",) if fast else STATIONARY_CANDIDATES
    return names + (tuple(f"{c}+log1p" for c in names) if nonnegative else ())


def select(y: pd.Series, horizon: int, season_lengths: Sequence[int], *, n_origins: int = 4,
           candidates: Sequence[str] | None = None, ensemble_size: int = 3
           ) -> tuple[str, dict[str, Backtest], dict[str, Forecaster]]:
    """Fit and backtest the candidates and pick the lowest backtest MASE.

    A model other than seasonal naive wins only if it :func:`beats` seasonal naive (lower mean
    MASE and lower MASE at a strict majority of the origins); otherwise the baseline is kept.
    The ensemble of the ``ensemble_size`` best non-baseline models is a candidate too; its
    backtest is the average of theirs. Returns ``(winner, backtests, fitted)`` where ``fitted``
    holds every candidate fitted on the whole series (``"ensemble"`` included when built).

    On a non-negative series (spend, counts) forecast past the longest backtested step, a
    candidate whose sample paths over ``horizon`` leave the levels the history supports
    (:mod:`smsim.forecast.plausible`) is neither picked nor an ensemble member; the next
    candidate is. When no candidate stays bounded the choice is made as if none were checked
    (commitment sizing refuses paths that overflow).
    """
    from smsim.forecast.models.registry import Ensemble

    if candidates is None:
        candidates = auto_candidates(y, season_lengths, horizon)
    results: dict[str, Backtest] = {}
    fitted: dict[str, Forecaster] = {}
    for name in candidates:
        try:
            full = candidate_model(name).fit(y, season_lengths)
            results[name] = run_backtest(y, full, horizon, n_origins=n_origins,
                                         season_lengths=season_lengths)
            results[name].model = name
            fitted[name] = full
        except Exception:  # noqa: BLE001 - a model that cannot fit this series is not a candidate
            continue
    if not results:
        raise ValueError("no model could be backtested on this series")
    # up to the longest backtested step the calibration holds the spread to the errors seen;
    # past it only the model class does, so only there are the paths checked
    past = horizon > backtest_steps(len(y), horizon, season_lengths, n_origins)
    reference = (reference_level(y, season_lengths, horizon) if past and (y.to_numpy() >= 0).all()
                 else None)
    bounded = _bounded(results, fitted, horizon, reference)
    # a model whose paths run away is neither picked nor averaged in (unless none is bounded)
    pool = bounded if bounded else set(results)
    ranked = sorted((b.mase, name) for name, b in results.items() if name != "snaive" and name in pool)
    members = tuple(name for _, name in ranked[:ensemble_size])
    if len(members) >= 2 and all(results[n].actual.size for n in members):
        results["ensemble"] = ensemble_backtest([results[n] for n in members])
        ens = Ensemble([fitted[n] for n in members])
        ens.fitted_ = [fitted[n] for n in members]
        ens.y_, ens.constant_ = fitted[members[0]].y_, fitted[members[0]].constant_
        ens.offset_, ens.last_ = fitted[members[0]].offset_, fitted[members[0]].last_
        ens.form_ = "mean(" + ", ".join(getattr(fitted[n], "form_", n) for n in members) + ")"
        ens.warnings_ = sum((getattr(fitted[n], "warnings_", Counter()) for n in members),
                            Counter())
        fitted["ensemble"] = ens
        bounded |= _bounded({"ensemble": results["ensemble"]}, fitted, horizon, reference)
    base = results.get("snaive")
    scored = [(b.mase, name) for name, b in results.items() if np.isfinite(b.mase)
              and (base is None or name == "snaive" or beats(b, base)) and name in bounded]
    # nothing scored (too short to backtest): the baseline, or the first candidate without one;
    # when the baseline's own paths run away, the bounded candidate with the best backtest
    ranked_bounded = sorted((b.mase, n) for n, b in results.items() if n in bounded and np.isfinite(b.mase))
    if scored:
        winner = min(scored)[1]
    elif "snaive" not in bounded and ranked_bounded:
        winner = ranked_bounded[0][1]
    else:
        winner = "snaive" if "snaive" in results else next(iter(results))
    return winner, results, fitted


def _bounded(results: dict[str, Backtest], fitted: dict[str, Forecaster], horizon: int,
             reference: float | None) -> set[str]:
    """The candidates whose sample paths stay within :data:`~smsim.forecast.plausible.CEILING_RATIO`
    times ``reference`` (:func:`~smsim.forecast.plausible.reference_level`; ``None``: a series
    with negative values, all of them), each backtest's ``peak_ratio`` filled in. The paths'
    deviations are scaled as :func:`smsim.forecast.api.sample_paths` scales them, by the
    backtest's 80 % calibration.
    """
    if reference is None:
        return set(results)
    bounded = set()
    for name, bt in results.items():
        if name not in fitted:
            continue
        cal = (calibrate(bt.errors, bt.sd, (80.0,), float(np.max(np.abs(bt.actual))))
               if bt.actual.size else Calibration.model_based((80.0,)))
        try:
            bt.peak_ratio = peak_ratio(fitted[name], reference, horizon, cal.path_scale)
        except Exception:  # noqa: BLE001 - a model that cannot forecast the horizon is no pick
            bt.peak_ratio = float("nan")
        if plausible(bt.peak_ratio):
            bounded.add(name)
    return bounded
