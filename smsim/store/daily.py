"""Each stored run's cost by day, resource, component and tag: small files beside its ledger.

A platform year is ten million ledger lines; the same costs summed per UTC day and per
distinct set of the columns in :data:`DIMENSIONS` are a small fraction of the rows, so a query
of cost by component, day, resource or tag over a hundred runs reads ``ledger.daily.parquet``
files instead of a billion lines, and one that names no day reads ``ledger.totals.parquet``
(the same sums over the whole horizon: one row per combination of those columns). The sums are
of the ledger's own lines (a missing amount counts as zero), so they equal what the same
``GROUP BY`` over the ledger gives; :func:`daily_sql` is that query, for runs stored without
the files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FILE = "ledger.daily.parquet"
#: The same sums over the whole horizon, without ``day``: what a question that names no day reads.
TOTALS_FILE = "ledger.totals.parquet"
#: The daily sums without resource or tag detail (a few dozen rows a day instead of thousands):
#: what a question by day and component, product, instance type, market or pricing reads.
COARSE_FILE = "ledger.daily.coarse.parquet"
#: The line's UTC calendar day (from ``lineItem/UsageStartDate``).
DAY = "day"
#: Columns a daily row is keyed by, besides ``day`` and every ``resourceTags/*`` column.
DIMENSIONS = (
    "lineItem/LineItemType", "lineItem/ProductCode", "lineItem/ResourceId", "smsim/component",
    "smsim/resource_kind", "smsim/instance_type", "smsim/market", "smsim/pricing_class",
    "smsim/savings_plan",
)
#: The key columns of :data:`COARSE_FILE`: every dimension but the resource (and no tags).
COARSE_DIMENSIONS = tuple(d for d in DIMENSIONS if d != "lineItem/ResourceId")
#: Amounts summed (USD): unblended and amortized (net of savings plans) cost.
MEASURES = ("lineItem/UnblendedCost", "smsim/net_cost_usd")
#: Number of ledger lines a daily row sums.
LINES = "lines"
_START = "lineItem/UsageStartDate"


def dimensions(columns) -> list[str]:
    """The key columns (besides ``day``) that a ledger with ``columns`` has, in file order."""
    columns = list(columns)
    return [c for c in columns if c in DIMENSIONS or c.startswith("resourceTags/")]


def _codes(col: pd.Series) -> tuple[np.ndarray, object]:
    """Integer codes (-1 = missing; int8/int16 as a categorical keeps them) and the values they
    index."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), col.cat.categories
    return pd.factorize(col, use_na_sentinel=True)


def _days(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each line's day code and the days (``datetime64[D]``) the codes index."""
    codes, values = _codes(col)
    if len(codes) and codes.min() < 0:
        raise ValueError(f"a ledger line has no {_START}")
    days = pd.to_datetime(pd.Index(values).astype(str).str[:10]).to_numpy().astype("datetime64[D]")
    day_codes, unique_days = pd.factorize(days)
    return day_codes.astype(np.int64)[codes], np.asarray(unique_days, dtype="datetime64[D]")


def daily_frame(ledger: pd.DataFrame):
    """The daily aggregate of ``ledger`` as a ``pyarrow.Table`` ordered by key columns, then
    day, and the same summed over the whole horizon (one row per combination of key columns); or
    None when the ledger lacks ``lineItem/UsageStartDate``.

    Vectorised, with no hashing of a large key set: the key columns' integer codes are folded
    into one int64 per line and factorized (a ledger has a few thousand distinct combinations,
    so the hash table stays small); combination x day is then a dense index, and every amount is
    summed with one ``np.bincount`` over it."""
    import pyarrow as pa

    if _START not in ledger.columns:
        return None
    dims = dimensions(ledger.columns)
    day_codes, days = _days(ledger[_START])
    n_days = max(len(days), 1)
    key = np.zeros(len(ledger), dtype=np.int64)
    span, compacted = 1, False
    uniques, codes_of, folded = {}, {}, []
    for name in dims:
        codes, values = _codes(ledger[name])
        codes_of[name], uniques[name] = codes, values
        if len(values) <= 1 and (not len(codes) or codes.min() >= 0):
            continue  # one value on every line: it tells no line apart
        card = len(values) + 1
        if span > (2**62) // card:  # compact before the fold could overflow
            key, kept = pd.factorize(key)
            key, span, compacted = key.astype(np.int64), max(len(kept), 1), True
        # digits are code + 1 (0 = missing); the +1s add a constant, left out of every line
        key *= card  # in place: no ten-million-line temporaries per column
        key += codes
        span *= card
        folded.append((name, card))
    combo, combo_keys = pd.factorize(key)
    del key
    n_combos = len(combo_keys)
    if compacted:
        # factorize numbers combinations in order of first appearance: a line is the first of
        # its combination exactly when its number exceeds every number before it
        seen = np.maximum.accumulate(combo) if len(combo) else combo
        first = np.flatnonzero(np.r_[True, combo[1:] > seen[:-1]]) if len(combo) else combo
        combo_codes = {name: codes_of[name][first] for name in dims}
    else:  # the few thousand combination keys decode into their codes directly
        rest = np.asarray(combo_keys, dtype=np.int64) + sum(
            int(np.prod([c for _, c in folded[i + 1:]], dtype=object)) for i in range(len(folded)))
        combo_codes = {}
        for name, card in reversed(folded):
            rest, digit = np.divmod(rest, card)
            combo_codes[name] = digit - 1
        for name in dims:
            if name not in combo_codes:
                combo_codes[name] = np.full(n_combos, 0 if len(uniques[name]) else -1, dtype=np.int64)
    if n_combos * n_days <= 4 * len(ledger) + 1024:
        cell = combo * n_days
        cell += day_codes
        lines = np.bincount(cell, minlength=n_combos * n_days)
        kept = np.flatnonzero(lines)
        sums = lambda w: np.bincount(cell, weights=w, minlength=n_combos * n_days)[kept]  # noqa: E731
        lines = lines[kept]
        row_combo, row_day = kept // n_days, kept % n_days
    else:  # too many combinations for a dense index: factorize combination x day instead
        cell, _ = pd.factorize(combo.astype(np.int64) * n_days + day_codes)
        order = np.argsort(cell, kind="stable")
        starts = order[np.flatnonzero(np.r_[True, np.diff(cell[order]) != 0])]
        lines = np.bincount(cell)
        sums = lambda w: np.bincount(cell, weights=w)  # noqa: E731
        row_combo, row_day = combo[starts], day_codes[starts]

    def keyed(rows: np.ndarray) -> dict:
        out = {}
        for name in dims:
            codes = combo_codes[name][rows]
            out[name] = pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int32), mask=codes < 0), pa.array(np.asarray(uniques[name], dtype=object)))
        return out

    sums_by_day = {}
    for name in MEASURES:
        if name in ledger.columns:
            amounts = ledger[name].to_numpy(dtype=np.float64)
            missing = np.isnan(amounts)
            sums_by_day[name] = sums(np.where(missing, 0.0, amounts) if missing.any() else amounts)
    by_day = pa.table({DAY: pa.array(days[row_day], type=pa.date32()), **keyed(row_combo),
                       LINES: pa.array(lines.astype(np.int64)),
                       **{name: pa.array(v) for name, v in sums_by_day.items()}})
    # the whole horizon: the daily rows summed per combination (a few thousand rows)
    total = {name: np.bincount(row_combo, weights=v, minlength=n_combos) for name, v in sums_by_day.items()}
    totals = pa.table({**keyed(np.arange(n_combos)),
                       LINES: pa.array(np.bincount(row_combo, weights=lines, minlength=n_combos).astype(np.int64)),
                       **{name: pa.array(v) for name, v in total.items()}})
    return by_day, totals


def write_daily(ledger: pd.DataFrame, folder: Path) -> bool:
    """Write ``ledger.daily.parquet``, ``ledger.totals.parquet`` and
    ``ledger.daily.coarse.parquet`` into the (not yet visible) run folder ``folder``; False when
    the ledger has no dates to group by."""
    import pyarrow.parquet as pq

    tables = daily_frame(ledger)
    if tables is None:
        return False
    by_day, totals = tables
    pq.write_table(by_day, Path(folder) / FILE, compression="zstd")
    pq.write_table(totals, Path(folder) / TOTALS_FILE, compression="zstd")
    pq.write_table(coarse_frame(by_day), Path(folder) / COARSE_FILE, compression="zstd")
    return True


def coarse_frame(by_day):
    """The daily aggregate ``by_day`` summed over resources and tags: keyed by ``day`` and the
    :data:`COARSE_DIMENSIONS` it has (dictionary columns are grouped by their values)."""
    import pyarrow as pa

    keys = [DAY] + [c for c in by_day.column_names if c in COARSE_DIMENSIONS]
    plain = pa.table({c: (by_day[c].cast(by_day[c].type.value_type) if pa.types.is_dictionary(by_day[c].type)
                          else by_day[c]) for c in keys + [LINES] + [m for m in MEASURES if m in by_day.column_names]})
    summed = [c for c in plain.column_names if c not in keys]
    out = plain.group_by(keys, use_threads=False).aggregate([(c, "sum") for c in summed])
    out = out.rename_columns([c.removesuffix("_sum") if c.endswith("_sum") and c.removesuffix("_sum") in summed else c
                              for c in out.column_names])
    return out.sort_by([(k, "ascending") for k in keys])


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


__all__ = ["DAY", "DIMENSIONS", "FILE", "TOTALS_FILE", "LINES", "MEASURES", "daily_frame", "daily_sql", "dimensions", "write_daily"]
