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

import numpy as np
import pandas as pd

from smsim.billing.allocation import (
    NET,
    cost_by_column,
    cost_by_tag,
    grouped_sum,
    label_codes,
    sum_by_code,
    tag_keys,
)
from smsim.pricing.catalog import Catalog

COST = "lineItem/UnblendedCost"
TYPE = "lineItem/LineItemType"
CLASS = "smsim/pricing_class"


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def savings_plan_summary(ledger: pd.DataFrame) -> dict:
    line_type = ledger[TYPE]
    plan_columns = [COST, "savingsPlan/UsedCommitment", "savingsPlan/SavingsPlanARN", "smsim/savings_plan"]
    # only the few columns read below are copied, and only for savings-plan lines
    fees = ledger.loc[(line_type == "SavingsPlanRecurringFee").to_numpy(), plan_columns]
    covered = ledger.loc[(line_type == "SavingsPlanCoveredUsage").to_numpy(), plan_columns]
    eligible = (line_type.isin(["Usage", "SavingsPlanCoveredUsage"])
                & ledger[CLASS].isin(["on_demand", "savings_plan_covered"])).to_numpy()
    eligible_od = float(ledger["pricing/publicOnDemandCost"].to_numpy(dtype=float)[eligible].sum())
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
    by_class = grouped_sum(ledger[CLASS], ledger[NET], empty="")

    def get(name: str) -> float:
        return float(by_class.get(name, 0.0))

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
    ids, id_names = label_codes(ledger["lineItem/ResourceId"])
    if RESOURCE_TAG in ledger.columns:
        tags, tag_names = label_codes(ledger[RESOURCE_TAG])
        usable = np.array([name != "" for name in tag_names] + [False])  # index -1: no tag
        codes = np.where(usable[tags], tags, len(tag_names) + np.where(ids < 0, len(id_names), ids))
        names = [*tag_names, *id_names, "(none)"]
    else:
        codes = np.where(ids < 0, len(id_names), ids)
        names = [*id_names, "(none)"]
    return sum_by_code(codes, names, ledger[NET].to_numpy(dtype=float), empty="(none)")


def summarize(ledger: pd.DataFrame, catalog: Catalog) -> dict:
    """Totals and breakdowns of ``ledger`` (JSON-able); see the module doc for definitions."""
    total = float(ledger[COST].sum())
    net_total = float(ledger[NET].sum())
    if not math.isclose(total, net_total, rel_tol=1e-9, abs_tol=1e-6):
        raise RuntimeError(f"ledger is inconsistent: unblended total {total} != amortized total {net_total}")
    usage_lines = ledger[TYPE].isin(["Usage", "SavingsPlanCoveredUsage"]).to_numpy()
    return {
        "total_cost_usd": total,
        "on_demand_equivalent_usd": float(ledger["pricing/publicOnDemandCost"].to_numpy(dtype=float)[usage_lines].sum()),
        "cost_by_component": cost_by_column(ledger, "smsim/component"),
        "cost_by_pricing": cost_by_pricing(ledger),
        "cost_by_tag": {key: cost_by_tag(ledger, key) for key in tag_keys(ledger)},
        "cost_by_resource": cost_by_resource(ledger),
        "savings_plans": savings_plan_summary(ledger),
        "line_items": len(ledger),
        "catalog": catalog.describe() | {"directory": str(catalog.directory)},
    }
