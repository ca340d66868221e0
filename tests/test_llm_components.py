"""Inference components: copies scale by target tracking, instances follow, the bill is instances.

Traffic is a fixed trace of identical requests (1 prompt token, 40 output tokens) on a step model
of 0.05 s per iteration whatever the batch: a request holds its copy 40 steps = 2 s plus at most
one step of waiting, so the load (requests in flight) is rate x ~2.02 s, known by hand.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.resources.llm.components import InstancePool
from smsim.resources.scaling.provisioning import distribution
from smsim.resources.scaling.spec import FixedDelay

HEAD = """\
name: ic-test
region: us-east-1
horizon: {start: 2026-03-02T00:00:00Z, duration_s: 1h}
seed: 3
endpoints:
"""

SCALING = """\
autoscaling:
  min_capacity: 1
  max_capacity: 12
  policies: [{kind: target_tracking, metric: concurrent_requests_per_copy, target_value: 1.5}]
  provisioning: {kind: fixed, delay_s: 120}"""


def _endpoint(name, trace, *, ic="", copies_per_instance=2, scaling=SCALING):
    out = f"""\
- kind: llm
  name: {name}
  instance_type: ml.g6e.12xlarge
  step_model: {{kind: linear, base_s: 0.05}}
  kv_capacity_tokens: 100000
  copies_per_instance: {copies_per_instance}
  model_load_s: 30
  workload: {{kind: trace, path: {trace}, repeat: true}}
"""
    out += textwrap.indent(scaling, "  ") + "\n"
    if ic:
        out += textwrap.indent(ic, "  ") + "\n"
    return out


def _scenario(tmp_path, *endpoints, name="s.yaml"):
    path = tmp_path / name
    path.write_text(HEAD + textwrap.indent("".join(endpoints), "  "))
    return path


def _trace(tmp_path, rate_per_s, name="trace.csv", low_after_s=None, low_rate_per_s=None):
    t = np.arange(0, 3600, 1 / rate_per_s)
    if low_after_s is not None:
        t = np.concatenate([t[t < low_after_s], np.arange(low_after_s, 3600, 1 / low_rate_per_s)])
    pd.DataFrame({"arrival_s": t, "ContextTokens": 1, "GeneratedTokens": 40}).to_csv(tmp_path / name, index=False)
    return name


def _price(scenario_path, instance_type="ml.g6e.12xlarge"):
    from smsim.scenario import load_scenario

    cat = api.catalog_for(load_scenario(scenario_path))
    return cat.ondemand_usd_per_hour(instance_type, "RealTimeInference", "us-east-1")


IC = "inference_component: {managed_instance_scaling: {min_instance_count: 1, max_instance_count: 4}}"


def test_copies_follow_target_tracking_and_instances_follow_copies(tmp_path):
    """Load ~4.04 in flight, target 1.5 per copy: ceil(4.04 / 1.5) = 3 copies at the end of the
    third minute (3 of 3 datapoints above target), on ceil(3 / 2) = 2 instances: the second copy
    fits the first instance (serving at 180 + 30 s load), the third needs a new instance (180 +
    120 s provisioning + 30 s). Bill = instance-seconds x price: (3600 + 3420) s."""
    s = _scenario(tmp_path, _endpoint("chat", _trace(tmp_path, 2.0), ic=IC))
    run = api.run_scenario(s)
    r = run.summary["resources"][0]
    assert r["mean_concurrent_requests"] == pytest.approx(4.04, abs=0.03)
    assert math.ceil(r["mean_concurrent_requests"] / 1.5) == 3 == r["max_copies"]
    assert r["max_instances"] == 2 == math.ceil(r["max_copies"] / 2)
    assert r["instance_hours"] == pytest.approx((3600 + 3420) / 3600)
    assert r["copy_hours"] == pytest.approx((3600 + 2 * 3420) / 3600)
    assert r["endpoint_packing_share"] == pytest.approx(r["copy_hours"] / (2 * r["instance_hours"]))
    assert r["cost_usd"] == pytest.approx(r["instance_hours"] * _price(s), rel=1e-9)
    series = run.series["chat"].set_index("time_s")
    assert series.loc[180.0, "copies_in_service"] == pytest.approx(1.5)  # copy 2 serves from 210 s
    assert series.loc[300.0, "copies_in_service"] == pytest.approx(2.5)  # copy 3 from 330 s
    assert series.loc[120.0, "instances"] == 1 and series.loc[180.0, "instances"] == 2
    assert r["requests"] == r["served"] + r["timed_out"] + r["dropped"] + r["in_flight_at_horizon"]
    assert r["dropped"] == 0 and r["timed_out"] == 0


def test_scale_in_removes_copies_and_terminates_empty_instances(tmp_path):
    """Traffic falls to 0.25 requests/s at 1800 s: after 15 low minutes (2700 s) the copies go
    from 3 to ceil(3 x (0.5 / 3) / 1.5) = 1; the lone copy of the second instance goes first,
    the instance is left empty and terminates: instance-hours (3600 + 2700 - 180) / 3600."""
    s = _scenario(tmp_path, _endpoint("chat", _trace(tmp_path, 2.0, low_after_s=1800, low_rate_per_s=0.25), ic=IC))
    run = api.run_scenario(s)
    r = run.summary["resources"][0]
    series = run.series["chat"].set_index("time_s")
    assert r["max_instances"] == 2 and r["scale_in_events"] == 1
    assert series.loc[2640.0, "instances"] == 2 and series.loc[2700.0, "instances"] == 1
    assert series.copies_in_service.iloc[-1] == 1
    assert r["instance_hours"] == pytest.approx((3600 + 2700 - 180) / 3600)
    assert r["cost_usd"] == pytest.approx(r["instance_hours"] * _price(s), rel=1e-9)
    assert r["requests"] == r["served"] + r["timed_out"] + r["dropped"] + r["in_flight_at_horizon"]


def test_shared_components_cost_less_than_whole_instance_scaling(tmp_path):
    """Two models, each ~7.07 in flight (3.5 requests/s), on instances of 4 accelerators.
    Whole instances of 4 copies each: 1 instance has 1.77 per copy > 1.5, so 2 instances per
    model from 180 s: 2 x (3600 + 3420) s. As inference components on one endpoint: ceil(7.07 /
    1.5) = 5 copies per model, 10 copies packed on ceil(10 / 4) = 3 instances: 3600 + 2 x 3420 s.
    Cost ratio (3600 + 2 x 3420) / (2 x (3600 + 3420)) = 10440 / 14040."""
    tr = _trace(tmp_path, 3.5)
    whole = _scenario(tmp_path, _endpoint("a", tr, copies_per_instance=4), _endpoint("b", tr, copies_per_instance=4),
                      name="whole.yaml")
    ic = ("inference_component: {endpoint: shared, accelerators_per_instance: 4, "
          "managed_instance_scaling: {min_instance_count: 1, max_instance_count: 4}}")
    shared = _scenario(tmp_path, _endpoint("a", tr, ic=ic, copies_per_instance=1),
                       _endpoint("b", tr, ic=ic, copies_per_instance=1), name="shared.yaml")
    w = api.run_scenario(whole).summary
    c = api.run_scenario(shared).summary
    wa, wb = w["resources"]
    ca, cb = c["resources"]
    assert wa["max_instances"] == wb["max_instances"] == 2
    assert ca["max_copies"] == cb["max_copies"] == 5
    assert ca["endpoint_max_instances"] == 3 and ca["endpoint"] == "shared"
    assert ca["endpoint_instance_hours"] == pytest.approx(10440 / 3600)
    assert ca["instance_hours"] + cb["instance_hours"] == pytest.approx(10440 / 3600)
    assert wa["instance_hours"] + wb["instance_hours"] == pytest.approx(14040 / 3600)
    price = _price(whole)
    assert c["total_cost_usd"] == pytest.approx(10440 / 3600 * price, rel=1e-9)
    assert w["total_cost_usd"] == pytest.approx(14040 / 3600 * price, rel=1e-9)
    assert c["total_cost_usd"] / w["total_cost_usd"] == pytest.approx(10440 / 14040)
    # the endpoint's bill is shared by accelerator-hours held, and adds up
    assert ca["cost_usd"] + cb["cost_usd"] == pytest.approx(c["total_cost_usd"])
    assert ca["endpoint_cost_share"] + cb["endpoint_cost_share"] == pytest.approx(1.0)
    for r in (ca, cb, wa, wb):
        assert r["requests"] == r["served"] + r["timed_out"] + r["dropped"] + r["in_flight_at_horizon"]


def test_pool_packs_densest_first_and_releases_empty_instances():
    rng = np.random.default_rng(0)
    pool = InstancePool("ep", "ml.p4d.24xlarge", 8, 0, 3, distribution(FixedDelay(delay_s=100)), rng)
    a = [pool.place("big", 4, 0.0, 10.0, warm=False) for _ in range(2)]  # one instance, 8 of 8
    assert [p.host for p in a] == [pool.hosts[0]] * 2 and a[0].copy.ready_s == 110.0
    b = pool.place("small", 2, 50.0, 10.0, warm=False)  # no room: a second instance
    c = pool.place("small", 2, 60.0, 10.0, warm=False)  # densest with room: the second again
    assert b.host is c.host is pool.hosts[1] and c.copy.ready_s == 50.0 + 100.0 + 10.0
    d = pool.place("big", 4, 200.0, 10.0, warm=False)  # 4 free on the second: fits (InService: now + load)
    assert d.host is pool.hosts[1] and d.copy.ready_s == 210.0
    assert pool.place("big", 4, 300.0, 10.0, warm=False).host is pool.hosts[2]
    assert pool.place("big", 8, 300.0, 10.0, warm=False) is None  # at max_instance_count
    for p in (b, c):
        pool.release(p, 400.0)
    assert pool.hosts[1].inst.end_s == math.inf  # still hosts d
    pool.release(d, 500.0)
    assert pool.hosts[1].inst.end_s == 500.0
    assert pool.accelerator_seconds(1000.0, "small") == 2 * (400 - 50) + 2 * (400 - 60)


@pytest.mark.parametrize(("ic", "extra", "needle"), [
    ("inference_component: {copy_count: 2, managed_instance_scaling: {max_instance_count: 2}}",
     "  initial_instance_count: 1\n", "copy_count"),
    ("inference_component: {managed_instance_scaling: {max_instance_count: 2}, copies: 3}", "", "copies"),
    ("inference_component: {managed_instance_scaling: {min_instance_count: 3, max_instance_count: 2}}", "",
     "min_instance_count"),
])
def test_bad_inference_component_exit_2(tmp_path, ic, extra, needle):
    tr = _trace(tmp_path, 0.5)
    s = _scenario(tmp_path, _endpoint("chat", tr, ic=ic, scaling="") + extra)
    res = CliRunner().invoke(app, ["run", str(s), "--no-store", "-q"])
    assert res.exit_code == 2, res.output
    assert needle in res.output and "inference_component" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_copy_larger_than_its_instance_exit_2_with_the_line(tmp_path, command):
    tr = _trace(tmp_path, 0.5)
    ic = ("inference_component: {accelerators_per_copy: 3, accelerators_per_instance: 2,\n"
          "    managed_instance_scaling: {max_instance_count: 2}}")
    s = _scenario(tmp_path, _endpoint("chat", tr, ic=ic, scaling=""))
    res = CliRunner().invoke(app, [command, str(s), *(["--no-store", "-q"] if command == "run" else [])])
    assert res.exit_code == 2, res.output
    line = next(i for i, text in enumerate(s.read_text().splitlines(), 1) if "accelerators_per_copy" in text)
    assert f"s.yaml:{line}:" in res.output and "a copy needs 3 accelerators" in res.output and "has 2" in res.output
    assert "inference_component.accelerators_per_copy" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("command", ["validate", "run"])
def test_components_disagreeing_on_instances_exit_2(tmp_path, command):
    tr = _trace(tmp_path, 0.5)
    ic1 = "inference_component: {endpoint: shared, managed_instance_scaling: {max_instance_count: 2}}"
    ic2 = "inference_component: {endpoint: shared, managed_instance_scaling: {max_instance_count: 3}}"
    s = _scenario(tmp_path, _endpoint("a", tr, ic=ic1, scaling=""), _endpoint("b", tr, ic=ic2, scaling=""))
    res = CliRunner().invoke(app, [command, str(s)] + (["--no-store", "-q"] if command == "run" else []))
    assert res.exit_code == 2, res.output
    assert "endpoints[1].inference_component.endpoint" in res.output and "Traceback" not in res.output
    assert "s.yaml:" in res.output  # located at the line


def test_shared_endpoint_name_taken_by_another_endpoint_exit_2(tmp_path):
    tr = _trace(tmp_path, 0.5)
    ic = "inference_component: {endpoint: b, managed_instance_scaling: {max_instance_count: 2}}"
    s = _scenario(tmp_path, _endpoint("a", tr, ic=ic, scaling=""), _endpoint("b", tr, scaling=""))
    res = CliRunner().invoke(app, ["validate", str(s)])
    assert res.exit_code == 2, res.output
    assert "another resource" in res.output and "Traceback" not in res.output


def test_llm_optimize_refuses_an_inference_component_exit_2():
    from tests.conftest import SCENARIOS

    res = CliRunner().invoke(app, ["llm-optimize", str(SCENARIOS / "llm_inference_components.yaml"), "-e", "chat-ic",
                                   "--instance-types", "ml.g6e.12xlarge"])
    assert res.exit_code == 2, res.output
    assert "inference component" in res.output and "Traceback" not in res.output


def test_scale_to_zero_copies_and_back(tmp_path):
    """2 requests/s until 900 s, none until 2700 s, then one every 4 s. The three copies go to
    zero after 15 idle minutes (1800 s) and both instances with them (min_instance_count 0).
    Requests from 2700 s fail for lack of capacity; the step alarm at 2760 s adds a copy on a new
    instance, serving from 2760 + 120 + 30 = 2910 s: the arrivals 2700, 2704, ..., 2908 (53) fail.
    Instance-seconds 1800 + (1800 - 180) + (3600 - 2760)."""
    t = np.concatenate([np.arange(0, 900, 0.5), np.arange(2700, 3600, 4.0)])
    pd.DataFrame({"arrival_s": t, "ContextTokens": 1, "GeneratedTokens": 40}).to_csv(tmp_path / "t0.csv", index=False)
    scaling = """\
autoscaling:
  min_capacity: 0
  max_capacity: 12
  scale_to_zero: true
  policies:
    - {kind: target_tracking, metric: concurrent_requests_per_copy, target_value: 1.5}
    - {kind: step_scaling, metric: no_capacity_invocation_failures, threshold: 1,
       steps: [{lower_bound: 0, adjustment: 1}]}
  provisioning: {kind: fixed, delay_s: 120}"""
    ic = "inference_component: {copy_count: 1, managed_instance_scaling: {min_instance_count: 0, max_instance_count: 4}}"
    s = _scenario(tmp_path, _endpoint("chat", "t0.csv", ic=ic, scaling=scaling))
    run = api.run_scenario(s)
    r = run.summary["resources"][0]
    series = run.series["chat"].set_index("time_s")
    assert series.loc[1740.0, "copies_in_service"] == 3 and series.loc[1800.0, "instances"] == 0
    assert series.loc[2700.0, "instances"] == 0 and series.loc[2760.0, "instances"] == 1
    assert r["no_capacity_failures"] == 53
    assert r["instance_hours"] == pytest.approx((1800 + 1620 + 840) / 3600)
    assert r["copy_hours"] == pytest.approx((1800 + 1620 + 1620 + 840) / 3600)
    assert r["cost_usd"] == pytest.approx(r["instance_hours"] * _price(s), rel=1e-9)
    assert r["requests"] == r["served"] + r["timed_out"] + r["dropped"] + r["in_flight_at_horizon"]


def test_zero_copies_without_a_way_back_exit_2(tmp_path):
    tr = _trace(tmp_path, 0.5)
    scaling = """\
autoscaling:
  min_capacity: 0
  max_capacity: 4
  scale_to_zero: true
  policies: [{kind: target_tracking, metric: concurrent_requests_per_copy, target_value: 1.5}]"""
    ic = "inference_component: {copy_count: 1, managed_instance_scaling: {min_instance_count: 0, max_instance_count: 2}}"
    s = _scenario(tmp_path, _endpoint("chat", tr, ic=ic, scaling=scaling))
    res = CliRunner().invoke(app, ["validate", str(s)])
    assert res.exit_code == 2, res.output
    assert "no_capacity_invocation_failures" in res.output and "Traceback" not in res.output


def test_copies_that_fit_no_instance_are_counted_not_placed(tmp_path):
    """The same ~4.04 load wants 3 copies, but one instance of 2 accelerators is the maximum:
    2 copies serve, the third is refused each time the policy asks (from 180 s on)."""
    ic = "inference_component: {managed_instance_scaling: {min_instance_count: 1, max_instance_count: 1}}"
    s = _scenario(tmp_path, _endpoint("chat", _trace(tmp_path, 2.0), ic=ic))
    r = api.run_scenario(s).summary["resources"][0]
    assert r["max_copies"] == 2 and r["endpoint_max_instances"] == 1 and r["copies_unplaced"] >= 1
    assert r["instance_hours"] == pytest.approx(1.0)
    assert r["endpoint_packing_share"] == pytest.approx((3600 + 3420) / (2 * 3600))
