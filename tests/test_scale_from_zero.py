"""Real-time endpoints that scale to zero (SageMaker inference components with minimum copies 0):
requests that find no instance in service fail; a step-scaling alarm on
no_capacity_invocation_failures scales out from zero after its provisioning delay. Hand-checked
in both tiers; a scenario that could never leave zero is refused."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.errors import InputError
from smsim.resources.scaling.policies import Metrics, PolicyState, ScalingContext, decide

G5_XLARGE_USD_PER_HOUR = 1.41  # builtin catalog, RealTimeInference, us-east-1

SCALING = """\
    autoscaling:
      min_capacity: 0
      max_capacity: 3
      scale_to_zero: true
      provisioning: {kind: fixed, delay_s: 300}
      policies:
        - {kind: target_tracking, target_value: 70, missing_data: zero}
        - {kind: step_scaling, metric: no_capacity_invocation_failures, threshold: 1, comparison: ">=",
           cooldown_s: 600, steps: [{lower_bound: 0, adjustment: 1}]}
"""


def write_scenario(tmp_path, scaling: str = SCALING) -> str:
    # one request at second 30 of minutes 0-19 and 40-44 of a one-hour horizon (60 one-minute counts)
    counts = [1 if k < 20 or 40 <= k < 45 else 0 for k in range(60)]
    (tmp_path / "traffic.csv").write_text(
        "timestamp,count\n" + "".join(f"{60 * k},{c}\n" for k, c in enumerate(counts)))
    endpoints = "".join(f"""
  - kind: realtime
    name: {name}
    model: m
    instance_type: ml.g5.xlarge
    fidelity: {name}
    workload: {{kind: trace, path: traffic.csv, shape: counts, placement: even, time_unit: s}}
""" + scaling for name in ("request", "fluid"))
    path = tmp_path / "zero.yaml"
    path.write_text(
        "name: zero\nregion: us-east-1\nhorizon: {start: 2026-01-05T00:00:00Z, duration_s: 1h}\nseed: 3\n"
        "models:\n  - name: m\n    latency: {\"*\": {kind: deterministic, value_s: 0.2}}\n"
        "endpoints:" + endpoints)
    return str(path)


def test_scale_from_zero_timeline_by_hand_in_both_tiers(tmp_path):
    """At 0 instances the request at 30 s fails; at 60 s the alarm (1 failure >= 1) adds an
    instance, InService at 360 s, so the requests at 30, 90, ..., 330 s fail (6) and the 14 of
    minutes 6-19 are served. The target-tracking low alarm (15 of 15 minutes below 63, an idle
    minute counting as 0, a minute with failures never) fires at the end of minute 20 (1260 s):
    scale-in to 0, billed 60-1260 s. The request at 2430 s fails again: scale-out at 2460 s,
    InService at 2760 s, after the last request at 2670 s: all 5 of minutes 40-44 fail, and the
    instance runs to the horizon (1140 s). Totals: 25 requests, 14 served, 11 failed, 2340 s."""
    summary = api.run_scenario(write_scenario(tmp_path)).summary
    for r in summary["resources"]:
        name = r["resource_id"]
        assert r["requests"] == 25, name
        assert r["served"] == 14, name
        assert r["no_capacity_failures"] == 11, name
        assert r["dropped"] == 11 and r["timed_out"] == pytest.approx(0, abs=1e-9), name
        assert r["requests"] == pytest.approx(
            r["served"] + r["timed_out"] + r["dropped"] + r.get("in_flight_at_horizon", 0), abs=1e-9)
        assert r["instance_hours"] == pytest.approx(2340 / 3600), name
        assert (r["scale_out_events"], r["scale_in_events"]) == (2, 1), name
        assert r["cost_usd"] == pytest.approx(2340 / 3600 * G5_XLARGE_USD_PER_HOUR, abs=1e-9), name
        assert r["latency_p50_s"] == pytest.approx(0.2, rel=0.01), name
    # 44 % failed: worth reading in the results, but not "most"
    assert summary["warnings"] == []


def test_a_cooldown_shorter_than_provisioning_adds_an_instance_per_failing_minute(tmp_path):
    """With the step cooldown (300 s) no longer than the provisioning delay (300 s), the minute
    [300, 360 s) still fails and its alarm at 360 s is outside the cooldown: a second instance
    launches (InService at 660 s). Both go at 1260 s (desired 0): 1200 + 900 s, then 1140 s as before."""
    path = write_scenario(tmp_path, SCALING.replace("cooldown_s: 600", "cooldown_s: 300"))
    for r in api.run_scenario(path).summary["resources"]:
        assert (r["served"], r["no_capacity_failures"]) == (14, 11), r["resource_id"]
        assert r["instance_hours"] == pytest.approx((1200 + 900 + 1140) / 3600), r["resource_id"]
        assert (r["scale_out_events"], r["scale_in_events"]) == (3, 1), r["resource_id"]


def test_request_tier_series_counts_failures_as_dropped_minute_by_minute(tmp_path):
    result = api.run_scenario(write_scenario(tmp_path))
    for name in ("request", "fluid"):
        s = result.series[name]
        dropped = s.dropped.to_numpy()
        assert dropped[:6].tolist() == [1] * 6 and dropped[6:40].sum() == 0, name
        assert dropped[40:45].tolist() == [1] * 5 and dropped[45:].sum() == 0, name
        assert s.arrivals.sum() == 25, name
        assert s.instances_in_service.iloc[6:21].tolist() == [1.0] * 15, name
        assert s.instances_in_service.iloc[21:46].sum() == 0, name


def test_a_low_alarm_ignores_minutes_with_no_capacity_failures():
    """Without this rule the idle endpoint's low alarm (in ALARM since long before) would
    terminate the instance a step policy just launched, every minute."""
    from smsim.resources.scaling.spec import TargetTracking

    p = TargetTracking(target_value=70, missing_data="zero", scale_in_datapoints=1, scale_in_evaluation_periods=1)
    st = PolicyState(low=(True,))
    failing = Metrics(0.0, 0.0, 0.0, no_capacity_failures=4)
    d = decide(ScalingContext(p, 60.0, 1, failing, 0, 3, st))
    assert (d.action, d.state.low) == ("none", (False,))
    idle = Metrics(0.0, 0.0, 0.0)
    d = decide(ScalingContext(p, 60.0, 1, idle, 0, 3, st))
    assert (d.action, d.desired) == ("scale_in", 0)
    assert failing.value("no_capacity_invocation_failures") == 4 and idle.value("no_capacity_invocation_failures") is None


@pytest.mark.parametrize("policies", [
    "[{kind: target_tracking, target_value: 70}]",
    "[]",
    "[{kind: step_scaling, metric: invocations_per_instance, threshold: 1, steps: [{lower_bound: 0, adjustment: 1}]}]",
])
def test_an_endpoint_that_could_never_leave_zero_is_refused(tmp_path, policies):
    scaling = f"""\
    autoscaling:
      min_capacity: 0
      max_capacity: 2
      scale_to_zero: true
      policies: {policies}
"""
    path = write_scenario(tmp_path, scaling)
    with pytest.raises(InputError, match="no policy or scheduled action scales it out again") as err:
        api.load_scenario(path)
    assert err.value.line is not None and err.value.path == "endpoints[0]"
    result = CliRunner().invoke(app, ["run", path, "--no-store", "--quiet"])
    assert result.exit_code == 2
    assert "step_scaling alarm on no_capacity_invocation_failures" in result.output


def test_no_capacity_failures_are_not_a_target_to_track(tmp_path):
    scaling = SCALING.replace("{kind: target_tracking, target_value: 70, missing_data: zero}",
                              "{kind: target_tracking, metric: no_capacity_invocation_failures, target_value: 1}")
    with pytest.raises(InputError, match="alarm metric for a step_scaling policy"):
        api.load_scenario(write_scenario(tmp_path, scaling))


def test_a_run_where_most_requests_fail_says_so_and_shows_no_nan(tmp_path):
    # a 5-minute horizon: the first instance is still provisioning when it ends
    path = tmp_path / "zero.yaml"
    path.write_text(open(write_scenario(tmp_path)).read().replace("duration_s: 1h", "duration_s: 5m"))
    result = CliRunner().invoke(app, ["run", str(path), "--no-store", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "nan" not in result.output.lower().replace("n/a", "")
    assert "n/a" in result.output
    assert "no capacity" in result.output  # the column appears when some requests found no capacity
    assert ("warning: request: 5 of 5 requests failed (100.0%; dropped 5); 5 arrived while no instance was in "
            "service; no request was served, so there are no latencies") in result.output
    summary = api.run_scenario(path).summary
    assert len(summary["warnings"]) == 2


def test_a_multi_model_endpoint_cannot_scale_to_zero():
    from pydantic import ValidationError

    from smsim.resources.multimodel.spec import MultiModelEndpointSpec

    with pytest.raises(ValidationError, match="multi-model endpoint cannot scale to 0 instances"):
        MultiModelEndpointSpec(name="mme", models=["a"], instance_type="ml.g5.xlarge",
                               workload={"kind": "poisson", "rate_per_s": 1.0},
                               autoscaling={"min_capacity": 0, "max_capacity": 2, "scale_to_zero": True})


def test_reports_show_n_a_for_a_latency_without_served_requests():
    from smsim.compare.tables import fmt_value
    from smsim.report.content import num as _num
    from smsim.report.tables import cell

    nan = float("nan")
    assert (cell(nan, "{:.3f}s"), _num(nan, "{:.3f}s"), fmt_value(nan, "s")) == ("n/a", "n/a", "n/a")
    assert (cell(0.25, "{:.3f}s"), _num(0.25, "{:.3f}s"), fmt_value(0.25, "s")) == ("0.250s", "0.250s", "0.250s")


def test_a_scheduled_minimum_may_bring_an_endpoint_back_from_zero(tmp_path):
    """Zero from the start until a scheduled action raises the minimum at 1200 s: the requests of
    minutes 0-19 all fail (20), the instance launched at 1200 s is InService at 1500 s, after the
    first burst; the 5 requests of minutes 40-44 are served. Billed 1200-3600 s."""
    scaling = """\
    autoscaling:
      min_capacity: 0
      max_capacity: 2
      scale_to_zero: true
      provisioning: {kind: fixed, delay_s: 300}
      scheduled_actions: [{name: morning, schedule: "at(2026-01-05T00:20:00)", min_capacity: 1}]
"""
    summary = api.run_scenario(write_scenario(tmp_path, scaling)).summary
    for r in summary["resources"]:
        assert (r["requests"], r["served"], r["no_capacity_failures"]) == (25, 5, 20), r["resource_id"]
        assert r["instance_hours"] == pytest.approx(2400 / 3600), r["resource_id"]
    assert [w.split(":")[0] for w in summary["warnings"]] == ["request", "fluid"]
    assert "20 of 25 requests failed (80.0%; dropped 20); 20 arrived while no instance was in service" \
        in summary["warnings"][0]


def test_an_async_endpoint_scales_from_zero_on_backlog_not_on_no_capacity_failures():
    from pydantic import ValidationError

    from smsim.resources.asynchronous.spec import AsyncEndpointSpec

    policy = {"kind": "step_scaling", "metric": "no_capacity_invocation_failures", "threshold": 1,
              "steps": [{"lower_bound": 0, "adjustment": 1}]}
    with pytest.raises(ValidationError, match="scale from zero on backlog instead"):
        AsyncEndpointSpec(name="a", model="m", instance_type="ml.g5.xlarge",
                          workload={"kind": "poisson", "rate_per_s": 1.0},
                          autoscaling={"min_capacity": 0, "max_capacity": 2, "scale_to_zero": True,
                                       "policies": [policy]})
