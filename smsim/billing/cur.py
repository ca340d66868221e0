"""The ledger's parts laid out as one CUR-shaped DataFrame: text as categoricals, the four date
columns as ordered categoricals, lines in hour, resource and line-type order."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from smsim.billing import hourly
from smsim.billing.columns import TAG_PREFIX, TEXT_FIELDS, Lines, Vocabulary
from smsim.billing.groups import Groups
from smsim.billing.lines import part_column

_CUR_FIELDS = {
    "lineItem/ProductCode": "product", "lineItem/UsageType": "usage_type", "lineItem/Operation": "operation",
    "lineItem/LineItemType": "line_type", "lineItem/ResourceId": "resource_id", "lineItem/UsageAmount": "amount",
    "lineItem/UnblendedRate": "rate", "lineItem/UnblendedCost": "cost",
    "lineItem/LineItemDescription": "description", "pricing/term": "term", "pricing/unit": "unit",
    "pricing/publicOnDemandCost": "public_od", "savingsPlan/SavingsPlanARN": "sp_arn",
    "savingsPlan/SavingsPlanRate": "sp_rate", "savingsPlan/SavingsPlanEffectiveCost": "sp_effective",
    "savingsPlan/UsedCommitment": "used", "savingsPlan/TotalCommitmentToDate": "total_commitment",
}


_SMSIM_TEXT = (("smsim/component", "component"), ("smsim/resource_kind", "resource_kind"),
               ("smsim/instance_type", "instance_type"), ("smsim/market", "market"),
               ("smsim/pricing_class", "pricing_class"), ("smsim/savings_plan", "plan"))


def _code_dtype(n: int):
    return np.int8 if n < 127 else np.int16 if n < 32767 else np.int32


class _Placement:
    """Where each part's lines go in the sorted ledger: ``out[pos] = part_values[src]``."""

    def __init__(self, parts: list[Lines], order: np.ndarray) -> None:
        self.n = len(order)
        self.parts = parts
        self.pos: list = []
        self.src: list[np.ndarray] = []
        if len(parts) == 1:
            self.pos.append(slice(None))
            self.src.append(order)
        else:
            sizes = [len(p["hour"]) for p in parts]
            part_of_line = np.repeat(np.arange(len(parts), dtype=np.int8), sizes)[order]
            offset = 0
            for i, size in enumerate(sizes):
                pos = np.flatnonzero(part_of_line == i)
                self.pos.append(pos)
                self.src.append(order[pos] - offset)
                offset += size
            del part_of_line
        self._g = [p["g"][src] for p, src in zip(parts, self.src, strict=True)]
        # the groups each part uses (a table lookup by group needs only their entries)
        self.used_groups = [np.unique(p["g"]) for p in parts]

    def numbers(self, name: str) -> np.ndarray:
        out = np.zeros(self.n)
        for part, pos, src in zip(self.parts, self.pos, self.src, strict=True):
            if name in part:
                out[pos] = part[name][src]
        return out

    def codes(self, name: str, table: np.ndarray | None, strings: list[str], rank: np.ndarray,
              every_part: bool = False) -> pd.Categorical:
        """Text ``name`` as a categorical: a part's own codes, else ``table[group]`` where the part
        inherits it (every part when ``every_part``), else "" (code 0). Codes -1 are missing."""
        sources = []
        present = np.zeros(len(strings) + 1, dtype=bool)  # slot 0: missing
        for i, part in enumerate(self.parts):
            if name in part:
                values = part[name]
                sources.append(("own", values))
                present[np.unique(values) + 1] = True
            elif table is not None and (every_part or name in part.get("inherit", ())):
                sources.append(("group", table))
                present[table[self.used_groups[i]] + 1] = True
            else:
                sources.append(("empty", None))
                present[1] = True
        used = np.flatnonzero(present[1:])
        used = used[np.argsort(rank[used])]
        dtype = _code_dtype(len(used))
        remap = np.full(len(strings) + 1, -1, dtype=dtype)
        remap[used] = np.arange(len(used))
        out = np.empty(self.n, dtype=dtype)
        for (kind, values), pos, src, g in zip(sources, self.pos, self.src, self._g, strict=True):
            if kind == "own":
                out[pos] = remap[values[src]]
            elif kind == "group":
                out[pos] = remap[values][g]
            else:
                out[pos] = remap[0]
        categories = pd.Index([strings[i] for i in used], dtype="str")
        return pd.Categorical.from_codes(out, dtype=pd.CategoricalDtype(categories))


def _line_order(hour: np.ndarray, resource: np.ndarray, line_type: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Stable order of lines by hour, then resource id, then line type (both alphabetically)."""
    secondary = []
    for codes in (resource, line_type):
        present = np.flatnonzero(np.bincount(codes))
        dense = np.zeros(len(rank), dtype=np.int64)
        dense[present[np.argsort(rank[present])]] = np.arange(len(present))
        secondary.append((dense[codes], len(present)))
    (r, nr), (t, nt) = secondary
    h0 = int(hour.min())
    span = int(hour.max()) - h0 + 1
    if nr * nt < 2**16 and span < 2**16:
        # two stable passes on 16-bit keys (numpy radix-sorts those)
        order = np.argsort((r * nt + t).astype(np.uint16), kind="stable")
        return order[np.argsort((hour[order] - h0).astype(np.uint16), kind="stable")]
    return np.argsort(((hour - h0) * nr + r) * nt + t, kind="stable")


def cur_frame(parts: list[Lines], groups: Groups, horizon_start: datetime, vocab: Vocabulary) -> pd.DataFrame:
    strings = vocab.strings
    rank = np.empty(len(strings), dtype=np.int64)  # code -> alphabetical rank
    rank[np.argsort(np.array(strings, dtype=object), kind="stable")] = np.arange(len(strings))
    parts = [p for p in parts if len(p["hour"])] or parts[:1]
    hour = part_column(parts, "hour", groups).astype(np.int64)
    n = len(hour)
    if n:
        order = _line_order(hour, part_column(parts, "resource_id", groups), part_column(parts, "line_type", groups), rank)
    else:
        order = np.zeros(0, dtype=np.int64)
    place = _Placement(parts, order)
    del order
    hour = hour[place.src[0]] if len(parts) == 1 else place.numbers("hour").astype(np.int64)
    h0 = int(hour.min()) if n else 0
    hours = int(hour.max()) - h0 + 1 if n else 0
    offset = (hour - h0).astype(_code_dtype(hours + 1))
    start, end, month = hourly.hour_iso(horizon_start, np.arange(h0, h0 + hours + 1, dtype=np.int64))
    bounds = pd.CategoricalDtype(pd.Index(start, dtype="str"), ordered=True)
    intervals = pd.Index([f"{a}/{b}" for a, b in zip(start[:-1], end[:-1], strict=True)], dtype="str")
    month_of_hour, months = pd.factorize(month[:-1], sort=True)
    out = {
        "identity/TimeInterval": pd.Categorical.from_codes(offset, dtype=pd.CategoricalDtype(intervals, ordered=True)),
        "bill/BillingPeriodStartDate": pd.Categorical.from_codes(
            month_of_hour.astype(_code_dtype(len(months)))[offset],
            dtype=pd.CategoricalDtype(pd.Index(months, dtype="str"), ordered=True)),
        "lineItem/UsageStartDate": pd.Categorical.from_codes(offset, dtype=bounds),
        "lineItem/UsageEndDate": pd.Categorical.from_codes(offset + 1, dtype=bounds),
    }
    del offset

    def column(name: str):
        if name in TEXT_FIELDS:
            return place.codes(name, groups.text.get(name), strings, rank)
        return place.numbers(name)

    for column_name, name in _CUR_FIELDS.items():
        out[column_name] = column(name)
    for key_name, values in groups.tags.items():
        # a line carries its group's tags (none without a group) or its own tag set (discount lines)
        name = f"{TAG_PREFIX}{key_name}"
        for p in parts:
            if "tagset" in p:
                p[name] = values[p["tagset"]]
        out[name] = place.codes(name, values[groups.tagset], strings, rank, every_part=True)
        for p in parts:
            p.pop(name, None)
    out["smsim/hour"] = hour
    out["smsim/usage_start_s"] = column("start_s")
    out["smsim/usage_end_s"] = column("end_s")
    for column_name, name in _SMSIM_TEXT:
        out[column_name] = column(name)
    out["smsim/net_cost_usd"] = column("net")
    # copy=False: columns stay separate arrays (no consolidated copy of the float columns)
    return pd.DataFrame(out, copy=False)
