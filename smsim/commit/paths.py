"""Sample paths of future hourly usage, used when :mod:`smsim.forecast` offers none.

A commitment runs for a year or three, so what matters is the distribution of the usage *level*
over months (trend and its uncertainty, slow drifts) and the shape within days and weeks (how
many hours sit below the covered level). The model:

- the daily mean ``m_j`` is modelled on the log scale as a linear trend plus an AR(1) deviation:
  ``log(m_j + eps) = a + b j + e_j``, ``e_j = phi e_{j-1} + sigma z_j``. Each path draws its own
  ``(a, b)`` from the least-squares estimate and its covariance (trend uncertainty), damps the
  slope beyond the history (a fitted slope is not extrapolated at full strength for a year:
  daily damping 0.995, so a trend adds at most 200 days' worth of growth), and simulates ``e``
  from the last observed deviation;
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

TREND_DAMPING_PER_DAY = 0.995


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

    j = np.arange(n_days, dtype=float)
    design = np.column_stack([np.ones(n_days), j])
    coef, *_ = np.linalg.lstsq(design, log_m, rcond=None)
    resid = log_m - design @ coef
    if n_days >= 4:
        phi = float(np.clip(np.corrcoef(resid[:-1], resid[1:])[0, 1], 0.0, 0.98))
        if not np.isfinite(phi):
            phi = 0.0
        innov = resid[1:] - phi * resid[:-1]
        sigma = float(np.std(innov, ddof=1)) if len(innov) > 1 else 0.0
        dof = max(n_days - 2, 1)
        s2 = float(resid @ resid) / dof
        cov = s2 * np.linalg.inv(design.T @ design)
    else:
        phi, sigma, cov = 0.0, float(np.std(resid)), np.zeros((2, 2))

    n_future_days = -(-horizon // 24)
    ab = rng.multivariate_normal(coef, cov, size=n_paths, method="eigh") if cov.any() else np.tile(coef, (n_paths, 1))
    k = np.arange(1, n_future_days + 1, dtype=float)
    damped_k = (1 - TREND_DAMPING_PER_DAY ** k) / (1 - TREND_DAMPING_PER_DAY) * TREND_DAMPING_PER_DAY
    last = n_days - 1
    trend = ab[:, :1] + ab[:, 1:2] * (last + damped_k[None, :])
    e = np.empty((n_paths, n_future_days))
    prev = np.full(n_paths, resid[-1])
    z = rng.standard_normal((n_paths, n_future_days))
    for d in range(n_future_days):
        prev = phi * prev + sigma * z[:, d]
        e[:, d] = prev
    level = np.maximum(np.exp(trend + e) - eps, 0.0)

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
