"""Savings plans, spot and the enterprise discount, hand-computed to the cent on round prices.

The catalog is written here so every number below can be checked with a pencil:

=============== ======== ================================
type            on-demand 1y no-upfront savings plan
=============== ======== ================================
ml.m5.xlarge    0.20 $/h  40 % -> 0.12 $/h
ml.m5.2xlarge   0.40 $/h  40 % -> 0.24 $/h (ties m5.xlarge)
ml.g5.xlarge    1.00 $/h  20 % -> 0.80 $/h
=============== ======== ================================

Spot: the g5.xlarge advisor saving is 60 %, so spot Training is 0.40 $/h.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsim.billing import build_ledger
from smsim.billing.summary import summarize
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions

COST = "lineItem/UnblendedCost"
TYPE = "lineItem/LineItemType"
START = datetime(2026, 1, 1, tzinfo=UTC)

_FILES = {
    "instances.csv": """instance_type,family,vcpu,memory_gib,accelerator_count,accelerator_type,accelerator_memory_gib,source,as_of
ml.m5.xlarge,m5,4,16,0,,,hand-made,2026-01-01
ml.m5.2xlarge,m5,8,32,0,,,hand-made,2026-01-01
ml.g5.xlarge,g5,4,16,1,NVIDIA A10G,24,hand-made,2026-01-01
""",
    "ondemand.csv": """region,instance_type,component,usd_per_hour,as_of,source
us-east-1,ml.m5.xlarge,Any,0.20,2026-01-01,hand-made
us-east-1,ml.m5.2xlarge,Any,0.40,2026-01-01,hand-made
us-east-1,ml.g5.xlarge,Any,1.00,2026-01-01,hand-made
""",
    "savings_plan_rates.csv": """instance_pattern,component,region,term,payment,discount_pct,usd_per_hour,assumed,reasoning,source,as_of
ml.m5.*,Any,*,1y,no-upfront,40,,true,round,hand-made,2026-01-01
ml.g5.*,Any,*,1y,no-upfront,20,,true,round,hand-made,2026-01-01
""",
    "spot.csv": """region,instance_type,interruption_bucket,interruption_max_pct,ec2_savings_pct,source,as_of
us-east-1,ml.g5.xlarge,>20%,100,60,hand-made,2026-01-01
""",
    "rates.csv": """rate_key,region,unit,usd,as_of,source
ml_storage_gb_month,us-east-1,USD per GB-month,0.146,2026-01-01,hand-made
""",
}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    directory = tmp_path_factory.mktemp("round_catalog")
    for name, text in _FILES.items():
        (directory / name).write_text(text, encoding="utf-8")
    (directory / "catalog.json").write_text(
        json.dumps({"name": "round", "as_of": "2026-01-01", "extends": None, "description": "hand-made"}),
        encoding="utf-8",
    )
    return load_catalog(str(directory))


def bill(catalog, meter: Meter, horizon_s: float = 3600.0, **pricing):
    ledger = build_ledger(meter.frame(), catalog=catalog, region="us-east-1", horizon_start=START,
                          horizon_s=horizon_s, pricing=PricingOptions(**pricing))
    return ledger, summarize(ledger, catalog)


def plan(commitment: float, **kw) -> HeldSavingsPlan:
    return HeldSavingsPlan(commitment_usd_per_hour=commitment, name=kw.pop("name", "sp"), **kw)


def one_hour(*types: str) -> Meter:
    meter = Meter()
    for i, itype in enumerate(types):
        meter.instance(f"{itype}#{i}", "endpoint", "RealTimeInference", itype, 0, 3600)
    return meter


def test_under_used_commitment_is_still_paid(catalog):
    """1.00 $/h commitment, one m5.xlarge hour: used 0.12 (utilization 12 %), coverage 100 %.
    Bill = fee 1.00 + uncovered 0 = 1.00; savings vs on-demand 0.20 - 1.00 = -0.80."""
    _, s = bill(catalog, one_hour("ml.m5.xlarge"), savings_plans=[plan(1.00)])
    assert round(s["total_cost_usd"], 2) == 1.00
    sp = s["savings_plans"]["plans"]["sp"]
    assert sp["used_usd"] == pytest.approx(0.12)
    assert sp["utilization"] == pytest.approx(0.12)
    assert sp["coverage"] == pytest.approx(1.0)
    assert sp["savings_usd"] == pytest.approx(-0.80)
    assert s["cost_by_pricing"]["savings_plan_unused_commitment"] == pytest.approx(0.88)


def test_over_used_commitment_covers_part_of_a_line(catalog):
    """0.06 $/h buys 0.06 / 0.12 = 0.5 m5.xlarge hours. The line splits: 0.5 h covered (0.10 at
    on-demand, negated), 0.5 h on-demand = 0.10. Bill = 0.06 + 0.10 = 0.16; utilization 100 %,
    coverage 0.10 / 0.20 = 50 %."""
    ledger, s = bill(catalog, one_hour("ml.m5.xlarge"), savings_plans=[plan(0.06)])
    assert round(s["total_cost_usd"], 2) == 0.16
    covered = ledger[ledger[TYPE] == "SavingsPlanCoveredUsage"]
    usage = ledger[(ledger[TYPE] == "Usage") & (ledger["smsim/instance_type"] == "ml.m5.xlarge")]
    assert covered["lineItem/UsageAmount"].sum() == pytest.approx(0.5)
    assert usage["lineItem/UsageAmount"].sum() == pytest.approx(0.5)
    assert ledger.loc[ledger[TYPE] == "SavingsPlanNegation", COST].sum() == pytest.approx(-0.10)
    sp = s["savings_plans"]["plans"]["sp"]
    assert sp["utilization"] == pytest.approx(1.0)
    assert sp["coverage"] == pytest.approx(0.5)


def test_higher_discount_family_is_covered_first(catalog):
    """m5 (40 %) before g5 (20 %). 0.52 $/h: m5.xlarge fully (0.12), 0.40 left buys 0.40 / 0.80 =
    0.5 g5 hours. Bill = 0.52 + 0.5 x 1.00 = 1.02. (g5 first would give 0.52 + 0.35 + 0.20 = 1.07.)"""
    ledger, s = bill(catalog, one_hour("ml.g5.xlarge", "ml.m5.xlarge"), savings_plans=[plan(0.52)])
    assert round(s["total_cost_usd"], 2) == 1.02
    covered = ledger[ledger[TYPE] == "SavingsPlanCoveredUsage"].groupby("smsim/instance_type")["lineItem/UsageAmount"].sum()
    assert covered["ml.m5.xlarge"] == pytest.approx(1.0)
    assert covered["ml.g5.xlarge"] == pytest.approx(0.5)


def test_equal_discounts_go_to_the_lowest_savings_plan_rate_first(catalog):
    """m5.xlarge and m5.2xlarge both save 40 %; m5.xlarge's SP rate (0.12) is lower, so 0.24 $/h
    covers it fully and 0.12 / 0.24 = 0.5 m5.2xlarge hours. Bill = 0.24 + 0.5 x 0.40 = 0.44."""
    ledger, s = bill(catalog, one_hour("ml.m5.2xlarge", "ml.m5.xlarge"), savings_plans=[plan(0.24)])
    assert round(s["total_cost_usd"], 2) == 0.44
    covered = ledger[ledger[TYPE] == "SavingsPlanCoveredUsage"].groupby("smsim/instance_type")["lineItem/UsageAmount"].sum()
    assert covered["ml.m5.xlarge"] == pytest.approx(1.0)
    assert covered["ml.m5.2xlarge"] == pytest.approx(0.5)


def test_plan_starting_mid_horizon(catalog):
    """Three m5.xlarge for 3 h; a 0.12 $/h plan starts at 1 h. Hour 0: 3 x 0.20 = 0.60. Hours 1
    and 2: fee 0.12 covers one instance-hour, two stay on-demand (0.40): 0.52 each.
    Bill = 0.60 + 2 x 0.52 = 1.64 (1.80 without the plan); two fee lines."""
    meter = Meter()
    meter.instance("ep", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 3 * 3600, 3)
    ledger, s = bill(catalog, meter, horizon_s=3 * 3600, savings_plans=[plan(0.12, start_offset_s=3600)])
    assert round(s["total_cost_usd"], 2) == 1.64
    fees = ledger[ledger[TYPE] == "SavingsPlanRecurringFee"]
    assert sorted(fees["lineItem/UsageStartDate"]) == ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]
    assert fees[COST].sum() == pytest.approx(0.24)


def test_enterprise_discount_comes_after_savings_plans(catalog):
    """The 1.02 bill of the two-family case, less 10 %: 1.02 x 0.9 = 0.918 -> 0.92."""
    ledger, s = bill(catalog, one_hour("ml.g5.xlarge", "ml.m5.xlarge"), savings_plans=[plan(0.52)],
                     enterprise_discount_pct=10)
    assert s["total_cost_usd"] == pytest.approx(0.918)
    assert ledger.loc[ledger[TYPE] == "Discount", COST].sum() == pytest.approx(-0.102)
    assert s["cost_by_pricing"]["enterprise_discount"] == pytest.approx(-0.102)


def test_spot_is_billed_at_spot_rate_and_never_covered(catalog):
    """g5.xlarge spot Training 1 h at 1.00 x (1 - 0.60) = 0.40 $/h with a 1.00 $/h plan unused:
    bill = 1.00 + 0.40 = 1.40, utilization 0."""
    meter = Meter()
    meter.instance("job", "training", "Training", "ml.g5.xlarge", 0, 3600, market="Spot")
    ledger, s = bill(catalog, meter, savings_plans=[plan(1.00)])
    assert round(s["total_cost_usd"], 2) == 1.40
    assert s["cost_by_pricing"]["spot"] == pytest.approx(0.40)
    assert s["savings_plans"]["plans"]["sp"]["utilization"] == pytest.approx(0.0)
    spot = ledger[ledger["smsim/pricing_class"] == "spot"]
    assert set(spot["pricing/term"]) == {"Spot"}
    assert set(spot["lineItem/UsageType"]) == {"USE1-TrSpt:ml.g5.xlarge"}
    assert spot["pricing/publicOnDemandCost"].sum() == pytest.approx(1.00)


@settings(max_examples=15, deadline=None)
@given(
    itype=st.sampled_from(["ml.m5.xlarge", "ml.m5.2xlarge", "ml.g5.xlarge"]),
    start=st.integers(0, 7200),
    d1=st.integers(0, 20000),
    extra=st.integers(0, 20000),
    commitment=st.sampled_from([None, 0.1, 0.5]),
    edp=st.sampled_from([0.0, 12.5]),
)
def test_cost_never_negative_and_never_decreasing_with_duration(catalog, itype, start, d1, extra, commitment, edp):
    """More usage never lowers the bill: fractional greedy coverage is optimal, so an extra
    instance-second can raise covered on-demand cost by at most its own on-demand cost."""
    horizon_s = 7200 + 40000.0
    plans = [plan(commitment)] if commitment else []
    totals = []
    for duration in (d1, d1 + extra):
        meter = Meter()
        meter.instance("a", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 9000)
        meter.instance("b", "endpoint", "RealTimeInference", itype, start, start + duration)
        ledger, s = bill(catalog, meter, horizon_s=horizon_s, savings_plans=plans, enterprise_discount_pct=edp)
        assert s["total_cost_usd"] >= 0
        assert (ledger.loc[ledger[TYPE].isin(["Usage", "SavingsPlanCoveredUsage", "SavingsPlanRecurringFee"]), COST]
                >= 0).all()
        totals.append(s["total_cost_usd"])
    assert totals[1] >= totals[0] - 1e-9
