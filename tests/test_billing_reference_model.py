"""The vectorised ledger checked against a slow, obviously-correct reference biller.

The reference below walks every record second-range by clock hour in plain Python and applies
savings plans by the rule AWS documents (sp-applying.html): per hour, highest savings percentage
first, ties to the lowest savings-plan rate; the whole commitment is paid; spot is never covered;
the enterprise discount comes last on the net cost. Hypothesis draws random usage, plans starting
at any second, and horizon starts off the clock hour; the ledger's bill, its savings-plan figures
and its CUR identities must match the reference.

Prices come from the built-in catalog's own lookups, so these tests check billing arithmetic, not
catalog numbers (those are pinned in the hand-computed cases at the end).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsim.billing import build_ledger
from smsim.billing.summary import summarize
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions, SpotModel

REGION = "us-east-1"
HOUR = 3600.0
MONTH_S = 730 * HOUR
COST = "lineItem/UnblendedCost"
TYPE = "lineItem/LineItemType"

#: (instance_type, component): two CPU and two GPU families, so assumed SP discounts differ.
INSTANCE_CHOICES = [
    ("ml.m5.xlarge", "RealTimeInference"),
    ("ml.c5.2xlarge", "Processing"),
    ("ml.g5.xlarge", "Training"),
    ("ml.g4dn.xlarge", "RealTimeInference"),
]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("builtin")


# -- the reference biller ------------------------------------------------------------------------


def _hour_pieces(start_s: float, end_s: float, phase_s: float):
    """``(clock_hour, seconds)`` pieces of ``[start_s, end_s)``, hours counted from the horizon's clock hour."""
    t = start_s + phase_s
    end = end_s + phase_s
    while t < end:
        hour = math.floor(t / HOUR)
        nxt = min(end, (hour + 1) * HOUR)
        yield hour, nxt - t
        t = nxt


def reference_bill(records, catalog, pricing: PricingOptions, phase_s: float, horizon_s: float) -> dict:
    """Total bill, per-plan used/commitment, and covered on-demand cost, computed line by line."""
    by_hour: dict[int, dict] = {}

    def hour_entry(h):
        return by_hour.setdefault(h, {"other": 0.0, "eligible": []})

    for r in records:
        if r.usage_kind == "instance":
            od = catalog.ondemand_usd_per_hour(r.instance_type, r.component, REGION)
            for h, sec in _hour_pieces(r.start_s, r.end_s, phase_s):
                hours = r.quantity * sec / HOUR
                if r.market == "Spot":
                    rate = catalog.spot_usd_per_hour(r.instance_type, r.component, REGION, pricing.spot.discount_pct)
                    hour_entry(h)["other"] += rate * hours
                else:
                    hour_entry(h)["eligible"].append([r.instance_type, r.component, od, hours])
        elif r.usage_kind == "storage":
            rate = catalog.rate(r.rate_key, REGION).usd
            for h, sec in _hour_pieces(r.start_s, r.end_s, phase_s):
                hour_entry(h)["other"] += rate * r.quantity * sec / MONTH_S
        else:
            rate = catalog.rate(r.rate_key, REGION).usd
            if r.end_s == r.start_s:
                hour_entry(math.floor((r.start_s + phase_s) / HOUR))["other"] += rate * r.quantity
            else:
                for h, sec in _hour_pieces(r.start_s, r.end_s, phase_s):
                    hour_entry(h)["other"] += rate * r.quantity * sec / (r.end_s - r.start_s)

    plans = pricing.savings_plans
    plan_stats = [{"commitment": 0.0, "used": 0.0, "covered_od": 0.0} for _ in plans]
    first_hour = 0
    last_hour = math.ceil((horizon_s + phase_s) / HOUR) - 1
    total = 0.0
    eligible_od = 0.0
    for h in range(min([first_hour, *by_hour]), max([last_hour, *by_hour]) + 1):
        entry = by_hour.get(h, {"other": 0.0, "eligible": []})
        lines = [list(x) for x in entry["eligible"]]
        eligible_od += sum(od * hours for _, _, od, hours in lines)
        hour_cost = entry["other"]
        for i, plan in enumerate(plans):
            lo = max(h * HOUR - phase_s, plan.start_offset_s)
            hi = min((h + 1) * HOUR - phase_s, horizon_s)
            if hi <= lo:
                continue
            commitment = plan.commitment_usd_per_hour * (hi - lo) / HOUR
            plan_stats[i]["commitment"] += commitment
            hour_cost += commitment
            left = commitment
            ranked = []
            for line in lines:
                itype, comp, od, hours = line
                sp = catalog.sp_rate_usd_per_hour(itype, comp, REGION, plan.term, plan.payment)
                ranked.append((-(round(1 - sp / od, 9)), sp, line))
            for _, sp, line in sorted(ranked, key=lambda x: (x[0], x[1])):
                if left <= 0 or line[3] <= 0:
                    continue
                take_hours = min(line[3], left / sp)
                left -= take_hours * sp
                line[3] -= take_hours
                plan_stats[i]["used"] += take_hours * sp
                plan_stats[i]["covered_od"] += take_hours * line[2]
        hour_cost += sum(od * hours for _, _, od, hours in lines)
        total += hour_cost
    total *= 1 - pricing.enterprise_discount_pct / 100
    return {"total": total, "plans": plan_stats, "eligible_od": eligible_od}


# -- random scenarios ----------------------------------------------------------------------------

HORIZON_H = 6


@st.composite
def usage_and_pricing(draw):
    meter = Meter()
    n = draw(st.integers(1, 6))
    for i in range(n):
        itype, comp = draw(st.sampled_from(INSTANCE_CHOICES))
        start = draw(st.integers(0, HORIZON_H * 3600 - 1))
        end = draw(st.integers(start + 1, HORIZON_H * 3600))
        count = draw(st.integers(1, 3))
        market = "Spot" if comp == "Training" and draw(st.booleans()) else "OnDemand"
        tags = {"team": draw(st.sampled_from(["a", "b"]))} if draw(st.booleans()) else None
        meter.instance(f"r{i}", "fleet", comp, itype, start, end, count, market, tags)
    if draw(st.booleans()):
        start = draw(st.integers(0, HORIZON_H * 3600 - 1))
        meter.storage("vol", "volume", "RealTimeInference", "ml_storage_gb_month", draw(st.integers(1, 500)),
                      start, draw(st.integers(start + 1, HORIZON_H * 3600)))
    if draw(st.booleans()):
        start = draw(st.integers(0, HORIZON_H * 3600 - 1))
        end = draw(st.sampled_from([start, min(start + 5000, HORIZON_H * 3600)]))
        meter.amount("srv", "serverless", "RealTimeInference", "serverless_compute_gb_second",
                     draw(st.integers(1, 10**6)), start, end)
    plans = []
    for k in range(draw(st.integers(0, 2))):
        plans.append(HeldSavingsPlan(
            commitment_usd_per_hour=draw(st.sampled_from([0.05, 0.3, 1.0, 2.5])),
            term=draw(st.sampled_from(["1y", "3y"])),
            payment=draw(st.sampled_from(["no-upfront", "partial-upfront", "all-upfront"])),
            start_offset_s=float(draw(st.integers(0, HORIZON_H * 3600 - 1))),
            name=f"plan{k}",
        ))
    pricing = PricingOptions(
        enterprise_discount_pct=draw(st.sampled_from([0.0, 7.5])),
        spot=SpotModel(discount_pct=draw(st.sampled_from([None, 70.0]))),
        savings_plans=plans,
    )
    phase_s = 60.0 * draw(st.sampled_from([0, 20, 59]))
    return meter, pricing, phase_s


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=usage_and_pricing())
def test_ledger_matches_reference_biller(case, catalog):
    meter, pricing, phase_s = case
    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=phase_s)
    horizon_s = HORIZON_H * HOUR
    ledger = build_ledger(meter.frame(), catalog=catalog, region=REGION, horizon_start=start,
                          horizon_s=horizon_s, pricing=pricing)
    ref = reference_bill(meter.records, catalog, pricing, phase_s, horizon_s)
    assert ledger[COST].sum() == pytest.approx(ref["total"], rel=1e-9, abs=1e-9)

    summary = summarize(ledger, catalog)
    assert summary["total_cost_usd"] == pytest.approx(ref["total"], rel=1e-9, abs=1e-9)
    assert sum(summary["cost_by_pricing"].values()) == pytest.approx(ref["total"], rel=1e-9, abs=1e-9)
    for plan, stats in zip(pricing.savings_plans, ref["plans"]):
        got = summary["savings_plans"]["plans"][plan.name]
        assert got["commitment_usd"] == pytest.approx(stats["commitment"], rel=1e-9)
        assert got["used_usd"] == pytest.approx(stats["used"], rel=1e-9, abs=1e-12)
        assert got["covered_on_demand_usd"] == pytest.approx(stats["covered_od"], rel=1e-9, abs=1e-12)
        assert got["utilization"] <= 1 + 1e-12
    assert summary["savings_plans"]["overall"]["eligible_on_demand_usd"] == pytest.approx(
        ref["eligible_od"], rel=1e-9, abs=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=usage_and_pricing())
def test_ledger_cur_identities(case, catalog):
    """CUR identities: cost = rate x amount on usage lines, negations cancel covered usage exactly,
    every line stays inside one clock hour, and the amortized view sums to the bill."""
    meter, pricing, _ = case
    ledger = build_ledger(meter.frame(), catalog=catalog, region=REGION,
                          horizon_start=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
                          horizon_s=HORIZON_H * HOUR, pricing=pricing)
    usage = ledger[ledger[TYPE].isin(["Usage", "SavingsPlanCoveredUsage"])]
    assert (usage[COST] - usage["lineItem/UnblendedRate"] * usage["lineItem/UsageAmount"]).abs().max() < 1e-9
    covered = ledger.loc[ledger[TYPE] == "SavingsPlanCoveredUsage", COST].sum()
    negation = ledger.loc[ledger[TYPE] == "SavingsPlanNegation", COST].sum()
    assert covered + negation == pytest.approx(0.0, abs=1e-9)
    assert (ledger.loc[ledger[TYPE] != "Discount", COST] >= -1e-12).sum() + (ledger[TYPE] == "SavingsPlanNegation").sum() \
        >= (ledger[TYPE] != "Discount").sum()
    assert ledger["smsim/net_cost_usd"].sum() == pytest.approx(ledger[COST].sum(), rel=1e-9, abs=1e-9)
    starts = ledger["lineItem/UsageStartDate"].str.slice(0, 13)
    ends = ledger["lineItem/UsageEndDate"]
    assert (starts.str.len() == 13).all()
    assert (ledger["lineItem/UsageStartDate"].str.slice(13) == ":00:00Z").all()
    assert (ends > ledger["lineItem/UsageStartDate"]).all()
    fees = ledger[ledger[TYPE] == "SavingsPlanRecurringFee"]
    assert (fees["savingsPlan/UsedCommitment"] <= fees["savingsPlan/TotalCommitmentToDate"] + 1e-12).all()


def test_two_identical_plans_bill_like_one_plan_of_their_sum(catalog):
    """Greedy coverage with equal rates is additive: two 0.6 $/h plans bill exactly like one 1.2 $/h plan."""
    meter = Meter()
    meter.instance("a", "fleet", "RealTimeInference", "ml.m5.xlarge", 0, 7200, 3)
    meter.instance("b", "fleet", "Training", "ml.g5.xlarge", 1800, 7200, 1)
    kw = {"catalog": catalog, "region": REGION, "horizon_start": datetime(2026, 1, 1, tzinfo=UTC), "horizon_s": 7200.0}
    two = PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=0.6, name="x"),
                                        HeldSavingsPlan(commitment_usd_per_hour=0.6, name="y")])
    one = PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=1.2, name="z")])
    a = build_ledger(meter.frame(), pricing=two, **kw)[COST].sum()
    b = build_ledger(meter.frame(), pricing=one, **kw)[COST].sum()
    assert a == pytest.approx(b, rel=1e-12)


# -- hand-computed cases pinned to the built-in catalog -------------------------------------------


def test_mid_hour_horizon_start_splits_on_clock_hours(catalog):
    """Horizon starts 00:20 UTC; one ml.m5.xlarge (0.23 $/h, us-east-1 'Any' row) runs 0..5400 s.
    Clock hours: 00:20-01:00 = 2400 s -> 0.23 x 2400/3600 = 0.153333...; 01:00-01:50 = 3000 s
    -> 0.23 x 3000/3600 = 0.191666...; total 0.23 x 1.5 = 0.345."""
    meter = Meter()
    meter.instance("ep", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 5400)
    ledger = build_ledger(meter.frame(), catalog=catalog, region=REGION,
                          horizon_start=datetime(2026, 1, 1, 0, 20, tzinfo=UTC), horizon_s=7200.0,
                          pricing=PricingOptions())
    assert list(ledger["lineItem/UsageStartDate"]) == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]
    assert list(ledger["lineItem/UsageAmount"]) == pytest.approx([2400 / 3600, 3000 / 3600])
    assert list(ledger[COST]) == pytest.approx([0.23 * 2400 / 3600, 0.23 * 3000 / 3600])
    assert ledger[COST].sum() == pytest.approx(0.345, abs=1e-12)
    assert set(ledger["lineItem/UsageType"]) == {"USE1-Host:ml.m5.xlarge"}


def test_gpu_and_cpu_assumed_discounts_rank_cpu_first(catalog):
    """1y no-upfront assumed discounts: CPU (ml.m5) 26 %, GPU (ml.g5) 20 %. One hour of each:
    m5.xlarge SP rate 0.23 x 0.74 = 0.1702; g5.xlarge Training SP rate 1.408 x 0.80 = 1.1264.
    Commitment 0.5 $/h: m5 first (higher %), fully covered for 0.1702; 0.3298 left buys
    0.3298 / 1.1264 = 0.292791... g5 hours. Bill = 0.5 fee + (1 - 0.292791) x 1.408 on-demand
    = 0.5 + 0.995750 = 1.495750."""
    meter = Meter()
    meter.instance("cpu", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 3600)
    meter.instance("gpu", "job", "Training", "ml.g5.xlarge", 0, 3600)
    pricing = PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=0.5, name="sp")])
    ledger = build_ledger(meter.frame(), catalog=catalog, region=REGION,
                          horizon_start=datetime(2026, 1, 1, tzinfo=UTC), horizon_s=3600.0, pricing=pricing)
    covered_gpu_h = (0.5 - 0.23 * 0.74) / (1.408 * 0.80)
    assert ledger[COST].sum() == pytest.approx(0.5 + (1 - covered_gpu_h) * 1.408, rel=1e-12)
    assert round(ledger[COST].sum(), 2) == 1.50
    cov = ledger[ledger[TYPE] == "SavingsPlanCoveredUsage"].set_index("lineItem/ResourceId")
    assert cov.loc["cpu", "lineItem/UsageAmount"] == pytest.approx(1.0)
    assert cov.loc["gpu", "lineItem/UsageAmount"] == pytest.approx(covered_gpu_h)
