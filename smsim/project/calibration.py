"""Calibrating an endpoint's projected totals on its own history's backtest errors.

A forecaster's sample paths assume the model is right: its level, trend and seasonality are
taken as known and only the noise is simulated, so the spread of a month's total is far too
narrow for a month ahead. Here each endpoint's paths are widened (or narrowed) and re-centred
so the distribution of their totals over the projected period matches how wrong the same
model was on the endpoint's own past:

1. **Backtest** (:func:`total_errors`). At up to :data:`MAX_ORIGINS` origins, whole days apart
   and ending at the history's end, the chosen model's fixed form
   (:meth:`~smsim.forecast.models.base.Forecaster.fixed`) is refitted on the history before the
   origin and forecast as far as the history allows (at most the period). For every window
   length ``k`` of :data:`WINDOW_DAYS` (and the period itself) that fits, the error is the log
   ratio ``log((actual + 1) / (forecast + 1))`` of the totals over the ``k`` hours from the origin.
2. **Error model** (:func:`error_model`). The centre ``loc`` is the mean of all the errors (the
   model's bias, pooled over windows). The spread: the variance of the errors of each window
   length ``k`` (hours) is split, by non-negative least squares weighted by the errors' count,
   into ``noise * W / k + level + walk * k / W`` (``W`` one week): noise that averages out
   over longer windows, a level error that does not, and a random-walk level whose error
   grows with the window. The variance at the period ``P`` is that sum at ``k = P``, and ``s``
   its square root; the shares of the three parts are reported, so which growth holds on an
   endpoint's history is visible. The fit pools every window length even when the period
   itself was backtested: the longest windows are few and overlap, so their spread alone is
   too noisy. With one window length measured, its variance grows as a random walk
   (``* P / k``). ``s`` is never below the paths' own spread of the log total.
3. **Rescale** (:func:`calibrate_paths`). The path with rank ``r`` of ``n`` by total gets the
   total ``(F + 1) exp(loc + s z((r + 1/2) / n)) - 1``, where ``F`` is the model's point
   forecast of the period's total: every hour of the path is scaled by the same factor, so each
   path keeps its hourly shape and the paths keep their order by total.

With fewer than :data:`MIN_ERRORS` errors for every window length (a history shorter than the
model's shortest training window and a few days), a fixed rule applies and the band is marked
``uncalibrated``: ``loc = 0`` and ``s = max(FALLBACK_LOG_SD_PER_WEEK * sqrt(P / 1 week), the
paths' own log spread)``. Windows start at their origin: hours between the history's end and
the period's start add no lead time to the errors.
No randomness is used, so the result depends only on the history, the model and the paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from smsim.forecast.backtest import min_train_length
from smsim.forecast.models.base import Forecaster

#: Window lengths (days) whose backtest errors are measured, besides the period itself.
WINDOW_DAYS = (1, 2, 4, 7, 14, 28, 56, 91)
#: Most backtest origins (model refits) per endpoint.
MAX_ORIGINS = 12
#: Fewest errors a window needs to count.
MIN_ERRORS = 3
#: Spread of the log total per sqrt(week) of period when nothing can be backtested.
FALLBACK_LOG_SD_PER_WEEK = 0.3
#: Hours in a week, the unit the error parts are expressed in.
WEEK = 168.0


@dataclass
class TotalErrors:
    """Backtest log-ratio errors of window totals: ``errors[k_hours]`` one per origin that fits."""

    errors: dict[int, np.ndarray]
    origins: dict[int, np.ndarray]  # hours before the history's end, per window
    n_origins: int


@dataclass
class ErrorModel:
    """Centre and spread of the log ratio ``actual / forecast`` of the period's total."""

    status: str  # "calibrated" or "uncalibrated"
    loc: float
    scale: float
    period_hours: int
    reference_hours: int | None = None
    origins: int = 0
    rule: str = ""
    sd_by_window: dict[int, float] = field(default_factory=dict)
    variance_share: dict[str, float] = field(default_factory=dict)  # of the period's, by part

    def summary(self) -> dict:
        out = {"status": self.status, "rule": self.rule, "log_loc": round(self.loc, 6),
               "log_scale": round(self.scale, 6), "period_hours": self.period_hours}
        if self.status == "calibrated":
            out.update({"longest_window_hours": self.reference_hours, "backtest_origins": self.origins,
                        "sd_log_error_by_window_hours": {str(k): round(v, 6)
                                                         for k, v in self.sd_by_window.items()},
                        "variance_share_at_period": self.variance_share})
        return out


def _origins(n: int, min_train: int, step: int = 24) -> np.ndarray:
    """Training lengths of the backtest origins, whole days from the end, oldest first."""
    ends = np.arange(n - step, min_train - 1, -step)
    if ends.size > MAX_ORIGINS:
        pick = np.unique(np.rint(np.linspace(0, ends.size - 1, MAX_ORIGINS)).astype(int))
        ends = ends[pick]
    return np.sort(ends)


def total_errors(y: pd.Series, model: Forecaster, period_hours: int) -> TotalErrors:
    """Backtest ``model``'s fixed form on ``y`` (hourly) for window totals up to ``period_hours``."""
    import warnings

    values = y.to_numpy(dtype=float)
    n = len(values)
    seasons = tuple(getattr(model, "seasons_", ()) or ())
    windows = sorted({24 * d for d in WINDOW_DAYS if 24 * d < period_hours} | {int(period_hours)})
    errors: dict[int, list[float]] = {k: [] for k in windows}
    origins: dict[int, list[int]] = {k: [] for k in windows}
    ends = _origins(n, min_train_length(seasons))
    used = 0
    for end in ends:
        h = int(min(period_hours, n - end))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = model.fixed().fit(y.iloc[:end], [s for s in seasons if 2 * s <= end])
                mean, _ = fitted.predict_moments(h)
        except Exception:  # noqa: BLE001 - an origin the model cannot fit gives no error
            continue
        mean = np.maximum(np.nan_to_num(np.asarray(mean, float), nan=0.0), 0.0)
        if not np.all(np.isfinite(mean)):
            continue
        used += 1
        actual = values[end:end + h]
        for k in windows:
            if k <= h:
                errors[k].append(math.log((actual[:k].sum() + 1.0) / (mean[:k].sum() + 1.0)))
                origins[k].append(n - int(end))
    return TotalErrors({k: np.asarray(v) for k, v in errors.items() if v},
                       {k: np.asarray(v) for k, v in origins.items() if v}, used)


def _components(ks: np.ndarray, var: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Non-negative ``(noise, level, walk)`` with ``var_k ~ noise*W/k + level + walk*k/W``."""
    from scipy.optimize import nnls

    x = np.column_stack([WEEK / ks, np.ones_like(ks), ks / WEEK])
    w = np.sqrt(n)
    return nnls(x * w[:, None], var * w)[0]


def error_model(te: TotalErrors, period_hours: int, path_log_sd: float = 0.0) -> ErrorModel:
    """The log-ratio distribution of the period's total implied by the backtest errors."""
    valid = {k: e for k, e in sorted(te.errors.items()) if e.size >= MIN_ERRORS}
    if not valid:
        weeks = period_hours / WEEK
        scale = max(FALLBACK_LOG_SD_PER_WEEK * math.sqrt(weeks), path_log_sd)
        return ErrorModel("uncalibrated", 0.0, scale, period_hours,
                          rule=(f"history too short to backtest {MIN_ERRORS} windows: log sd "
                                f"{FALLBACK_LOG_SD_PER_WEEK} per sqrt(week) of period, or the paths' own "
                                "if wider"))
    ks = np.array(list(valid), float)
    n = np.array([e.size for e in valid.values()], float)
    var = np.array([np.var(e, ddof=1) for e in valid.values()])
    loc = float(np.sum([e.sum() for e in valid.values()]) / n.sum())
    ref = int(ks.max())
    if ks.size >= 2:
        comps = _components(ks, var, n)
        rule = (f"variance of {ks.size} window lengths up to {ref} h, split into noise, level and "
                "random-walk parts and evaluated at the period")
    else:
        comps = np.array([0.0, 0.0, var[0] * WEEK / ref])
        rule = f"one window length ({ref} h) measured: its variance grown as a random walk"
    at_period = comps * np.array([WEEK / period_hours, 1.0, period_hours / WEEK])
    scale = max(math.sqrt(float(at_period.sum())), path_log_sd)
    share = at_period / at_period.sum() if at_period.sum() > 0 else at_period
    return ErrorModel("calibrated", loc, scale, period_hours, ref, te.n_origins, rule,
                      {int(k): float(math.sqrt(v)) for k, v in zip(ks, var, strict=True)},
                      dict(zip(("noise", "level", "walk"), (round(float(x), 4) for x in share), strict=True)))


def calibrate_paths(paths: np.ndarray, forecast_total: float, em: ErrorModel,
                    shape: np.ndarray | None = None) -> np.ndarray:
    """``paths`` (n_paths, hours) scaled so their totals follow ``em`` around ``forecast_total``.

    Each row is multiplied by one factor (its hourly shape kept); the row with the ``r``-th
    smallest total gets the ``r``-th target total, so the order by total is kept. A row with a
    zero total takes ``shape`` (e.g. the point forecast; default flat) times its target.
    """
    p = np.asarray(paths, float)
    n = p.shape[0]
    totals = p.sum(axis=1)
    order = np.argsort(totals, kind="stable")
    z = stats.norm.ppf((np.arange(n) + 0.5) / n)
    target = np.empty(n)
    target[order] = np.maximum((forecast_total + 1.0) * np.exp(em.loc + em.scale * z) - 1.0, 0.0)
    out = np.empty_like(p)
    pos = totals > 0
    out[pos] = p[pos] * (target[pos] / totals[pos])[:, None]
    if (~pos).any():
        w = np.full(p.shape[1], 1.0 / p.shape[1]) if shape is None or np.sum(shape) <= 0 else \
            np.asarray(shape, float) / np.sum(shape)
        out[~pos] = target[~pos, None] * w[None, :]
    return out


def log_sd(totals: np.ndarray) -> float:
    """The paths' own spread of ``log(total + 1)``, as a normal's sd from their P10-P90."""
    lo, hi = np.percentile(np.log(np.asarray(totals, float) + 1.0), [10, 90])
    return float((hi - lo) / (2 * stats.norm.ppf(0.9)))


def calibrate(y: pd.Series, model: Forecaster, paths: np.ndarray, gap: int = 0) -> tuple[np.ndarray, ErrorModel]:
    """``paths`` of the period after ``gap`` forecast hours, calibrated on ``y``'s backtest.

    ``model`` is the fitted model that drew the paths (its point forecast is the centre).
    """
    hours = paths.shape[1]
    mean, _ = model.predict_moments(gap + hours)
    mean = np.maximum(np.nan_to_num(np.asarray(mean, float)[gap:], nan=0.0), 0.0)
    em = error_model(total_errors(y, model, hours), hours, log_sd(paths.sum(axis=1)))
    return calibrate_paths(paths, float(mean.sum()), em, mean), em


__all__ = ["ErrorModel", "TotalErrors", "calibrate", "calibrate_paths", "error_model", "log_sd",
           "total_errors"]
