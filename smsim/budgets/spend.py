"""The hourly spend a budget counts: the ledger lines its filters select, at its cost type.

* ``unblended``: ``lineItem/UnblendedCost``, the bill as charged (covered usage at on-demand cost,
  its negation, the whole savings-plan fee every hour, discounts);
* ``amortized``: covered usage at its savings-plan effective cost, negations 0, the fee line only
  its unused commitment (``smsim/net_cost_usd`` in an smsim ledger; computed from the CUR
  savings-plan columns for an imported bill). Both sum to the same total; they differ in which
  hour and which line carries the money, so filtered and per-hour budgets see different spend.

Filters follow AWS Budgets: within one filter the values are alternatives, across filters all must
match. Lines with no resource (the unused part of a savings-plan fee) match no resource, component
or tag filter, as in AWS where such lines carry no resource or tags.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.budgets.spec import BudgetFilters
from smsim.errors import InputError

UNBLENDED = "lineItem/UnblendedCost"
AMORTIZED = "smsim/net_cost_usd"
TAG_PREFIX = "resourceTags/user:"
_COLUMNS = {"components": "smsim/component", "instance_types": "smsim/instance_type",
            "resources": "lineItem/ResourceId"}


def line_cost(ledger: pd.DataFrame, cost: str) -> np.ndarray:
    """Each line's cost in USD as ``cost`` (``amortized`` or ``unblended``) counts it."""
    if UNBLENDED not in ledger.columns:
        raise InputError(f"the bill has no {UNBLENDED} column", path=UNBLENDED)
    if cost == "unblended":
        return ledger[UNBLENDED].to_numpy(float)
    if AMORTIZED in ledger.columns:
        return ledger[AMORTIZED].to_numpy(float)
    out = ledger[UNBLENDED].to_numpy(float).copy()
    if "lineItem/LineItemType" in ledger.columns:
        kind = ledger["lineItem/LineItemType"].astype(str).to_numpy()
        col = lambda name: ledger[name].to_numpy(float) if name in ledger.columns else np.zeros(len(ledger))  # noqa: E731
        covered = kind == "SavingsPlanCoveredUsage"
        out[covered] = col("savingsPlan/SavingsPlanEffectiveCost")[covered]
        out[kind == "SavingsPlanNegation"] = 0.0
        fee = kind == "SavingsPlanRecurringFee"
        out[fee] = (col("savingsPlan/TotalCommitmentToDate") - col("savingsPlan/UsedCommitment"))[fee]
    return out


def line_mask(ledger: pd.DataFrame, filters: BudgetFilters) -> np.ndarray:
    """Lines the filters select."""
    mask = np.ones(len(ledger), dtype=bool)
    for field, column in _COLUMNS.items():
        values = getattr(filters, field)
        if values:
            if column not in ledger.columns:
                raise InputError(f"the bill has no {column} column to filter {field} on", path=f"filters.{field}")
            mask &= ledger[column].astype(str).isin(values).to_numpy()
    for key, values in filters.tags.items():
        column = TAG_PREFIX + key
        if column not in ledger.columns:
            known = sorted(c[len(TAG_PREFIX):] for c in ledger.columns if c.startswith(TAG_PREFIX))
            raise InputError(f"no line of the bill carries tag {key!r} (tags: {', '.join(known) or 'none'})",
                             path=f"filters.tags.{key}")
        mask &= ledger[column].astype(str).isin(values).to_numpy()
    return mask


def hour_starts(ledger: pd.DataFrame, start: pd.Timestamp | None) -> pd.DatetimeIndex:
    """Each line's clock hour (UTC): ``lineItem/UsageStartDate`` floored to the hour, else the
    clock hour containing ``start`` plus ``smsim/hour``."""
    if "lineItem/UsageStartDate" in ledger.columns:
        col = ledger["lineItem/UsageStartDate"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = pd.to_datetime(col.cat.categories.astype(str), utc=True)
            stamps = cats.take(col.cat.codes.to_numpy())
        else:
            stamps = pd.DatetimeIndex(pd.to_datetime(col.astype(str), utc=True))
        return stamps.floor("h")
    if start is None or "smsim/hour" not in ledger.columns:
        raise InputError("the bill has no lineItem/UsageStartDate column", path="lineItem/UsageStartDate")
    base = pd.Timestamp(start).tz_convert("UTC").floor("h")
    return base + pd.to_timedelta(ledger["smsim/hour"].to_numpy(np.int64), unit="h")


def hourly_spend(ledger: pd.DataFrame, filters: BudgetFilters, cost: str, *,
                 start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.Series:
    """Spend per clock hour (index: hour starts, UTC), every hour from ``start`` (or the first
    line's hour) to ``end`` (or the last line's hour end) present, zero where nothing was spent."""
    stamps = hour_starts(ledger, start)
    mask = line_mask(ledger, filters)
    values = line_cost(ledger, cost)
    first = pd.Timestamp(start).tz_convert("UTC").floor("h") if start is not None else stamps.min()
    last = (pd.Timestamp(end).tz_convert("UTC").ceil("h") if end is not None else stamps.max() + pd.Timedelta(hours=1))
    index = pd.date_range(first, last, freq="h", inclusive="left")
    sums = pd.Series(values[mask], index=stamps[mask]).groupby(level=0).sum()
    return sums.reindex(index, fill_value=0.0).astype(float)
