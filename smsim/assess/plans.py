"""Savings plans: coverage and utilization of the plans held, and the commitment ``smsim commit``
recommends from this bill's usage (its library, not a rule of thumb here).

Coverage is covered on-demand-equivalent cost over eligible on-demand-equivalent cost (SageMaker
instance usage that is not spot); utilization is commitment used over commitment paid.
"""

from __future__ import annotations

from typing import Any

from smsim.assess.findings import Finding, variant
from smsim.assess.hotspots import _query
from smsim.bill.usage import BillUsage

COMMIT_PATHS = 100


def plan_status(usage: BillUsage) -> dict[str, float]:
    inst = usage.instances
    eligible = inst[inst["market"] == "OnDemand"]
    row = _query(usage, """select
        sum("lineItem/UsageAmount" * "lineItem/UnblendedRate") filter (where "smsim/pricing_class" = 'savings_plan_covered'),
        sum("savingsPlan/SavingsPlanEffectiveCost") filter (where "smsim/pricing_class" = 'savings_plan_covered')
        from LEDGER""").iloc[0]
    covered, used = float(row.iloc[0] or 0.0), float(row.iloc[1] or 0.0)
    paid = float(usage.plans["commitment_usd"].sum()) if len(usage.plans) else 0.0
    total = float(eligible["public_cost_usd"].sum())
    held = usage.plans.groupby("plan")["commitment_usd"].median().sum() if len(usage.plans) else 0.0
    return {"eligible_usd": total, "covered_usd": covered,
            "coverage_pct": 100.0 * covered / total if total else 0.0,
            "commitment_paid_usd": paid, "commitment_used_usd": used,
            "utilization_pct": 100.0 * used / paid if paid else 0.0,
            "held_usd_per_hour": float(held)}


def savings_plan(usage: BillUsage, status: dict[str, float], baseline_data: dict[str, Any],
                 model: str = "auto") -> tuple[list[Finding], dict]:
    """A finding for the commitment ``smsim commit`` recommends on top of the plans held."""
    from smsim.commit.api import recommend_commitment
    from smsim.errors import InputError

    try:
        result = recommend_commitment(str(usage.ledger), existing_usd_per_hour=status["held_usd_per_hour"],
                                      n_paths=COMMIT_PATHS, seed=0, model=model)
    except InputError as exc:
        return [], {"error": exc.message}
    rec = result.recommended_usd_per_hour
    doc = {"recommended_commitment_usd_per_hour": rec, "expected_savings_usd": result.recommended["expected_savings_usd"],
           "horizon_hours": result.horizon_hours, "term": result.terms.term, "payment": result.terms.payment,
           "probability_of_loss": result.recommended["probability_of_loss"]}
    if rec <= 0:
        return [], doc
    per_month = result.recommended["expected_savings_usd"] / result.horizon_hours * 730.0
    held = list(baseline_data.get("pricing", {}).get("savings_plans", []))
    new = {"name": "recommended", "commitment_usd_per_hour": round(rec, 4), "term": result.terms.term,
           "payment": result.terms.payment}
    finding = Finding(
        "savings_plan", "savings plans", f"commit {rec:.2f} USD/hour more to a {result.terms.term} "
        f"{result.terms.payment} SageMaker Savings Plan",
        f"coverage today {status['coverage_pct']:.1f} % of {status['eligible_usd']:.2f} USD eligible, "
        f"utilization {status['utilization_pct']:.1f} %; smsim commit (on this bill's hourly usage, "
        f"{COMMIT_PATHS} forecast paths) expects {result.recommended['expected_savings_usd']:.2f} USD over "
        f"{result.horizon_hours} h, probability of loss {result.recommended['probability_of_loss']:.1%}",
        per_month, "medium" if result.recommended["probability_of_loss"] < 0.1 else "low",
        variant("savings-plan-recommended", f"{rec:.2f} USD/h more committed",
                {"pricing": {"savings_plans": [*held, new]}}))
    return [finding], doc


def untagged(usage: BillUsage, coverage: dict[str, float]) -> list[Finding]:
    """Untagged spend, as an informational finding (no saving; tags make the rest actionable)."""
    if coverage["untagged_usd"] <= 0.005:
        return []
    return [Finding("untagged_spend", "cost allocation", "tag the untagged spend",
                    f"{coverage['untagged_usd']:.2f} USD of {coverage['total_usd']:.2f} USD "
                    f"({100 - coverage['explained_pct']:.1f} %) carries no cost-allocation tag; tags explain "
                    f"{coverage['explained_pct']:.1f} % of the cost", 0.0, "high", None)]
