"""Predictive scaling as forecast-driven scheduled minimum capacity, computed before the run.

The decision is a pure function, :func:`decide_predictive`: given the policy, the forecast
time, the whole hours of load (invocations per hour) seen before it and the capacity bounds, it
returns the forecast for the next ``forecast_horizon_s`` and the minimum capacity of each of
those hours, ``clamp(ceil(forecast per minute / target_value), min_capacity, max_capacity)``.

Why up front, and why that is exact: an endpoint's arrivals do not depend on its capacity (a
request that times out still arrived), so the load a forecast made at time ``t`` would have
seen in the simulation is known before the run: the history, plus the arrivals the engine will
draw for ``[0, t)``. :func:`plan` calls the decision at every refresh time ``k x refresh_s``
using only that past, and :func:`schedule` turns each hour's minimum into a scheduled action
(``at(...)``, ``min_capacity``) launched ``scheduling_buffer_s`` before the hour. The
autoscaler and the fluid tier then run it with their existing scheduled-action code, next to
any target tracking (which scales out above the minimum and is the only thing that scales in),
so neither control loop changes. Hour ``h`` uses the latest forecast made at or before its
launch time ``3600 h - scheduling_buffer_s``.

Forecasters: ``seasonal_naive`` (default, fast): the mean of the same hour of the week over the
weeks in the lookback when it holds at least one whole week, else of the same hour of the day
over its days. Any :mod:`smsim.forecast` model name (``ets``, ``auto``, ...) calls
:func:`smsim.forecast.forecast_series` instead, once per refresh (slow over long horizons).

:func:`resolve_predictive` applies this to an :class:`~smsim.resources.scaling.spec.AutoscalingSpec`
holding a ``predictive`` policy, given the per-minute arrivals;
:func:`smsim.resources.realtime.predictive.with_predictive` does it to a scenario for one
real-time endpoint, drawing the arrivals exactly as the engine will.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError
from smsim.resources.scaling.predictive_spec import PredictiveScaling
from smsim.resources.scaling.spec import AutoscalingSpec, ScheduledAction

HOUR_S = 3600.0
WEEK_H = 168
DAY_H = 24


@dataclass(frozen=True, slots=True)
class PredictiveContext:
    """What one forecast sees: ``load_per_hour`` holds the whole hours before ``now_s`` (oldest
    first, the last one ending at ``now_s``); ``now_s`` is seconds from the horizon start."""

    policy: PredictiveScaling
    now_s: float
    load_per_hour: np.ndarray
    min_capacity: int
    max_capacity: int


@dataclass(frozen=True, slots=True)
class PredictiveDecision:
    """Forecast invocations and minimum capacity per hour from ``now_s`` (empty: no forecast)."""

    forecast_per_hour: np.ndarray
    min_capacity: np.ndarray
    reason: str


def seasonal_naive(load: np.ndarray, horizon_h: int) -> np.ndarray:
    """Mean of the same hour of the week over past weeks (>= 1 week of data), else of the same
    hour of the day over past days. ``load`` ends at the forecast time."""
    n = load.size
    period = WEEK_H if n >= WEEK_H else DAY_H
    out = np.empty(horizon_h)
    for j in range(horizon_h):
        k0 = j // period + 1  # the most recent cycle that is already in the past
        idx = n + j - period * np.arange(k0, k0 + n // period + 1)
        idx = idx[(idx >= 0) & (idx < n)]
        out[j] = load[idx].mean() if idx.size else load[-period:].mean()
    return out


def _forecast(load: np.ndarray, horizon_h: int, forecaster: str, now_s: float) -> np.ndarray:
    if forecaster == "seasonal_naive":
        return seasonal_naive(load, horizon_h)
    from smsim.forecast import forecast_series

    index = pd.date_range(pd.Timestamp("2000-01-03") + pd.Timedelta(seconds=now_s) -
                          pd.Timedelta(hours=load.size), periods=load.size, freq="h")
    res = forecast_series(pd.Series(load, index=index, name="load"), horizon_h, levels=(80,),
                          model=forecaster, n_origins=2, nonnegative=True)
    return res.frame["mean"].to_numpy(dtype=float)


def decide_predictive(ctx: PredictiveContext) -> PredictiveDecision:
    """The forecast and hourly minimum capacity of one predictive-scaling refresh."""
    p = ctx.policy
    need_h = math.ceil(p.min_history_s / HOUR_S)
    lookback_h = math.ceil(p.lookback_s / HOUR_S)
    load = np.asarray(ctx.load_per_hour, dtype=float)[-lookback_h:]
    if load.size < max(need_h, 1):
        return PredictiveDecision(np.zeros(0), np.zeros(0, dtype=np.int64),
                                  f"{load.size} h of history < {need_h} h needed")
    horizon_h = round(p.forecast_horizon_s / HOUR_S)
    fc = np.maximum(_forecast(load, horizon_h, p.forecaster, ctx.now_s), 0.0)
    raw = np.ceil(fc / 60.0 / p.target_value - 1e-9).astype(np.int64)
    mins = np.clip(raw, ctx.min_capacity, ctx.max_capacity)
    return PredictiveDecision(fc, mins, f"{p.forecaster} over {load.size} h")


def plan(policy: PredictiveScaling, arrivals_per_minute: np.ndarray, min_capacity: int, max_capacity: int,
         history_per_hour: np.ndarray | None = None) -> pd.DataFrame:
    """Per horizon hour: ``hour, launch_s, forecast_made_s, forecast, min_capacity`` (``forecast``
    NaN and the base ``min_capacity`` where no forecast existed yet)."""
    a = np.asarray(arrivals_per_minute, dtype=float)
    n_hours = math.ceil(a.size / 60)
    sim_h = np.add.reduceat(a, np.arange(0, a.size, 60)) if a.size else np.zeros(0)
    hist = np.zeros(0) if history_per_hour is None else np.asarray(history_per_hour, dtype=float)
    load = np.concatenate([hist, sim_h])
    refresh_h = round(policy.refresh_s / HOUR_S)
    cache: dict[int, PredictiveDecision] = {}
    rows = []
    for h in range(n_hours):
        launch = h * HOUR_S - policy.scheduling_buffer_s
        k = math.floor(launch / policy.refresh_s)
        if k not in cache:
            r_h = k * refresh_h  # the forecast time in hours; may precede the horizon
            seen = load[: max(hist.size + r_h, 0)]
            cache[k] = decide_predictive(PredictiveContext(policy, r_h * HOUR_S, seen, min_capacity, max_capacity))
        d = cache[k]
        j = h - k * refresh_h
        ok = d.min_capacity.size > j
        rows.append((h, launch, k * policy.refresh_s, float(d.forecast_per_hour[j]) if ok else math.nan,
                     int(d.min_capacity[j]) if ok else min_capacity))
    return pd.DataFrame(rows, columns=["hour", "launch_s", "forecast_made_s", "forecast", "min_capacity"])


def schedule(hours: pd.DataFrame, start, base_min: int, name: str = "predictive") -> tuple[int, list[ScheduledAction]]:
    """``(minimum at t = 0, scheduled actions)`` from :func:`plan`'s table.

    Launch times are floored to the minute (actions fire at minute ends); hours launching at or
    before the start set the starting minimum (the largest of them); an action is emitted only
    when the minimum changes.
    """
    start_min = base_min
    actions: list[ScheduledAction] = []
    current = base_min
    for row in hours.itertuples(index=False):
        t = math.floor(row.launch_s / 60.0) * 60.0
        m = int(row.min_capacity)
        if t <= 0:
            start_min = max(start_min, m)
            current = start_min
            continue
        if m != current:
            when = (start + timedelta(seconds=t)).astimezone(start.tzinfo).strftime("%Y-%m-%dT%H:%M:%S")
            actions.append(ScheduledAction(name=f"{name}-h{row.hour}", schedule=f"at({when})",
                                           timezone=str(start.tzinfo) if start.tzinfo else "UTC", min_capacity=m))
            current = m
    return start_min, actions


def read_history(path: str | Path, start) -> np.ndarray:
    """Hourly invocations of a history file that ends exactly at the horizon ``start``."""
    from smsim import inputs
    from smsim.workload.history import read_history_file

    hist = inputs.load(("history", str(path)), lambda: read_history_file("history", path))
    end = pd.Timestamp(start).tz_convert("UTC").tz_localize(None)
    if hist.end != end:
        raise InputError(f"predictive history ends at {hist.end}; it must end at the horizon start {end}",
                         file=str(path))
    return hist.hourly.to_numpy(dtype=float)


def predictive_policy(scaling: AutoscalingSpec) -> PredictiveScaling | None:
    found = [p for p in scaling.policies if getattr(p, "kind", None) == "predictive"]
    if len(found) > 1:
        raise InputError(f"{len(found)} predictive policies; an endpoint takes at most one")
    return found[0] if found else None


def resolve_predictive(scaling: AutoscalingSpec, arrivals_per_minute: np.ndarray, start,
                       base_dir: str | Path | None = None, policy: PredictiveScaling | None = None,
                       ) -> AutoscalingSpec:
    """``scaling`` with its predictive policy (or ``policy``) replaced by scheduled minimums.

    Unchanged when there is no predictive policy. Refuses scheduled actions that set
    ``min_capacity`` (the predictive schedule owns the minimum).
    """
    policy = policy or predictive_policy(scaling)
    if policy is None:
        return scaling
    clash = [a.name for a in scaling.scheduled_actions if a.min_capacity is not None]
    if clash:
        raise InputError(f"scheduled action(s) {', '.join(clash)} set min_capacity, which predictive policy "
                         f"{policy.name!r} schedules; set only max_capacity in them")
    hist = None
    if policy.history:
        path = Path(policy.history)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        hist = read_history(path, start)
    hours = plan(policy, arrivals_per_minute, scaling.min_capacity, scaling.max_capacity, hist)
    start_min, actions = schedule(hours, start, scaling.min_capacity, policy.name)
    initial = max(scaling.start_capacity, start_min)
    policies = [p for p in scaling.policies if p is not policy and getattr(p, "kind", None) != "predictive"]
    return scaling.model_copy(update={"policies": policies, "initial_capacity": initial,
                                      "scheduled_actions": [*scaling.scheduled_actions, *actions]})


__all__ = ["PredictiveContext", "PredictiveDecision", "decide_predictive", "plan", "predictive_policy",
           "resolve_predictive", "schedule", "seasonal_naive"]
