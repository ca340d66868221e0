"""The finding rules as tables, on hand-made hourly usage (no simulation): unused warm pools, batch
work on a real-time endpoint, notebooks left on, ranking, run-length steps and resource names."""

from __future__ import annotations

import pandas as pd
import pytest

from smsim.assess.batchwork import batch_on_realtime
from smsim.assess.findings import Finding, rank
from smsim.assess.idle import notebooks_left_on, unused_warm_pools
from smsim.bill.baseline import Baseline, resource_name, steps
from smsim.bill.metrics import UsageMetrics
from smsim.bill.usage import BillUsage

START = "2026-03-02T00:00:00Z"


def _usage(rows: list[tuple], hours: int) -> BillUsage:
    """rows: (resource, component, instance_type, hour, instance_hours, usd)"""
    inst = pd.DataFrame(rows, columns=["resource", "component", "instance_type", "hour", "instance_hours",
                                       "public_cost_usd"])
    inst["market"] = "OnDemand"
    inst["covered_hours"] = 0.0
    inst["net_cost_usd"] = inst["public_cost_usd"]
    summary = {"horizon": {"start": START, "duration_s": hours * 3600.0}, "region": "us-east-1"}
    empty = pd.DataFrame()
    return BillUsage(summary, inst, empty, empty, pd.DataFrame(columns=["plan", "hour", "commitment_usd"]), {}, 0.0, 0.0)


def _baseline(names: dict[str, tuple[str, str]]) -> Baseline:
    fleets = [{"name": n, "component": c, "instance_type": t, "count_steps": [[0.0, 1.0]]} for n, (c, t) in names.items()]
    return Baseline(data={"fleets": fleets}, origin={n: n for n in names})


def test_warm_pool_hours_without_a_following_job_are_unused():
    # two warm-pool stretches of ml.g5.xlarge: hours 5-6 (a job starts at hour 7: reused) and 20-22 (none)
    rows = [("pool", "TrainingWarmPool", "ml.g5.xlarge", h, 1.0, 1.4) for h in (5, 6, 20, 21, 22)]
    rows += [("job", "Training", "ml.g5.xlarge", h, 1.0, 1.4) for h in (7, 8)]
    usage = _usage(rows, 48)
    (f,) = unused_warm_pools(usage, _baseline({"pool": ("TrainingWarmPool", "ml.g5.xlarge")}))
    assert f.saving_usd_per_month == pytest.approx(3 * 1.4 * 730 / 48)
    assert f.what_if["patch"] == {"fleets": {"pool": None}}


def test_batch_work_on_an_always_on_endpoint():
    hours = 72
    rows = [("scorer", "RealTimeInference", "ml.c5.xlarge", h, 1.0, 0.2) for h in range(hours)]
    usage = _usage(rows, hours)
    t = pd.date_range(START, periods=hours, freq="1h")
    busy = [(h % 24) in (1, 2) for h in range(hours)]  # work at 01:00-03:00 only: 6 of 72 hours
    frame = pd.DataFrame({"resource": "scorer", "variant": "AllTraffic", "metric": "Invocations", "stat": "Sum",
                          "period_s": 3600.0, "time": t, "value": [500.0 if b else 0.0 for b in busy]})
    (f,) = batch_on_realtime(usage, _baseline({"scorer": ("RealTimeInference", "ml.c5.xlarge")}), UsageMetrics(frame))
    assert f.saving_usd_per_month == pytest.approx(66 * 0.2 / 72 * 730)
    kept = f.what_if["patch"]["fleets"]["scorer"]["count_steps"]
    assert kept[:3] == [[0.0, 0.0], [3600.0, 1.0], [3 * 3600.0, 0.0]]
    # traffic in most hours: not batch work
    frame["value"] = 10.0
    assert batch_on_realtime(usage, _baseline({"scorer": ("RealTimeInference", "ml.c5.xlarge")}), UsageMetrics(frame)) == []


@pytest.mark.parametrize(("on_hours", "span", "found"), [
    (range(0, 72), 72, True),              # always on
    (range(0, 70), 72, True),              # 70 of 70 hours of its span
    ([h for h in range(72) if h % 24 < 10], 72, False),  # 10 hours a day
    (range(0, 40), 40, False),             # under two days: too short to say
])
def test_notebook_left_on_table(on_hours, span, found):
    rows = [("nb", "Notebook", "ml.t3.medium", h, 1.0, 0.05) for h in on_hours]
    out = notebooks_left_on(_usage(rows, span), _baseline({"nb": ("Notebook", "ml.t3.medium")}))
    assert bool(out) is found
    if found:
        assert out[0].saving_usd_per_month == pytest.approx(0.05 * 730 * (1 - 50 / 168))


def test_rank_is_by_saving_then_confidence_then_kind():
    f = [Finding("b", "r1", "", "", 10.0, "low"), Finding("a", "r2", "", "", 10.0, "high"),
         Finding("c", "r3", "", "", 50.0, "medium"), Finding("a", "r0", "", "", 10.0, "high")]
    assert [(x.kind, x.resource) for x in rank(f)] == [("c", "r3"), ("a", "r0"), ("a", "r2"), ("b", "r1")]


def test_steps_run_length_and_names():
    hours = pd.Series([0, 1, 2, 5])
    values = pd.Series([2.0, 2.0, 0.5, 1.0])
    assert steps(hours, values) == [[0.0, 2.0], [7200.0, 0.5], [10800.0, 0.0], [18000.0, 1.0], [21600.0, 0.0]]
    assert resource_name("arn:aws:sagemaker:us-east-1:123456789012:endpoint/My_Endpoint") == "My_Endpoint"
    assert resource_name("arn:aws:sagemaker:us-east-1:1:notebook-instance/a b+c") == "a-b-c"
    assert len(resource_name("x" * 100)) == 63


def test_only_sagemaker_savings_plans_enter_the_baseline():
    from smsim.bill.baseline import build_baseline
    from smsim.pricing.catalog import load_catalog

    usage = _usage([("ep", "RealTimeInference", "ml.m5.xlarge", h, 1.0, 0.23) for h in range(24)], 24)
    plans = pd.DataFrame([(p, u, d, prod, h, c) for p, u, d, prod, c in (
        ("sp-ml", "SageMakerSP:3yrPartialUpfront", "", "MachineLearningSavingsPlans", 2.0),
        ("sp-ec2", "ComputeSP:1yrNoUpfront", "", "ComputeSavingsPlans", 5.0)) for h in range(6, 24)],
        columns=["plan", "usage_type", "description", "product", "hour", "commitment_usd"])
    usage = BillUsage(usage.summary, usage.instances, pd.DataFrame(columns=["resource", "component", "hour",
                      "gb_months", "cost_usd"]), pd.DataFrame(columns=["resource", "component", "usage", "product",
                      "resource_kind", "usage_type", "amount", "cost_usd"]), plans, {}, 0.0, 0.0)
    b = build_baseline(usage, load_catalog())
    assert b.data["pricing"]["savings_plans"] == [{"name": "sp-ml", "commitment_usd_per_hour": 2.0, "term": "3y",
                                                   "payment": "partial-upfront", "start_offset_s": 6 * 3600.0}]
    assert [n[0] for n in b.notes if "does not cover SageMaker" in n[3]] == ["sp-ec2"]


def test_hotspots_month_over_month_per_billed_day(tmp_path):
    from smsim.assess.hotspots import hotspots, tag_coverage

    rows = []
    for day in range(10):  # January: 10 days at 10 USD a day (team a), 2 USD a day untagged
        rows += [("2026-01-01T00:00:00Z", f"2026-01-{22 + day:02d}T05:00:00Z", "ep", 10.0, "a"),
                 ("2026-01-01T00:00:00Z", f"2026-01-{22 + day:02d}T06:00:00Z", "nb", 2.0, None)]
    for day in range(5):  # February: 5 days at 15 USD a day: +50 % per day, though the month total falls
        rows.append(("2026-02-01T00:00:00Z", f"2026-02-{1 + day:02d}T05:00:00Z", "ep", 15.0, "a"))
    ledger = pd.DataFrame(rows, columns=["bill/BillingPeriodStartDate", "lineItem/UsageStartDate",
                                         "lineItem/ResourceId", "smsim/net_cost_usd", "resourceTags/user:team"])
    ledger["smsim/component"] = "RealTimeInference"
    ledger["smsim/instance_type"] = "ml.m5.xlarge"
    ledger.to_parquet(tmp_path / "ledger.parquet")
    usage = BillUsage({}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, 0.0, 0.0,
                      tmp_path / "ledger.parquet")
    spots = hotspots(usage).set_index(["dimension", "key"])
    ep = spots.loc[("resource", "ep")]
    assert (ep["cost_usd"], ep["last_month_usd"], ep["previous_month_usd"]) == (175.0, 75.0, 100.0)
    assert ep["change_pct"] == pytest.approx(50.0)  # 15 vs 10 USD per billed day
    assert spots.loc[("resource", "nb"), "last_month_usd"] == 0.0
    assert spots.loc[("tag team", "a"), "cost_usd"] == 175.0
    cov = tag_coverage(usage)
    assert (cov["tagged_usd"], cov["untagged_usd"]) == (175.0, 20.0)
    assert cov["explained_pct"] == pytest.approx(100 * 175 / 195)


def test_right_sizing_rejects_candidates_the_simulation_shows_overloaded():
    """8 requests/s of 0.5 s: 4 busy workers on average. ml.m5.large (2 workers) and ml.m5.xlarge
    (4 workers) cannot keep up; ml.m5.2xlarge (8 workers) serves it within the observed p99."""
    from smsim.assess.rightsize import right_size
    from smsim.pricing.catalog import load_catalog

    cat = load_catalog()
    rate = cat.ondemand_usd_per_hour("ml.m5.4xlarge", "RealTimeInference", "us-east-1")
    usage = _usage([("api", "RealTimeInference", "ml.m5.4xlarge", h, 1.0, rate) for h in range(2)], 2)
    t = pd.date_range(START, periods=120, freq="60s")
    rows = [("Invocations", "Sum", 480.0), ("ModelLatency", "Average", 0.5), ("ModelLatency", "p99", 3.0)]
    frame = pd.concat([pd.DataFrame({"resource": "api", "variant": "AllTraffic", "metric": m, "stat": st,
                                     "period_s": 60.0, "time": t, "value": v}) for m, st, v in rows])
    (f,) = right_size(usage, _baseline({"api": ("RealTimeInference", "ml.m5.4xlarge")}), UsageMetrics(frame), cat)
    assert "1 x ml.m5.2xlarge" in f.title
    cand = cat.ondemand_usd_per_hour("ml.m5.2xlarge", "RealTimeInference", "us-east-1")
    assert f.saving_usd_per_month == pytest.approx((rate - cand) * 730.0)
