"""Usage records -> an hourly, CUR-shaped ledger: the simulated bill.

``build_ledger`` prices the meter's usage frame (:data:`smsim.sim.meter.USAGE_COLUMNS`) with a
catalog, after the simulation and without it. Every record is split at clock-hour boundaries and
priced per second; savings plans are applied per hour (see
:mod:`smsim.billing.savings_plan_application`); the enterprise discount comes last, as negative
``Discount`` lines. Columns follow the legacy AWS Cost and Usage Report (``lineItem/UnblendedCost``
...) plus ``smsim/*`` columns. Conventions, as in CUR:

* the sum of ``lineItem/UnblendedCost`` is the bill: covered usage appears at on-demand cost, a
  ``SavingsPlanNegation`` line takes it back, and a ``SavingsPlanRecurringFee`` line per plan-hour
  charges the whole commitment, used or not;
* ``smsim/net_cost_usd`` is the amortized view used for allocation: covered usage at its
  savings-plan effective cost, negations 0, the fee line only its unused part. It sums to the
  same total.

Nothing is rounded: cents are a presentation concern.
"""

from __future__ import annotations

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
Lines = dict[str, np.ndarray]


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
        return np.fromiter((self.code(t) for t in texts), dtype=np.int64)

    def full(self, n: int, text: str) -> np.ndarray:
        return np.full(n, self.code(text), dtype=np.int64)

    def column(self, codes: np.ndarray) -> pd.Series:
        return _text_column(self.strings, codes)


def _text_column(strings: list[str], codes: np.ndarray) -> pd.Series:
    """A pandas ``str`` column ``strings[codes]`` (missing where code < 0), built in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = np.asarray(codes, dtype=np.int64)
    taken = pc.take(pa.array(strings, pa.string()), pa.array(codes, mask=codes < 0))
    return pd.Series(taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


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
    usage = usage.reset_index(drop=True)
    vocab = _Vocabulary()
    phase = hourly.phase_s(horizon_start)
    pieces, combo, combos = _priced_pieces(usage, catalog, region, pricing, phase, vocab)
    eligible_idx = np.flatnonzero(combo >= 0)
    coverage = apply_savings_plans(
        {"hour": pieces["hour"][eligible_idx], "combo": combo[eligible_idx],
         "od_rate": pieces["od_rate"][eligible_idx], "hours": pieces["amount"][eligible_idx]},
        pricing.savings_plans, combos=combos, catalog=catalog, region=region, phase_s=phase, horizon_s=horizon_s,
    )
    remaining = pieces["amount"].copy()
    remaining[eligible_idx] = coverage.remaining_hours
    parts = [_usage_lines(pieces, remaining, vocab)]
    if len(coverage.covered):
        chosen = eligible_idx[coverage.covered["piece"].to_numpy()]
        parts += _covered_lines(_take(pieces, chosen), coverage.covered, pricing, vocab)
    if len(coverage.fees):
        parts.append(_fee_lines(coverage.fees, pricing, phase, vocab))
    lines = _concat(parts)
    tags = _record_tags(usage, vocab)
    if pricing.enterprise_discount_pct > 0 and len(lines["hour"]):
        lines = _concat([lines, _discount_lines(lines, tags, pricing.enterprise_discount_pct, vocab)])
    ledger = _format(lines, tags, horizon_start, vocab)
    ledger.attrs["catalog"] = catalog.describe()
    ledger.attrs["region"] = region
    return ledger


def _take(lines: Lines, index: np.ndarray) -> Lines:
    return {k: v[index] for k, v in lines.items()}


def _concat(parts: list[Lines]) -> Lines:
    out = {}
    for f in ("rec", "hour", *NUMBER_FIELDS, *TEXT_FIELDS):
        arrays = []
        for part in parts:
            n = len(part["hour"])
            text = f in TEXT_FIELDS
            arrays.append(part[f] if f in part else np.zeros(n, dtype=np.int64 if text else float))
        out[f] = np.concatenate(arrays)
    out["rec"] = out["rec"].astype(np.int64)
    out["hour"] = out["hour"].astype(np.int64)
    return out


def _priced_pieces(
    usage: pd.DataFrame, catalog: Catalog, region: str, pricing: PricingOptions, phase: float, vocab: _Vocabulary
) -> tuple[Lines, np.ndarray, list[tuple[str, str]]]:
    """Hourly pieces with rates and bill wording; plus each piece's savings-plan combo (-1: not eligible)."""
    split = hourly.split_hourly(usage["start_s"].to_numpy(float), usage["end_s"].to_numpy(float), phase)
    col = {c: usage[c].to_numpy(dtype=object) for c in
           ("resource_id", "resource_kind", "component", "usage_kind", "instance_type", "market", "rate_key")}
    quantity = usage["quantity"].to_numpy(dtype=float)
    rec = split.record
    seconds = split.end_s - split.start_s
    kind = col["usage_kind"][rec]
    qty = quantity[rec]
    amount = np.where(kind == "instance", qty * seconds / HOUR,
                      np.where(kind == "storage", qty * seconds / (HOURS_PER_MONTH * HOUR), qty * split.fraction))
    keep = (amount > 0) | ((kind == "amount") & (qty > 0))
    rec = rec[keep]
    # price once per distinct (kind, type, component, market, rate_key); spread by record index
    record_keys = list(zip(col["usage_kind"], col["instance_type"], col["component"], col["market"], col["rate_key"]))
    priced: dict[tuple, tuple] = {}
    for r in np.unique(rec):
        key = record_keys[r]
        if key not in priced:
            priced[key] = _price_one(key, catalog, region, pricing)
    names = ("od_rate", "rate", "product", "usage_type", "operation", "unit", "description", "pricing_class", "term")
    empty = (0.0, 0.0, "", "", "", "", "", "", "")
    per_record = [priced.get(k, empty) for k in record_keys]
    pieces: Lines = {"rec": rec, "hour": split.hour[keep], "start_s": split.start_s[keep], "end_s": split.end_s[keep],
                     "amount": amount[keep]}
    for i, name in enumerate(names):
        values = [p[i] for p in per_record]
        pieces[name] = (np.array(values, dtype=float) if i < 2 else vocab.codes(values))[rec]
    for name in ("resource_id", "resource_kind", "component", "instance_type", "market"):
        pieces[name] = vocab.codes(col[name])[rec]
    combos: dict[tuple[str, str], int] = {}
    record_combo = np.full(len(record_keys), -1, dtype=np.int64)
    for r, (k, itype, comp, market, _) in enumerate(record_keys):
        if k == "instance" and market == "OnDemand" and comp in COMPONENTS:
            record_combo[r] = combos.setdefault((itype, comp), len(combos))
    return pieces, record_combo[rec], list(combos)


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


def _usage_lines(p: Lines, remaining: np.ndarray, vocab: _Vocabulary) -> Lines:
    keep = (remaining > 0) | ((p["unit"] != vocab.code("Hrs")) & (p["amount"] > 0))
    q = _take(p, np.flatnonzero(keep))
    amount = remaining[keep]
    cost = q["rate"] * amount
    return q | {"line_type": vocab.full(len(amount), "Usage"), "amount": amount, "cost": cost,
                "public_od": q["od_rate"] * amount, "net": cost}


def _covered_lines(p: Lines, cov: pd.DataFrame, pricing: PricingOptions, vocab: _Vocabulary) -> list[Lines]:
    hours = cov["covered_hours"].to_numpy()
    n = len(hours)
    od = p["od_rate"]
    plans = pricing.savings_plans
    plan_idx = cov["plan"].to_numpy()
    arn = vocab.codes([plan_arn(pl, i) for i, pl in enumerate(plans)])[plan_idx]
    name = vocab.codes([plan_name(pl, i) for i, pl in enumerate(plans)])[plan_idx]
    sp_rate = cov["sp_rate"].to_numpy()
    used = cov["used_usd"].to_numpy()
    # descriptions per distinct (usage type, plan, rate), not per line
    triples, inverse = np.unique(np.column_stack([p["usage_type"], plan_idx, sp_rate]), axis=0, return_inverse=True)
    covered_text = vocab.codes(
        f"{vocab.strings[int(ut)]} covered by savings plan {plan_name(plans[int(pl)], int(pl))} at ${rate:.6g}/hour"
        for ut, pl, rate in triples
    )[inverse.reshape(-1)]
    usage_types, ut_inverse = np.unique(p["usage_type"], return_inverse=True)
    negation_text = vocab.codes(f"SavingsPlanNegation used by {vocab.strings[int(u)]}" for u in usage_types)
    common = p | {"rate": od, "term": vocab.full(n, "SavingsPlan"), "sp_arn": arn, "sp_rate": sp_rate, "plan": name}
    covered = common | {
        "line_type": vocab.full(n, "SavingsPlanCoveredUsage"), "amount": hours, "cost": od * hours,
        "public_od": od * hours, "sp_effective": used, "used": used, "description": covered_text,
        "pricing_class": vocab.full(n, "savings_plan_covered"), "net": used,
    }
    negation = common | {
        "line_type": vocab.full(n, "SavingsPlanNegation"), "amount": np.zeros(n), "cost": -od * hours,
        "public_od": np.zeros(n), "description": negation_text[ut_inverse.reshape(-1)],
        "pricing_class": vocab.full(n, "savings_plan_negation"), "net": np.zeros(n),
    }
    return [covered, negation]


def _fee_lines(fees: pd.DataFrame, pricing: PricingOptions, phase: float, vocab: _Vocabulary) -> Lines:
    plans = pricing.savings_plans
    idx = fees["plan"].to_numpy()
    commitment = fees["commitment_usd"].to_numpy(dtype=float)
    used = fees["used_usd"].to_numpy(dtype=float)
    per_hour = np.array([p.commitment_usd_per_hour for p in plans])[idx]
    hour = fees["hour"].to_numpy(dtype=np.int64)
    n = len(hour)
    arn = vocab.codes([plan_arn(p, i) for i, p in enumerate(plans)])[idx]
    return {
        "rec": np.full(n, -1, dtype=np.int64), "hour": hour, "start_s": hour * HOUR - phase,
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


def _record_tags(usage: pd.DataFrame, vocab: _Vocabulary) -> dict[str, np.ndarray]:
    """Per tag key, each record's value code (-1 when the record lacks the tag; index -1 is a line with no record)."""
    records = [t if isinstance(t, dict) else {} for t in usage["tags"]]
    keys = sorted({k for t in records for k in t})
    return {
        k: np.array([vocab.code(t[k]) if k in t else -1 for t in records] + [-1], dtype=np.int64) for k in keys
    }


def _discount_lines(lines: Lines, tags: dict[str, np.ndarray], pct: float, vocab: _Vocabulary) -> Lines:
    """One negative line per (hour, resource, product, component, kind, tags): -pct x its net cost."""
    codes = [lines[f] for f in ("hour", "resource_id", "product", "component", "resource_kind")]
    codes += [values[lines["rec"]] for values in tags.values()]
    group = pd.DataFrame(np.column_stack(codes)).groupby(list(range(len(codes))), sort=True).ngroup().to_numpy()
    net = np.bincount(group, weights=lines["net"])
    first = np.unique(group, return_index=True)[1]
    nonzero = net != 0
    keep = first[nonzero]
    d = _take({k: lines[k] for k in ("rec", "hour", "start_s", "end_s", "resource_id", "product", "component",
                                     "resource_kind")}, keep)
    cost = -pct / 100.0 * net[nonzero]
    n = len(keep)
    return d | {
        "line_type": vocab.full(n, "Discount"), "usage_type": vocab.full(n, "EnterpriseDiscount"),
        "description": vocab.full(n, f"{pct:g}% enterprise discount"),
        "pricing_class": vocab.full(n, "enterprise_discount"), "rate": np.full(n, -pct / 100.0),
        "cost": cost, "net": cost,
    }


def _format(lines: Lines, tags: dict[str, np.ndarray], horizon_start: datetime, vocab: _Vocabulary) -> pd.DataFrame:
    rank = np.argsort(np.argsort(np.array(vocab.strings, dtype=object)))  # code -> alphabetical rank
    order = np.lexsort((rank[lines["line_type"]], rank[lines["resource_id"]], lines["hour"]))
    lines = _take(lines, order)
    hour = lines["hour"]
    index, start, end, month = hourly.hour_labels(horizon_start, hour)
    out = {
        "identity/TimeInterval": _text_column([f"{a}/{b}" for a, b in zip(start, end)], index),
        "bill/BillingPeriodStartDate": _text_column(month, index),
        "lineItem/UsageStartDate": _text_column(start, index),
        "lineItem/UsageEndDate": _text_column(end, index),
    }
    names = {
        "lineItem/ProductCode": "product", "lineItem/UsageType": "usage_type", "lineItem/Operation": "operation",
        "lineItem/LineItemType": "line_type", "lineItem/ResourceId": "resource_id", "lineItem/UsageAmount": "amount",
        "lineItem/UnblendedRate": "rate", "lineItem/UnblendedCost": "cost",
        "lineItem/LineItemDescription": "description", "pricing/term": "term", "pricing/unit": "unit",
        "pricing/publicOnDemandCost": "public_od", "savingsPlan/SavingsPlanARN": "sp_arn",
        "savingsPlan/SavingsPlanRate": "sp_rate", "savingsPlan/SavingsPlanEffectiveCost": "sp_effective",
        "savingsPlan/UsedCommitment": "used", "savingsPlan/TotalCommitmentToDate": "total_commitment",
    }
    for column, field in names.items():
        out[column] = vocab.column(lines[field]) if field in TEXT_FIELDS else lines[field].astype(float)
    for key, values in tags.items():
        out[f"{TAG_PREFIX}{key}"] = vocab.column(values[lines["rec"]])
    out |= {
        "smsim/hour": hour, "smsim/usage_start_s": lines["start_s"].astype(float),
        "smsim/usage_end_s": lines["end_s"].astype(float),
    }
    for column, field in (("smsim/component", "component"), ("smsim/resource_kind", "resource_kind"),
                          ("smsim/instance_type", "instance_type"), ("smsim/market", "market"),
                          ("smsim/pricing_class", "pricing_class"), ("smsim/savings_plan", "plan")):
        out[column] = vocab.column(lines[field])
    out["smsim/net_cost_usd"] = lines["net"].astype(float)
    return pd.DataFrame({k: v.array if isinstance(v, pd.Series) else v for k, v in out.items()})
