"""UTC calendar periods of a budget: months, quarters (Jan, Apr, Jul, Oct) and years."""

from __future__ import annotations

import pandas as pd

_FREQ = {"month": "MS", "quarter": "QS-JAN", "year": "YS"}
_OFFSET = {"month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3), "year": pd.DateOffset(years=1)}


def period_start(moment: pd.Timestamp, period: str) -> pd.Timestamp:
    """Start of the ``period`` containing ``moment`` (UTC, tz-aware)."""
    moment = utc(moment)
    month = {"month": moment.month, "quarter": 3 * ((moment.month - 1) // 3) + 1, "year": 1}[period]
    return pd.Timestamp(year=moment.year, month=month, day=1, tz="UTC")


def periods_between(first: pd.Timestamp, end: pd.Timestamp, period: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``(start, end)`` of every period overlapping ``[first, end)``, in order."""
    out = []
    start = period_start(first, period)
    end = utc(end)
    while start < end:
        nxt = start + _OFFSET[period]
        out.append((start, nxt))
        start = nxt
    return out


def utc(moment) -> pd.Timestamp:
    ts = pd.Timestamp(moment)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
