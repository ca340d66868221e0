"""Asynchronous endpoints: hand-checked queue and scale-from-zero timelines, max processing time,
M/M/c waiting against theory, conservation."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from conftest import StandInHorizon, StandInScenario

from smsim import queueing
from smsim.core.engine import SimContext
from smsim.core.meter import Meter
from smsim.resources.asynchronous.model import AsyncEndpointModel
from smsim.resources.asynchronous.spec import AsyncEndpointSpec
from smsim.resources.models import ModelSpec


def _run(spec: dict, latency: dict, horizon_s: float, tmp_path=None, seed: int = 0):
    ep = AsyncEndpointSpec.model_validate({"name": "a", "model": "m", "instance_type": "ml.m5.xlarge", **spec})
    model = ModelSpec.model_validate({"name": "m", "latency": {"*": latency}})
    ctx = SimContext(env=simpy.Environment(), scenario=StandInScenario(StandInHorizon(horizon_s), [model], base_dir=tmp_path),
                     seed=seed, meter=Meter())
    m = AsyncEndpointModel(ep, ctx)
    m.start(ctx)
    ctx.env.run(until=horizon_s)
    return m.finish(ctx), ctx.meter.frame(), m


def _trace(tmp_path, times, payload=None):
    head = "arrival_s" + (",payload_bytes" if payload else "")
    rows = [f"{t}" + (f",{payload[k]}" if payload else "") for k, t in enumerate(times)]
    (tmp_path / "t.csv").write_text("\n".join([head, *rows]) + "\n")
    return {"kind": "trace", "path": "t.csv", "time_unit": "s"}


def test_fixed_instance_queue_and_max_processing_time(tmp_path):
    # one instance, one worker, 10 s per request, max processing time 15 s
    spec = {"workload": _trace(tmp_path, [0.0, 1.0, 2.0, 100.0]), "concurrency_per_instance": 1,
            "max_processing_time_s": 15, "data_out_gb_per_request": 0.5}
    lat = {"kind": "empirical", "samples_s": [10.0]}
    res, usage, model = _run(spec, lat, 130.0, tmp_path)
    m = res.metrics
    # waits 0, 9, 18; ends 10, 20, 30; the fourth at 100 ends 110
    assert (m["requests"], m["served"], m["timed_out"], m["in_flight"]) == (4, 4, 0, 0)
    assert m["latency_mean_s"] == pytest.approx((10 + 19 + 28 + 10) / 4)
    assert model.plane.queue_hist.mean == pytest.approx((0 + 9 + 18 + 0) / 4)
    assert m["queue_time_p90_s"] == pytest.approx(9.0, rel=0.006)  # lower order statistic of 4
    inst = usage[usage.usage_kind == "instance"]
    assert inst.component.tolist() == ["AsyncInference"] and inst.end_s.iloc[0] - inst.start_s.iloc[0] == 130.0
    assert m["instance_hours"] == pytest.approx(130 / 3600)
    out = usage[usage.rate_key == "endpoint_data_out_gb"]
    assert out.quantity.sum() == pytest.approx(4 * 0.5)
    # now 20 s requests with a 15 s limit: each holds the worker 15 s, then fails
    spec["max_processing_time_s"] = 15
    res2, _, _ = _run(spec, {"kind": "deterministic", "value_s": 20.0}, 130.0, tmp_path)
    m2 = res2.metrics
    assert (m2["served"], m2["timed_out"], m2["failed_max_processing_time"]) == (0, 4, 4)
    assert res2.series.timed_out.sum() == 4
    assert m2["requests"] == m2["served"] + m2["timed_out"] + m2["dropped"] + m2["throttled"] + m2["in_flight"]


def test_scale_from_zero_timeline(tmp_path):
    # No instance at the start. A request at 10 s; at the 60 s evaluation the backlog is 1 with no
    # capacity, so the policy scales to 1 at once; the instance is InService 120 s later (180 s),
    # serves the 30 s request (done at 210 s: e2e 200 s, queue 170 s). The low alarm (15 of 15
    # one-minute datapoints, counted from 60 s) scales in at 900 s: 840 instance-seconds.
    # A request at 5000 s is still waiting at the horizon (the next evaluation is after it).
    spec = {"workload": _trace(tmp_path, [10.0, 5000.0]),
            "autoscaling": {"min_capacity": 0, "max_capacity": 2, "scale_to_zero": True,
                            "provisioning": {"kind": "fixed", "delay_s": 120},
                            "policies": [{"kind": "target_tracking", "metric": "backlog_per_instance",
                                          "target_value": 5}]}}
    res, usage, model = _run(spec, {"kind": "deterministic", "value_s": 30.0}, 5005.0, tmp_path)
    m = res.metrics
    assert m["latency_mean_s"] == pytest.approx(200.0)
    assert m["queue_time_p50_s"] == pytest.approx(170.0, rel=0.006)
    assert (m["served"], m["in_flight"], m["queued_at_end"], m["cold_starts"]) == (1, 1, 1, 1)
    ev = model.scaler.events_frame()
    assert ev.time_s.tolist() == [0.0, 60.0, 900.0] and ev.event.tolist() == ["start", "scale_out", "scale_in"]
    inst = usage[usage.usage_kind == "instance"]
    assert (inst.start_s.tolist(), inst.end_s.tolist()) == ([60.0], [900.0])
    assert m["instance_hours"] == pytest.approx(840 / 3600)
    s = res.series
    assert s.backlog_end.iloc[0] == 1 and s.instances_in_service.iloc[3] == pytest.approx(1.0)


def test_fixed_fleet_wait_matches_erlang_c_and_conserves():
    # M/M/2 at rho = 0.8 (lambda 1.6/s, mean service 1 s), 6 h: mean wait vs Erlang C.
    lam, c = 1.6, 2
    spec = {"workload": {"kind": "poisson", "rate_per_s": lam}, "concurrency_per_instance": c}
    res, _, model = _run(spec, {"kind": "gamma", "mean_s": 1.0, "cv": 1.0}, 6 * 3600.0, seed=11)
    m = res.metrics
    assert m["requests"] == m["served"] + m["timed_out"] + m["in_flight"]
    wq = model.plane.queue_hist.mean
    theory = queueing.mmc_wq(lam, 1.0, c)
    assert wq == pytest.approx(theory, rel=0.15), (wq, theory)
    assert res.series.requests.sum() == m["requests"]
    assert np.all(res.series.backlog_end >= 0)


def test_spec_checks():
    base = {"name": "a", "model": "m", "instance_type": "ml.m5.xlarge", "workload": {"kind": "poisson", "rate_per_s": 1}}
    with pytest.raises(ValueError, match="max_processing_time_s"):
        AsyncEndpointSpec.model_validate({**base, "max_processing_time_s": 7200})
    with pytest.raises(ValueError, match="initial_instance_count 0 without autoscaling"):
        AsyncEndpointSpec.model_validate({**base, "initial_instance_count": 0})
    with pytest.raises(ValueError, match="scale_to_zero"):
        AsyncEndpointSpec.model_validate({**base, "autoscaling": {"min_capacity": 0, "max_capacity": 2}})


@pytest.mark.parametrize("metric", ["concurrent_requests_per_copy", "no_capacity_invocation_failures"])
def test_policy_on_a_metric_async_never_publishes_is_refused(metric):
    """A policy on a metric the endpoint never publishes would run and silently never act."""
    base = {"name": "a", "model": "m", "instance_type": "ml.m5.xlarge", "workload": {"kind": "poisson", "rate_per_s": 1}}
    policy = ({"kind": "target_tracking", "name": "p", "metric": metric, "target_value": 2}
              if metric == "concurrent_requests_per_copy" else
              {"kind": "step_scaling", "name": "p", "metric": metric, "threshold": 1, "comparison": ">=",
               "steps": [{"lower_bound": 0, "adjustment": 1}]})
    with pytest.raises(ValueError, match=f"policy 'p' tracks {metric}.*never act"):
        AsyncEndpointSpec.model_validate({**base, "autoscaling": {"min_capacity": 1, "max_capacity": 3,
                                                                  "policies": [policy]}})
    ok = {"kind": "target_tracking", "name": "p", "metric": "backlog_per_instance", "target_value": 2}
    AsyncEndpointSpec.model_validate({**base, "autoscaling": {"min_capacity": 1, "max_capacity": 3, "policies": [ok]}})
