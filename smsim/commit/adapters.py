"""The two things commitment sizing borrows: usage forecasts and savings-plan rates.

Forecasts come from :func:`smsim.forecast.sample_paths` when that exists, else from the fallback
in :mod:`smsim.commit.paths`. Discounts come from the price catalog (``sp_rate / on-demand`` per
instance type, component and region, weighted by on-demand spend) or from an explicit
``--discount``. Keeping these behind one small module lets the core work from a plain hourly
series and a discount rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.commit.economics import check_discount
from smsim.commit.paths import seasonal_bootstrap_paths
from smsim.errors import InputError

#: What the fallback is called in results.
FALLBACK_MODEL = "commit-seasonal-bootstrap"


def usage_paths(y: pd.Series, horizon: int, n_paths: int, seed: int, model: str = "auto") -> tuple[np.ndarray, str]:
    """``(paths (n_paths, horizon), model name)``: future hourly usage, never negative."""
    if model != FALLBACK_MODEL:
        try:
            from smsim.forecast import sample_paths  # type: ignore[attr-defined]
        except ImportError:
            sample_paths = None
        if sample_paths is not None:
            paths = np.asarray(sample_paths(y, horizon=horizon, n_paths=n_paths, seed=seed, model=model), dtype=float)
            if paths.shape != (n_paths, horizon):  # non-finite paths are judged by the caller
                raise RuntimeError(f"smsim.forecast.sample_paths returned shape {paths.shape}, expected {(n_paths, horizon)}")
            return np.maximum(paths, 0.0), f"smsim.forecast:{model}"
        if model != "auto":
            raise InputError(f"forecast model {model!r} needs smsim.forecast, which is not available")
    return seasonal_bootstrap_paths(y, horizon, n_paths, seed), FALLBACK_MODEL


def component_of_token(token) -> str | None:
    """The smsim component of a usage-type token (``Train`` -> ``Training``)."""
    if not isinstance(token, str):
        return None
    try:
        from smsim.pricing.vocabulary import TOKEN_COMPONENT
    except ImportError:  # pragma: no cover - pricing always ships with smsim
        return None
    return TOKEN_COMPONENT.get(token)


def region_of_prefix(prefix) -> str | None:
    """The region of a usage-type prefix (``USE1`` -> ``us-east-1``)."""
    if not isinstance(prefix, str):
        return None
    try:
        from smsim.pricing.vocabulary import PREFIX_REGION
    except ImportError:  # pragma: no cover
        return None
    return PREFIX_REGION.get(prefix)


def catalog_discount(mix: pd.DataFrame, term: str, payment: str, catalog: str = "builtin") -> tuple[float, bool]:
    """Spend-weighted SP discount of ``mix`` from the catalog, and whether any rate is assumed.

    The plan covers usage lines in order of savings percentage; with one effective discount the
    covered amount is the same when all lines share a discount and an approximation otherwise.
    """
    try:
        from smsim.pricing import load_catalog
    except ImportError as exc:  # pragma: no cover
        raise InputError("no price catalog available; pass --discount") from exc
    cat = load_catalog(catalog)
    total = float(mix["ondemand_usd"].sum())
    if total <= 0:
        raise InputError("the usage has no on-demand cost to take a discount from; pass --discount")
    paid = 0.0
    assumed = False
    for row in mix.itertuples(index=False):
        try:
            od = cat.ondemand_usd_per_hour(row.instance_type, row.component, row.region)
            sp = cat.sp_rate_usd_per_hour(row.instance_type, row.component, row.region, term, payment)
            assumed |= bool(cat.sp_rate_is_assumed(row.instance_type, row.component, row.region, term, payment))
        except InputError as exc:
            raise InputError(
                f"no savings-plan rate for {row.instance_type} {row.component} in {row.region} "
                f"({term}, {payment}): {exc.message}; pass --discount"
            ) from None
        paid += row.ondemand_usd * sp / od
    return check_discount(1.0 - paid / total, "catalog discount"), assumed
