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
_NUMERIC = {
    "lineItem/UsageAmount", "lineItem/UnblendedRate", "lineItem/UnblendedCost", "pricing/publicOnDemandCost",
    "savingsPlan/SavingsPlanRate", "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/UsedCommitment",
    "savingsPlan/TotalCommitmentToDate", "smsim/usage_start_s", "smsim/usage_end_s", "smsim/net_cost_usd",
}


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
    pieces = _priced_pieces(usage, catalog, region, pricing, phase)
    eligible = pieces[(pieces["kind"] == "instance") & (pieces["market"] == "OnDemand")
                      & pieces["component"].isin(COMPONENTS)]
    coverage = apply_savings_plans(
        eligible.rename(columns={"amount": "hours"}), pricing.savings_plans,
        catalog=catalog, region=region, phase_s=phase, horizon_s=horizon_s,
    )
    remaining = pieces["amount"].to_numpy(dtype=float).copy()
    remaining[eligible.index.to_numpy()] = coverage.remaining_hours
    lines = [_usage_lines(pieces, remaining)]
    if len(coverage.covered):
        covered = pieces.iloc[eligible.index.to_numpy()[coverage.covered["piece"].to_numpy()]].reset_index(drop=True)
        lines += _covered_lines(covered, coverage.covered, pricing, region)
    if len(coverage.fees):
        lines.append(_fee_lines(coverage.fees, pricing, phase))
    ledger = pd.concat([f for f in lines if len(f)], ignore_index=True) if any(len(f) for f in lines) else lines[0]
    tags = _tag_frame(usage)
    ledger = _attach_tags(ledger, tags)
    if pricing.enterprise_discount_pct > 0 and len(ledger):
        ledger = pd.concat([ledger, _discount_lines(ledger, pricing.enterprise_discount_pct, list(tags.columns))],
                           ignore_index=True)
    ledger = _format(ledger, horizon_start, list(tags.columns))
    ledger.attrs["catalog"] = catalog.describe()
    ledger.attrs["region"] = region
    return ledger


def _priced_pieces(usage: pd.DataFrame, catalog: Catalog, region: str, pricing: PricingOptions, phase: float) -> pd.DataFrame:
    split = hourly.split_hourly(usage["start_s"].to_numpy(float), usage["end_s"].to_numpy(float), phase)
    rec = split.record
    take = lambda col: usage[col].to_numpy()[rec]
    p = pd.DataFrame({
        "rec": rec, "hour": split.hour, "start_s": split.start_s, "end_s": split.end_s,
        "resource_id": take("resource_id"), "resource_kind": take("resource_kind"),
        "component": take("component"), "kind": take("usage_kind"), "instance_type": take("instance_type"),
        "market": take("market"), "rate_key": take("rate_key"), "quantity": take("quantity").astype(float),
    })
    seconds = p["end_s"].to_numpy() - p["start_s"].to_numpy()
    kind = p["kind"].to_numpy()
    amount = np.where(kind == "instance", p["quantity"] * seconds / HOUR,
                      np.where(kind == "storage", p["quantity"] * seconds / (HOURS_PER_MONTH * HOUR),
                               p["quantity"] * split.fraction))
    p["amount"] = amount
    p = p[(amount > 0) | ((kind == "amount") & (p["quantity"].to_numpy() > 0))].reset_index(drop=True)
    text = {}
    for key in p[["kind", "instance_type", "component", "market", "rate_key"]].drop_duplicates().itertuples(index=False, name=None):
        text[key] = _price_one(key, catalog, region, pricing)
    keys = list(p[["kind", "instance_type", "component", "market", "rate_key"]].itertuples(index=False, name=None))
    for i, name in enumerate(("od_rate", "rate", "product", "usage_type", "operation", "unit", "description", "pricing_class", "term")):
        p[name] = [text[k][i] for k in keys]
    p["od_rate"] = p["od_rate"].astype(float)
    p["rate"] = p["rate"].astype(float)
    return p


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


def _base(p: pd.DataFrame) -> dict:
    return {
        "rec": p["rec"].to_numpy(), "hour": p["hour"].to_numpy(), "start_s": p["start_s"].to_numpy(),
        "end_s": p["end_s"].to_numpy(), "resource_id": p["resource_id"].to_numpy(),
        "resource_kind": p["resource_kind"].to_numpy(), "component": p["component"].to_numpy(),
        "instance_type": p["instance_type"].to_numpy(), "market": p["market"].to_numpy(),
        "product": p["product"].to_numpy(), "usage_type": p["usage_type"].to_numpy(),
        "operation": p["operation"].to_numpy(), "unit": p["unit"].to_numpy(),
    }


def _usage_lines(p: pd.DataFrame, remaining: np.ndarray) -> pd.DataFrame:
    keep = (remaining > 0) | (p["kind"].to_numpy() == "amount")
    q = p[keep]
    amount = remaining[keep]
    cost = q["rate"].to_numpy() * amount
    return pd.DataFrame(_base(q) | {
        "line_type": "Usage", "amount": amount, "rate": q["rate"].to_numpy(), "cost": cost,
        "description": q["description"].to_numpy(), "term": q["term"].to_numpy(),
        "public_od": q["od_rate"].to_numpy() * amount, "pricing_class": q["pricing_class"].to_numpy(),
        "net": cost,
    })


def _covered_lines(p: pd.DataFrame, cov: pd.DataFrame, pricing: PricingOptions, region: str) -> list[pd.DataFrame]:
    hours = cov["covered_hours"].to_numpy()
    od = p["od_rate"].to_numpy()
    plans = pricing.savings_plans
    arn = np.array([plan_arn(plans[i], i) for i in range(len(plans))], dtype=object)[cov["plan"].to_numpy()]
    name = np.array([plan_name(plans[i], i) for i in range(len(plans))], dtype=object)[cov["plan"].to_numpy()]
    sp_rate = cov["sp_rate"].to_numpy()
    desc = [f"{t} covered by savings plan {n} at ${r:.6g}/hour" for t, n, r in zip(p["usage_type"], name, sp_rate)]
    common = _base(p) | {"rate": od, "term": "SavingsPlan", "sp_arn": arn, "sp_rate": sp_rate, "plan": name}
    covered = pd.DataFrame(common | {
        "line_type": "SavingsPlanCoveredUsage", "amount": hours, "cost": od * hours, "public_od": od * hours,
        "sp_effective": cov["used_usd"].to_numpy(), "used": cov["used_usd"].to_numpy(), "description": desc,
        "pricing_class": "savings_plan_covered", "net": cov["used_usd"].to_numpy(),
    })
    negation = pd.DataFrame(common | {
        "line_type": "SavingsPlanNegation", "amount": 0.0, "cost": -od * hours, "public_od": 0.0,
        "description": [f"SavingsPlanNegation used by {d.split(' covered')[0]}" for d in desc],
        "pricing_class": "savings_plan_negation", "net": 0.0,
    })
    return [covered, negation]


def _fee_lines(fees: pd.DataFrame, pricing: PricingOptions, phase: float) -> pd.DataFrame:
    plans = pricing.savings_plans
    idx = fees["plan"].to_numpy()
    commitment = fees["commitment_usd"].to_numpy()
    used = fees["used_usd"].to_numpy()
    per_hour = np.array([p.commitment_usd_per_hour for p in plans])[idx]
    hour = fees["hour"].to_numpy()
    arn = np.array([plan_arn(p, i) for i, p in enumerate(plans)], dtype=object)[idx]
    name = np.array([plan_name(p, i) for i, p in enumerate(plans)], dtype=object)[idx]
    utype = np.array([savings_plan_usage_type(p.term, p.payment) for p in plans], dtype=object)[idx]
    desc = np.array([f"{p.term} {p.payment} SageMaker Savings Plan, ${p.commitment_usd_per_hour:.6g}/hour commitment"
                     for p in plans], dtype=object)[idx]
    return pd.DataFrame({
        "rec": -1, "hour": hour, "start_s": hour * HOUR - phase, "end_s": (hour + 1) * HOUR - phase,
        "resource_id": arn, "resource_kind": "savings_plan", "component": "SavingsPlan", "instance_type": "",
        "market": "", "product": SAVINGS_PLAN_PRODUCT, "usage_type": utype, "operation": "", "unit": "Hrs",
        "line_type": "SavingsPlanRecurringFee", "amount": commitment / per_hour, "rate": per_hour,
        "cost": commitment, "description": desc, "term": "SavingsPlan", "public_od": 0.0, "sp_arn": arn,
        "used": used, "total_commitment": commitment, "pricing_class": "savings_plan_commitment",
        "net": commitment - used, "plan": name,
    })


def _tag_frame(usage: pd.DataFrame) -> pd.DataFrame:
    records = [t if isinstance(t, dict) else {} for t in usage["tags"]]
    frame = pd.DataFrame.from_records(records, index=usage.index) if records else pd.DataFrame(index=usage.index)
    frame.columns = [f"{TAG_PREFIX}{c}" for c in frame.columns]
    return frame.astype("string").reindex(sorted(frame.columns), axis=1)


def _attach_tags(ledger: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
    if not len(tags.columns):
        return ledger
    rec = ledger["rec"].to_numpy()
    values = tags.reindex(np.where(rec >= 0, rec, -1)).reset_index(drop=True)
    values.loc[rec < 0] = pd.NA
    return pd.concat([ledger.reset_index(drop=True), values], axis=1)


def _discount_lines(ledger: pd.DataFrame, pct: float, tag_cols: list[str]) -> pd.DataFrame:
    keys = ["hour", "resource_id", "product", "component", "resource_kind", *tag_cols]
    grouped = ledger.groupby(keys, dropna=False, sort=True).agg(
        net=("net", "sum"), start_s=("start_s", "min"), end_s=("end_s", "max"), rec=("rec", "max"),
    ).reset_index()
    grouped = grouped[grouped["net"] != 0]
    cost = -pct / 100.0 * grouped["net"].to_numpy()
    return grouped.assign(
        line_type="Discount", amount=0.0, rate=-pct / 100.0, cost=cost, net=cost, public_od=0.0,
        instance_type="", market="", usage_type="EnterpriseDiscount", operation="", unit="",
        description=f"{pct:g}% enterprise discount", term="", pricing_class="enterprise_discount",
    )


def _format(ledger: pd.DataFrame, horizon_start: datetime, tag_cols: list[str]) -> pd.DataFrame:
    hour = ledger["hour"].to_numpy(dtype=np.int64) if len(ledger) else np.zeros(0, dtype=np.int64)
    start, end, month = hourly.hour_iso(horizon_start, hour)
    get = lambda col, default: ledger[col].to_numpy() if col in ledger else np.full(len(ledger), default, dtype=object)
    out = {
        "identity/TimeInterval": np.char.add(np.char.add(start, "/"), end),
        "bill/BillingPeriodStartDate": month, "lineItem/UsageStartDate": start, "lineItem/UsageEndDate": end,
        "lineItem/ProductCode": get("product", ""), "lineItem/UsageType": get("usage_type", ""),
        "lineItem/Operation": get("operation", ""), "lineItem/LineItemType": get("line_type", ""),
        "lineItem/ResourceId": get("resource_id", ""), "lineItem/UsageAmount": get("amount", 0.0),
        "lineItem/UnblendedRate": get("rate", 0.0), "lineItem/UnblendedCost": get("cost", 0.0),
        "lineItem/LineItemDescription": get("description", ""), "pricing/term": get("term", ""),
        "pricing/unit": get("unit", ""), "pricing/publicOnDemandCost": get("public_od", 0.0),
        "savingsPlan/SavingsPlanARN": get("sp_arn", ""), "savingsPlan/SavingsPlanRate": get("sp_rate", 0.0),
        "savingsPlan/SavingsPlanEffectiveCost": get("sp_effective", 0.0),
        "savingsPlan/UsedCommitment": get("used", 0.0), "savingsPlan/TotalCommitmentToDate": get("total_commitment", 0.0),
    }
    out |= {col: pd.array(ledger[col], dtype="string") for col in tag_cols}
    out |= {
        "smsim/hour": hour, "smsim/usage_start_s": get("start_s", 0.0), "smsim/usage_end_s": get("end_s", 0.0),
        "smsim/component": get("component", ""), "smsim/resource_kind": get("resource_kind", ""),
        "smsim/instance_type": get("instance_type", ""), "smsim/market": get("market", ""),
        "smsim/pricing_class": get("pricing_class", ""), "smsim/savings_plan": get("plan", ""),
        "smsim/net_cost_usd": get("net", 0.0),
    }
    frame = pd.DataFrame(out)
    for col in frame.columns:
        if col in _NUMERIC:
            frame[col] = pd.to_numeric(frame[col]).fillna(0.0).astype(float)
        elif col not in tag_cols and col != "smsim/hour":
            frame[col] = frame[col].fillna("").astype("string")
    order = np.lexsort((frame["lineItem/LineItemType"].to_numpy(dtype=str), frame["lineItem/ResourceId"].to_numpy(dtype=str), hour))
    return frame.iloc[order].reset_index(drop=True)
