"""S3 lifecycle cohorts and transfers against hand-computed GB-months."""

from __future__ import annotations

import pytest
import simpy
from pydantic import ValidationError

from smsim.core.engine import SimContext
from smsim.core.meter import Meter
from smsim.resources.storage.model import S3Model, TransferModel
from smsim.resources.storage.spec import S3DataSpec, TransferSpec
from smsim.scenario.schema import Scenario
from smsim.units import DAY, MONTH


def run(model_cls, spec, horizon="200d"):
    ctx = SimContext(
        env=simpy.Environment(),
        scenario=Scenario(name="s", horizon={"duration_s": horizon}),
        seed=0,
        meter=Meter(),
    )
    model = model_cls(spec, ctx)
    model.start(ctx)
    return model.finish(ctx), ctx.meter.frame()


def test_lifecycle_transitions_and_early_deletion():
    spec = S3DataSpec(
        name="ckpt",
        initial_gb=100,
        object_size_mb=64,
        transitions=[
            {"after_days": 30, "storage_class": "standard_ia"},
            {"after_days": 60, "storage_class": "glacier_flexible"},
        ],
        expiration_days=100,
    )
    result, usage = run(S3Model, spec)
    st = usage[usage.usage_kind == "storage"].sort_values("start_s")
    assert st[["rate_key", "start_s", "end_s", "quantity"]].values.tolist() == [
        ["s3_standard_gb_month", 0, 30 * DAY, 100],
        ["s3_standard_ia_gb_month", 30 * DAY, 60 * DAY, 100],
        ["s3_glacier_flexible_gb_month", 60 * DAY, 100 * DAY, 100],
    ]
    early = usage[usage.component == "S3:EarlyDelete"]
    # 40 days in Glacier Flexible against its 90-day minimum: 50 days charged at deletion.
    assert early.rate_key.tolist() == ["s3_glacier_flexible_gb_month"]
    assert early.quantity.iloc[0] == pytest.approx(100 * 50 * DAY / MONTH)
    assert early.start_s.iloc[0] == 100 * DAY
    puts = usage[usage.rate_key == "s3_put_requests_per_1000"].quantity.sum()
    assert puts == pytest.approx(100 * 1024 / 64 / 1000)
    assert result.metrics["gb_at_horizon"] == 0


def test_linear_growth_gb_months():
    spec = S3DataSpec(name="logs", growth_gb_per_day=10)
    result, _ = run(S3Model, spec, horizon="30d")
    # Linear growth to 300 GB: the integral is 10 GB/day x 30^2 / 2 day^2 = 4500 GB-days.
    assert result.metrics["standard_gb_months"] == pytest.approx(4500 * DAY / MONTH)


def test_lifecycle_rules_are_checked():
    with pytest.raises(ValidationError, match="30 days in Standard"):
        S3DataSpec(name="x", transitions=[{"after_days": 7, "storage_class": "standard_ia"}])
    with pytest.raises(ValidationError, match="colder class"):
        S3DataSpec(
            name="x",
            transitions=[
                {"after_days": 40, "storage_class": "glacier_ir"},
                {"after_days": 90, "storage_class": "standard_ia"},
            ],
        )


def test_transfer_amounts():
    result, usage = run(
        TransferModel,
        TransferSpec(name="egress", rate_key="endpoint_data_out_gb", gb_per_day=48),
        horizon="36h",
    )
    assert usage.quantity.tolist() == pytest.approx([48, 24])
    assert result.metrics["gb"] == pytest.approx(72)
