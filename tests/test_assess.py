"""``smsim assess`` and ``smsim scenario from-bill`` on a planted account: an idle endpoint, an
oversized endpoint, on-demand training and a notebook left on, each found with the saving computed
by hand here; the baseline prices back to the bill to the cent (quickstart's too, S3 and serverless
included, and a hand-built S3 and serverless bill); bad input exits 2."""

from __future__ import annotations

import json
import math

import pytest
from assess_fixtures import write_bill, write_metrics
from typer.testing import CliRunner

from smsim.assess.api import assess
from smsim.assess.frombill import scenario_from_bill
from smsim.cli import app
from smsim.pricing.catalog import load_catalog
from smsim.resources.managed_spot import BUCKET_MAX_MONTHLY_PCT, optimal_interval_s
from smsim.scenario import load_scenario
from smsim.scenario.variants import load_variants

HOURS = 28 * 24
PER_MONTH = 730.0 / HOURS


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    bill = write_bill(root)
    metrics = write_metrics(root / "metrics")
    result = assess(bill, metrics=metrics, what_ifs=root / "what-ifs.yaml", html=root / "assessment.html",
                    commit_model="snaive")
    return bill, metrics, result, root


def _od(itype: str, component: str = "RealTimeInference") -> float:
    return load_catalog().ondemand_usd_per_hour(itype, component, "us-east-1")


def _finding(result, kind: str):
    found = [f for f in result.findings if f.kind == kind]
    assert len(found) == 1, [f.kind for f in result.findings]
    return found[0]


def test_idle_endpoint_saves_its_hourly_cost_for_a_month(planted):
    f = _finding(planted[2], "idle_endpoint")
    assert f.resource == "idle-ep" and f.confidence == "high"
    assert f.saving_usd_per_month == pytest.approx(_od("ml.m5.xlarge") * 730.0, abs=0.005)  # 0.23 x 730 = 167.90
    assert f.what_if["patch"] == {"fleets": {"idle-ep": None}}


def test_oversized_endpoint_is_right_sized_by_simulation(planted):
    f = _finding(planted[2], "right_size")
    assert f.resource == "big-ep" and "ml.m5.large" in f.title
    # always on, one instance: (0.922 - 0.115) x 730 = 589.11 USD a month
    assert f.saving_usd_per_month == pytest.approx((_od("ml.m5.4xlarge") - _od("ml.m5.large")) * 730.0, abs=0.005)
    assert "target of 0.300 s (observed p99)" in f.evidence
    patched = f.what_if["patch"]["fleets"]["big-ep"]
    assert patched["instance_type"] == "ml.m5.large"


def test_on_demand_training_moves_to_spot_with_the_closed_form_interruption_cost(planted):
    f = _finding(planted[2], "spot_training")
    cat = load_catalog()
    n, work_h = 2, HOURS / 24 * 4  # 2 instances, 4 h a day for 28 days
    lam = BUCKET_MAX_MONTHLY_PCT["15-20%"] / 100.0 / 730.0 * n / 3600.0  # per job-second
    tau, c = optimal_interval_s(60.0, lam, 600.0), 60.0
    w = work_h * 3600.0
    n_full = math.ceil(w / tau) - 1
    lengths = [tau + c] * n_full + [w - n_full * tau]
    billable_h = sum(math.expm1(lam * x) / lam for x in lengths) / 3600.0  # sum of (e^{lam L} - 1) / lam
    od = _od("ml.g5.2xlarge", "Training") * n * work_h
    spot = cat.spot_usd_per_hour("ml.g5.2xlarge", "Training", "us-east-1") * n * billable_h
    assert billable_h > work_h
    assert f.saving_usd_per_month == pytest.approx((od - spot) * PER_MONTH, rel=1e-9)
    assert f.what_if["patch"]["fleets"]["train-od"]["market"] == "Spot"


def test_notebook_left_on_keeps_a_working_week(planted):
    f = _finding(planted[2], "notebook_left_on")
    assert f.resource == "nb-left-on"  # nb-office runs 8 h on weekdays: not a finding
    assert f.saving_usd_per_month == pytest.approx(_od("ml.t3.medium", "Notebook") * 730.0 * (118.0 / 168.0), abs=0.005)


def test_ranking_plans_tags_and_hotspots(planted, tmp_path):
    bill, _, result, _ = planted
    savings = [f.saving_usd_per_month for f in result.findings]
    assert savings == sorted(savings, reverse=True)
    assert [f.kind for f in result.findings][:3] == ["right_size", "spot_training", "idle_endpoint"]
    # the plan held: 0.5 USD/h for 672 h, all used, so none of its fee is left unallocated
    assert result.savings_plans["commitment_paid_usd"] == pytest.approx(0.5 * HOURS)
    assert result.savings_plans["utilization_pct"] == pytest.approx(100.0)
    import pandas as pd

    from smsim.bill import import_bill
    from smsim.commit.api import recommend_commitment

    import_bill(bill, record=False, out=tmp_path / "imported")
    ledger = pd.read_parquet(tmp_path / "imported" / "ledger.parquet")
    office = ledger.loc[ledger["lineItem/ResourceId"] == "nb-office", "smsim/net_cost_usd"].sum()
    assert office > 0 and result.tags["untagged_usd"] == pytest.approx(office, abs=1e-6)  # only nb-office is untagged
    assert _finding(result, "untagged_spend").saving_usd_per_month == 0.0
    sp = _finding(result, "savings_plan")
    with_commit = recommend_commitment(str(tmp_path / "imported" / "ledger.parquet"), existing_usd_per_hour=0.5,
                                       n_paths=100, seed=0, model="snaive")
    assert result.savings_plans["recommended_commitment_usd_per_hour"] == with_commit.recommended_usd_per_hour
    assert sp.what_if["patch"]["pricing"]["savings_plans"][0]["commitment_usd_per_hour"] == 0.5
    months = result.hotspots[result.hotspots["dimension"] == "component"]
    assert {"Training", "RealTimeInference", "Notebook"} <= set(months["key"])
    assert months["cost_usd"].sum() == pytest.approx(result.bill["net_cost_usd"], abs=0.01)


def test_what_ifs_are_valid_variants_of_the_baseline(planted):
    *_, root = planted
    variants = load_variants(root / "what-ifs.yaml")
    names = [v.name for v in variants]
    assert names[0] == "base" and {"delete-idle-ep", "rightsize-big-ep", "spot-train-od",
                                   "schedule-nb-left-on"} <= set(names)
    deleted = next(v for v in variants if v.name == "delete-idle-ep").scenario
    assert "idle-ep" not in [f.name for f in deleted.fleets]
    page = (root / "assessment.html").read_text()
    assert "delete idle endpoint idle-ep" in page and page.startswith("<!DOCTYPE html>")


def test_baseline_prices_back_to_the_bill_to_the_cent(planted, tmp_path):
    bill = planted[0]
    out = tmp_path / "baseline.yaml"
    result = scenario_from_bill(bill, out=out)
    scenario = load_scenario(out)  # the written YAML validates against the schema and the catalog
    assert {f.name for f in scenario.fleets} == {"idle-ep", "big-ep", "train-od", "nb-left-on", "nb-office"}
    assert scenario.pricing.enterprise_discount_pct == pytest.approx(5.0)
    assert [p.commitment_usd_per_hour for p in scenario.pricing.savings_plans] == [0.5]
    rec = result.reconciliation
    assert abs(rec.total["difference_usd"]) < 0.005
    assert (rec.components["difference_usd"].abs() < 0.005).all()
    assert (rec.resources["difference_usd"].abs() < 0.005).all()
    assert set(rec.resources["why"]) == {"match"} and rec.within_tolerance()


def test_quickstart_round_trip_reproduces_every_component_and_resource(tmp_path):
    """Simulated run -> CUR 2.0 -> from-bill -> run: instances, volumes, S3 storage and requests,
    serverless GB-seconds, endpoint data and the plan all come back, every component and resource
    to the cent (so within 1 % and 2 %)."""
    from conftest import SCENARIOS

    from smsim import api

    run = api.run_scenario(api.load_scenario(SCENARIOS / "quickstart.yaml"))
    api.write_run(run, tmp_path / "run", ledger_format="cur2")
    result = scenario_from_bill(tmp_path / "run" / "ledger.cur2.parquet", out=tmp_path / "baseline.yaml")
    rec = result.reconciliation
    assert abs(rec.total["difference_usd"]) < 0.005 and rec.within_tolerance()
    comps = rec.components.set_index("component")
    assert {"S3:standard", "S3:Checkpoints", "S3:ModelArtifacts", "S3:Requests", "ServerlessInference",
            "RealTimeInference", "DataTransfer"} <= set(comps.index)
    assert (comps["difference_usd"].abs() < 0.005).all(), comps
    assert (comps["difference_usd"].abs() <= 0.01 * comps["imported_usd"].abs() + 1e-9).all()
    res = rec.resources.set_index("resource")
    assert (res["difference_usd"].abs() < 0.005).all() and set(res["why"]) == {"match"}
    assert (res["difference_usd"].abs() <= 0.02 * res["imported_usd"].abs() + 1e-9).all()
    scenario = load_scenario(tmp_path / "baseline.yaml")
    s3 = {e.name: e for e in scenario.storage if e.kind == "s3"}
    assert set(s3) == {"training-data", "chat-finetune-s3-checkpoints", "chat-finetune-s3-modelartifacts"}
    assert s3["chat-finetune-s3-checkpoints"].component == "S3:Checkpoints"
    # 500 GB from the start, 10 GB more at each day's midpoint (as quickstart's S3 data grows)
    first = [v for step in s3["training-data"].gb_steps[:3] for v in step]
    assert first == pytest.approx([0.0, 500.0, 43200.0, 510.0, 129600.0, 520.0], rel=1e-12)
    # 5000 GETs a day, and the PUTs of 500 GB + 10 GB a day in 64 MB objects: 7,968 + 7 x 160
    assert s3["training-data"].get_requests_per_day == pytest.approx(5000.0)
    assert s3["training-data"].put_requests_per_day * 7 == pytest.approx(500 * 1024 / 64 + 7 * 10 * 1024 / 64)
    (serverless,) = [e for e in scenario.endpoints if e.kind == "serverless"]
    assert serverless.name == "risk-scorer" and serverless.workload is None and serverless.recorded
    assert any(r == "risk-scorer" and "GB-seconds per hour" in why for r, _, _, why in result.baseline.notes)
    res = CliRunner().invoke(app, ["run", str(tmp_path / "baseline.yaml"), "--out", str(tmp_path / "again"), "-q"])
    assert res.exit_code == 0, res.output  # `smsim run baseline.yaml` prices the bill back as well
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["total_cost_usd"] == pytest.approx(rec.total["imported_usd"], abs=0.005)


def _hand_bill(path):
    """A four-hour legacy CUR bill with S3 storage in two classes, S3 requests, and a serverless
    endpoint's GB-seconds and data, at the catalog's rates."""
    rows = []
    t0 = "2026-03-02T0{h}:00:00Z"

    def line(h, usage_type, resource, amount, rate, product="AmazonS3"):
        rows.append({"identity/LineItemId": f"l{len(rows)}", "bill/BillingPeriodStartDate": "2026-03-01T00:00:00Z",
                     "lineItem/UsageStartDate": t0.format(h=h), "lineItem/UsageEndDate": t0.format(h=h + 1),
                     "lineItem/ProductCode": product, "lineItem/UsageType": usage_type,
                     "lineItem/LineItemType": "Usage", "lineItem/ResourceId": resource,
                     "lineItem/UsageAmount": amount, "lineItem/UnblendedRate": rate,
                     "lineItem/UnblendedCost": amount * rate, "lineItem/CurrencyCode": "USD"})

    for h, gb in enumerate([10_000, 10_000, 20_000, 20_000]):
        line(h, "USE1-TimedStorage-ByteHrs", "data-lake", gb / 730.0, 0.023)
        line(h, "USE1-TimedStorage-SIA-ByteHrs", "data-lake", 100_000 / 730.0, 0.0125)
    line(0, "USE1-Requests-Tier1", "data-lake", 200.0, 0.005)  # 200,000 PUTs
    line(1, "USE1-Requests-Tier2", "data-lake", 1000.0, 0.0004)  # 1,000,000 GETs
    for h, gb_s in enumerate([100_000, 0, 250_000, 50_000]):
        if gb_s:
            line(h, "USE1-ServerlessInf:GB-Seconds", "scorer", float(gb_s), 0.00002, "AmazonSageMaker")
    line(1, "USE1-ServerlessInf:Data-Bytes", "scorer", 50.0, 0.016, "AmazonSageMaker")
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_hand_built_s3_and_serverless_bill_prices_back_to_the_cent(tmp_path):
    bill = _hand_bill(tmp_path / "bill.csv")
    result = scenario_from_bill(bill, out=tmp_path / "b.yaml")
    rec = result.reconciliation
    comps = rec.components.set_index("component")
    # by hand: standard 60,000 GB-hours / 730 x 0.023; Standard-IA 400,000 / 730 x 0.0125;
    # 200 x 0.005 + 1000 x 0.0004; 400,000 GB-s x 0.00002 + 50 GB x 0.016
    # (an AWS bill files S3 lines under the product AmazonS3, as another service's; they keep it)
    hand = {"AmazonS3": 60_000 / 730 * 0.023 + 400_000 / 730 * 0.0125 + 1.0 + 0.4,
            "ServerlessInference": 8.0 + 0.8}
    assert set(comps.index) == set(hand)
    for comp, usd in hand.items():
        assert comps.loc[comp, "imported_usd"] == pytest.approx(usd, abs=1e-9), comp
        assert comps.loc[comp, "simulated_usd"] == pytest.approx(usd, abs=1e-9), comp
    assert rec.total["simulated_usd"] == pytest.approx(sum(hand.values()), abs=1e-9)  # 1.89 + 6.85 + 1.40 + 8.80
    res = rec.resources.set_index("resource")
    assert set(res.index) == {"AmazonS3 (other service)", "scorer"} and set(res["why"]) == {"match"}
    assert (res["difference_usd"].abs() < 1e-9).all() and rec.within_tolerance()
    scenario = load_scenario(tmp_path / "b.yaml")
    s3 = {e.name: e for e in scenario.storage}
    assert s3["data-lake"].gb_steps == [(0.0, 10_000.0), (7200.0, 20_000.0), (14400.0, 0.0)]
    assert s3["data-lake-standard_ia"].storage_class == "standard_ia"
    assert s3["data-lake"].put_requests_per_day == pytest.approx(200_000 * 6)  # 4 hours = 1/6 day
    assert s3["data-lake"].get_requests_per_day == pytest.approx(1_000_000 * 6)
    (ep,) = scenario.endpoints
    assert ep.compute_gb_second_per_hour_steps == [(0.0, 100_000.0), (3600.0, 0.0), (7200.0, 250_000.0),
                                                   (10800.0, 50_000.0), (14400.0, 0.0)]
    assert ep.data_gb_per_day == pytest.approx(50.0 * 6)
    import yaml

    from smsim.errors import InputError
    from smsim.scenario.patch import scale_traffic

    data = yaml.safe_load((tmp_path / "b.yaml").read_text())
    with pytest.raises(InputError, match="the endpoints scorer replay recorded compute"):
        scale_traffic(data, 2.0)  # a recorded endpoint has no traffic to scale
    res = CliRunner().invoke(app, ["run", str(tmp_path / "b.yaml"), "--out", str(tmp_path / "run"), "-q"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["total_cost_usd"] == pytest.approx(sum(hand.values()), abs=1e-9)


def test_recorded_s3_and_serverless_specs_refuse_mixed_forms(tmp_path):
    """Bad recorded forms exit 2 naming the file, the line and the field."""
    import yaml

    base = {"name": "r", "horizon": {"start": "2026-03-02T00:00:00Z", "duration_s": "1d"}}
    cases = [
        ([{"kind": "s3", "name": "d", "initial_gb": 5, "gb_steps": [[0, 1]]}], None,
         "recorded GB (gb_steps or steps_file) replaces initial_gb"),
        (None, [{"kind": "serverless", "name": "s", "memory_size_mb": 1024, "max_concurrency": 1}],
         "a workload is required"),
        ([{"kind": "s3", "name": "d", "steps_file": "d.csv"}], None, "d.csv:1: gb: missing column 'gb'"),
    ]
    (tmp_path / "d.csv").write_text("offset_s,gbs\n0,1\n")
    runner = CliRunner()
    for i, (storage, endpoints, message) in enumerate(cases):
        data = dict(base, **({"storage": storage} if storage else {"endpoints": endpoints}))
        path = tmp_path / f"s{i}.yaml"
        path.write_text(yaml.safe_dump(data))
        res = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / f"out{i}")])
        named = "d.csv" if "d.csv" in message else path.name  # a steps file's error names that file
        assert res.exit_code == 2 and message in res.output and named in res.output, res.output


def test_cli_assess_json_and_from_bill(planted, tmp_path):
    bill, metrics, *_ = planted
    runner = CliRunner()
    res = runner.invoke(app, ["scenario", "from-bill", str(bill), "--out", str(tmp_path / "b.yaml"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert abs(doc["reconciliation"]["total"]["difference_usd"]) < 0.005
    res = runner.invoke(app, ["assess", str(bill), "--json", "--commit-model", "snaive"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert [f["kind"] for f in doc["findings"]][0] == "spot_training"  # no metrics: no endpoint findings
    assert doc["notes"] and "--metrics" in doc["notes"][0]


def test_cli_bad_input_exits_2(planted, tmp_path):
    bill = planted[0]
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,endpoint,metric,value\n2026-01-18T00:00:00Z,big-ep,Invocations,lots\n")
    res = runner.invoke(app, ["assess", str(bill), "--metrics", str(bad)])
    assert res.exit_code == 2 and f"{bad}:2: value: 'lots' is not a number" in res.output
    res = runner.invoke(app, ["scenario", "from-bill", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "b.yaml")])
    assert res.exit_code == 2 and "file not found" in res.output
    res = runner.invoke(app, ["assess", str(bill), "--commit-model", "snaiv"])
    assert res.exit_code == 2 and "--commit-model: unknown model 'snaiv' (did you mean 'snaive'?)" in res.output
    res = runner.invoke(app, ["assess", str(bill), "--idle-days", "0"])
    assert res.exit_code == 2
    (tmp_path / "taken.yaml").write_text("mine")
    res = runner.invoke(app, ["scenario", "from-bill", str(bill), "--out", str(tmp_path / "taken.yaml")])
    assert res.exit_code == 2 and (tmp_path / "taken.yaml").read_text() == "mine"


def test_baseline_with_metrics_serves_the_endpoint_traffic(planted, tmp_path):
    bill, metrics, *_ = planted
    out = tmp_path / "base" / "baseline.yaml"
    result = scenario_from_bill(bill, out=out, metrics=metrics)
    scenario = load_scenario(out)
    (endpoint,) = scenario.endpoints  # big-ep: one instance every hour and metrics; idle-ep has no latency
    assert endpoint.name == "big-ep" and endpoint.initial_instance_count == 1
    assert endpoint.concurrency_per_instance == 16  # ml.m5.4xlarge: 16 vCPU
    trace = tmp_path / "base" / "baseline.traces" / "big-ep.csv"
    assert endpoint.workload.path == "baseline.traces/big-ep.csv" and trace.exists()
    import pandas as pd
    from assess_fixtures import big_ep_counts

    assert pd.read_csv(trace)["count"].sum() == big_ep_counts().sum()
    assert scenario.models[0].latency["*"].mean_s == pytest.approx(0.05)
    rec = result.reconciliation
    assert (rec.resources["difference_usd"].abs() < 0.005).all() and abs(rec.total["difference_usd"]) < 0.005


def test_reconciliation_names_a_private_rate_and_an_uninferred_discount(planted, tmp_path):
    import pandas as pd

    bill = pd.read_parquet(planted[0])
    mine = bill["line_item_resource_id"] == "big-ep"
    for col in ("line_item_unblended_rate", "line_item_unblended_cost"):
        bill.loc[mine, col] = bill.loc[mine, col] * 1.1  # a private rate 10 % above the public one
    bill.to_parquet(tmp_path / "private.parquet")
    result = scenario_from_bill(tmp_path / "private.parquet", out=tmp_path / "b.yaml", infer_discount=False)
    rows = result.reconciliation.resources.set_index("resource")
    assert "the bill's rate for ml.m5.4xlarge OnDemand is 1.0142 USD/h, the catalog's 0.922 USD/h" in rows.loc["big-ep", "why"]
    assert "enterprise_discount_pct" not in load_scenario(tmp_path / "b.yaml").pricing.model_fields_set
    assert any("private discount of" in why and "not in the baseline" in why for *_, why in result.baseline.notes)


def test_real_focus_sample_has_nothing_to_rebuild_and_says_why(shared_data, tmp_path):
    result = scenario_from_bill(shared_data / "focus-billing-sample" / "focus_sample.csv", out=tmp_path / "b.yaml")
    scenario = load_scenario(tmp_path / "b.yaml")
    assert not scenario.fleets and not scenario.endpoints
    rec = result.reconciliation
    assert rec.total["imported_usd"] == pytest.approx(20.52, abs=0.005) and rec.total["simulated_usd"] == 0.0
    why = rec.components.set_index("component")["explained"]
    assert why["Amazon Elastic Compute Cloud"] == "another service smsim does not rebuild"
    assert (why != "").all()
    assert rec.within_tolerance()


def test_an_instance_type_the_catalog_lacks_is_named_not_rebuilt(planted, tmp_path):
    import pandas as pd

    bill = pd.read_parquet(planted[0])
    mine = bill["line_item_resource_id"] == "nb-office"
    bill.loc[mine, "line_item_usage_type"] = bill.loc[mine, "line_item_usage_type"].str.replace(
        "ml.t3.medium", "ml.zz9.huge")
    bill.loc[mine & (bill["smsim_instance_type"] != ""), "smsim_instance_type"] = "ml.zz9.huge"
    bill.to_parquet(tmp_path / "odd.parquet")
    result = scenario_from_bill(tmp_path / "odd.parquet", out=tmp_path / "b.yaml")
    assert "nb-office" not in [f.name for f in load_scenario(tmp_path / "b.yaml").fleets]
    why = result.reconciliation.resources.set_index("resource").loc["nb-office", "why"]
    assert why.startswith("not rebuilt")
    (note,) = [n for n in result.baseline.notes if n[0] == "nb-office"]
    assert "unknown instance type 'ml.zz9.huge'" in note[3]


@pytest.mark.parametrize("fmt", ["cur", "focus"])
def test_baseline_round_trip_in_every_bill_format(planted, tmp_path, fmt):
    """Legacy CUR (the run's own ledger) and FOCUS price back to the cent as CUR 2.0 does."""
    import pandas as pd

    from smsim.billing.export import write_ledger

    ledger = planted[0].parent / "ledger.parquet"  # the run's legacy CUR-shaped ledger
    if fmt == "focus":
        write_ledger(pd.read_parquet(ledger), tmp_path / "focus.csv", "focus")
        ledger = tmp_path / "focus.csv"
    rec = scenario_from_bill(ledger).reconciliation
    assert abs(rec.total["difference_usd"]) < 0.005 and (rec.resources["difference_usd"].abs() < 0.005).all()


def test_long_recordings_with_volumes_go_to_a_steps_file_and_price_back(tmp_path):
    import yaml

    from smsim import api

    steps = [[h * 3600.0, float(h % 3)] for h in range(0, 72, 1)]  # 72 hourly changes
    volumes = [[h * 3600.0, 20.0 + 10 * (h // 24)] for h in range(0, 72, 24)]
    data = {"name": "long", "horizon": {"start": "2026-03-02T00:00:00Z", "duration_s": "3d"},
            "fleets": [{"name": "jobs", "instance_type": "ml.m5.xlarge", "component": "Training",
                        "count_steps": steps, "volume_gb_steps": volumes}]}
    (tmp_path / "long.yaml").write_text(yaml.safe_dump(data))
    run = api.run_scenario(tmp_path / "long.yaml")
    api.write_run(run, tmp_path / "run", ledger_format="cur2")
    result = scenario_from_bill(tmp_path / "run" / "ledger.cur2.parquet", out=tmp_path / "b" / "baseline.yaml")
    (fleet,) = load_scenario(tmp_path / "b" / "baseline.yaml").fleets
    assert fleet.steps_file == "baseline.traces/jobs.steps.csv" and fleet.count_steps is None
    import pandas as pd

    written = pd.read_csv(tmp_path / "b" / fleet.steps_file)
    assert list(written.columns) == ["offset_s", "count", "volume_gb"]
    rec = result.reconciliation
    assert abs(rec.total["difference_usd"]) < 0.005 and (rec.components["difference_usd"].abs() < 0.005).all()


def test_volumes_of_an_endpoint_served_from_metrics_land_on_a_volume_fleet(tmp_path):
    """An endpoint rebuilt as a realtime endpoint (it has metrics) keeps its ML storage volumes:
    a fleet of no instances replays them, so the bill comes back to the cent."""
    import yaml

    from smsim import api

    data = {"name": "vols", "horizon": {"start": "2026-03-02T00:00:00Z", "duration_s": "2d"},
            "fleets": [{"name": "ep", "instance_type": "ml.m5.large", "component": "RealTimeInference",
                        "count": 1, "volume_gb_steps": [[0, 30], [86400, 50]]}]}
    (tmp_path / "vols.yaml").write_text(yaml.safe_dump(data))
    api.write_run(api.run_scenario(tmp_path / "vols.yaml"), tmp_path / "run", ledger_format="cur2")
    rows = ["timestamp,endpoint,variant,metric,stat,value"]
    for h in range(48):
        t = f"2026-03-0{2 + h // 24}T{h % 24:02d}:00:00Z"
        rows += [f"{t},ep,AllTraffic,Invocations,Sum,600", f"{t},ep,AllTraffic,ModelLatency,Average,20000"]
    (tmp_path / "ep.csv").write_text("\n".join(rows) + "\n")
    result = scenario_from_bill(tmp_path / "run" / "ledger.cur2.parquet", out=tmp_path / "b" / "baseline.yaml",
                                metrics=tmp_path / "ep.csv")
    scenario = load_scenario(tmp_path / "b" / "baseline.yaml")
    assert [e.name for e in scenario.endpoints] == ["ep"]
    (fleet,) = scenario.fleets
    assert fleet.name == "ep-volumes" and fleet.count_steps == [(0.0, 0.0)]
    assert [v for step in fleet.volume_gb_steps for v in step] == pytest.approx([0, 30, 86400, 50, 172800, 0])
    rec = result.reconciliation
    # by hand: 48 h x 0.115 USD/h of ml.m5.large, and (30 + 50) GB-days of volumes at 0.14 USD/GB-month
    volumes = (30 * 24 + 50 * 24) / 730.0 * 0.14
    assert rec.total["imported_usd"] == pytest.approx(48 * 0.115 + volumes, abs=1e-9)
    assert abs(rec.total["difference_usd"]) < 1e-9
    assert set(rec.resources["why"]) == {"match"}
