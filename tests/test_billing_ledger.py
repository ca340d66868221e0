"""The ledger against hand computations (prices from the round-number fixture catalog)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from smsim.billing import build_ledger
from smsim.billing.allocation import cost_by_tag
from smsim.billing.summary import summarize
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions, SpotModel

MINI = Path(__file__).parent / "fixtures" / "pricing" / "mini"
START = datetime(2026, 1, 1, tzinfo=UTC)
COST = "lineItem/UnblendedCost"


def bill(meter: Meter, horizon_s: float = 4 * 3600, start: datetime = START, **pricing):
    catalog = load_catalog(str(MINI))
    ledger = build_ledger(
        meter.frame(), catalog=catalog, region="us-east-1", horizon_start=start, horizon_s=horizon_s,
        pricing=PricingOptions(**pricing),
    )
    return ledger, summarize(ledger, catalog)


def test_ninety_minutes_starting_mid_hour_is_split_at_the_clock_hour():
    m = Meter()
    m.instance("ep", "endpoint", "RealTimeInference", "ml.m5.xlarge", 1800, 7200)
    ledger, summary = bill(m)
    # 0.5 h x $0.20 = $0.10 in the first hour, 1 h x $0.20 = $0.20 in the second
    assert list(ledger["lineItem/UsageStartDate"]) == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]
    assert list(ledger["lineItem/UsageEndDate"]) == ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]
    assert ledger["lineItem/UsageAmount"].tolist() == pytest.approx([0.5, 1.0])
    assert ledger[COST].tolist() == pytest.approx([0.10, 0.20])
    assert summary["total_cost_usd"] == pytest.approx(0.30)
    assert set(ledger["lineItem/UsageType"]) == {"USE1-Host:ml.m5.xlarge"}
    assert set(ledger["lineItem/Operation"]) == {"RunInstance"}
    assert set(ledger["identity/TimeInterval"]) == {
        "2026-01-01T00:00:00Z/2026-01-01T01:00:00Z", "2026-01-01T01:00:00Z/2026-01-01T02:00:00Z",
    }


def test_hours_are_clock_hours_when_the_horizon_starts_mid_hour():
    m = Meter()
    m.instance("ep", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 5400)
    ledger, _ = bill(m, start=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    # 23:30-00:00 is 0.5 h in March's bill, 00:00-01:00 is 1 h in April's
    assert ledger["lineItem/UsageAmount"].tolist() == pytest.approx([0.5, 1.0])
    assert ledger["bill/BillingPeriodStartDate"].tolist() == ["2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"]


def test_per_second_billing_has_no_minimum_and_no_rounding_drift():
    m = Meter()
    m.instance("a", "training_job", "Training", "ml.g5.xlarge", 10, 71)  # 61 s at $1.10/h (Training row)
    ledger, _ = bill(m)
    assert ledger[COST].sum() == pytest.approx(61 * 1.10 / 3600, rel=1e-12)  # $0.0186389, not a minute or an hour
    one_second_pieces = Meter()
    for s in range(3600):
        one_second_pieces.instance("b", "endpoint", "RealTimeInference", "ml.g5.xlarge", s, s + 1)
    ledger, _ = bill(one_second_pieces)
    assert ledger[COST].sum() == pytest.approx(1.00, abs=1e-9)  # 3600 x 1 s = one hour at $1.00


def test_quantity_counts_instances():
    m = Meter()
    m.instance("ep", "endpoint", "RealTimeInference", "ml.m5.2xlarge", 0, 3600, count=3)
    ledger, _ = bill(m)
    assert ledger[COST].sum() == pytest.approx(1.20)  # 3 x 1 h x $0.40


def test_storage_and_amount_records():
    m = Meter()
    m.storage("ep", "endpoint", "RealTimeInference", "ml_storage_gb_month", 100, 0, 7300)
    m.amount("ep", "endpoint", "RealTimeInference", "endpoint_data_in_gb", 10, 1800, 5400)
    m.amount("ep", "endpoint", "RealTimeInference", "endpoint_data_in_gb", 4, 3600)
    ledger, _ = bill(m)
    storage = ledger[ledger["smsim/pricing_class"] == "storage"]
    # 100 GB x 7300 s / (730 h x 3600 s) = 0.2777... GB-Mo x $0.146 = $0.040556
    assert storage[COST].sum() == pytest.approx(0.146 * 100 * 7300 / (730 * 3600))
    assert storage["pricing/unit"].iloc[0] == "GB-Mo"
    data = ledger[ledger["smsim/pricing_class"] == "metered"]
    # 10 GB spread over 00:30-01:30 -> 5 GB per hour; 4 GB at 01:00 sharp -> hour 1
    per_hour = data.groupby("smsim/hour")["lineItem/UsageAmount"].sum()
    assert per_hour.to_dict() == pytest.approx({0: 5.0, 1: 9.0})
    assert data[COST].sum() == pytest.approx(14 * 0.02)


def test_three_tagged_resources_allocate_to_the_cent():
    m = Meter()
    m.instance("a", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 7200, tags={"team": "x", "env": "prod"})
    m.instance("b", "training_job", "Training", "ml.g5.xlarge", 0, 3600, tags={"team": "y"})
    m.storage("c", "volume", "Processing", "ml_storage_gb_month", 100, 0, 36000)
    ledger, summary = bill(m, horizon_s=36000)
    # a: 2 h x $0.20 = $0.40; b: 1 h x $1.10 = $1.10; c: 100 GB x 10 h / 730 h x $0.146 = $0.20
    assert cost_by_tag(ledger, "team") == pytest.approx({"y": 1.10, "x": 0.40, "untagged": 0.20})
    assert cost_by_tag(ledger, "env") == pytest.approx({"untagged": 1.30, "prod": 0.40})
    assert cost_by_tag(ledger, "nosuchkey") == pytest.approx({"untagged": 1.70})
    assert summary["cost_by_resource"] == pytest.approx({"b": 1.10, "a": 0.40, "c": 0.20})
    assert summary["cost_by_component"] == pytest.approx({"Training": 1.10, "RealTimeInference": 0.40, "Processing": 0.20})
    assert summary["total_cost_usd"] == pytest.approx(1.70)


def test_spot_training_is_priced_at_the_spot_rate_and_not_covered_by_plans():
    m = Meter()
    m.instance("job", "training_job", "Training", "ml.g5.xlarge", 0, 7200, market="Spot")
    ledger, summary = bill(m, horizon_s=7200, savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=1.0)])
    spot = ledger[ledger["smsim/pricing_class"] == "spot"]
    # $1.10 x (1 - 60%) = $0.44/h x 2 h = $0.88; the plan's $1/h is paid and unused
    assert spot["lineItem/UnblendedRate"].tolist() == pytest.approx([0.44, 0.44])
    assert spot[COST].sum() == pytest.approx(0.88)
    assert set(spot["lineItem/UsageType"]) == {"USE1-TrSpt:ml.g5.xlarge"}
    assert set(spot["pricing/term"]) == {"Spot"}
    assert spot["pricing/publicOnDemandCost"].sum() == pytest.approx(2.20)
    assert summary["total_cost_usd"] == pytest.approx(0.88 + 2.0)
    assert summary["savings_plans"]["overall"]["utilization"] == 0.0
    ledger, _ = bill(m, horizon_s=7200, spot=SpotModel(discount_pct=70))
    assert ledger[COST].sum() == pytest.approx(2 * 1.10 * 0.30)  # override: $0.66


def test_enterprise_discount_applies_last_on_the_net_cost():
    m = Meter()
    m.instance("a", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 3600, tags={"team": "x"})
    m.instance("b", "endpoint", "RealTimeInference", "ml.g5.xlarge", 0, 3600, tags={"team": "y"})
    plan = HeldSavingsPlan(commitment_usd_per_hour=0.50)
    ledger, summary = bill(m, horizon_s=3600, savings_plans=[plan], enterprise_discount_pct=10)
    # without the discount the hour costs $1.025 (see test_billing_savings_plans); 10% off -> $0.9225
    discount = ledger[ledger["lineItem/LineItemType"] == "Discount"]
    assert discount[COST].sum() == pytest.approx(-0.1025)
    assert summary["total_cost_usd"] == pytest.approx(0.9225)
    assert summary["cost_by_pricing"]["enterprise_discount"] == pytest.approx(-0.1025)
    # a used $0.12 of the plan -> x pays 0.9 x 0.12; b: 0.38 effective + 0.525 on-demand -> 0.9 x 0.905
    assert cost_by_tag(ledger, "team") == pytest.approx({"y": 0.8145, "x": 0.108, "untagged": 0.0})


def test_ledger_total_equals_summary_total_equals_sum_of_parts():
    m = Meter()
    m.instance("a", "endpoint", "RealTimeInference", "ml.m5.xlarge", 100, 9000, count=2, tags={"team": "x"})
    m.instance("b", "training_job", "Training", "ml.g5.xlarge", 0, 5000, market="Spot", tags={"team": "y"})
    m.instance("c", "notebook", "Notebook", "ml.g5.xlarge", 4000, 14000)
    m.storage("c", "notebook", "Notebook", "ml_storage_gb_month", 50, 0, 14400)
    m.amount("a", "endpoint", "RealTimeInference", "endpoint_data_in_gb", 3, 0, 14400, tags={"team": "x"})
    plans = [HeldSavingsPlan(commitment_usd_per_hour=0.3, name="small"),
             HeldSavingsPlan(commitment_usd_per_hour=2.0, start_offset_s=7200, name="late")]
    ledger, s = bill(m, horizon_s=14400, savings_plans=plans, enterprise_discount_pct=5)
    total = ledger[COST].sum()
    assert s["total_cost_usd"] == pytest.approx(total)
    assert ledger["smsim/net_cost_usd"].sum() == pytest.approx(total)
    for part in ("cost_by_component", "cost_by_pricing", "cost_by_resource"):
        assert sum(s[part].values()) == pytest.approx(total), part
    assert sum(s["cost_by_tag"]["team"].values()) == pytest.approx(total)
    assert (ledger.loc[ledger["lineItem/LineItemType"] == "Usage", COST] >= 0).all()
    covered = ledger[ledger["lineItem/LineItemType"] == "SavingsPlanCoveredUsage"]
    negation = ledger[ledger["lineItem/LineItemType"] == "SavingsPlanNegation"]
    assert covered[COST].sum() == pytest.approx(-negation[COST].sum())
    assert covered["savingsPlan/SavingsPlanEffectiveCost"].sum() == pytest.approx(s["savings_plans"]["overall"]["used_usd"])
    # instance-hours are conserved: on-demand + covered + spot = what ran
    inst = ledger[ledger["lineItem/LineItemType"].isin(["Usage", "SavingsPlanCoveredUsage"]) & (ledger["pricing/unit"] == "Hrs")]
    assert inst["lineItem/UsageAmount"].sum() == pytest.approx((2 * 8900 + 5000 + 10000) / 3600)
    assert ledger.attrs["catalog"]["name"] == "mini"
    assert s["catalog"]["as_of"] == "2026-01-01"


def test_many_days_of_hourly_lines_balance():
    # 40 resources, each on from 00:10 to 22:13:20 every day for 30 days (speed: benchmarks/bench_billing.py)
    m = Meter()
    for r in range(40):
        for day in range(30):
            m.instance(f"r{r}", "endpoint", "RealTimeInference", "ml.m5.xlarge" if r % 2 else "ml.g5.xlarge",
                       day * 86400 + 600, day * 86400 + 80000, tags={"team": f"t{r % 4}"})
    ledger, summary = bill(m, horizon_s=30 * 86400, savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=5)],
                           enterprise_discount_pct=3)
    assert len(ledger) > 40 * 30 * 22
    expected_od = 30 * (79400 / 3600) * 20 * (0.20 + 1.00)
    assert summary["on_demand_equivalent_usd"] == pytest.approx(expected_od)
    assert np.isfinite(ledger[COST]).all()
