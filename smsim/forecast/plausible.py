"""Whether a model's sample paths stay within levels a non-negative series' history supports.

The backtest ranks models on the steps it scores; a commitment's or projection's horizon runs
far past them, and there the model class alone decides how the spread grows. A unit-root model
fitted to ``log1p(y)`` (ETS, Theta, MSTL remainders) compounds its hourly spread on the log scale:
its back-transformed quantiles grow like ``exp(z * sigma * sqrt(h))``, the skew of
back-transformed intervals that Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*
(3rd ed.), section 5.6, describes, carried over a thousand steps and more.
``benchmarks/bench_forecast_paths.py`` forecasts 18 simulated 56-day hourly fleet histories
and a 56-day run of ``scenarios/quickstart.yaml`` 1,344 hours ahead: the ``log1p`` candidates'
upper 1 % ranged from 0.07 to 237 times the reference below, the original-scale candidates'
from 0.04 to 6.19 (the largest, MSTL on the quickstart run, whose backtest-calibrated spread is
many times its own). On the original scale unit roots widen like ``sqrt(h)``, as the seasonal
random walk does.

The reference is the widest of what the data and the model show: the history's largest value,
the point forecast's (which carries any trend the model extrapolates) and the upper 1 % of the
seasonal random walk fitted to the history (seasonal naive, the baseline every model must beat:
its spread is what the history's own season-to-season changes imply, widening like ``sqrt(h)``).
A model whose upper 1 % goes :data:`CEILING_RATIO` times beyond all three puts real probability
on a jump the data never showed. ``auto`` passes such a model over
(:func:`smsim.forecast.backtest.select`) and takes the next candidate.
``benchmarks/bench_forecast_paths.py --candidates`` prints every candidate's ratio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from smsim.forecast.models.base import Forecaster, z_value
from smsim.forecast.models.naive import SeasonalNaive
from smsim.forecast.models.registry import Log1p

#: The central level whose upper end is checked: a model may put at most 1 % of a step's mass
#: above the ceiling.
CHECK_LEVEL = 98.0
#: The ceiling, as a multiple of the reference (module doc). Five times the seasonal random
#: walk's own upper 1 % is already far past what the history's changes support; on the
#: benchmark's histories it passes over the log-scale compounding and one MSTL (6.19) and no
#: other original-scale candidate.
CEILING_RATIO = 5.0


def upper_quantile(model: Forecaster, horizon: int, path_scale: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(point forecast, per-step upper CHECK_LEVEL quantile)`` of ``model``'s sample paths.

    Paths are the model's own draws with their deviations from the point forecast multiplied by
    ``path_scale`` (:func:`smsim.forecast.api.sample_paths`). They are Gaussian around the mean
    (marginal sd: the running maximum of the predictive sd, as
    :func:`~smsim.forecast.models.base.gaussian_paths` draws them), except a ``log1p`` model's,
    which are Gaussian on the log scale and transformed back; the transform is monotone, so
    their quantile is the transformed inner quantile. One forecast of ``horizon`` steps each.
    """
    z = z_value(CHECK_LEVEL)
    if isinstance(model, Log1p) and not model.constant_:
        mu, inner_sd = model.inner.predict_moments(horizon)
        mean = np.expm1(np.minimum(mu, 700.0))  # Log1p's point forecast
        top = np.expm1(np.minimum(mu + z * np.maximum.accumulate(inner_sd), 700.0))
        return mean, mean + (top - mean) * path_scale
    mean, sd = model.predict_moments(horizon)
    return mean, mean + z * np.maximum.accumulate(sd) * path_scale


def reference_level(y, season_lengths: Sequence[int], horizon: int) -> float:
    """The largest of the history's values and its seasonal random walk's upper 1 % over
    ``horizon`` (``y``: a time-indexed series)."""
    values = y.to_numpy(dtype=float)
    level = float(np.max(values, initial=0.0))
    try:
        walk = SeasonalNaive().fit(y, season_lengths)
        level = max(level, float(np.max(upper_quantile(walk, horizon)[1], initial=0.0)))
    except (ValueError, FloatingPointError):  # too short for a season: the history alone
        pass
    return level


def peak_ratio(model: Forecaster, reference: float, horizon: int, path_scale: float = 1.0) -> float:
    """The largest upper quantile over the horizon / the larger of ``reference`` and the point
    forecast's largest value (``inf`` when not finite; 0 for all-zero levels)."""
    mean, top = upper_quantile(model, horizon, path_scale)
    reference = max(reference, float(np.max(mean, initial=0.0)))
    peak = float(np.max(top, initial=0.0))
    if not np.isfinite(peak):
        return float("inf")
    return peak / reference if reference > 0 else (0.0 if peak <= 0 else float("inf"))


def plausible(ratio: float) -> bool:
    """Whether a :func:`peak_ratio` is within :data:`CEILING_RATIO`."""
    return bool(np.isfinite(ratio) and ratio <= CEILING_RATIO)
