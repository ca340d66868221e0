"""Line items aggregated per hour keep every total, and a month of a many-resource platform balances.

The ledger bills one line per (clock hour, resource, kind, component, usage kind, instance type,
market, rate key, tags). The reference here prices every record's hourly piece on its own
(``hourly.split_hourly``, the catalog's rates, no aggregation) and sums those: aggregation may
change how many lines there are, never what any resource, component, pricing class or tag value
costs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsim import api
from smsim.billing import build_ledger, hourly
from smsim.billing.allocation import cost_by_tag
from smsim.billing.summary import summarize
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions, SpotModel
from tests.conftest import REPO

REGION = "us-east-1"
HOUR = 3600.0
COST = "lineItem/UnblendedCost"
TYPE = "lineItem/LineItemType"
INSTANCE_CHOICES = [
    ("ml.m5.xlarge", "RealTimeInference"),
    ("ml.c5.2xlarge", "Processing"),
    ("ml.g5.xlarge", "Training"),
]
RATE_CHOICES = [("storage", "ml_storage_gb_month"), ("storage", "s3_standard_gb_month"),
                ("amount", "endpoint_data_in_gb"), ("amount", "s3_put_requests_per_1000")]
TAG_CHOICES = [None, {"team": "a"}, {"team": "b", "env": "prod"}, {"env": "dev"}]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("builtin")


def piece_bill(usage: pd.DataFrame, catalog, pricing: PricingOptions, phase_s: float) -> pd.DataFrame:
    """Every record's hourly pieces priced on their own: record, hour, group, class, amount, cost."""
    split = hourly.split_hourly(usage["start_s"].to_numpy(float), usage["end_s"].to_numpy(float), phase_s)
    rec = split.record
    seconds = split.end_s - split.start_s
    kind = usage["usage_kind"].to_numpy(object)[rec]
    qty = usage["quantity"].to_numpy(float)[rec]
    amount = np.where(kind == "instance", qty * seconds / HOUR,
                      np.where(kind == "storage", qty * seconds / (730 * HOUR), qty * split.fraction))
    price_key = ["usage_kind", "instance_type", "component", "market", "rate_key"]
    priced = {}
    for key in usage[price_key].drop_duplicates().itertuples(index=False):
        if key.usage_kind == "instance":
            spot = key.market == "Spot"
            rate = (catalog.spot_usd_per_hour(key.instance_type, key.component, REGION, pricing.spot.discount_pct)
                    if spot else catalog.ondemand_usd_per_hour(key.instance_type, key.component, REGION))
            priced[tuple(key)] = (rate, "spot" if spot else "on_demand")
        else:
            priced[tuple(key)] = (catalog.rate(key.rate_key, REGION).usd,
                                  "storage" if key.usage_kind == "storage" else "metered")
    per_record = [priced[k] for k in zip(*(usage[c] for c in price_key), strict=True)]
    rates = [p[0] for p in per_record]
    classes = [p[1] for p in per_record]
    tags = usage["tags"].map(lambda t: tuple(sorted(t.items())))
    group = pd.MultiIndex.from_frame(
        usage[["resource_id", "resource_kind", "component", "usage_kind", "instance_type", "market", "rate_key"]]
        .assign(tags=tags)).codes
    group_of_record = pd.factorize(pd.MultiIndex.from_arrays(group))[0]
    keep = (amount > 0) | ((kind == "amount") & (qty > 0))
    return pd.DataFrame({
        "record": rec, "hour": split.hour, "group": group_of_record[rec], "amount": amount,
        "cost": np.asarray(rates)[rec] * amount, "pricing_class": np.asarray(classes)[rec],
        "resource_id": usage["resource_id"].to_numpy(object)[rec],
        "component": usage["component"].to_numpy(object)[rec],
    })[keep]


@st.composite
def usage_cases(draw):
    meter = Meter()
    horizon_h = draw(st.integers(2, 30))
    horizon = horizon_h * 3600
    for _ in range(draw(st.integers(1, 25))):
        resource = draw(st.sampled_from(["r0", "r1", "r2"]))
        tags = draw(st.sampled_from(TAG_CHOICES))
        start = draw(st.integers(0, horizon - 1))
        end = draw(st.integers(start + 1, horizon))
        if draw(st.booleans()):
            itype, comp = draw(st.sampled_from(INSTANCE_CHOICES))
            market = "Spot" if comp == "Training" and draw(st.booleans()) else "OnDemand"
            meter.instance(resource, "fleet", comp, itype, start, end, draw(st.integers(1, 4)), market, tags)
        else:
            kind, key = draw(st.sampled_from(RATE_CHOICES))
            qty = draw(st.floats(0.001, 1e4, allow_nan=False))
            if kind == "storage":
                meter.storage(resource, "volume", "RealTimeInference", key, qty, start, end, tags)
            else:
                point = draw(st.booleans())
                meter.amount(resource, "data", "RealTimeInference", key, qty, start, start if point else end, tags)
    phase_s = 60.0 * draw(st.sampled_from([0, 15, 59]))
    discount = draw(st.sampled_from([0.0, 5.0]))
    spot = draw(st.sampled_from([None, 70.0]))
    return meter, horizon, phase_s, discount, spot


def _by(frame: pd.DataFrame, column: str) -> dict:
    return frame.groupby(column)["cost"].sum().to_dict()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=usage_cases())
def test_aggregated_lines_keep_totals_by_resource_component_class_and_tag(case, catalog):
    meter, horizon, phase_s, discount, spot = case
    pricing = PricingOptions(enterprise_discount_pct=discount, spot=SpotModel(discount_pct=spot))
    usage = meter.frame()
    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=phase_s)
    ledger = build_ledger(usage, catalog=catalog, region=REGION, horizon_start=start, horizon_s=float(horizon),
                          pricing=pricing)
    summary = summarize(ledger, catalog)
    pieces = piece_bill(usage, catalog, pricing, phase_s)
    keep = 1 - discount / 100
    total = pieces["cost"].sum() * keep
    assert ledger[COST].sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert summary["total_cost_usd"] == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert summary["cost_by_resource"] == pytest.approx({k: v * keep for k, v in _by(pieces, "resource_id").items()},
                                                        rel=1e-9, abs=1e-9)
    assert summary["cost_by_component"] == pytest.approx({k: v * keep for k, v in _by(pieces, "component").items()},
                                                         rel=1e-9, abs=1e-9)
    by_class = _by(pieces, "pricing_class")
    for name in ("on_demand", "spot", "storage", "metered"):
        assert summary["cost_by_pricing"][name] == pytest.approx(by_class.get(name, 0.0), rel=1e-9, abs=1e-9)
    assert summary["cost_by_pricing"]["enterprise_discount"] == pytest.approx(-pieces["cost"].sum() * discount / 100,
                                                                            rel=1e-9, abs=1e-9)
    tags = usage["tags"].to_numpy(object)[pieces["record"].to_numpy()]
    for key in ("team", "env"):
        expected = pieces.assign(value=[t.get(key, "untagged") for t in tags]).groupby("value")["cost"].sum() * keep
        assert cost_by_tag(ledger, key) == pytest.approx(expected.to_dict(), rel=1e-9, abs=1e-9)
    # one usage line per (group, hour) that had usage, and no more
    usage_lines = ledger[ledger[TYPE] == "Usage"]
    assert len(usage_lines) == len(pieces.drop_duplicates(["group", "hour"]))
    assert usage_lines["lineItem/UsageAmount"].sum() == pytest.approx(pieces["amount"].sum(), rel=1e-9, abs=1e-9)
    # each line stays inside its clock hour
    hour_start = ledger["smsim/hour"] * HOUR - phase_s
    assert (ledger["smsim/usage_start_s"] >= hour_start - 1e-6).all()
    assert (ledger["smsim/usage_end_s"] <= hour_start + HOUR + 1e-6).all()
    assert (ledger["smsim/usage_start_s"] <= ledger["smsim/usage_end_s"]).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=usage_cases(), commitment=st.sampled_from([0.1, 1.0, 5.0]))
def test_savings_plans_on_aggregated_lines_conserve_usage_per_resource(case, commitment, catalog):
    """With a plan, which line a plan covers is a choice among ties; what each resource used and its
    on-demand-equivalent cost are not."""
    meter, horizon, phase_s, discount, spot = case
    pricing = PricingOptions(enterprise_discount_pct=discount, spot=SpotModel(discount_pct=spot),
                             savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=commitment, name="sp")])
    usage = meter.frame()
    ledger = build_ledger(usage, catalog=catalog, region=REGION, horizon_start=datetime(2026, 3, 1, tzinfo=UTC),
                          horizon_s=float(horizon), pricing=pricing)
    summary = summarize(ledger, catalog)
    assert summary["total_cost_usd"] == pytest.approx(ledger[COST].sum(), rel=1e-12, abs=1e-12)
    assert sum(summary["cost_by_resource"].values()) == pytest.approx(ledger[COST].sum(), rel=1e-9, abs=1e-9)
    pieces = piece_bill(usage, catalog, pricing, 0.0)
    used = ledger[ledger[TYPE].isin(["Usage", "SavingsPlanCoveredUsage"])]
    amount = used.groupby("lineItem/ResourceId", observed=True)["lineItem/UsageAmount"].sum()
    expected = pieces.groupby("resource_id")["amount"].sum()
    assert amount.to_dict() == pytest.approx(expected.to_dict(), rel=1e-9, abs=1e-9)
    instance = pieces["pricing_class"].isin(["on_demand", "spot"])
    od = used.groupby("lineItem/ResourceId", observed=True)["pricing/publicOnDemandCost"].sum()
    on_demand_rates = {}
    for r in usage.itertuples(index=False):
        if r.usage_kind == "instance":
            on_demand_rates[(r.instance_type, r.component)] = catalog.ondemand_usd_per_hour(
                r.instance_type, r.component, REGION)
    rec = pieces["record"].to_numpy()
    od_rate = [on_demand_rates.get((usage["instance_type"].iat[i], usage["component"].iat[i]), 0.0) for i in rec]
    expected_od = (pieces.assign(od=np.where(instance, np.asarray(od_rate) * pieces["amount"], pieces["cost"]))
                   .groupby("resource_id")["od"].sum())
    assert od.to_dict() == pytest.approx(expected_od.to_dict(), rel=1e-9, abs=1e-9)


def test_many_records_of_one_resource_in_one_hour_are_one_line(catalog):
    m = Meter()
    for s in range(0, 3600, 10):  # 360 ten-second runs, one line
        m.instance("ep", "endpoint", "RealTimeInference", "ml.m5.xlarge", s, s + 10, tags={"team": "x"})
    m.instance("ep", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 3600, tags={"team": "y"})  # other tags
    ledger = build_ledger(m.frame(), catalog=catalog, region=REGION, horizon_start=datetime(2026, 1, 1, tzinfo=UTC),
                          horizon_s=3600.0, pricing=PricingOptions())
    assert len(ledger) == 2
    assert sorted(ledger["lineItem/UsageAmount"]) == pytest.approx([1.0, 1.0])
    assert cost_by_tag(ledger, "team") == pytest.approx({"x": 0.23, "y": 0.23})


def test_a_month_of_the_platform_bills_with_ledger_total_equal_to_summary_total():
    scenario = api.load_scenario(REPO / "benchmarks" / "platform.yaml")
    scenario = scenario.model_copy(update={"horizon": scenario.horizon.model_copy(update={"duration_s": 30 * 86400.0})})
    result = api.run_scenario(scenario)
    ledger, summary = result.ledger, result.summary
    total = float(ledger[COST].sum())
    assert len(summary["resources"]) == 450
    assert summary["total_cost_usd"] == pytest.approx(total, rel=1e-12)
    for part in ("cost_by_component", "cost_by_pricing", "cost_by_resource"):
        assert sum(summary[part].values()) == pytest.approx(total, rel=1e-9), part
    for key, values in summary["cost_by_tag"].items():
        assert sum(values.values()) == pytest.approx(total, rel=1e-9), key
    assert sum(r["cost_usd"] for r in summary["resources"]) == pytest.approx(total, rel=1e-9)
    # the same usage priced piece by piece, unaggregated
    pieces = piece_bill(result.usage, api.catalog_for(scenario), scenario.pricing, 0.0)
    assert total == pytest.approx(pieces["cost"].sum(), rel=1e-9)
    assert len(ledger) == len(pieces.drop_duplicates(["group", "hour"])) < len(pieces)

