"""The bill in a few numbers: totals by component, pricing, tag and resource; savings-plan health.

``summarize(ledger, catalog)`` returns a JSON-able dict. Breakdowns use the amortized view
(``smsim/net_cost_usd``) so they add up to ``total_cost_usd``, which is the sum of
``lineItem/UnblendedCost`` (the CUR bill). Savings-plan figures:

* ``utilization`` = used commitment / commitment (what share of the paid commitment bought usage);
* ``coverage`` = on-demand-equivalent cost covered by the plan / on-demand-equivalent cost of all
  eligible usage (on-demand-market SageMaker instance usage) in the horizon;
* ``savings_usd`` = covered on-demand-equivalent cost - commitment paid (negative when the plan
  costs more than it saves).
"""

from __future__ import annotations

import math

import pandas as pd

from smsim.billing.allocation import NET, cost_by_column, cost_by_tag, tag_keys
from smsim.pricing.catalog import Catalog

COST = "lineItem/UnblendedCost"
TYPE = "lineItem/LineItemType"
CLASS = "smsim/pricing_class"


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def savings_plan_summary(ledger: pd.DataFrame) -> dict:
    fees = ledger[ledger[TYPE] == "SavingsPlanRecurringFee"]
    covered = ledger[ledger[TYPE] == "SavingsPlanCoveredUsage"]
    eligible_od = float(
        ledger.loc[
            (ledger[TYPE].isin(["Usage", "SavingsPlanCoveredUsage"])) & ledger[CLASS].isin(["on_demand", "savings_plan_covered"]),
            "pricing/publicOnDemandCost",
        ].sum()
    )
    plans = {}
    for name in sorted(set(fees["smsim/savings_plan"])):
        f = fees[fees["smsim/savings_plan"] == name]
        c = covered[covered["smsim/savings_plan"] == name]
        commitment, used, covered_od = float(f[COST].sum()), float(f["savingsPlan/UsedCommitment"].sum()), float(c[COST].sum())
        plans[name] = {
            "arn": str(f["savingsPlan/SavingsPlanARN"].iloc[0]),
            "commitment_usd": commitment,
            "used_usd": used,
            "unused_usd": commitment - used,
            "utilization": _ratio(used, commitment),
            "covered_on_demand_usd": covered_od,
            "coverage": _ratio(covered_od, eligible_od),
            "savings_usd": covered_od - commitment,
        }
    commitment = sum(p["commitment_usd"] for p in plans.values())
    used = sum(p["used_usd"] for p in plans.values())
    covered_od = sum(p["covered_on_demand_usd"] for p in plans.values())
    return {
        "plans": plans,
        "overall": {
            "commitment_usd": commitment,
            "used_usd": used,
            "unused_usd": commitment - used,
            "utilization": _ratio(used, commitment),
            "eligible_on_demand_usd": eligible_od,
            "covered_on_demand_usd": covered_od,
            "coverage": _ratio(covered_od, eligible_od),
            "savings_usd": covered_od - commitment,
        },
    }


def cost_by_pricing(ledger: pd.DataFrame) -> dict[str, float]:
    """Net cost per pricing class; ``savings_plan_covered`` at effective cost, unused commitment apart."""
    by_class = ledger.groupby(CLASS)[NET].sum()
    get = lambda name: float(by_class.get(name, 0.0))
    out = {
        "on_demand": get("on_demand"),
        "spot": get("spot"),
        "savings_plan_covered": get("savings_plan_covered"),
        "savings_plan_unused_commitment": get("savings_plan_commitment"),
        "storage": get("storage"),
        "metered": get("metered"),
        "enterprise_discount": get("enterprise_discount"),
    }
    return out


#: The scenario resource a line belongs to (an autoscaled endpoint's instances bill under their
#: own ids, tagged with the endpoint they serve).
RESOURCE_TAG = "resourceTags/user:smsim:resource"


def cost_by_resource(ledger: pd.DataFrame) -> dict[str, float]:
    """Net cost per scenario resource: its ``smsim:resource`` tag, else the line's resource id."""
    ids = ledger["lineItem/ResourceId"].astype("string")
    if RESOURCE_TAG in ledger.columns:
        tagged = ledger[RESOURCE_TAG].astype("string").replace("", pd.NA)
        ids = tagged.fillna(ids)
    totals = ledger[NET].groupby(ids.fillna("(none)").to_numpy(dtype=object)).sum()
    return {str(k): float(v) for k, v in totals.sort_values(ascending=False).items()}


def summarize(ledger: pd.DataFrame, catalog: Catalog) -> dict:
    """Totals and breakdowns of ``ledger`` (JSON-able); see the module doc for definitions."""
    total = float(ledger[COST].sum())
    net_total = float(ledger[NET].sum())
    if not math.isclose(total, net_total, rel_tol=1e-9, abs_tol=1e-6):
        raise RuntimeError(f"ledger is inconsistent: unblended total {total} != amortized total {net_total}")
    usage_lines = ledger[ledger[TYPE].isin(["Usage", "SavingsPlanCoveredUsage"])]
    return {
        "total_cost_usd": total,
        "on_demand_equivalent_usd": float(usage_lines["pricing/publicOnDemandCost"].sum()),
        "cost_by_component": cost_by_column(ledger, "smsim/component"),
        "cost_by_pricing": cost_by_pricing(ledger),
        "cost_by_tag": {key: cost_by_tag(ledger, key) for key in tag_keys(ledger)},
        "cost_by_resource": cost_by_resource(ledger),
        "savings_plans": savings_plan_summary(ledger),
        "line_items": len(ledger),
        "catalog": catalog.describe() | {"directory": str(catalog.directory)},
    }
