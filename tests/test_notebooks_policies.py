"""Notebook instances and Studio: stop policies against hand-computed on-time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import simpy

from smsim.core.engine import SimContext
from smsim.core.meter import Meter
from smsim.resources.notebooks.model import NotebookModel, merge
from smsim.resources.notebooks.spec import NotebookSpec
from smsim.scenario.schema import Scenario


def run(spec, horizon="7d"):
    ctx = SimContext(
        env=simpy.Environment(),
        scenario=Scenario(name="n", horizon={"duration_s": horizon}),
        seed=0,
        meter=Meter(),
    )
    model = NotebookModel(spec, ctx)
    model.start(ctx)
    return model.finish(ctx), ctx.meter.frame()


def test_idle_shutdown_on_a_trace(tmp_path):
    path = tmp_path / "sessions.csv"
    pd.DataFrame(
        {"user": ["ana", "ana", "ana"], "start_s": [0, 4000, 10000], "end_s": [3600, 5000, 11000]}
    ).to_csv(path, index=False)
    spec = NotebookSpec(
        name="nb",
        users=1,
        trace_path=str(path),
        policy="idle-shutdown",
        idle_timeout_s="30m",
        storage_gb_per_user=20,
    )
    result, usage = run(spec, horizon="1d")
    inst = usage[usage.usage_kind == "instance"]
    # The 400 s gap is shorter than 30 min: one interval to 5000 + 1800; then 10000..12800.
    assert inst[["start_s", "end_s"]].values.tolist() == [[0, 6800], [10000, 12800]]
    assert inst.tags.iloc[0]["smsim:user"] == "nb-000"
    vol = usage[usage.usage_kind == "storage"].iloc[0]
    assert (vol.rate_key, vol.start_s, vol.end_s, vol.quantity) == (
        "ml_storage_notebook_gb_month",
        0,
        86400,
        20,
    )
    assert result.metrics["instance_hours"] == pytest.approx(9600 / 3600)
    assert result.metrics["active_hours"] == pytest.approx(5600 / 3600)


def test_always_on_and_schedule_hours():
    base = {"name": "st", "kind": "studio", "users": 3, "instance_type": "ml.m5.xlarge"}
    always, usage = run(NotebookSpec(**base, policy="always-on"))
    assert always.metrics["instance_hours"] == pytest.approx(3 * 7 * 24)
    assert set(usage[usage.usage_kind == "storage"].rate_key) == {"studio_storage_gb_month"}
    assert set(usage[usage.usage_kind == "instance"].component) == {"Studio"}
    # 2026-01-01 is a Thursday: 5 weekdays (Thu, Fri, Mon, Tue, Wed) of 10 h in a week.
    sched, _ = run(NotebookSpec(**base, policy="schedule"))
    assert sched.metrics["instance_hours"] == pytest.approx(3 * 5 * 10)


def test_idle_shutdown_bounds_and_absence():
    spec = NotebookSpec(name="ds", users=20, policy="idle-shutdown", idle_timeout_s="1h")
    result, _ = run(spec, horizon="28d")
    per_user = result.series
    assert (per_user.on_hours >= per_user.active_hours - 1e-9).all()
    # On-time exceeds activity by at most one timeout per active period; the gap per user-day is
    # between one timeout (end of day) and the whole day.
    assert result.metrics["instance_hours"] < result.metrics["active_hours"] + 20 * 20 * (10 + 3)
    absent, usage = run(NotebookSpec(name="away", users=2, absence_probability=1.0))
    assert absent.metrics["instance_hours"] == 0
    assert len(usage[usage.usage_kind == "storage"]) == 2


def test_merge():
    iv = np.array([[5.0, 6.0], [0.0, 2.0], [1.0, 3.0], [3.0, 4.0]])
    assert merge(iv).tolist() == [[0.0, 4.0], [5.0, 6.0]]
