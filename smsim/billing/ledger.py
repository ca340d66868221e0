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
    phase = hourly.phase_s(horizon_start)
    pieces, combo, combos = _priced_pieces(usage, catalog, region, pricing, phase)
    eligible_idx = np.flatnonzero(combo >= 0)
    coverage = apply_savings_plans(
        {"hour": pieces["hour"][eligible_idx], "combo": combo[eligible_idx],
         "od_rate": pieces["od_rate"][eligible_idx], "hours": pieces["amount"][eligible_idx]},
        pricing.savings_plans, combos=combos, catalog=catalog, region=region, phase_s=phase, horizon_s=horizon_s,
    )
    remaining = pieces["amount"].copy()
    remaining[eligible_idx] = coverage.remaining_hours
    parts = [_usage_lines(pieces, remaining)]
    if len(coverage.covered):
        chosen = eligible_idx[coverage.covered["piece"].to_numpy()]
        parts += _covered_lines(_take(pieces, chosen), coverage.covered, pricing)
    if len(coverage.fees):
        parts.append(_fee_lines(coverage.fees, pricing, phase))
    lines = _concat(parts)
    tags = _record_tags(usage)
    if pricing.enterprise_discount_pct > 0 and len(lines["hour"]):
        lines = _concat([lines, _discount_lines(lines, tags, pricing.enterprise_discount_pct)])
    ledger = _format(lines, tags, horizon_start)
    ledger.attrs["catalog"] = catalog.describe()
    ledger.attrs["region"] = region
    return ledger


def _take(lines: Lines, index: np.ndarray) -> Lines:
    return {k: v[index] for k, v in lines.items()}


def _concat(parts: list[Lines]) -> Lines:
    fields = ("rec", "hour", *NUMBER_FIELDS, *TEXT_FIELDS)
    out = {}
    for f in fields:
        arrays = []
        for part in parts:
            n = len(part["hour"])
            if f in part:
                arrays.append(np.broadcast_to(part[f], (n,)) if np.ndim(part[f]) == 0 else part[f])
            else:
                arrays.append(np.full(n, "" if f in TEXT_FIELDS else 0.0, dtype=object if f in TEXT_FIELDS else float))
        out[f] = np.concatenate(arrays) if arrays else np.zeros(0)
    out["rec"] = out["rec"].astype(np.int64)
    out["hour"] = out["hour"].astype(np.int64)
    return out


def _priced_pieces(
    usage: pd.DataFrame, catalog: Catalog, region: str, pricing: PricingOptions, phase: float
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
        dtype = float if i < 2 else object
        pieces[name] = np.array([p[i] for p in per_record], dtype=dtype)[rec]
    for name in ("resource_id", "resource_kind", "component", "instance_type", "market"):
        pieces[name] = col[name][rec]
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


def _usage_lines(p: Lines, remaining: np.ndarray) -> Lines:
    keep = (remaining > 0) | ((p["unit"] != "Hrs") & (p["amount"] > 0))
    q = _take(p, np.flatnonzero(keep))
    amount = remaining[keep]
    cost = q["rate"] * amount
    return q | {"line_type": np.array("Usage", dtype=object), "amount": amount, "cost": cost,
                "public_od": q["od_rate"] * amount, "net": cost}


def _covered_lines(p: Lines, cov: pd.DataFrame, pricing: PricingOptions) -> list[Lines]:
    hours = cov["covered_hours"].to_numpy()
    od = p["od_rate"]
    plans = pricing.savings_plans
    plan_idx = cov["plan"].to_numpy()
    arn = np.array([plan_arn(pl, i) for i, pl in enumerate(plans)], dtype=object)[plan_idx]
    name = np.array([plan_name(pl, i) for i, pl in enumerate(plans)], dtype=object)[plan_idx]
    sp_rate = cov["sp_rate"].to_numpy()
    used = cov["used_usd"].to_numpy()
    unique_rates, rate_index = np.unique(sp_rate, return_inverse=True)
    rate_text = np.array([f"{r:.6g}" for r in unique_rates], dtype=object)[rate_index.reshape(-1)]
    common = p | {"rate": od, "term": np.array("SavingsPlan", dtype=object), "sp_arn": arn, "sp_rate": sp_rate,
                  "plan": name}
    covered = common | {
        "line_type": np.array("SavingsPlanCoveredUsage", dtype=object), "amount": hours, "cost": od * hours,
        "public_od": od * hours, "sp_effective": used, "used": used,
        "description": p["usage_type"] + " covered by savings plan " + name + " at $" + rate_text + "/hour",
        "pricing_class": np.array("savings_plan_covered", dtype=object), "net": used,
    }
    negation = common | {
        "line_type": np.array("SavingsPlanNegation", dtype=object), "amount": np.zeros(len(hours)),
        "cost": -od * hours, "public_od": np.zeros(len(hours)),
        "description": "SavingsPlanNegation used by " + p["usage_type"],
        "pricing_class": np.array("savings_plan_negation", dtype=object), "net": np.zeros(len(hours)),
    }
    return [covered, negation]


def _fee_lines(fees: pd.DataFrame, pricing: PricingOptions, phase: float) -> Lines:
    plans = pricing.savings_plans
    idx = fees["plan"].to_numpy()
    commitment = fees["commitment_usd"].to_numpy(dtype=float)
    used = fees["used_usd"].to_numpy(dtype=float)
    per_hour = np.array([p.commitment_usd_per_hour for p in plans])[idx]
    hour = fees["hour"].to_numpy(dtype=np.int64)
    pick = lambda values: np.array(values, dtype=object)[idx]
    arn = pick([plan_arn(p, i) for i, p in enumerate(plans)])
    n = len(hour)
    text = lambda value: np.full(n, value, dtype=object)
    return {
        "rec": np.full(n, -1, dtype=np.int64), "hour": hour, "start_s": hour * HOUR - phase,
        "end_s": (hour + 1) * HOUR - phase, "resource_id": arn, "resource_kind": text("savings_plan"),
        "component": text("SavingsPlan"), "product": text(SAVINGS_PLAN_PRODUCT),
        "usage_type": pick([savings_plan_usage_type(p.term, p.payment) for p in plans]), "unit": text("Hrs"),
        "line_type": text("SavingsPlanRecurringFee"), "amount": commitment / per_hour, "rate": per_hour,
        "cost": commitment, "term": text("SavingsPlan"), "sp_arn": arn, "used": used,
        "description": pick([f"{p.term} {p.payment} SageMaker Savings Plan, ${p.commitment_usd_per_hour:.6g}/hour"
                             " commitment" for p in plans]),
        "total_commitment": commitment, "pricing_class": text("savings_plan_commitment"), "net": commitment - used,
        "plan": pick([plan_name(p, i) for i, p in enumerate(plans)]),
    }


def _record_tags(usage: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per tag key, each record's value (None when the record lacks the tag)."""
    records = [t if isinstance(t, dict) else {} for t in usage["tags"]]
    keys = sorted({k for t in records for k in t})
    return {k: np.array([t.get(k) for t in records] + [None], dtype=object) for k in keys}  # [-1] -> None


def _discount_lines(lines: Lines, tags: dict[str, np.ndarray], pct: float) -> Lines:
    """One negative line per (hour, resource, product, component, kind, tags): -pct x its net cost."""
    codes = [lines["hour"]] + [pd.factorize(lines[f])[0] for f in ("resource_id", "product", "component", "resource_kind")]
    codes += [pd.factorize(values[lines["rec"]])[0] for values in tags.values()]
    group = pd.DataFrame(np.column_stack(codes)).groupby(list(range(len(codes))), sort=True).ngroup().to_numpy()
    net = np.bincount(group, weights=lines["net"])
    first = np.unique(group, return_index=True)[1]
    keep = first[net != 0]
    d = _take({k: lines[k] for k in ("rec", "hour", "start_s", "end_s", "resource_id", "product", "component",
                                     "resource_kind")}, keep)
    cost = -pct / 100.0 * net[net != 0]
    n = len(keep)
    return d | {
        "line_type": np.full(n, "Discount", dtype=object), "usage_type": np.full(n, "EnterpriseDiscount", dtype=object),
        "description": np.full(n, f"{pct:g}% enterprise discount", dtype=object),
        "pricing_class": np.full(n, "enterprise_discount", dtype=object), "rate": np.full(n, -pct / 100.0),
        "cost": cost, "net": cost,
    }


def _categorical(values: np.ndarray) -> pd.Categorical:
    """A categorical column from an object array, without materialising one Python string per row."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype="string"))


def _format(lines: Lines, tags: dict[str, np.ndarray], horizon_start: datetime) -> pd.DataFrame:
    hour = lines["hour"]
    order = np.lexsort((pd.factorize(lines["line_type"], sort=True)[0],
                       pd.factorize(lines["resource_id"], sort=True)[0], hour))
    lines = _take(lines, order)
    hour = lines["hour"]
    start, end, month = hourly.hour_iso(horizon_start, hour)
    cat = _categorical
    out = {
        "identity/TimeInterval": cat(np.char.add(np.char.add(start, "/"), end)),
        "bill/BillingPeriodStartDate": cat(month), "lineItem/UsageStartDate": cat(start),
        "lineItem/UsageEndDate": cat(end),
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
        values = lines[field]
        out[column] = cat(values) if field in TEXT_FIELDS else values.astype(float)
    for key, values in tags.items():
        out[f"{TAG_PREFIX}{key}"] = cat(values[lines["rec"]])
    out |= {
        "smsim/hour": hour, "smsim/usage_start_s": lines["start_s"].astype(float),
        "smsim/usage_end_s": lines["end_s"].astype(float), "smsim/component": cat(lines["component"]),
        "smsim/resource_kind": cat(lines["resource_kind"]), "smsim/instance_type": cat(lines["instance_type"]),
        "smsim/market": cat(lines["market"]), "smsim/pricing_class": cat(lines["pricing_class"]),
        "smsim/savings_plan": cat(lines["plan"]), "smsim/net_cost_usd": lines["net"].astype(float),
    }
    return pd.DataFrame(out)
