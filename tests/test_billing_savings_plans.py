"""Savings-plan application, hand-computed (fixture catalog: m5/c5 40% off, g5 20% off, 1y no-upfront).

Fixture on-demand: ml.m5.xlarge $0.20, ml.m5.2xlarge $0.40, ml.g5.xlarge $1.00 (hosting).
SP rates: m5.xlarge $0.12, m5.2xlarge $0.24, g5.xlarge $0.80.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from smsim.billing import build_ledger
from smsim.billing.summary import summarize
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions

MINI = Path(__file__).parent / "fixtures" / "pricing" / "mini"
COST = "lineItem/UnblendedCost"
TYPE = "lineItem/LineItemType"


def bill(meter: Meter, horizon_s: float, *plans: HeldSavingsPlan, **pricing):
    catalog = load_catalog(str(MINI))
    ledger = build_ledger(meter.frame(), catalog=catalog, region="us-east-1",
                          horizon_start=datetime(2026, 1, 1, tzinfo=UTC), horizon_s=horizon_s,
                          pricing=PricingOptions(savings_plans=list(plans), **pricing))
    return ledger, summarize(ledger, catalog)


def covered_hours(ledger, instance_type: str) -> float:
    rows = ledger[(ledger[TYPE] == "SavingsPlanCoveredUsage") & (ledger["smsim/instance_type"] == instance_type)]
    return float(rows["lineItem/UsageAmount"].sum())


def host(m: Meter, name: str, itype: str, start: float, end: float) -> None:
    m.instance(name, "endpoint", "RealTimeInference", itype, start, end)


def test_under_used_plan_still_charges_the_whole_commitment():
    m = Meter()
    host(m, "a", "ml.m5.xlarge", 0, 7200)
    ledger, s = bill(m, 7200, HeldSavingsPlan(commitment_usd_per_hour=1.0))
    # each hour: 1 h covered at $0.12 of a $1.00 commitment; bill = $1.00/h (no on-demand left)
    fees = ledger[ledger[TYPE] == "SavingsPlanRecurringFee"]
    assert fees[COST].tolist() == pytest.approx([1.0, 1.0])
    assert fees["savingsPlan/UsedCommitment"].tolist() == pytest.approx([0.12, 0.12])
    assert s["total_cost_usd"] == pytest.approx(2.00)
    plan = s["savings_plans"]["plans"]["sp-1"]
    assert plan["utilization"] == pytest.approx(0.12)
    assert plan["coverage"] == pytest.approx(1.0)
    assert plan["savings_usd"] == pytest.approx(0.40 - 2.00)  # the plan loses $1.60
    assert s["cost_by_pricing"]["savings_plan_unused_commitment"] == pytest.approx(1.76)
    assert s["cost_by_pricing"]["savings_plan_covered"] == pytest.approx(0.24)


def test_over_used_plan_covers_part_of_a_line_and_the_rest_is_on_demand():
    m = Meter()
    host(m, "a", "ml.m5.xlarge", 0, 3600)
    ledger, s = bill(m, 3600, HeldSavingsPlan(commitment_usd_per_hour=0.06))
    # $0.06 buys 0.06 / 0.12 = 0.5 h; the other 0.5 h at $0.20 = $0.10; bill = 0.06 + 0.10
    assert covered_hours(ledger, "ml.m5.xlarge") == pytest.approx(0.5)
    usage = ledger[ledger[TYPE] == "Usage"]
    assert usage["lineItem/UsageAmount"].sum() == pytest.approx(0.5)
    assert s["total_cost_usd"] == pytest.approx(0.16)
    assert s["savings_plans"]["overall"]["utilization"] == pytest.approx(1.0)
    assert s["savings_plans"]["overall"]["coverage"] == pytest.approx(0.5)


def test_higher_savings_percentage_is_covered_first():
    m = Meter()
    host(m, "gpu", "ml.g5.xlarge", 0, 3600)  # listed first, but only 20% off
    host(m, "cpu", "ml.m5.xlarge", 0, 3600)  # 40% off: covered first
    ledger, s = bill(m, 3600, HeldSavingsPlan(commitment_usd_per_hour=0.50))
    # m5: 1 h x $0.12 = $0.12 used; $0.38 left covers 0.38 / 0.80 = 0.475 h of g5;
    # g5 on-demand 0.525 h x $1.00 = $0.525; bill = 0.50 + 0.525 = $1.025 (GPU first would be $1.075)
    assert covered_hours(ledger, "ml.m5.xlarge") == pytest.approx(1.0)
    assert covered_hours(ledger, "ml.g5.xlarge") == pytest.approx(0.475)
    assert s["total_cost_usd"] == pytest.approx(1.025)
    assert s["savings_plans"]["overall"]["coverage"] == pytest.approx(0.675 / 1.20)


def test_equal_savings_tie_goes_to_the_lowest_savings_plan_rate():
    m = Meter()
    host(m, "big", "ml.m5.2xlarge", 0, 3600)  # SP $0.24
    host(m, "small", "ml.m5.xlarge", 0, 3600)  # SP $0.12: covered first
    ledger, s = bill(m, 3600, HeldSavingsPlan(commitment_usd_per_hour=0.18))
    # small: 1 h x 0.12; the $0.06 left covers 0.25 h of big; big's 0.75 h on demand = $0.30
    assert covered_hours(ledger, "ml.m5.xlarge") == pytest.approx(1.0)
    assert covered_hours(ledger, "ml.m5.2xlarge") == pytest.approx(0.25)
    assert s["total_cost_usd"] == pytest.approx(0.48)


def test_plan_starting_mid_horizon_prorates_its_first_hour():
    m = Meter()
    host(m, "a", "ml.m5.xlarge", 0, 3 * 3600)
    ledger, s = bill(m, 3 * 3600, HeldSavingsPlan(commitment_usd_per_hour=0.12, start_offset_s=5400))
    # hour 0: no plan, $0.20; hour 1: plan active 30 min -> $0.06 covers 0.5 h, 0.5 h on demand $0.10;
    # hour 2: $0.12 covers the hour. Bill: 0.20 + 0.16 + 0.12 = $0.48
    fees = ledger[ledger[TYPE] == "SavingsPlanRecurringFee"]
    assert fees["smsim/hour"].tolist() == [1, 2]
    assert fees[COST].tolist() == pytest.approx([0.06, 0.12])
    by_hour = ledger.groupby("smsim/hour")[COST].sum()
    assert by_hour.tolist() == pytest.approx([0.20, 0.16, 0.12])
    assert s["total_cost_usd"] == pytest.approx(0.48)


def test_plans_apply_in_order_and_spot_is_never_covered():
    m = Meter()
    host(m, "a", "ml.m5.xlarge", 0, 3600)
    m.instance("job", "training_job", "Training", "ml.m5.xlarge", 0, 3600, market="Spot")
    first, second = HeldSavingsPlan(commitment_usd_per_hour=0.06, name="one"), HeldSavingsPlan(
        commitment_usd_per_hour=0.10, name="two")
    ledger, s = bill(m, 3600, first, second)
    # one covers 0.5 h; two covers the other 0.5 h with $0.06 of its $0.10; spot 1 h x 0.20 x 0.5 = $0.10
    assert s["savings_plans"]["plans"]["one"]["used_usd"] == pytest.approx(0.06)
    assert s["savings_plans"]["plans"]["two"]["used_usd"] == pytest.approx(0.06)
    assert s["savings_plans"]["plans"]["two"]["utilization"] == pytest.approx(0.6)
    assert s["total_cost_usd"] == pytest.approx(0.06 + 0.10 + 0.10)
    spot = ledger[ledger["smsim/market"] == "Spot"]
    assert set(spot[TYPE]) == {"Usage"}


def test_plan_expires_at_the_end_of_its_term():
    from smsim.billing.savings_plan_application import hourly_commitment

    plan = HeldSavingsPlan(commitment_usd_per_hour=2.0, term="1y", start_offset_s=1800)
    hours, commitment = hourly_commitment(plan, phase_s=0.0, horizon_s=2 * 31_536_000)
    # 1y = 8760 h starting at 00:30: half of hour 0, 8759 full hours, half of hour 8760
    assert hours[0] == 0 and hours[-1] == 8760
    assert commitment[0] == pytest.approx(1.0) and commitment[-1] == pytest.approx(1.0)
    assert commitment.sum() == pytest.approx(2.0 * 8760)
    # the horizon cuts it too
    hours, commitment = hourly_commitment(plan, phase_s=0.0, horizon_s=7200)
    assert commitment.tolist() == pytest.approx([1.0, 2.0])
