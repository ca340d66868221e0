"""The hourly spend a budget counts: the ledger lines its filters select, at its cost type
(:func:`smsim.billing.views.line_cost`):

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

from smsim.billing.views import hour_starts, line_cost
from smsim.budgets.spec import BudgetFilters
from smsim.errors import InputError

TAG_PREFIX = "resourceTags/user:"
RESOURCE_TAG = TAG_PREFIX + "smsim:resource"
_COLUMNS = {"components": "smsim/component", "instance_types": "smsim/instance_type",
            "resources": "lineItem/ResourceId"}


def line_mask(ledger: pd.DataFrame, filters: BudgetFilters) -> np.ndarray:
    """Lines the filters select."""
    mask = np.ones(len(ledger), dtype=bool)
    for field, column in _COLUMNS.items():
        values = getattr(filters, field)
        if field == "resources" and RESOURCE_TAG in ledger.columns:
            column = RESOURCE_TAG  # the resource's name, also on its instances' lines
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
    if not filters.is_empty() and "lineItem/ResourceId" in ledger.columns:
        # a line without a resource (a fee's unused commitment) matches no filter, whatever else it carries
        mask &= ledger["lineItem/ResourceId"].fillna("").astype(str).str.len().to_numpy() > 0
    return mask


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
