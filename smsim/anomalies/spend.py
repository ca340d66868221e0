"""The spend cube: cost per time step (UTC day or hour) and (resource, usage type, service,
component, tags), from an smsim ledger or an imported CUR-shaped bill."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.billing.views import hour_starts, line_cost

TAG_PREFIX = "resourceTags/user:"
DIMENSIONS = {"resource": "lineItem/ResourceId", "usage_type": "lineItem/UsageType",
              "service": "lineItem/ProductCode", "component": "smsim/component"}
FREQS = {"D": "day", "h": "hour"}


def spend_cube(ledger: pd.DataFrame, *, freq: str = "D", cost: str = "amortized",
               start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """``time, resource, usage_type, service, component, tag:KEY..., cost_usd``; every step from
    ``start`` to ``end`` (else the ledger's span) appears in ``steps`` (``cube.attrs``)."""
    stamps = hour_starts(ledger, start)
    step = stamps.floor(freq) if freq == "D" else stamps
    frame = pd.DataFrame({"time": step})
    for name, column in DIMENSIONS.items():
        frame[name] = (ledger[column].astype("string").fillna("").to_numpy(dtype=object)
                       if column in ledger.columns else "")
    tags = [c for c in ledger.columns if c.startswith(TAG_PREFIX)]
    for column in tags:
        frame["tag:" + column[len(TAG_PREFIX):]] = ledger[column].astype("string").fillna("").to_numpy(dtype=object)
    frame["cost_usd"] = line_cost(ledger, cost)
    keys = [c for c in frame.columns if c != "cost_usd"]
    cube = frame.groupby(keys, as_index=False, observed=True, sort=True)["cost_usd"].sum()
    first = (pd.Timestamp(start).tz_convert("UTC") if start is not None else stamps.min()).floor(freq)
    last = pd.Timestamp(end).tz_convert("UTC") if end is not None else stamps.max() + pd.Timedelta(hours=1)
    cube.attrs["steps"] = pd.date_range(first, last, freq=freq, inclusive="left")
    cube.attrs["freq"] = freq
    return cube


def series_by(cube: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Wide spend: one column per value of ``dimension`` (``resource``, ``tag:team``, ... or
    ``total``), one row per step, zeros where nothing was spent."""
    steps = cube.attrs["steps"]
    if dimension == "total":
        wide = cube.groupby("time")["cost_usd"].sum().to_frame("total")
    else:
        sub = cube[cube[dimension] != ""] if dimension != "total" else cube
        wide = sub.pivot_table(index="time", columns=dimension, values="cost_usd", aggfunc="sum", observed=True)
    wide = wide.reindex(steps, fill_value=0.0).fillna(0.0)
    wide.columns = [str(c) for c in wide.columns]
    return wide.astype(np.float64)
