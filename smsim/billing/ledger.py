"""Usage records -> an hourly, CUR-shaped ledger: the simulated bill.

``build_ledger`` prices the meter's usage frame (:data:`smsim.sim.meter.USAGE_COLUMNS`) with a
catalog, after the simulation and without it. Every record is split at clock-hour boundaries and
priced per second; savings plans are applied per hour (see
:mod:`smsim.billing.savings_plan_application`); the enterprise discount comes last, as negative
``Discount`` lines. Columns follow the legacy AWS Cost and Usage Report (``lineItem/UnblendedCost``
...) plus ``smsim/*`` columns. Conventions, as in CUR:

* a line item is one hour of one resource's usage of one usage type at one rate: records of the
  same resource, resource kind, component, usage kind, instance type, market, rate key and tags
  in the same clock hour are one line with their usage summed (``smsim/usage_start_s`` and
  ``smsim/usage_end_s`` are the earliest start and latest end of that usage within the hour);
* the sum of ``lineItem/UnblendedCost`` is the bill: covered usage appears at on-demand cost, a
  ``SavingsPlanNegation`` line takes it back, and a ``SavingsPlanRecurringFee`` line per plan-hour
  charges the whole commitment, used or not;
* ``smsim/net_cost_usd`` is the amortized view used for allocation: covered usage at its
  savings-plan effective cost, negations 0, the fee line only its unused part. It sums to the
  same total.

Text columns are pandas categoricals (a year of a large platform is millions of line items; a
category code per line instead of a string); the four date columns are ordered categoricals whose
start and end share categories, so they compare chronologically. Nothing is rounded: cents are a
presentation concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from smsim.billing import hourly
from smsim.billing.line_items import (
    SAVINGS_PLAN_PRODUCT,
    instance_description,
    rate_line,
    savings_plan_usage_type,
)
from smsim.billing.savings_plan_application import apply_savings_plans, plan_arn, plan_name
from smsim.pricing.catalog import Catalog
from smsim.pricing.vocabulary import COMPONENTS, usage_type
from smsim.scenario.schema import PricingOptions
from smsim.sim.meter import USAGE_COLUMNS
from smsim.units import HOUR, HOURS_PER_MONTH

TAG_PREFIX = "resourceTags/user:"

CUR_COLUMNS = [
    "identity/TimeInterval",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/LineItemType",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/UnblendedRate",
    "lineItem/UnblendedCost",
    "lineItem/LineItemDescription",
    "pricing/term",
    "pricing/unit",
    "pricing/publicOnDemandCost",
    "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanRate",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/UsedCommitment",
    "savingsPlan/TotalCommitmentToDate",
]
SMSIM_COLUMNS = [
    "smsim/hour",
    "smsim/usage_start_s",
    "smsim/usage_end_s",
    "smsim/component",
    "smsim/resource_kind",
    "smsim/instance_type",
    "smsim/market",
    "smsim/pricing_class",
    "smsim/savings_plan",
    "smsim/net_cost_usd",
]
#: Pricing classes of ``smsim/pricing_class``.
PRICING_CLASSES = (
    "on_demand", "spot", "storage", "metered", "savings_plan_covered", "savings_plan_negation",
    "savings_plan_commitment", "enterprise_discount",
)


TEXT_FIELDS = (
    "line_type", "product", "usage_type", "operation", "unit", "description", "term", "pricing_class",
    "resource_id", "resource_kind", "component", "instance_type", "market", "sp_arn", "plan",
)
NUMBER_FIELDS = (
    "start_s", "end_s", "amount", "rate", "cost", "public_od", "sp_rate", "sp_effective", "used",
    "total_commitment", "net",
)
#: Fields a line takes from its line group unless the line sets them (``inherit`` of a part).
GROUP_TEXT = (
    "resource_id", "resource_kind", "component", "instance_type", "market", "product", "usage_type",
    "operation", "unit", "description", "pricing_class", "term",
)
#: A part of the ledger: arrays of equal length (``g`` line group or -1, ``hour``, and any of the
#: fields above), plus the names of the fields it takes from its group under ``inherit``.
Lines = dict


class _Vocabulary:
    """Text interned as int codes, so per-line text costs an int, not a Python string."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}
        self.code("")

    def code(self, text: str) -> int:
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.strings)
            self.strings.append(text)
        return found

    def codes(self, texts) -> np.ndarray:
        return np.fromiter((self.code(t) for t in texts), dtype=np.int32)

    def full(self, n: int, text: str) -> np.ndarray:
        return np.full(n, self.code(text), dtype=np.int32)


@dataclass
class _Groups:
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


def build_ledger(
    usage: pd.DataFrame,
    *,
    catalog: Catalog,
    region: str,
    horizon_start: datetime,
    horizon_s: float,
    pricing: PricingOptions,
) -> pd.DataFrame:
    """The hourly line items of ``usage`` priced by ``catalog`` in ``region`` (see the module doc)."""
    missing = [c for c in USAGE_COLUMNS if c not in usage.columns]
    if missing:
        raise ValueError(f"usage frame lacks columns {missing}; build it with smsim.sim.meter.usage_frame")
    vocab = _Vocabulary()
    phase = hourly.phase_s(horizon_start)
    groups = _line_groups(usage, vocab)
    lines = _hourly_usage(usage, groups, phase)
    _price_groups(groups, np.unique(lines["g"]), catalog, region, pricing, vocab)
    eligible_idx = np.flatnonzero(groups.combo[lines["g"]] >= 0)
    eligible_g = lines["g"][eligible_idx]
    coverage = apply_savings_plans(
        {"hour": lines["hour"][eligible_idx], "combo": groups.combo[eligible_g],
         "od_rate": groups.od_rate[eligible_g], "hours": lines["amount"][eligible_idx]},
        pricing.savings_plans, combos=groups.combos, catalog=catalog, region=region, phase_s=phase,
        horizon_s=horizon_s,
    )
    del eligible_g
    remaining = lines["amount"].copy()
    remaining[eligible_idx] = coverage.remaining_hours
    parts = [_usage_lines(lines, remaining, groups, vocab)]
    if len(coverage.covered):
        chosen = eligible_idx[coverage.covered["piece"].to_numpy()]
        parts += _covered_lines(_take(lines, chosen), coverage.covered, groups, pricing, vocab)
    del lines, remaining, eligible_idx
    if len(coverage.fees):
        parts.append(_fee_lines(coverage.fees, pricing, phase, vocab))
    del coverage
    if pricing.enterprise_discount_pct > 0 and sum(len(p["hour"]) for p in parts):
        parts.append(_discount_lines(parts, groups, pricing.enterprise_discount_pct, vocab))
    ledger = _format(parts, groups, horizon_start, vocab)
    ledger.attrs["catalog"] = catalog.describe()
    ledger.attrs["region"] = region
    return ledger


# -- line groups and hourly usage -----------------------------------------------------------------

_RECORD_TEXT = ("resource_id", "resource_kind", "component", "usage_kind", "instance_type", "market", "rate_key")


def _line_groups(usage: pd.DataFrame, vocab: _Vocabulary) -> _Groups:
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
    of_record = _combine(codes)
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
    return _Groups(of_record=of_record, first=first, attrs=attrs, tagset=tagset, tags=tags, text={},
                   od_rate=np.zeros(n), rate=np.zeros(n), combo=np.full(n, -1, dtype=np.int64), combos=[])


def _tag_sets(column: pd.Series) -> tuple[np.ndarray, list[tuple[tuple[str, str], ...]]]:
    """Each record's tag set (index into the distinct sets) and the distinct sets as sorted pairs.

    Rows that share one dict object (as :func:`smsim.sim.meter.usage_frame` builds them) are read once.
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


def _combine(codes: list[np.ndarray]) -> np.ndarray:
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


def _hourly_usage(usage: pd.DataFrame, groups: _Groups, phase: float) -> Lines:
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


def _price_groups(groups: _Groups, used: np.ndarray, catalog: Catalog, region: str, pricing: PricingOptions,
                  vocab: _Vocabulary) -> None:
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


# -- the parts of the ledger ---------------------------------------------------------------------


def _take(lines: Lines, index: np.ndarray) -> Lines:
    return {k: v[index] for k, v in lines.items()}


def _usage_lines(p: Lines, remaining: np.ndarray, groups: _Groups, vocab: _Vocabulary) -> Lines:
    unit = groups.text["unit"][p["g"]]
    keep = (remaining > 0) | ((unit != vocab.code("Hrs")) & (p["amount"] > 0))
    del unit
    q = _take(p, np.flatnonzero(keep))
    amount = remaining[keep]
    cost = groups.rate[q["g"]] * amount
    return q | {"line_type": vocab.full(len(amount), "Usage"), "amount": amount, "cost": cost,
                "public_od": groups.od_rate[q["g"]] * amount, "net": cost, "rate": groups.rate[q["g"]],
                "inherit": GROUP_TEXT}


def _covered_lines(p: Lines, cov: pd.DataFrame, groups: _Groups, pricing: PricingOptions,
                   vocab: _Vocabulary) -> list[Lines]:
    hours = cov["covered_hours"].to_numpy()
    n = len(hours)
    od = groups.od_rate[p["g"]]
    ut = groups.text["usage_type"][p["g"]]
    plans = pricing.savings_plans
    plan_idx = cov["plan"].to_numpy()
    arn = vocab.codes([plan_arn(pl, i) for i, pl in enumerate(plans)])[plan_idx]
    name = vocab.codes([plan_name(pl, i) for i, pl in enumerate(plans)])[plan_idx]
    sp_rate = cov["sp_rate"].to_numpy()
    used = cov["used_usd"].to_numpy()
    # descriptions per distinct (usage type, plan, rate), not per line
    triples, inverse = np.unique(np.column_stack([ut, plan_idx, sp_rate]), axis=0, return_inverse=True)
    covered_text = vocab.codes(
        f"{vocab.strings[int(u)]} covered by savings plan {plan_name(plans[int(pl)], int(pl))} at ${rate:.6g}/hour"
        for u, pl, rate in triples
    )[inverse.reshape(-1)]
    usage_types, ut_inverse = np.unique(ut, return_inverse=True)
    negation_text = vocab.codes(f"SavingsPlanNegation used by {vocab.strings[int(u)]}" for u in usage_types)
    inherit = tuple(f for f in GROUP_TEXT if f not in ("term", "description", "pricing_class"))
    common = {"g": p["g"], "hour": p["hour"], "start_s": p["start_s"], "end_s": p["end_s"], "rate": od,
              "term": vocab.full(n, "SavingsPlan"), "sp_arn": arn, "sp_rate": sp_rate, "plan": name,
              "inherit": inherit}
    covered = common | {
        "line_type": vocab.full(n, "SavingsPlanCoveredUsage"), "amount": hours, "cost": od * hours,
        "public_od": od * hours, "sp_effective": used, "used": used, "description": covered_text,
        "pricing_class": vocab.full(n, "savings_plan_covered"), "net": used,
    }
    negation = common | {
        "line_type": vocab.full(n, "SavingsPlanNegation"), "cost": -od * hours,
        "description": negation_text[ut_inverse.reshape(-1)],
        "pricing_class": vocab.full(n, "savings_plan_negation"),
    }
    return [covered, negation]


def _fee_lines(fees: pd.DataFrame, pricing: PricingOptions, phase: float, vocab: _Vocabulary) -> Lines:
    plans = pricing.savings_plans
    idx = fees["plan"].to_numpy()
    commitment = fees["commitment_usd"].to_numpy(dtype=float)
    used = fees["used_usd"].to_numpy(dtype=float)
    # a fully used hour sums many pieces' spend; snap that rounding residue (a few 1e-16 USD either
    # way) so an exactly used commitment leaves nothing unallocated and reads 100 % utilized
    used = np.where(np.abs(commitment - used) <= 1e-12 * commitment, commitment, used)
    per_hour = np.array([p.commitment_usd_per_hour for p in plans])[idx]
    hour = fees["hour"].to_numpy(dtype=np.int64)
    n = len(hour)
    arn = vocab.codes([plan_arn(p, i) for i, p in enumerate(plans)])[idx]
    return {
        "g": np.full(n, -1, dtype=np.int64), "hour": hour, "start_s": hour * HOUR - phase,
        "end_s": (hour + 1) * HOUR - phase, "resource_id": arn, "resource_kind": vocab.full(n, "savings_plan"),
        "component": vocab.full(n, "SavingsPlan"), "product": vocab.full(n, SAVINGS_PLAN_PRODUCT),
        "usage_type": vocab.codes([savings_plan_usage_type(p.term, p.payment) for p in plans])[idx],
        "unit": vocab.full(n, "Hrs"), "line_type": vocab.full(n, "SavingsPlanRecurringFee"),
        "amount": commitment / per_hour, "rate": per_hour, "cost": commitment, "term": vocab.full(n, "SavingsPlan"),
        "sp_arn": arn, "used": used, "total_commitment": commitment,
        "description": vocab.codes([f"{p.term} {p.payment} SageMaker Savings Plan, "
                                    f"${p.commitment_usd_per_hour:.6g}/hour commitment" for p in plans])[idx],
        "pricing_class": vocab.full(n, "savings_plan_commitment"), "net": commitment - used,
        "plan": vocab.codes([plan_name(p, i) for i, p in enumerate(plans)])[idx],
    }


def _field(part: Lines, name: str, groups: _Groups) -> np.ndarray:
    """``name`` of every line of ``part``: its own, its group's, or empty (code 0 / 0.0)."""
    if name in part:
        return part[name]
    if name == "tagset":
        return groups.tagset[part["g"]]
    if name in part.get("inherit", ()):
        return groups.text[name][part["g"]]
    n = len(part["hour"])
    return np.zeros(n, dtype=np.int32) if name in TEXT_FIELDS else np.zeros(n)


def _column(parts: list[Lines], name: str, groups: _Groups) -> np.ndarray:
    return np.concatenate([_field(p, name, groups) for p in parts])


_DISCOUNT_KEY = ("resource_id", "product", "component", "resource_kind", "tagset")


def _discount_lines(parts: list[Lines], groups: _Groups, pct: float, vocab: _Vocabulary) -> Lines:
    """One negative line per (hour, resource, product, component, kind, tags): -pct x its net cost."""
    codes = [_column(parts, f, groups).astype(np.int64) for f in _DISCOUNT_KEY]
    hour = _column(parts, "hour", groups).astype(np.int64)
    group = _combine([hour - hour.min(), *codes])
    del hour
    net = np.bincount(group, weights=_column(parts, "net", groups))
    first = np.full(len(net), len(group), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(group)))
    del group
    nonzero = net != 0
    keep = first[nonzero]
    d = {f: c[keep].astype(np.int32 if f != "tagset" else np.int64) for f, c in zip(_DISCOUNT_KEY, codes, strict=True)}
    for f in ("hour", "start_s", "end_s"):
        d[f] = _column(parts, f, groups)[keep]
    cost = -pct / 100.0 * net[nonzero]
    n = len(keep)
    return d | {
        "g": np.full(n, -1, dtype=np.int64),
        "line_type": vocab.full(n, "Discount"), "usage_type": vocab.full(n, "EnterpriseDiscount"),
        "description": vocab.full(n, f"{pct:g}% enterprise discount"),
        "pricing_class": vocab.full(n, "enterprise_discount"), "rate": np.full(n, -pct / 100.0),
        "cost": cost, "net": cost,
    }


# -- the frame -----------------------------------------------------------------------------------

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


def _format(parts: list[Lines], groups: _Groups, horizon_start: datetime, vocab: _Vocabulary) -> pd.DataFrame:
    strings = vocab.strings
    rank = np.empty(len(strings), dtype=np.int64)  # code -> alphabetical rank
    rank[np.argsort(np.array(strings, dtype=object), kind="stable")] = np.arange(len(strings))
    parts = [p for p in parts if len(p["hour"])] or parts[:1]
    hour = _column(parts, "hour", groups).astype(np.int64)
    n = len(hour)
    if n:
        order = _line_order(hour, _column(parts, "resource_id", groups), _column(parts, "line_type", groups), rank)
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
