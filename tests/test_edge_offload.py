"""Edge fleets: the endpoint's workload is thinned by the device share; device costs are declared."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.resources.offload import offloaded, original_workload
from smsim.scenario import load_scenario

RATE, HOURS, SHARE = 5.0, 2, 0.3
GB_SECOND = 0.00002  # serverless compute, catalog
PER_REQUEST = 0.1 * 2.0 * GB_SECOND  # 100 ms on 2048 MB


def scenario(tmp_path, edge: list | None, name: str = "s.yaml"):
    doc = {"name": "edge", "horizon": {"start": "2026-01-05T00:00:00Z", "duration_s": f"{HOURS}h"},
           "models": [{"name": "m", "latency": {"*": {"kind": "deterministic", "value_s": 0.1}}}],
           "endpoints": [{"kind": "serverless", "name": "scorer", "model": "m", "memory_size_mb": 2048,
                          "max_concurrency": 50, "workload": {"kind": "poisson", "rate_per_s": RATE}}]}
    if edge is not None:
        doc["edge"] = edge
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


FLEET = {"kind": "edge-fleet", "name": "phones", "endpoint": "scorer", "share_of_requests": SHARE, "devices": 100,
         "usd_per_device_month": 2.0, "usd_per_1000_inferences": 0.01,
         "compilation_trigger": {"kind": "once", "at_s": [0, 3600]}, "usd_per_compilation_job": 5.0}


def endpoint(result):
    return next(r for r in result.summary["resources"] if r["resource_id"] == "scorer")


def test_thinned_poisson_count_is_within_its_interval_and_the_bill_follows(tmp_path):
    n = RATE * HOURS * 3600
    full = api.run_scenario(scenario(tmp_path, None, "full.yaml"))
    thin = api.run_scenario(scenario(tmp_path, [FLEET]))
    kept = endpoint(thin)["requests"]
    mean = (1 - SHARE) * n
    assert abs(kept - mean) < 4 * math.sqrt(mean)  # Poisson: variance = mean
    assert abs(endpoint(full)["requests"] - n) < 4 * math.sqrt(n)
    # billed per request: each served request costs 100 ms x 2 GB of compute
    for result in (full, thin):
        served = endpoint(result)["served"]
        assert result.summary["cost_by_component"]["ServerlessInference"] == pytest.approx(served * PER_REQUEST)
    assert endpoint(thin)["throttled"] == 0 and endpoint(thin)["served"] == kept


def test_device_side_bill_by_hand(tmp_path):
    result = api.run_scenario(scenario(tmp_path, [FLEET]))
    costs = result.summary["cost_by_component"]
    device_requests = SHARE * RATE * HOURS * 3600
    assert costs["EdgeDevices"] == pytest.approx(100 * 2.0 * HOURS / 730)
    assert costs["EdgeInference"] == pytest.approx(device_requests * 0.01 / 1000)
    assert costs["EdgeCompilation"] == pytest.approx(2 * 5.0)
    fleet = next(r for r in result.summary["resources"] if r["resource_id"] == "phones")
    assert fleet["device_requests"] == pytest.approx(device_requests) and fleet["compilation_jobs"] == 2
    lines = result.ledger[result.ledger["smsim/component"].astype(str).str.startswith("Edge")]
    assert set(lines["lineItem/ProductCode"].astype(str)) == {"External"}


def test_offload_is_idempotent_and_keeps_the_original(tmp_path):
    sc = load_scenario(scenario(tmp_path, [FLEET]))
    once = offloaded(sc)
    assert once.endpoints[0].workload.rate_scale == pytest.approx(1 - SHARE)
    assert offloaded(once) is once
    assert original_workload(once, "scorer").rate_scale == 1.0
    assert sc.endpoints[0].workload.rate_scale == 1.0  # the loaded scenario is unchanged


def test_everything_on_devices_leaves_the_endpoint_idle(tmp_path):
    result = api.run_scenario(scenario(tmp_path, [{**FLEET, "share_of_requests": 1.0}]))
    assert endpoint(result)["requests"] == 0


@pytest.mark.parametrize(("edge", "field", "words"), [
    ([FLEET, {**FLEET, "name": "cars", "share_of_requests": 0.8}], "edge[1].share_of_requests", "1.1"),
    ([{**FLEET, "endpoint": "nope"}], "edge[0].endpoint", "'nope'"),
    ([{**FLEET, "devices": 0}], "edge[0]", "share_of_requests 0.3 is served on devices, but devices is 0"),
    ([{**FLEET, "compilation_trigger": None}], "edge[0]", "usd_per_compilation_job 5 needs a compilation_trigger"),
])
def test_bad_edge_fleets_exit_2(tmp_path, edge, field, words):
    out = CliRunner().invoke(app, ["validate", str(scenario(tmp_path, edge, "bad.yaml"))])
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert field in text and words in text and "bad.yaml:" in text and "Traceback" not in text


def test_edge_fleet_reports_the_quality_over_all_requests(tmp_path):
    path = scenario(tmp_path, [{**FLEET, "model": "m-device"}])
    doc = yaml.safe_load(path.read_text())
    doc["models"][0]["quality"] = 0.92
    doc["models"].append({"name": "m-device", "quality": 0.88, "technique": "compiled", "derived_from": "m",
                          "latency": {"*": {"kind": "deterministic", "value_s": 0.1}}})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    fleet = next(r for r in api.run_scenario(path).summary["resources"] if r["resource_id"] == "phones")
    assert fleet["device_model_quality"] == 0.88
    assert fleet["blended_quality"] == pytest.approx(0.7 * 0.92 + 0.3 * 0.88)
    doc["edge"][0]["model"] = "nope"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2 and "edge[0].model" in out.output and "'nope'" in out.output


def test_hourly_device_requests_follow_the_daily_shape():
    from datetime import UTC, datetime

    from smsim.resources.offload import hourly_requests
    from smsim.workload.arrivals import SeasonalArrivals

    start = datetime(2026, 3, 2, tzinfo=UTC)
    w = SeasonalArrivals(base_rate_per_s=10.0, daily_amplitude=0.6, peak_hour=14)
    got = hourly_requests(w, 2 * 86400.0, start)
    t = (np.arange(48 * 3600 * 10) + 0.5) / 10  # 0.1-s grid
    want = (w.rate(t, start) * 0.1).reshape(48, -1).sum(axis=1)
    assert got.sum() == pytest.approx(w.expected_count(2 * 86400.0, start))
    assert got == pytest.approx(want, rel=1e-3)
    assert got.argmax() % 24 in (13, 14) and got.max() / got.min() > 3  # peak at 14:00, between two hours


def test_a_recorded_trace_is_thinned_request_by_request(tmp_path):
    n = 20_000
    times = np.sort(np.random.default_rng(0).uniform(0, HOURS * 3600, n))
    (tmp_path / "trace.csv").write_text("timestamp_s\n" + "\n".join(f"{t:.6f}" for t in times) + "\n")
    path = scenario(tmp_path, [{**FLEET, "share_of_requests": 0.5}])
    doc = yaml.safe_load(path.read_text())
    doc["endpoints"][0]["workload"] = {"kind": "trace", "path": "trace.csv", "time_unit": "s",
                                       "columns": {"time": "timestamp_s"}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = api.run_scenario(path)
    kept = endpoint(result)["requests"]
    assert abs(kept - n / 2) < 4 * math.sqrt(n * 0.25)  # Binomial(n, 1/2)
    fleet = next(r for r in result.summary["resources"] if r["resource_id"] == "phones")
    assert fleet["device_requests"] == pytest.approx(n / 2)  # the trace's own count times the share
