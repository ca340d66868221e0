"""Sample paths of future hourly usage, used when :mod:`smsim.forecast` offers none.

A commitment runs for a year or three, so what matters is the distribution of the usage *level*
over months and the shape within days and weeks (how many hours sit below the covered level).
The model:

- the daily mean level starts at the last week's mean and follows a driftless random walk on the
  log scale, with a step size taken from the week-to-week changes of the history (robust scale,
  1.4826 x median absolute deviation). No trend is extrapolated: on real GPU fleets (see
  benchmarks/bench_commit.py) a fitted trend overshot badly when growth stopped, while the
  widening spread of a random walk already makes the commitment cautious about the far future.
  When the hourly usage tests stationary (:func:`smsim.forecast.stationarity.check_stationarity`:
  ADF and KPSS agree), the log level is instead a stationary AR(1) reverting to the history's
  mean daily log level, with the lag-1 autocorrelation of the daily log means and a stationary
  variance equal to theirs, so the spread stays bounded over a term as the usage does;
- each future day takes the hour-by-hour shape (hourly usage / that day's mean) of a randomly
  chosen past day of the same weekday (any day when there are fewer than two weeks of history),
  which keeps daily and weekly seasonality and real intra-day burstiness.

Usage is never negative. The model is deliberately simple and its assumptions are stated; it is
the fallback, not the forecaster of record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.rng import stream


def seasonal_bootstrap_paths(y: pd.Series, horizon: int, n_paths: int, seed: int) -> np.ndarray:
    """``(n_paths, horizon)`` hourly usage paths continuing the hourly series ``y``."""
    rng = stream(seed, "commit", "usage-paths")
    values = np.asarray(y, dtype=float)
    index = y.index if isinstance(y.index, pd.DatetimeIndex) else pd.date_range(
        "2026-01-01", periods=len(values), freq="h", tz="UTC")
    n_days = len(values) // 24
    if n_days < 2:
        # too short for a daily model: resample hours with replacement
        return rng.choice(values, size=(n_paths, horizon), replace=True)
    start = len(values) - n_days * 24  # whole days, ending at the last hour
    days = values[start:].reshape(n_days, 24)
    day_start = index[start::24][:n_days]
    means = days.mean(axis=1)
    scale = max(float(means.mean()), 1e-12)
    eps = 1e-3 * scale
    shapes = np.where(means[:, None] > 0, days / np.maximum(means[:, None], 1e-300), 0.0)
    log_m = np.log(means + eps)

    n_future_days = -(-horizon // 24)
    k = np.arange(1, n_future_days + 1, dtype=float)
    # level: the last week's mean (log scale), then a driftless random walk whose step size comes
    # from week-to-week changes in the history (robust scale: 1.4826 x median absolute change)
    recent = min(7, n_days)
    anchor = float(np.log(means[-recent:].mean() + eps))
    n_weeks = n_days // 7
    if n_weeks >= 3:
        weekly = np.log(days[n_days - 7 * n_weeks :].reshape(n_weeks, 7 * 24).mean(axis=1) + eps)
        steps = np.diff(weekly)
    else:
        steps = np.diff(log_m) / np.sqrt(7.0)
    step_week = 1.4826 * float(np.median(np.abs(steps - np.median(steps)))) if len(steps) else 0.0
    sigma_day = step_week / np.sqrt(7.0)
    z = rng.standard_normal((n_paths, n_future_days))
    log_level = anchor + sigma_day * np.cumsum(z, axis=1)
    phi = _stationary_ar1(values, log_m)
    if phi is not None:
        mu, var = float(log_m.mean()), float(log_m.var())
        shock = np.sqrt(max(var * (1.0 - phi**2), 0.0))
        x = np.empty((n_paths, n_future_days))
        prev = np.full(n_paths, anchor - mu)
        for j in range(n_future_days):
            prev = phi * prev + shock * z[:, j]
            x[:, j] = prev
        log_level = mu + x
    level = np.maximum(np.exp(log_level) - eps, 0.0)

    weekday = np.asarray(day_start.day_of_week)
    future_weekday = (weekday[-1] + k.astype(int)) % 7
    pick = np.empty((n_paths, n_future_days), dtype=int)
    for wd in range(7):
        cols = np.flatnonzero(future_weekday == wd)
        pool = np.flatnonzero(weekday == wd) if n_days >= 14 else np.arange(n_days)
        if len(pool) == 0:
            pool = np.arange(n_days)
        pick[:, cols] = rng.choice(pool, size=(n_paths, len(cols)))
    hourly = shapes[pick] * level[:, :, None]
    return hourly.reshape(n_paths, n_future_days * 24)[:, :horizon]


def _stationary_ar1(values: np.ndarray, log_daily: np.ndarray) -> float | None:
    """Lag-1 autocorrelation of the daily log means (in [0, 0.99]) when the usage tests
    stationary and there are at least 14 days; ``None`` keeps the random walk."""
    from smsim.forecast.stationarity import check_stationarity

    if len(log_daily) < 14 or np.ptp(log_daily) == 0 or not check_stationarity(values).stationary:
        return None
    x = log_daily - log_daily.mean()
    return float(np.clip(np.dot(x[1:], x[:-1]) / np.dot(x, x), 0.0, 0.99))
