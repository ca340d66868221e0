"""Batch transform and processing: hand-computed usage, and the job queue against M/D/1 theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from pydantic import ValidationError

from smsim.core.engine import SimContext
from smsim.core.meter import Meter
from smsim.resources.batch.model import BatchTransformModel, ProcessingModel
from smsim.resources.batch.spec import BatchTransformSpec, ProcessingJobSpec
from smsim.resources.fleet.model import FleetModel
from smsim.resources.fleet.spec import FleetSpec
from smsim.scenario.schema import Scenario


def run(model_cls, spec, horizon="1d", seed=0):
    ctx = SimContext(
        env=simpy.Environment(),
        scenario=Scenario(name="b", horizon={"duration_s": horizon}),
        seed=seed,
        meter=Meter(),
    )
    model = model_cls(spec, ctx)
    model.start(ctx)
    ctx.env.run(until=ctx.horizon_s)
    return model.finish(ctx), ctx.meter.frame()


def test_nightly_batch_transform_usage():
    spec = BatchTransformSpec(
        name="score",
        trigger={"kind": "cron", "cron": "0 1 * * *"},
        instance_type="ml.c5.xlarge",
        instance_count=4,
        records_per_job=1_440_000,
        records_per_instance_s=100,
        provisioning_s=300,
        startup_s=120,
    )
    result, usage = run(BatchTransformModel, spec, horizon="2d")
    inst = usage[usage.usage_kind == "instance"]
    # 1.44 M records / (4 x 100 per s) = 3600 s of processing.
    assert list(inst.start_s) == [3600 + 300, 86400 + 3600 + 300]
    assert list(inst.end_s - inst.start_s) == [120 + 3600, 120 + 3600]
    assert set(inst.component) == {"BatchTransform"} and set(inst.quantity) == {4}
    assert result.metrics["instance_hours"] == pytest.approx(2 * 4 * 3720 / 3600)


def test_processing_queue_limits_concurrency():
    spec = ProcessingJobSpec(
        name="etl",
        trigger={"kind": "once", "at_s": [0, 0, 0]},
        instance_type="ml.m5.xlarge",
        gb_per_job=10,
        gb_per_instance_hour=10,
        provisioning_s=0,
        startup_s=0,
        max_concurrent_jobs=2,
    )
    result, usage = run(ProcessingModel, spec)
    assert sorted(usage[usage.usage_kind == "instance"].start_s) == [0, 0, 3600]
    assert result.metrics["max_wait_s"] == 3600


def test_job_queue_matches_md1_waiting_time():
    """Poisson submissions, fixed job time S, one slot: Wq = rho S / (2 (1 - rho)) (P-K)."""
    service = 3600.0
    rho = 0.6
    spec = ProcessingJobSpec(
        name="q",
        trigger={"kind": "poisson", "rate_per_day": rho * 86400 / service},
        instance_type="ml.m5.xlarge",
        records_per_job=service,
        records_per_instance_s=1,
        provisioning_s=0,
        startup_s=0,
    )
    result, _ = run(ProcessingModel, spec, horizon="600d", seed=5)
    waits = result.series["wait_s"].to_numpy()[200:]
    batches = np.array([b.mean() for b in np.array_split(waits, 20)])
    se = batches.std(ddof=1) / math.sqrt(batches.size)
    expected = rho * service / (2 * (1 - rho))
    assert abs(batches.mean() - expected) < 4 * se, (batches.mean(), expected, se)


def test_batch_vs_realtime_endpoint_for_the_same_bulk_work():
    """Same nightly 1.44 M records: a batch job bills ~1 h of 4 instances, an endpoint 24 h of 2."""
    batch, _ = run(
        BatchTransformModel,
        BatchTransformSpec(
            name="bt",
            trigger={"kind": "cron", "cron": "0 1 * * *"},
            instance_type="ml.c5.xlarge",
            instance_count=4,
            records_per_job=1_440_000,
            records_per_instance_s=100,
        ),
        horizon="7d",
    )
    ctx = SimContext(
        env=simpy.Environment(),
        scenario=Scenario(name="e", horizon={"duration_s": "7d"}),
        seed=0,
        meter=Meter(),
    )
    endpoint = FleetModel(FleetSpec(name="ep", instance_type="ml.c5.xlarge", count=2), ctx)
    endpoint.start(ctx)
    assert batch.metrics["instance_hours"] == pytest.approx(7 * 4 * (120 + 3600) / 3600)
    assert endpoint.finish(ctx).metrics["instance_hours"] == pytest.approx(7 * 24 * 2)


def test_size_must_be_given_once():
    with pytest.raises(ValidationError, match="give either records_per_job"):
        BatchTransformSpec(
            name="x",
            trigger={"kind": "once", "at_s": [0]},
            instance_type="ml.c5.xlarge",
            records_per_job=10,
        )
