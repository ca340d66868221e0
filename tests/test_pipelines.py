"""Pipelines: hand-computed DAG makespan and cost, caching that costs nothing, retries with
backoff, failures that stop a run, and DAG errors (cycles, unknown steps) ending in exit 2."""

from __future__ import annotations

import math
import textwrap

import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.resources.pipelines.dag import (
    StepOutcome,
    attempts,
    cache_hit,
    find_cycle,
    on_demand,
    schedule,
)
from smsim.scenario import load_scenario

M5, G5 = 0.23, 1.408  # ml.m5.xlarge Processing, ml.g5.xlarge Training; us-east-1 (data/pricing/ondemand.csv)

DIAMOND = """\
- kind: pipeline
  name: retrain
  trigger: {kind: once, at_s: [0]}
  steps:
    - {name: prep, type: processing, instance_type: ml.m5.xlarge, instance_count: 2, duration: {mean_s: 1h}, volume_gb: 0}
    - {name: train, type: training, depends_on: [prep], instance_type: ml.g5.xlarge, duration: {mean_s: 3h}, volume_gb: 0}
    - {name: features, type: processing, depends_on: [prep], instance_type: ml.m5.xlarge, duration: {mean_s: 2h}, volume_gb: 0}
    - {name: eval, type: evaluation, depends_on: [train, features], instance_type: ml.m5.xlarge, duration: {mean_s: 30m}, volume_gb: 0}
    - {name: register, type: registration, depends_on: [eval], duration: {mean_s: 1m}}
"""


def write(tmp_path, pipelines: str, horizon: str = "2d"):
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\nhorizon: {{duration_s: {horizon}}}\npipelines:\n" + textwrap.indent(pipelines, "  "))
    return path


def run(tmp_path, pipelines: str, horizon: str = "2d"):
    result = api.run_scenario(load_scenario(write(tmp_path, pipelines, horizon)))
    (res,) = result.summary["resources"]
    return res, result


@pytest.mark.parametrize("parallel, makespan_h", [(None, 1 + 3 + 0.5 + 1 / 60), (1, 1 + 3 + 2 + 0.5 + 1 / 60)])
def test_diamond_makespan_and_cost_by_hand(tmp_path, parallel, makespan_h):
    # prep 1 h -> (train 3 h | features 2 h) -> eval 30 min -> register 1 min
    text = DIAMOND + (f"  max_parallel_steps: {parallel}\n" if parallel else "")
    res, result = run(tmp_path, text)
    assert res["mean_makespan_h"] == pytest.approx(makespan_h)
    cost = 2 * 1 * M5 + 3 * G5 + 2 * M5 + 0.5 * M5  # registration runs no instances
    assert res["cost_usd"] == pytest.approx(cost)
    assert res["cost_usd_per_run"] == pytest.approx(cost)
    assert res["cost_usd_per_month"] == pytest.approx(cost * 730 / 48)
    assert result.summary["cost_by_component"] == pytest.approx({"Processing": 4.5 * M5, "Training": 3 * G5})
    assert res["instance_hours_by_step"] == pytest.approx({"prep": 2, "train": 3, "features": 2, "eval": 0.5,
                                                          "register": 0})


def test_a_cached_step_costs_nothing(tmp_path):
    cached = DIAMOND.replace("volume_gb: 0}", "volume_gb: 0, cache: {}}").replace("[0]", "[0, 6h]")
    res, result = run(tmp_path, cached)
    # the second run finds every step's first execution (inputs unchanged): it costs nothing
    assert res["runs"] == 2 and res["steps_cached"] == 4
    assert res["deployments_published"] == 1  # the cached run made no new model to deploy
    assert res["cost_usd"] == pytest.approx(2 * M5 + 3 * G5 + 2 * M5 + 0.5 * M5)
    assert list(result.series["retrain"]["makespan_s"]) == pytest.approx([(4.5 + 1 / 60) * 3600, 60])
    full = 2 * (2 * M5 + 3 * G5 + 2.5 * M5)
    expired = cached.replace("cache: {}", "cache: {expire_after_s: 2h30m}")
    res, _ = run(tmp_path, expired)  # prep's execution (ended at 1 h) is 5 h old at 6 h: re-run, so all are
    assert res["steps_cached"] == 0 and res["cost_usd"] == pytest.approx(full)
    changed = cached.replace("cache: {}}\n    - {name: train", "cache: {inputs_change_probability: 1}}\n    - {name: train", 1)
    res, _ = run(tmp_path, changed)  # prep's inputs changed: prep and everything after it re-run
    assert res["steps_cached"] == 0 and res["cost_usd"] == pytest.approx(full)


@pytest.mark.parametrize("rule, previous, deps_cached, changed, lucky, hit", [
    ("inputs-unchanged", True, True, False, False, True),
    ("inputs-unchanged", True, False, False, True, False),  # an upstream step re-ran
    ("inputs-unchanged", True, True, True, True, False),  # its own inputs changed
    ("inputs-unchanged", False, True, False, True, False),  # nothing cached within ExpireAfter
    ("probability", True, False, True, True, True),
    ("probability", True, True, False, False, False),
    ("probability", False, True, False, True, False),
])
def test_cache_rule_table(rule, previous, deps_cached, changed, lucky, hit):
    assert cache_hit(rule, previous, deps_cached, changed, lucky) is hit


def test_attempts_with_backoff_by_hand():
    # 100 s of work, 10 s provisioning; attempt 1 fails at half, attempt 2 at a quarter, 3 succeeds;
    # waits 5 s then 5 x 3 = 15 s
    out = attempts(100, on_demand(10), [0.5, 0.25, None], interval_s=5, backoff_rate=3)
    assert out.runs == ((10, 60), (75, 100), (125, 225))
    assert (out.span_s, out.billed_s, out.retries, out.succeeded) == (225, 175, 2, True)
    gave_up = attempts(100, on_demand(0), [0.5, 0.5], interval_s=1, backoff_rate=2)
    assert (gave_up.succeeded, gave_up.billed_s, gave_up.span_s) == (False, 100, 101)


def test_a_step_that_fails_for_good_stops_the_run():
    deps = {"a": [], "b": ["a"], "c": [], "d": ["b"]}
    spans = {"a": StepOutcome(((0, 1),), 1), "b": StepOutcome(((0, 2),), 2, succeeded=False),
             "c": StepOutcome(((0, 5),), 5), "d": StepOutcome(((0, 1),), 1)}
    run = schedule(["a", "b", "c", "d"], deps, lambda name, t: spans[name])
    assert run.succeeded is False
    assert run.start_s == {"a": 0, "c": 0, "b": 1}  # d never starts; c, already running, finishes
    assert run.end_s == {"a": 1, "b": 3, "c": 5} and run.makespan_s == 5


def test_retries_in_a_run_are_billed(tmp_path):
    flaky = DIAMOND.replace("duration: {mean_s: 3h}, volume_gb: 0}",
                            "duration: {mean_s: 3h}, volume_gb: 0, failure_probability: 1, "
                            "retry: {max_attempts: 2, interval_s: 60}}")
    res, result = run(tmp_path, flaky)
    assert res["runs_failed"] == 1 and res["retries"] == 2
    train = result.usage[(result.usage.component == "Training")]
    assert len(train) == 3 and (train.end_s - train.start_s).max() < 3 * 3600  # each attempt failed part-way
    assert set(res["instance_hours_by_step"]) == {"prep", "train", "features"}  # nothing after train ran


@pytest.mark.parametrize("deps, cycle", [
    ({"a": [], "b": ["a"]}, None),
    ({"a": ["b"], "b": ["a"]}, ["a", "b", "a"]),
    ({"a": [], "b": ["a", "d"], "c": ["b"], "d": ["c"]}, ["b", "d", "c", "b"]),
])
def test_find_cycle_table(deps, cycle):
    assert find_cycle(deps) == cycle


def test_a_cycle_is_refused_with_exit_2_naming_field_and_line(tmp_path):
    text = DIAMOND.replace("{name: prep, type: processing,", "{name: prep, type: processing, depends_on: [eval],")
    out = CliRunner().invoke(app, ["validate", str(write(tmp_path, text))])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert "p.yaml:8" in out.output and "pipelines[0].steps[0].depends_on" in out.output
    assert "prep -> eval -> train -> prep" in out.output


def test_an_unknown_step_is_refused_naming_its_line(tmp_path):
    text = DIAMOND.replace("depends_on: [train, features]", "depends_on: [train, featurs]")
    out = CliRunner().invoke(app, ["run", str(write(tmp_path, text))])
    assert out.exit_code == 2
    assert "p.yaml:11" in out.output and "pipelines[0].steps[3].depends_on[1]" in out.output
    assert "'featurs'" in out.output


def test_job_steps_need_an_instance_type(tmp_path):
    text = DIAMOND.replace("{name: register, type: registration,", "{name: register, type: training,")
    out = CliRunner().invoke(app, ["validate", str(write(tmp_path, text))])
    assert out.exit_code == 2 and "p.yaml:12" in out.output and "instance_type" in out.output


def test_a_spot_training_step_goes_through_the_managed_spot_lifecycle(tmp_path):
    from smsim.pricing.catalog import load_catalog
    from smsim.resources.managed_spot import JobParams, expected_job

    text = """\
- kind: pipeline
  name: hourly
  trigger: {kind: cron, cron: "0 * * * *"}
  steps:
    - {name: train, type: training, instance_type: ml.m5.xlarge, duration: {mean_s: 1h}, volume_gb: 0, market: Spot,
       spot: {interruption_rate_per_instance_hour: 0.5, checkpoint_interval_s: 10m, checkpoint_write_s: 0,
              capacity_wait: {distribution: fixed, mean_s: 0}}}
"""
    res, result = run(tmp_path, text, horizon="10d")
    assert set(result.usage["market"]) == {"Spot"} and res["runs"] == 240
    expected = expected_job(JobParams(work_s=3600, rate_per_s=0.5 / 3600, checkpoint_interval_s=600))
    # billable per run: 1 h plus lost work (sd < 500 s), so 240 runs give a standard error < 33 s (< 0.9 %)
    assert res["instance_hours_per_run"] * 3600 == pytest.approx(expected["billable_s"], rel=0.035)
    spot_rate = load_catalog().spot_usd_per_hour("ml.m5.xlarge", "Training", "us-east-1")
    assert res["cost_usd"] == pytest.approx(res["instance_hours"] * spot_rate)


def test_spot_is_for_training_steps_only(tmp_path):
    text = DIAMOND.replace("type: evaluation, depends_on: [train, features],",
                           "type: evaluation, market: Spot, depends_on: [train, features],")
    out = CliRunner().invoke(app, ["validate", str(write(tmp_path, text))])
    assert out.exit_code == 2 and "p.yaml:11" in out.output and "training steps" in out.output


def test_retries_match_their_expectation(tmp_path):
    # Attempt k runs with probability q^k (k = 0, 1, 2); each bills the full hour with probability
    # 1 - q or a uniform share of it with probability q, so E[billed] = (1 - q/2)(1 + q + q^2) h
    # and a step fails for good with probability q^3.
    q, n = 0.3, 1440
    text = f"""\
- kind: pipeline
  name: flaky
  trigger: {{kind: cron, cron: "0 * * * *"}}
  steps:
    - {{name: train, type: training, instance_type: ml.m5.xlarge, duration: {{mean_s: 1h}}, volume_gb: 0,
       failure_probability: {q}, retry: {{max_attempts: 2, interval_s: 0}}}}
"""
    res, result = run(tmp_path, text, horizon="60d")
    billed = result.series["flaky"]["instance_s"] / 3600
    assert res["runs"] == n
    assert abs(billed.mean() - (1 - q / 2) * (1 + q + q * q)) < 4 * billed.std() / math.sqrt(n)
    assert abs(res["runs_failed"] - n * q**3) < 4 * math.sqrt(n * q**3 * (1 - q**3))
