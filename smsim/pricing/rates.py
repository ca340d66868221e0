"""Cost arithmetic, pure and vectorised: rate x seconds / 3600, per second, no minimum.

SageMaker bills instances per second of use with no minimum charge; GB-month storage is prorated
over the 730-hour AWS month (:data:`smsim.units.HOURS_PER_MONTH`). Functions accept scalars or
numpy arrays and never round: rounding to cents belongs to presentation, not to the bill.
"""

from __future__ import annotations

import numpy as np

from smsim.units import HOUR, HOURS_PER_MONTH

ArrayLike = float | np.ndarray


def instance_hours(seconds: ArrayLike, count: ArrayLike = 1.0) -> ArrayLike:
    """Instance-hours of ``count`` instances running ``seconds``."""
    return np.multiply(count, seconds) / HOUR


def instance_cost_usd(usd_per_hour: ArrayLike, seconds: ArrayLike, count: ArrayLike = 1.0) -> ArrayLike:
    """Cost of ``count`` instances at ``usd_per_hour`` for ``seconds`` (per second, no minimum)."""
    return np.multiply(usd_per_hour, instance_hours(seconds, count))


def gb_months(gb: ArrayLike, seconds: ArrayLike) -> ArrayLike:
    """GB-months of ``gb`` held for ``seconds`` (a month is 730 hours)."""
    return np.multiply(gb, seconds) / (HOURS_PER_MONTH * HOUR)


def storage_cost_usd(usd_per_gb_month: ArrayLike, gb: ArrayLike, seconds: ArrayLike) -> ArrayLike:
    return np.multiply(usd_per_gb_month, gb_months(gb, seconds))


def amount_cost_usd(usd_per_unit: ArrayLike, units: ArrayLike) -> ArrayLike:
    return np.multiply(usd_per_unit, units)


def spot_usd_per_hour(ondemand_usd_per_hour: ArrayLike, savings_pct: ArrayLike) -> ArrayLike:
    return np.multiply(ondemand_usd_per_hour, 1.0 - np.divide(savings_pct, 100.0))


def savings_pct(ondemand_usd_per_hour: ArrayLike, discounted_usd_per_hour: ArrayLike) -> ArrayLike:
    """Percentage saved by a discounted rate (0 where the on-demand rate is 0)."""
    od = np.asarray(ondemand_usd_per_hour, dtype=float)
    disc = np.asarray(discounted_usd_per_hour, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(od > 0, 100.0 * (1.0 - disc / np.where(od > 0, od, 1.0)), 0.0)
    return out if out.ndim else float(out)
