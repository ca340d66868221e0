"""Real-time endpoints through the engine: queueing theory, the SimPy reference, autoscaling
timelines, conservation, determinism, and scenario validation errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from smsim import queueing
from smsim.core.engine import SimContext
from smsim.core.reference import simulate_reference
from smsim.errors import InputErrors
from smsim.resources.registry import simulate
from smsim.scenario.load import load_model
from smsim.scenario.schema import Scenario
from smsim.workload.spec import materialize


def scenario(workload: dict, *, duration="1h", seed=1, latency=None, fidelity="request", **endpoint) -> Scenario:
    ep = {"kind": "realtime", "name": "ep", "model": "m", "instance_type": "ml.g5.xlarge", "workload": workload}
    ep.update(endpoint)
    return Scenario(
        name="t", horizon={"duration_s": duration}, seed=seed, fidelity=fidelity,
        models=[{"name": "m", "latency": {"*": latency or {"kind": "gamma", "mean_s": 0.5, "cv": 1.0}}}],
        endpoints=[ep],
    )


def billed_instance_s(usage) -> float:
    inst = usage[usage.usage_kind == "instance"]
    return float(((inst.end_s - inst.start_s) * inst.quantity).sum())


# ---- M/M/c ----------------------------------------------------------------------------------

def test_mmc_endpoint_matches_erlang_c():
    """lam = 8/s, mu = 2/s, c = 2 instances x 3 workers: Wq and utilization within 99% CIs."""
    lam, mu, c = 8.0, 2.0, 6
    waits, utils = [], []
    for seed in range(8):
        sc = scenario({"kind": "poisson", "rate_per_s": lam}, seed=seed, routing="shared",
                      concurrency_per_instance=3, initial_instance_count=2, invocation_timeout_s=3600)
        m = simulate(sc).resources[0].metrics
        assert m["requests"] == m["served"] + m["timed_out"] + m["dropped"] + m["in_flight_at_horizon"]
        waits.append(m["mean_wait_s"])
        utils.append(m["utilization"])
    t = stats.t.ppf(0.995, len(waits) - 1)
    for values, expected in ((waits, queueing.mmc_wq(lam, mu, c)), (utils, lam / (c * mu))):
        mean, half = np.mean(values), t * np.std(values, ddof=1) / math.sqrt(len(values))
        assert abs(mean - expected) <= half, (mean, half, expected)


# ---- kernel vs the per-request SimPy reference, through the endpoint path -----------------------

def test_endpoint_path_matches_simpy_reference():
    """Shared routing, deterministic 0.9 s service, 1 instance x 2 workers, timeout 5 s, queue
    limit 3: served / timed out / dropped counts and the response sum are identical."""
    sc = scenario({"kind": "poisson", "rate_per_s": 2.4}, duration="20m", routing="shared",
                  concurrency_per_instance=2, invocation_timeout_s=5, queue_limit=3,
                  latency={"kind": "deterministic", "value_s": 0.9})
    m = simulate(sc).resources[0].metrics
    ctx = SimContext(env=None, scenario=sc, seed=sc.seed, meter=None)
    trace = materialize(sc.endpoints[0].workload, ctx.rng("endpoint", "ep", "arrivals"), sc.horizon_s, sc.horizon.start)
    arr = trace.arrival_s
    start, end, outcome = simulate_reference(arr, np.full(arr.size, 0.9), concurrency=2,
                                             instances=[(0.0, math.inf)], timeout_s=5.0, queue_limit=3)
    # outcomes are decided at the start (served, cut at the deadline) or at the deadline (queue)
    decided = np.where(outcome == 2, end, np.nan_to_num(start, nan=np.inf)) < sc.horizon_s
    assert m["requests"] == arr.size
    assert m["served"] == int(((outcome == 0) & decided).sum())
    assert m["timed_out"] == int((((outcome == 1) | (outcome == 2)) & decided).sum())
    assert m["dropped"] == int((outcome == 3).sum()) > 0
    served = (outcome == 0) & decided
    assert m["latency_mean_s"] == pytest.approx(float((end[served] - arr[served]).mean()), rel=1e-12)
    p99 = np.quantile(end[served] - arr[served], 0.99, method="lower")
    assert m["latency_p99_s"] == pytest.approx(p99, rel=m["latency_relative_error"] * 1.01)


# ---- autoscaling: hand-computed timeline and its bill ---------------------------------------------

def test_step_load_scales_out_on_the_hand_computed_minute():
    """1 req/s, then 4.2 req/s from 600 s (~252 per minute). Target 100 invocations per instance:
    minutes 10, 11 and 12 breach; the third datapoint is evaluated at 780 s and desired =
    ceil(1 x ~252 / 100) = 3. The two new instances are InService 600 s later, at 1380 s.
    With 3 instances (~84 each, desired stays 3) nothing else happens before 2400 s."""
    wl = {"kind": "seasonal", "base_rate_per_s": 1.0,
          "spikes": [{"start_offset_s": 600, "duration_s": 1800, "rate_multiplier": 4.2}]}
    auto = {"min_capacity": 1, "max_capacity": 10, "provisioning": {"kind": "fixed", "delay_s": 600},
            "policies": [{"kind": "target_tracking", "target_value": 100}]}
    sc = scenario(wl, duration="40m", autoscaling=auto, concurrency_per_instance=4)
    res = simulate(sc)
    m, series = res.resources[0].metrics, res.resources[0].series
    assert (m["scale_out_events"], m["scale_in_events"], m["max_instances"]) == (1, 0, 3)
    in_service = series.set_index("time_s").instances_in_service
    assert in_service[1320.0] == 1 and in_service[1380.0] == 3
    assert (series.arrivals[10:13] > 200).all() and (series.arrivals[10:13] <= 300).all()
    expected_s = 2400 + 2 * (2400 - 780)
    assert billed_instance_s(res.usage) == pytest.approx(expected_s)
    assert m["instance_hours"] == pytest.approx(expected_s / 3600)
    assert set(res.usage.resource_id) == {"ep"} and set(res.usage.component) == {"RealTimeInference"}
    assert len(res.usage) == 3  # one record per instance, launch to termination


def test_conservation_and_billed_equals_instance_integral():
    wl = {"kind": "seasonal", "base_rate_per_s": 6, "daily_amplitude": 0.8, "peak_hour": 3}
    auto = {"min_capacity": 1, "max_capacity": 20, "provisioning": {"kind": "uniform", "low_s": 200, "high_s": 500},
            "policies": [{"kind": "target_tracking", "target_value": 120, "scale_in_evaluation_periods": 5,
                          "scale_in_datapoints": 5, "scale_in_cooldown_s": 60}]}
    sc = scenario(wl, duration="6h", autoscaling=auto, concurrency_per_instance=2, routing="least_outstanding",
                  queue_limit=20)
    res = simulate(sc)
    m, series = res.resources[0].metrics, res.resources[0].series
    assert m["requests"] == m["served"] + m["timed_out"] + m["dropped"] + m["in_flight_at_horizon"]
    assert series.arrivals.sum() == m["requests"]
    done_in_series = series.served.sum() + series.timed_out.sum() + m["in_service_at_horizon"]
    assert done_in_series == m["served"] + m["timed_out"]
    assert m["scale_out_events"] >= 1 and m["scale_in_events"] >= 1
    assert billed_instance_s(res.usage) == pytest.approx(m["instance_hours"] * 3600)
    assert m["mean_instances"] == pytest.approx(billed_instance_s(res.usage) / sc.horizon_s)
    # in-service integral <= billed (provisioning is billed but does not serve)
    assert (series.instances_in_service * 60).sum() <= billed_instance_s(res.usage) + 1e-6
    assert 0 < m["utilization"] <= 1 and list(series.columns)[:3] == ["time_s", "instances_in_service", "arrivals"]


def test_fixed_fleet_bills_the_whole_horizon_and_partial_last_minute():
    sc = scenario({"kind": "poisson", "rate_per_s": 3}, duration="1h30s", initial_instance_count=3,
                  routing="random", concurrency_per_instance=2)
    res = simulate(sc)
    m = res.resources[0].metrics
    assert billed_instance_s(res.usage) == pytest.approx(3 * 3630)
    assert len(res.resources[0].series) == 61 and m["mean_instances_in_service"] == pytest.approx(3)
    assert m["requests"] == m["served"] + m["timed_out"] + m["dropped"] + m["in_flight_at_horizon"]


def test_same_seed_same_metrics_different_seed_different_arrivals():
    def run(seed):
        sc = scenario({"kind": "mmpp", "rates_per_s": [2, 12], "mean_sojourn_s": [600, 120]}, duration="30m",
                      seed=seed, routing="random", concurrency_per_instance=2, initial_instance_count=2)
        r = simulate(sc).resources[0]
        return r.metrics, r.series

    (a, sa), (b, sb), (c, _) = run(5), run(5), run(6)
    assert a == b and sa.equals(sb)
    assert a["requests"] != c["requests"]


def test_data_processed_is_metered_per_hour():
    sc = scenario({"kind": "poisson", "rate_per_s": 2}, duration="2h", data_in_gb_per_request=1e-3,
                  data_out_gb_per_request=2e-3)
    res = simulate(sc)
    m = res.resources[0].metrics
    amounts = res.usage[res.usage.usage_kind == "amount"]
    assert len(amounts) == 4
    gb_in = amounts[amounts.rate_key == "endpoint_data_in_gb"].quantity.sum()
    assert gb_in == pytest.approx(m["requests"] * 1e-3) and m["data_in_gb"] == pytest.approx(gb_in)


# ---- scenario validation ------------------------------------------------------------------------

BAD = """\
name: t
horizon: {duration_s: 1h}
models:
  - name: m
    latency:
      ml.g5.xlarge: {kind: gamma, mean_s: 0.1}
endpoints:
  - kind: realtime
    name: a
    model: nope
    instance_type: ml.g5.xlarge
    workload: {kind: poisson, rate_per_s: 1}
  - kind: realtime
    name: b
    model: m
    instance_type: ml.g4dn.xlarge
    workload: {kind: poisson, rate_per_s: 1}
"""


def test_unknown_model_and_missing_profile_name_field_path_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(InputErrors) as info:
        load_model(path, Scenario)
    errors = info.value.errors
    assert [(e.path, e.line) for e in errors] == [("endpoints[0].model", 10), ("endpoints[1].instance_type", 16)]
    assert "'nope'" in errors[0].message and "known: 'm'" in errors[0].message
    assert "'ml.g4dn.xlarge'" in errors[1].message and "ml.g5.xlarge" in errors[1].message


def test_initial_count_outside_autoscaling_bounds_is_refused():
    with pytest.raises(ValueError, match="initial_instance_count 5 is outside"):
        scenario({"kind": "poisson", "rate_per_s": 1}, initial_instance_count=5,
                 autoscaling={"min_capacity": 1, "max_capacity": 3})
