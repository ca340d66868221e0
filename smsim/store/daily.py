"""Each stored run's cost by day, resource, component and tag: a small file beside its ledger.

A platform year is ten million ledger lines; the same costs summed per UTC day and per
distinct set of the columns in :data:`DIMENSIONS` are about 7 % of the rows, so a query of cost
by component, day, resource or tag over a hundred runs reads ``ledger.daily.parquet`` files
instead of a billion lines. The sums are of the ledger's own lines (a missing amount counts as
zero), so they equal what the same ``GROUP BY`` over the ledger gives;
:func:`daily_sql` is that query, for runs stored without the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FILE = "ledger.daily.parquet"
#: The line's UTC calendar day (from ``lineItem/UsageStartDate``).
DAY = "day"
#: Columns a daily row is keyed by, besides ``day`` and every ``resourceTags/*`` column.
DIMENSIONS = (
    "lineItem/LineItemType", "lineItem/ProductCode", "lineItem/ResourceId", "smsim/component",
    "smsim/resource_kind", "smsim/instance_type", "smsim/market", "smsim/pricing_class",
    "smsim/savings_plan",
)
#: Amounts summed (USD): unblended, amortized (net of savings plans) and on-demand list cost.
MEASURES = ("lineItem/UnblendedCost", "smsim/net_cost_usd", "pricing/publicOnDemandCost")
#: Number of ledger lines a daily row sums.
LINES = "lines"
_START = "lineItem/UsageStartDate"


def dimensions(columns) -> list[str]:
    """The key columns (besides ``day``) that a ledger with ``columns`` has, in file order."""
    columns = list(columns)
    return [c for c in columns if c in DIMENSIONS or c.startswith("resourceTags/")]


def _codes(col: pd.Series) -> tuple[np.ndarray, object]:
    """Integer codes (0 = missing) and the values they stand for (code - 1)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.int64) + 1, col.cat.categories
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, uniques


def _days(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each line's day code and the days (``datetime64[D]``) the codes index."""
    codes, values = _codes(col)
    if (codes == 0).any():
        raise ValueError(f"a ledger line has no {_START}")
    days = pd.to_datetime(pd.Index(values).astype(str).str[:10]).to_numpy().astype("datetime64[D]")
    day_codes, unique_days = pd.factorize(days)
    return day_codes[codes - 1].astype(np.int64), np.asarray(unique_days, dtype="datetime64[D]")


def daily_frame(ledger: pd.DataFrame):
    """The daily aggregate of ``ledger`` as a ``pyarrow.Table`` (or None when the ledger lacks
    ``lineItem/UsageStartDate``).

    Vectorised: every key column's integer codes are folded into one int64 key (compacted
    whenever another column could overflow it), the key is factorized once, and each amount is
    summed with ``np.bincount``; no per-group Python work and no string hashing."""
    import pyarrow as pa

    if _START not in ledger.columns:
        return None
    dims = dimensions(ledger.columns)
    day_codes, days = _days(ledger[_START])
    key = day_codes
    span = max(len(days), 1)
    uniques = {}
    codes_of = {}
    for name in dims:
        codes, values = _codes(ledger[name])
        card = len(values) + 1
        if span > (2**62) // card:
            key, kept = pd.factorize(key)
            key, span = key.astype(np.int64), max(len(kept), 1)
        key = key * card + codes
        span *= card
        codes_of[name], uniques[name] = codes, values
    group, _ = pd.factorize(key)
    n = int(group.max()) + 1 if len(group) else 0
    # factorize numbers groups in order of first appearance: a line starts a group exactly when
    # its number exceeds every number before it
    seen = np.maximum.accumulate(group) if len(group) else group
    first = np.flatnonzero(np.r_[True, group[1:] > seen[:-1]]) if len(group) else group
    arrays = {DAY: pa.array(days[day_codes[first]], type=pa.date32())}
    for name in dims:
        codes = codes_of[name][first] - 1
        arrays[name] = pa.DictionaryArray.from_arrays(
            pa.array(codes, type=pa.int32(), mask=codes < 0), pa.array(np.asarray(uniques[name], dtype=object)))
    arrays[LINES] = pa.array(np.bincount(group, minlength=n).astype(np.int64))
    for name in MEASURES:
        if name in ledger.columns:
            amounts = np.nan_to_num(ledger[name].to_numpy(dtype=np.float64, na_value=np.nan))
            arrays[name] = pa.array(np.bincount(group, weights=amounts, minlength=n))
    return pa.table(arrays)


def write_daily(ledger: pd.DataFrame, folder: Path) -> bool:
    """Write ``ledger.daily.parquet`` into the (not yet visible) run folder ``folder``; False
    when the ledger has no dates to group by."""
    import pyarrow.parquet as pq

    table = daily_frame(ledger)
    if table is None:
        return False
    pq.write_table(table, Path(folder) / FILE, compression="zstd")
    return True


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def daily_sql(source: str, columns) -> str:
    """SQL computing the daily aggregate (with ``run_id``) from a ledger relation ``source``
    that has ``columns``: the same rows :func:`daily_frame` writes."""
    dims = ", ".join(_q(c) for c in dimensions(columns))
    sums = "".join(f", coalesce(sum({_q(m)}), 0) as {_q(m)}" for m in MEASURES if m in columns)
    day = f"cast(left(cast({_q(_START)} as varchar), 10) as date)"
    return (f"select run_id, {day} as {DAY}{', ' + dims if dims else ''}, count(*) as {LINES}{sums} "
            f"from {source} group by all")


__all__ = ["DAY", "DIMENSIONS", "FILE", "LINES", "MEASURES", "daily_frame", "daily_sql", "dimensions", "write_daily"]
