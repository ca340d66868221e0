"""The ledger's line items from priced hourly usage: usage lines, savings-plan covered usage and
its negation, plan fees, and the enterprise discount."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.billing.columns import GROUP_TEXT, TEXT_FIELDS, Lines, Vocabulary
from smsim.billing.groups import Groups, combine
from smsim.billing.line_items import SAVINGS_PLAN_PRODUCT, savings_plan_usage_type
from smsim.billing.savings_plan_application import plan_arn, plan_name
from smsim.pricing.options import PricingOptions
from smsim.units import HOUR


def take(lines: Lines, index: np.ndarray) -> Lines:
    return {k: v[index] for k, v in lines.items()}


def usage_lines(p: Lines, remaining: np.ndarray, groups: Groups, vocab: Vocabulary) -> Lines:
    unit = groups.text["unit"][p["g"]]
    keep = (remaining > 0) | ((unit != vocab.code("Hrs")) & (p["amount"] > 0))
    del unit
    q = take(p, np.flatnonzero(keep))
    amount = remaining[keep]
    cost = groups.rate[q["g"]] * amount
    return q | {"line_type": vocab.full(len(amount), "Usage"), "amount": amount, "cost": cost,
                "public_od": groups.od_rate[q["g"]] * amount, "net": cost, "rate": groups.rate[q["g"]],
                "inherit": GROUP_TEXT}


def covered_lines(p: Lines, cov: pd.DataFrame, groups: Groups, pricing: PricingOptions,
                   vocab: Vocabulary) -> list[Lines]:
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


def fee_lines(fees: pd.DataFrame, pricing: PricingOptions, phase: float, vocab: Vocabulary) -> Lines:
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


def _field(part: Lines, name: str, groups: Groups) -> np.ndarray:
    """``name`` of every line of ``part``: its own, its group's, or empty (code 0 / 0.0)."""
    if name in part:
        return part[name]
    if name == "tagset":
        return groups.tagset[part["g"]]
    if name in part.get("inherit", ()):
        return groups.text[name][part["g"]]
    n = len(part["hour"])
    return np.zeros(n, dtype=np.int32) if name in TEXT_FIELDS else np.zeros(n)


def part_column(parts: list[Lines], name: str, groups: Groups) -> np.ndarray:
    return np.concatenate([_field(p, name, groups) for p in parts])


_DISCOUNT_KEY = ("resource_id", "product", "component", "resource_kind", "tagset")


def discount_lines(parts: list[Lines], groups: Groups, pct: float, vocab: Vocabulary) -> Lines:
    """One negative line per (hour, resource, product, component, kind, tags): -pct x its net cost."""
    codes = [part_column(parts, f, groups).astype(np.int64) for f in _DISCOUNT_KEY]
    hour = part_column(parts, "hour", groups).astype(np.int64)
    group = combine([hour - hour.min(), *codes])
    del hour
    net = np.bincount(group, weights=part_column(parts, "net", groups))
    first = np.full(len(net), len(group), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(group)))
    del group
    nonzero = net != 0
    keep = first[nonzero]
    d = {f: c[keep].astype(np.int32 if f != "tagset" else np.int64) for f, c in zip(_DISCOUNT_KEY, codes, strict=True)}
    for f in ("hour", "start_s", "end_s"):
        d[f] = part_column(parts, f, groups)[keep]
    cost = -pct / 100.0 * net[nonzero]
    n = len(keep)
    return d | {
        "g": np.full(n, -1, dtype=np.int64),
        "line_type": vocab.full(n, "Discount"), "usage_type": vocab.full(n, "EnterpriseDiscount"),
        "description": vocab.full(n, f"{pct:g}% enterprise discount"),
        "pricing_class": vocab.full(n, "enterprise_discount"), "rate": np.full(n, -pct / 100.0),
        "cost": cost, "net": cost,
    }
