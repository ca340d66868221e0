"""Line groups: usage records that bill as one line item per clock hour (same resource, kind,
component, usage kind, instance type, market, rate key and tags), their hourly usage, and their
prices from the catalog."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smsim.billing import hourly
from smsim.billing.columns import GROUP_TEXT, Lines, Vocabulary
from smsim.billing.line_items import instance_description, rate_line
from smsim.pricing.catalog import Catalog
from smsim.pricing.options import PricingOptions
from smsim.pricing.vocabulary import COMPONENTS, usage_type
from smsim.units import HOUR, HOURS_PER_MONTH


@dataclass
class Groups:
    """Line groups: records that bill as one line per hour, and what each group's lines say."""

    of_record: np.ndarray  # group of each usage record
    first: np.ndarray  # first record of each group
    attrs: dict[str, list[str]]  # per group: resource_id, ..., rate_key (strings)
    tagset: np.ndarray  # per group, then one trailing entry for lines without a group (index -1)
    tags: dict[str, np.ndarray]  # per tag key: value code per tag set (-1: lacks it), trailing -1
    text: dict[str, np.ndarray]  # per group: vocab code of each GROUP_TEXT field
    od_rate: np.ndarray
    rate: np.ndarray
    combo: np.ndarray  # savings-plan combo of the group (-1: not eligible)
    combos: list[tuple[str, str]]


_RECORD_TEXT = ("resource_id", "resource_kind", "component", "usage_kind", "instance_type", "market", "rate_key")


def line_groups(usage: pd.DataFrame, vocab: Vocabulary) -> Groups:
    """Records with equal text fields and tags form one line group, numbered by first appearance."""
    codes, uniques = [], {}
    for name in _RECORD_TEXT:
        code, values = pd.factorize(usage[name], sort=False)
        names = ["" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v) for v in values]
        code = np.where(code < 0, len(names), code)  # missing text reads as ""
        codes.append(code.astype(np.int64))
        uniques[name] = [*names, ""]
    tagset_of_record, tagsets = _tag_sets(usage["tags"])
    codes.append(tagset_of_record)
    of_record = combine(codes)
    if len(of_record):
        _, first = np.unique(of_record, return_index=True)
    else:
        first = np.zeros(0, dtype=np.int64)
    attrs = {name: [uniques[name][i] for i in codes[j][first]] for j, name in enumerate(_RECORD_TEXT)}
    keys = sorted({k for t in tagsets for k, _ in t})
    tags = {}
    for key in keys:
        values = [dict(t).get(key) for t in tagsets]
        tags[key] = np.array([-1 if v is None else vocab.code(v) for v in values] + [-1], dtype=np.int32)
    tagset = np.append(tagset_of_record[first], len(tagsets)).astype(np.int64)
    n = len(first)
    return Groups(of_record=of_record, first=first, attrs=attrs, tagset=tagset, tags=tags, text={},
                   od_rate=np.zeros(n), rate=np.zeros(n), combo=np.full(n, -1, dtype=np.int64), combos=[])


def _tag_sets(column: pd.Series) -> tuple[np.ndarray, list[tuple[tuple[str, str], ...]]]:
    """Each record's tag set (index into the distinct sets) and the distinct sets as sorted pairs.

    Rows that share one dict object (as :func:`smsim.core.meter.usage_frame` builds them) are read once.
    """
    values = column.to_numpy(dtype=object)
    if not len(values):
        return np.zeros(0, dtype=np.int64), []
    by_object, _ = pd.factorize(np.fromiter((id(t) for t in values), dtype=np.int64, count=len(values)))
    firsts = np.unique(by_object, return_index=True)[1]
    index: dict[tuple, int] = {}
    seen: dict[tuple, int] = {}  # tags in the order a dict holds them -> tag set
    of_object = np.empty(len(firsts), dtype=np.int64)
    for obj, row in enumerate(firsts.tolist()):
        t = values[row]
        raw = tuple(t.items()) if isinstance(t, dict) else ()
        found = seen.get(raw)
        if found is None:
            pairs = tuple(sorted((str(k), str(v)) for k, v in raw))
            found = seen[raw] = index.setdefault(pairs, len(index))
        of_object[obj] = found
    return of_object[by_object], list(index)


def combine(codes: list[np.ndarray]) -> np.ndarray:
    """One code per distinct row of ``codes`` (non-negative int arrays), in order of first appearance."""
    radix = [int(c.max(initial=0)) + 1 for c in codes]
    if float(np.prod(radix, dtype=float)) < 2.0**62:
        key = np.zeros(len(codes[0]), dtype=np.int64)
        for code, size in zip(codes, radix, strict=True):
            key *= size
            key += code
        return pd.factorize(key, sort=False)[0].astype(np.int64)
    key = codes[0]
    for code, size in zip(codes[1:], radix[1:], strict=True):
        key = pd.factorize(key * size + code, sort=False)[0].astype(np.int64)
    return key


def hourly_usage(usage: pd.DataFrame, groups: Groups, phase: float) -> Lines:
    """Usage summed per (line group, clock hour): ``g``, ``hour``, ``start_s``, ``end_s``, ``amount``."""
    kind = usage["usage_kind"].to_numpy(dtype=object)
    is_instance = kind == "instance"
    is_storage = kind == "storage"
    start = usage["start_s"].to_numpy(dtype=float)
    end = usage["end_s"].to_numpy(dtype=float)
    divisor = np.where(is_instance, HOUR, np.where(is_storage, HOURS_PER_MONTH * HOUR, end - start))
    spread = ~(is_instance | is_storage)
    out = hourly.hourly_lines(groups.of_record, start, end, usage["quantity"].to_numpy(dtype=float),
                              divisor, spread, phase)
    return {"g": out.group, "hour": out.hour, "start_s": out.start_s, "end_s": out.end_s, "amount": out.amount}


def price_groups(groups: Groups, used: np.ndarray, catalog: Catalog, region: str, pricing: PricingOptions,
                  vocab: Vocabulary) -> None:
    """Rates and bill wording of every group with usage, priced once per distinct price key."""
    n = len(groups.first)
    text = {name: np.zeros(n, dtype=np.int32) for name in GROUP_TEXT}
    for name in ("resource_id", "resource_kind", "component", "instance_type", "market"):
        text[name] = vocab.codes(groups.attrs[name]) if n else np.zeros(0, dtype=np.int32)
    priced: dict[tuple, tuple] = {}
    combos: dict[tuple[str, str], int] = {}
    a = groups.attrs
    for g in used.tolist():
        key = (a["usage_kind"][g], a["instance_type"][g], a["component"][g], a["market"][g], a["rate_key"][g])
        found = priced.get(key)
        if found is None:
            found = priced[key] = _price_one(key, catalog, region, pricing)
        od, rate, *words = found
        groups.od_rate[g], groups.rate[g] = od, rate
        for name, word in zip(("product", "usage_type", "operation", "unit", "description", "pricing_class", "term"),
                              words, strict=True):
            text[name][g] = vocab.code(word)
        kind, itype, comp, market, _ = key
        if kind == "instance" and market == "OnDemand" and comp in COMPONENTS:
            groups.combo[g] = combos.setdefault((itype, comp), len(combos))
    groups.text = text
    groups.combos = list(combos)


def _price_one(key: tuple, catalog: Catalog, region: str, pricing: PricingOptions) -> tuple:
    kind, instance_type, component, market, rate_key = key
    if kind == "instance":
        od = catalog.ondemand_usd_per_hour(instance_type, component, region)
        spot = market == "Spot"
        rate = catalog.spot_usd_per_hour(instance_type, component, region, pricing.spot.discount_pct) if spot else od
        return (od, rate, "AmazonSageMaker", usage_type(region, component, instance_type, spot), "RunInstance",
                "Hrs", instance_description(rate, component, instance_type, region, spot),
                "spot" if spot else "on_demand", "Spot" if spot else "OnDemand")
    found = catalog.rate(rate_key, region)
    text = rate_line(rate_key, region, component, found.usd, kind == "storage")
    return (found.usd, found.usd, text["product"], text["usage_type"], text["operation"], text["unit"],
            text["description"], "storage" if kind == "storage" else "metered", "OnDemand")
