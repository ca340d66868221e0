"""Model quality over time: pure functions of the deployed models' data cutoffs and the shocks.

A deployment history is a list of ``(from_s, cutoff_s)``: from ``from_s`` on, the model trained on
data up to ``cutoff_s`` serves. Between two events (a deployment or a shock) quality is linear in
time, so its time average, minimum and the time spent below a threshold are integrated exactly,
piece by piece, with the floor clip solved in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from smsim.units import DAY


@dataclass(frozen=True)
class QualityStats:
    """Time-averaged quality, its minimum, and the share of time below a threshold."""

    mean: float
    minimum: float
    share_below: float


def quality_at(t: float, cutoff_s: float, shocks_s: np.ndarray, q) -> float:
    """Quality at ``t`` of the model with data cutoff ``cutoff_s`` (``q``: a QualitySpec)."""
    k = int(np.searchsorted(shocks_s, t, side="right") - np.searchsorted(shocks_s, cutoff_s, side="right"))
    raw = q.initial - q.drift_per_day * (t - cutoff_s) / DAY - q.shock_size * k
    return max(q.floor, raw)


def _piece(a: float, b: float, qa: float, slope: float, floor: float, threshold: float) -> tuple[float, float, float]:
    """``(integral, time below threshold, minimum)`` of ``max(floor, qa - slope (t - a))`` on ``[a, b]``."""
    length = b - a
    if length <= 0:
        return 0.0, 0.0, math.inf
    qb = qa - slope * length
    if slope <= 0 or qb >= floor:
        integral = (qa + qb) / 2 * length if qa >= floor else floor * length
        lo = max(floor, qb)
    elif qa <= floor:
        integral, lo = floor * length, floor
    else:
        cross = (qa - floor) / slope
        integral = (qa + floor) / 2 * cross + floor * (length - cross)
        lo = floor
    below = 0.0
    if floor < threshold:
        if qa < threshold:
            below = length
        elif slope > 0:
            below = max(0.0, length - (qa - threshold) / slope)
    return integral, below, lo


def quality_stats(deployments: list[tuple[float, float]], shocks_s: np.ndarray, q, horizon_s: float,
                  threshold: float | None = None) -> QualityStats:
    """Exact time average, minimum and share below ``threshold`` of quality over ``[0, horizon_s]``."""
    slope = q.drift_per_day / DAY
    thr = -math.inf if threshold is None else threshold
    total = below = 0.0
    lowest = math.inf
    bounds = [d[0] for d in deployments[1:]] + [horizon_s]
    for (start, cutoff), end in zip(deployments, bounds, strict=True):
        end = min(end, horizon_s)
        if end <= start:
            continue
        inside = shocks_s[(shocks_s > start) & (shocks_s <= end)]
        edges = [start, *inside.tolist(), end]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            k = int(np.searchsorted(shocks_s, a, side="right") - np.searchsorted(shocks_s, cutoff, side="right"))
            qa = q.initial - slope * (a - cutoff) - q.shock_size * k
            i, w, m = _piece(a, b, qa, slope, q.floor, thr)
            total, below, lowest = total + i, below + w, min(lowest, m)
    return QualityStats(total / horizon_s, lowest, below / horizon_s)


def should_retrain(mode: str, estimate: float, threshold: float | None, busy: bool,
                   since_deploy_s: float = float("inf"), cooldown_s: float = 0.0) -> bool:
    """Whether a monitoring run's estimate starts a retraining: drift-triggered modes only, below
    the threshold, not while one is already running, and not within the cooldown after the last
    retrained model was deployed."""
    return (mode in ("drift", "both") and threshold is not None and estimate < threshold and not busy
            and since_deploy_s >= cooldown_s)


__all__ = ["QualityStats", "quality_at", "quality_stats", "should_retrain"]
