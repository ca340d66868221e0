"""Deployment strategies: the overlap each one bills (closed forms), cadence by schedule or by a
pipeline's new models, rollbacks, and bad input ending in exit 2."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.resources.deployment.plan import blue_green, rolling, shadow
from smsim.scenario import load_scenario

RATE = 0.23  # ml.m5.xlarge hosting, us-east-1 (data/pricing/ondemand.csv)


def write(tmp_path, body: str, horizon: str = "2d"):
    path = tmp_path / "d.yaml"
    path.write_text(f"name: d\nhorizon: {{duration_s: {horizon}}}\n" + body)
    return path


def run(tmp_path, body: str, horizon: str = "2d"):
    result = api.run_scenario(load_scenario(write(tmp_path, body, horizon)))
    return {r["resource_id"]: r for r in result.summary["resources"]}, result


def deployment(extra: str, kind: str = "blue-green", trigger: str = "{kind: once, at_s: [1h]}") -> str:
    return ("deployments:\n  - {kind: " + kind + ", name: dep, trigger: " + trigger
            + ", instance_type: ml.m5.xlarge, instance_count: 6, " + extra + "}\n")


@pytest.mark.parametrize("shifting, steps", [("all-at-once", 1), ("canary", 2), ("linear", 4)])
def test_blue_green_overlap_is_fleet_times_shift_and_baking(tmp_path, shifting, steps):
    # 6 instances x (10 min provisioning + steps x 30 min baking + 15 min termination wait)
    res, result = run(tmp_path, deployment(f"traffic_shifting: {shifting}, linear_step: 0.25, provisioning_s: 10m, "
                                           "baking_period_s: 30m, termination_wait_s: 15m"))
    hours = (10 + steps * 30 + 15) / 60
    dep = res["dep"]
    assert dep["overlap_instance_hours"] == pytest.approx(6 * hours)
    assert dep["cost_usd"] == pytest.approx(6 * hours * RATE)
    inst = result.usage
    assert set(inst["component"]) == {"RealTimeInference"}
    assert (inst.start_s.min(), inst.end_s.max()) == (3600, pytest.approx(3600 + hours * 3600))


@pytest.mark.parametrize("step, steps", [(0.1, 10), (0.2, 5), (0.3, 4), (0.5, 2)])
def test_linear_steps(step, steps):
    from smsim.resources.deployment.spec import BlueGreenSpec

    spec = BlueGreenSpec(name="x", trigger={"kind": "once", "at_s": [0]}, instance_type="ml.m5.xlarge",
                         instance_count=3, traffic_shifting="linear", linear_step=step)
    assert spec.shift_steps == steps


def test_plans_by_hand():
    assert blue_green(4, 600, 2, 1800, 0).instance_s == 4 * (600 + 3600)
    r = rolling(5, 2, 600, 1200)  # batches of 2, 2, 1, each 30 min: every instance overlaps once
    assert r.phases == ((0, 1800, 2), (1800, 3600, 2), (3600, 5400, 1)) and r.instance_s == 5 * 1800
    ic = rolling(5, 2, 600, 1200, spare=1)  # one free instance on the endpoint absorbs part of each batch
    assert ic.phases == ((0, 1800, 1), (1800, 3600, 1)) and ic.duration_s == 5400
    assert shadow(3, 600, 7200).instance_s == 3 * 7800
    cut = blue_green(4, 0, 1, 3600, 0).cut(900)
    assert cut.instance_s == 4 * 900 and cut.duration_s == 900


def test_rolling_and_shadow_through_the_ledger(tmp_path):
    body = ("deployments:\n"
            "  - {kind: rolling, name: roll, trigger: {kind: once, at_s: [0]}, instance_type: ml.m5.xlarge, "
            "instance_count: 5, batch_size: 2, provisioning_s: 0, baking_period_s: 30m}\n"
            "  - {kind: shadow, name: shadow, trigger: {kind: once, at_s: [0]}, instance_type: ml.m5.xlarge, "
            "instance_count: 10, traffic_share: 0.25, duration_s: 1d, provisioning_s: 0}\n")
    res, _ = run(tmp_path, body)
    assert res["roll"]["cost_usd"] == pytest.approx(5 * 0.5 * RATE)
    assert res["roll"]["deployment_duration_h"] == pytest.approx(1.5)
    assert res["shadow"]["overlap_instance_hours"] == pytest.approx(3 * 24)  # ceil(10 x 0.25) = 3 instances


def test_cadence_every_seven_days_and_cost_per_month(tmp_path):
    res, _ = run(tmp_path, deployment("provisioning_s: 0, baking_period_s: 1h", trigger="{kind: cron, cron: 'rate(7 days)'}"),
                 horizon="28d")
    dep = res["dep"]
    assert dep["deployments"] == 4
    assert dep["cost_usd"] == pytest.approx(4 * 6 * RATE)
    assert dep["cost_usd_per_month"] == pytest.approx(4 * 6 * RATE * 730 / (28 * 24))
    assert dep["cost_usd_per_deployment"] == pytest.approx(6 * RATE)


PIPELINE = """\
pipelines:
  - kind: pipeline
    name: retrain
    trigger: {kind: cron, cron: "0 2 * * *"}
    steps:
      - {name: train, type: training, instance_type: ml.m5.xlarge, duration: {mean_s: 1h}, volume_gb: 0,
         cache: {inputs_change_probability: 0.5}}
      - {name: deploy, type: deployment, depends_on: [train], duration: {mean_s: 10m}}
"""


def test_deployments_follow_the_pipeline_that_retrains(tmp_path):
    body = PIPELINE + deployment("provisioning_s: 0, baking_period_s: 1h",
                                 trigger="{kind: pipeline, pipeline: retrain, delay_s: 5m}")
    res, result = run(tmp_path, body, horizon="20d")
    published = res["retrain"]["deployments_published"]
    assert 0 < published < 20  # the cached nights make no new model and deploy nothing
    assert res["dep"]["deployments"] == published
    runs = result.series["retrain"]
    fresh = runs[runs.steps_cached == 0]  # a run that trained deploys when its deployment step ends
    starts = sorted(result.series["dep"]["start_s"])
    assert starts == pytest.approx(sorted(fresh.submit_s + 3600 + 600 + 300))
    assert res["dep"]["cost_usd"] == pytest.approx(published * 6 * RATE)


def test_a_deployment_during_another_is_skipped(tmp_path):
    res, _ = run(tmp_path, deployment("provisioning_s: 0, baking_period_s: 1h, termination_wait_s: 30m", trigger="{kind: cron, cron: '0 * * * *'}"),
                 horizon="1d")
    assert res["dep"]["deployments"] == 12 and res["dep"]["skipped_in_progress"] == 12


def test_rollbacks_cut_the_overlap(tmp_path):
    res, result = run(tmp_path, deployment("provisioning_s: 0, baking_period_s: 1h, rollback_probability: 1",
                                           trigger="{kind: cron, cron: '0 */4 * * *'}"), horizon="10d")
    dep = res["dep"]
    assert dep["rollbacks"] == dep["deployments"] == 60
    per = result.series["dep"]["overlap_instance_s"] / 6 / 3600  # rollback at a uniform time in the hour
    assert per.max() < 1 and abs(per.mean() - 0.5) < 4 * math.sqrt(1 / 12 / 60)


def test_unknown_pipeline_exits_2_naming_field_and_line(tmp_path):
    body = PIPELINE + deployment("provisioning_s: 0", trigger="{kind: pipeline, pipeline: retrian}")
    out = CliRunner().invoke(app, ["validate", str(write(tmp_path, body))])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert "d.yaml:12" in out.output and "deployments[0].trigger.pipeline" in out.output
    assert "'retrian'" in out.output and "'retrain'" in out.output


def test_bad_canary_or_baking_exits_2(tmp_path):
    out = CliRunner().invoke(app, ["run", str(write(tmp_path, deployment("traffic_shifting: canary, canary_size: 0.6")))])
    assert out.exit_code == 2 and "d.yaml:4" in out.output and "canary_size 0.6" in out.output
    out = CliRunner().invoke(app, ["validate", str(write(tmp_path, deployment("baking_period_s: 2h")))])
    assert out.exit_code == 2 and "deployments[0].baking_period_s" in out.output and "3600" in out.output


def test_no_deployment_no_cost_and_no_unit_cost(tmp_path):
    body = PIPELINE.replace("inputs_change_probability: 0.5", "inputs_change_probability: 0.5, expire_after_s: 30d") \
        + deployment("provisioning_s: 0", trigger="{kind: pipeline, pipeline: retrain, delay_s: 30d}")
    res, _ = run(tmp_path, body, horizon="3d")  # every deployment would fall after the horizon
    dep = res["dep"]
    assert dep["deployments"] == 0 and dep["cost_usd"] == 0
    assert math.isnan(dep["cost_usd_per_deployment"]) and dep["cost_usd_per_month"] == 0
