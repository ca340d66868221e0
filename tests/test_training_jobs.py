"""Training jobs: usage hand-computed from the lifecycle, scaling, warm pools, spot, traces."""

from __future__ import annotations

import math
from datetime import UTC

import pandas as pd
import pytest
import simpy
from pydantic import ValidationError

from smsim.core.engine import SimContext
from smsim.core.meter import Meter
from smsim.resources.training.model import TrainingModel, efficiency, training_seconds
from smsim.resources.training.spec import Scaling, TrainingJobSpec
from smsim.scenario.schema import Scenario


def run(spec: TrainingJobSpec, horizon: str = "2d", seed: int = 0, tags=None):
    scenario = Scenario(name="t", horizon={"duration_s": horizon}, tags=tags or {"team": "ml"})
    ctx = SimContext(env=simpy.Environment(), scenario=scenario, seed=seed, meter=Meter())
    model = TrainingModel(spec, ctx)
    model.start(ctx)
    ctx.env.run(until=ctx.horizon_s)
    return model.finish(ctx), ctx.meter.frame()


def test_scaling_model():
    assert efficiency(1, 0.1, 0.05) == 1.0
    assert efficiency(8, 0.0, 0.0) == 1.0
    # Amdahl with 5% serial: speedup 1 / (0.05 + 0.95/8) = 5.926, efficiency 0.7407.
    assert efficiency(8, 0.05, 0.0) == pytest.approx(1 / (0.05 + 0.95 / 8) / 8)
    assert efficiency(4, 0.0, 0.02) == pytest.approx(1 / 1.06)
    assert training_seconds(40, 8, 1.0, Scaling()) == pytest.approx(5 * 3600)
    assert training_seconds(40, 8, 2.0, Scaling()) == pytest.approx(2.5 * 3600)


def test_on_demand_job_usage_is_hand_computed():
    spec = TrainingJobSpec(
        name="once",
        trigger={"kind": "once", "at_s": ["1h"]},
        instance_type="ml.g5.12xlarge",
        instance_count=4,
        work_reference_instance_hours=8,
        provisioning_s=200,
        download_s=100,
        upload_s=50,
        volume_gb=50,
        model_artifact_gb=2,
        artifact_retention_s="1d",
    )
    result, usage = run(spec)
    inst = usage[usage.usage_kind == "instance"]
    assert len(inst) == 1
    row = inst.iloc[0]
    start = 3600 + 200
    end = start + 100 + 2 * 3600 + 50  # 8 ref instance-hours on 4 instances = 2 h
    assert (row.start_s, row.end_s, row.quantity) == (start, end, 4)
    assert (row.component, row.market, row.instance_type) == (
        "Training",
        "OnDemand",
        "ml.g5.12xlarge",
    )
    vol = usage[usage.rate_key == "ml_storage_gb_month"].iloc[0]
    assert (vol.start_s, vol.end_s, vol.quantity) == (start, end, 200)
    art = usage[usage.component == "S3:ModelArtifacts"].iloc[0]
    assert (art.start_s, art.end_s, art.quantity) == (end, end + 86400, 2)
    assert result.metrics["billable_instance_hours"] == pytest.approx(4 * (end - start) / 3600)
    assert all(t["team"] == "ml" and t["smsim:resource"] == "once" for t in usage.tags)


def test_fine_tune_is_a_fraction_of_the_work():
    base = {
        "name": "ft",
        "trigger": {"kind": "once", "at_s": [0]},
        "instance_type": "ml.g5.xlarge",
        "work_reference_instance_hours": 10,
        "provisioning_s": 0,
        "download_s": 0,
        "upload_s": 0,
    }
    full, _ = run(TrainingJobSpec(**base))
    tuned, _ = run(TrainingJobSpec(**base, fine_tune_fraction=0.1))
    assert full.metrics["billable_instance_hours"] == pytest.approx(10)
    assert tuned.metrics["billable_instance_hours"] == pytest.approx(1)


def test_warm_pool_skips_startup_and_bills_keep_alive():
    # Jobs every 2 h, each 1 h of training + 60 s download + 30 s upload; keep-alive 1 h.
    spec = TrainingJobSpec(
        name="warm",
        trigger={"kind": "cron", "cron": "0 */2 * * *"},
        instance_type="ml.g5.xlarge",
        work_reference_instance_hours=1,
        warm_pool_keep_alive_s="1h",
        provisioning_s=180,
        download_s=60,
        upload_s=30,
    )
    result, usage = run(spec, horizon="1d")
    m = result.metrics
    assert m["jobs"] == 12 and m["warm_starts"] == 11
    cold_end = 180 + 60 + 3600 + 30
    warm_run = 3600 + 30
    assert m["billable_instance_hours"] == pytest.approx(((cold_end - 180) + 11 * warm_run) / 3600)
    # Warm gaps: first job ends at cold_end, next starts at 7200; later ones end at 2k h + warm_run.
    last_end = 22 * 3600 + warm_run
    gaps = (7200 - cold_end) + 10 * (7200 - warm_run) + min(3600, 86400 - last_end)
    assert m["warm_pool_instance_hours"] == pytest.approx(gaps / 3600)
    assert set(usage.component) == {"Training", "TrainingWarmPool"}


def test_spot_jobs_meter_spot_market_and_fallback_on_demand():
    spec = TrainingJobSpec(
        name="spot",
        trigger={"kind": "once", "at_s": [0]},
        instance_type="ml.g5.xlarge",
        work_reference_instance_hours=2,
        market="Spot",
        max_runtime_s="3h",
        spot={
            "capacity_wait": {"distribution": "fixed", "mean_s": "5h"},
            "max_wait_s": "4h",
            "fallback": "on-demand",
        },
        provisioning_s=100,
        download_s=0,
        upload_s=0,
    )
    result, usage = run(spec)
    m = result.metrics
    assert m["stopped_max_wait"] == 1 and m["fallback_runs"] == 1
    inst = usage[usage.usage_kind == "instance"]
    assert list(inst.market) == ["OnDemand"]
    assert (inst.start_s.iloc[0], inst.end_s.iloc[0]) == (4 * 3600 + 100, 4 * 3600 + 100 + 7200)


def test_spot_rate_from_bucket_override_and_interruptions():
    spec = TrainingJobSpec(
        name="s",
        trigger={"kind": "poisson", "rate_per_day": 20},
        instance_type="ml.g5.12xlarge",
        instance_count=8,
        work_reference_instance_hours=40,
        market="Spot",
        spot={"interruption_bucket": ">20%", "checkpoint_interval_s": "30m"},
    )
    result, usage = run(spec, horizon="30d", seed=3)
    m = result.metrics
    assert m["interruption_rate_per_instance_hour"] == pytest.approx(1 / 730)
    assert m["interruption_rate_source"] == "scenario bucket: >20%"
    assert set(usage[usage.usage_kind == "instance"].market) == {"Spot"}
    assert (
        m["billable_instance_hours"]
        >= m["on_demand_equivalent_instance_hours"] - m["in_progress_at_horizon"] * 45
    )
    assert 0 <= m["sagemaker_savings_pct"] < 100


def test_validation_messages_quote_values():
    with pytest.raises(ValidationError, match="must be larger than max_runtime_s"):
        TrainingJobSpec(
            name="x",
            trigger={"kind": "once", "at_s": [0]},
            instance_type="ml.g5.xlarge",
            market="Spot",
            max_runtime_s="2d",
            spot={"max_wait_s": "1d"},
        )
    with pytest.raises(ValidationError, match="warm pools"):
        TrainingJobSpec(
            name="x",
            trigger={"kind": "once", "at_s": [0]},
            instance_type="ml.g5.xlarge",
            market="Spot",
            warm_pool_keep_alive_s=60,
        )
    with pytest.raises(ValidationError, match="exceeds SageMaker's limit"):
        TrainingJobSpec(
            name="x",
            trigger={"kind": "once", "at_s": [0]},
            instance_type="ml.g5.xlarge",
            warm_pool_keep_alive_s="2h",
        )


def test_csv_trace_runtime_means_wall_time_at_that_count(tmp_path):
    path = tmp_path / "jobs.csv"
    pd.DataFrame(
        {
            "submit_s": [0, 600],
            "instance_count": [2, 4],
            "runtime_s": [3600, 1800],
            "instance_type": ["", "ml.p4d.24xlarge"],
        }
    ).to_csv(path, index=False)
    spec = TrainingJobSpec(
        name="tr",
        trigger={"kind": "trace", "path": str(path)},
        instance_type="ml.g5.xlarge",
        provisioning_s=0,
        download_s=0,
        upload_s=0,
        scaling={"serial_fraction": 0.1},
    )
    result, usage = run(spec)
    inst = usage[usage.usage_kind == "instance"].sort_values("start_s")
    assert list(inst.end_s - inst.start_s) == pytest.approx([3600, 1800])
    assert list(inst.instance_type) == ["ml.g5.xlarge", "ml.p4d.24xlarge"]
    assert result.metrics["billable_instance_hours"] == pytest.approx(2 + 2)


def test_real_traces_load(shared_data):
    gavel = TrainingJobSpec(
        name="gavel",
        instance_type="ml.p3.16xlarge",
        trigger={
            "kind": "trace",
            "format": "gavel",
            "gpus_per_instance": 8,
            "vc": "0e4a51",
            "path": str(shared_data / "gavel-philly-vc-arrivals" / "philly_vc_jobs_seed0.csv"),
            "runtimes_path": str(shared_data / "philly-runtime-alibaba" / "philly_runtime.csv"),
        },
    )
    result, _ = run(gavel, horizon="7d")
    assert result.metrics["jobs"] > 10
    pollux = TrainingJobSpec(
        name="pollux",
        instance_type="ml.g5.12xlarge",
        trigger={
            "kind": "trace",
            "format": "pollux",
            "gpus_per_instance": 4,
            "path": str(shared_data / "pollux-workloads" / "simulator" / "workload-1.csv"),
            "runtimes_path": str(shared_data / "philly-runtime-alibaba" / "philly_runtime.csv"),
        },
    )
    result, _ = run(pollux, horizon="1d")
    assert result.metrics["jobs"] == 160
    assert math.isfinite(result.metrics["billable_instance_hours"])


def test_triggers():
    from datetime import datetime

    import numpy as np

    from smsim.workload.jobs import cron_times, poisson_times

    start = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
    assert list(cron_times("0 2 * * *", "UTC", start, 3 * 86400) / 3600) == [2, 26, 50]
    # 09:30 Berlin (UTC+1) on weekdays: Thu, Fri, then Mon.
    assert list(cron_times("30 9 * * 1-5", "Europe/Berlin", start, 5 * 86400) / 3600) == [
        8.5,
        32.5,
        104.5,
    ]
    counts = [len(poisson_times(10, 86400, np.random.default_rng(s))) for s in range(400)]
    assert abs(np.mean(counts) - 10) < 4 * np.sqrt(10 / 400)
    with pytest.raises(ValidationError, match="bad schedule"):
        TrainingJobSpec(
            name="x", trigger={"kind": "cron", "cron": "61 * * * *"}, instance_type="ml.g5.xlarge"
        )


def test_a_relative_job_trace_is_read_beside_the_scenario(tmp_path, monkeypatch):
    # the scenario names `jobs.csv`; it sits beside the scenario, and smsim runs from elsewhere
    from typer.testing import CliRunner

    from smsim.cli import app

    folder = tmp_path / "account"
    folder.mkdir()
    pd.DataFrame({"submit_s": [0, 600], "instance_count": [1, 1], "runtime_s": [3600, 1800]}).to_csv(
        folder / "jobs.csv", index=False)
    (folder / "s.yaml").write_text(
        "name: t\nhorizon: {duration_s: 1d}\ntraining_jobs:\n"
        "  - name: tr\n    trigger: {kind: trace, path: jobs.csv}\n    instance_type: ml.g5.xlarge\n"
        "    provisioning_s: 0\n    download_s: 0\n    upload_s: 0\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = CliRunner().invoke(app, ["run", str(folder / "s.yaml"), "--no-store", "--json"])
    assert out.exit_code == 0, out.output
    import json

    doc = json.loads(out.stdout)
    (res,) = [r for r in doc["resources"] if r["resource_id"] == "tr"]
    assert res["billable_instance_hours"] == pytest.approx(1.5)  # 3600 s + 1800 s on one instance
