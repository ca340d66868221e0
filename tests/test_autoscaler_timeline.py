"""Hand-checkable autoscaling timelines on the SimPy clock with a tiny deterministic data plane."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import simpy

from smsim import rng
from smsim.core.meter import Meter
from smsim.resources.scaling.autoscaler import Autoscaler, CapacityTimeline, in_service_series
from smsim.resources.scaling.policies import Metrics
from smsim.resources.scaling.provisioning import Z99, distribution
from smsim.resources.scaling.spec import AutoscalingSpec

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeDataPlane:
    """Invocations per minute from a table by minute index; no queueing, no randomness."""

    def __init__(self, per_minute) -> None:
        self.per_minute = per_minute
        self.timeline: CapacityTimeline | None = None
        self.last_s = 0.0

    def advance(self, until_s: float) -> Metrics:
        minute = int(self.last_s // 60)
        inv = float(self.per_minute(minute))
        served_by = self.timeline.in_service_mean(self.last_s, until_s)
        metrics = Metrics(self.last_s, inv, served_by)
        self.last_s = until_s
        return metrics


def run(spec: dict, load, horizon_s: float, seed: int = 0):
    env = simpy.Environment()
    plane = FakeDataPlane(load)
    meter = Meter()
    scaler = Autoscaler(
        env, AutoscalingSpec(**spec), plane, rng=rng.stream(seed, "endpoint", "e", "provisioning"),
        start=START, horizon_s=horizon_s, resource_id="e", instance_type="ml.g5.xlarge", meter=meter,
    )
    plane.timeline = scaler.timeline
    scaler.start()
    env.run(until=horizon_s)
    scaler.finish()
    return scaler, meter


TT = {"kind": "target_tracking", "target_value": 70}


def load_step(minute: int) -> float:
    """50/min for minutes 0-9, 200/min for 10-39, 60/min from minute 40."""
    return 50 if minute < 10 else 200 if minute < 40 else 60


def test_target_tracking_step_load_timeline():
    scaler, _ = run({"min_capacity": 1, "max_capacity": 10, "policies": [TT]}, load_step, 90 * 60)
    ev = scaler.events_frame()
    acts = ev[ev.event != "start"][["time_s", "event", "capacity"]].values.tolist()
    # Minutes 10, 11, 12 breach 70 (200 per instance); the third datapoint is evaluated at the end
    # of minute 12 = 780 s: desired = ceil(1 x 200 / 70) = 3.
    # Minutes 40..54 are below 63 (60 / 3 = 20 per instance); the 15th is evaluated at 3300 s:
    # desired = ceil(3 x 20 / 70) = 1.
    assert acts == [[780.0, "scale_out", 3], [3300.0, "scale_in", 1]]
    tl = scaler.timeline
    assert tl.in_service_at(1379.9) == 1  # launched at 780 s, InService after 600 s
    assert tl.in_service_at(1380.0) == 3
    assert tl.in_service_at(3300.0) == 1


def test_conservation_billed_equals_instance_integral():
    horizon = 90 * 60
    scaler, meter = run({"min_capacity": 1, "max_capacity": 10, "policies": [TT]}, load_step, horizon)
    usage = meter.frame()
    billed = float(((usage.end_s - usage.start_s) * usage.quantity).sum())
    # integral of the instance count (launched, not terminated) by hand: 1 instance 0-780 s,
    # 3 instances 780-3300 s, 1 instance 3300-5400 s
    assert billed == pytest.approx(780 + 3 * (3300 - 780) + (5400 - 3300))
    assert billed == pytest.approx(scaler.timeline.billed_s(horizon))
    # billed time exceeds served time by exactly the two provisioning delays
    served = in_service_series(scaler.timeline, horizon).sum() * 60
    assert billed - served == pytest.approx(2 * 600)
    assert set(usage.instance_type) == {"ml.g5.xlarge"} and (usage.quantity == 1).all()


def test_step_scaling_cooldown_blocks_second_scale_out():
    step = {
        "kind": "step_scaling", "threshold": 100, "comparison": ">=", "cooldown_s": 300,
        "steps": [{"lower_bound": 0, "adjustment": 1}],
    }
    scaler, _ = run(
        {"min_capacity": 1, "max_capacity": 10, "policies": [step]},
        lambda k: 50 if k < 10 else 300, 20 * 60,
    )
    ev = scaler.events_frame()
    outs = ev[ev.event == "scale_out"]
    # minute 10 is evaluated at 660 s: +1. Minutes 11-14 breach again but the cooldown (until
    # 960 s) only allows a larger step from the pre-cooldown base (1 + 1 = 2 = capacity).
    # At 960 s the cooldown has ended and the new instance is still provisioning (ready 1260 s):
    # +1 from capacity 2 -> 3. This is the over-scaling a cooldown shorter than start-up gives.
    assert outs[["time_s", "capacity"]].values.tolist() == [[660.0, 2], [960.0, 3]]


def test_pending_capacity_prevents_repeat_target_tracking_scale_out():
    scaler, _ = run({"min_capacity": 1, "max_capacity": 10, "policies": [TT]}, lambda k: 200, 30 * 60)
    ev = scaler.events_frame()
    assert ev[ev.event == "scale_out"].time_s.tolist() == [180.0]  # minutes 0, 1, 2 breach


def test_scheduled_action_changes_min_and_max_at_cron_time():
    spec = {
        "min_capacity": 1, "max_capacity": 10, "policies": [TT],
        "scheduled_actions": [
            {"name": "morning", "schedule": "cron(30 0 * * ? *)", "min_capacity": 4},
            # 02:00 in Berlin (UTC+1 in January) is 01:00 UTC = 3600 s
            {"name": "cap", "schedule": "at(2026-01-01T02:00:00)", "timezone": "Europe/Berlin",
             "min_capacity": 1, "max_capacity": 2},
        ],
    }
    scaler, _ = run(spec, lambda k: 50, 2 * 3600)  # 50/min never breaches 70
    ev = scaler.events_frame()
    acts = ev[ev.event != "start"][["time_s", "event", "capacity", "min_capacity", "max_capacity"]].values.tolist()
    # The low alarm (below 63) is in ALARM from minute 15 on, but capacity sits at min until
    # the second action lowers min to 1: the same evaluation then scales in to
    # ceil(4 x 12.5 / 70) = 1 (no scale-in has happened before, so no cooldown applies).
    assert acts == [
        [1800.0, "scheduled", 4, 4, 10],
        [3600.0, "scheduled", 2, 1, 2],
        [3600.0, "scale_in", 1, 1, 2],
    ]
    tl = scaler.timeline
    assert (tl.in_service_at(2399), tl.in_service_at(2400), tl.in_service_at(3600)) == (1, 4, 1)


def test_scale_in_terminates_pending_then_newest():
    env = simpy.Environment()
    spec = AutoscalingSpec(min_capacity=1, max_capacity=10, initial_capacity=3)
    scaler = Autoscaler(env, spec, FakeDataPlane(lambda k: 0), rng=rng.stream(0, "p"), start=START, horizon_s=3600)
    scaler.set_desired(5, 100.0)  # two pending until 700 s
    scaler.set_desired(2, 200.0)
    ended = sorted(i.instance_id for i in scaler.timeline.instances if i.end_s == 200.0)
    assert ended == ["endpoint-i2", "endpoint-i3", "endpoint-i4"]
    assert scaler.capacity == 2


def test_random_delays_are_seeded_and_reproducible():
    spec = {"min_capacity": 1, "max_capacity": 10, "policies": [TT],
            "provisioning": {"kind": "lognormal", "median_s": 480, "p99_s": 900}}
    a, _ = run(spec, load_step, 90 * 60, seed=7)
    b, _ = run(spec, load_step, 90 * 60, seed=7)
    c, _ = run(spec, load_step, 90 * 60, seed=8)
    assert a.ready_times() == b.ready_times()
    assert a.ready_times() != c.ready_times()


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "fixed", "delay_s": 600},
        {"kind": "uniform", "low_s": 300, "high_s": 900},
        {"kind": "lognormal", "median_s": 600, "p99_s": 1200},
    ],
)
def test_provisioning_declared_moments(spec):
    from pydantic import TypeAdapter

    from smsim.resources.scaling.spec import ProvisioningDelay

    dist = distribution(TypeAdapter(ProvisioningDelay).validate_python(spec))
    x = dist.sample(rng.stream(1, "moments"), 200_000)
    se = np.sqrt(dist.var_s2 / x.size)
    assert abs(x.mean() - dist.mean_s) <= 5 * se + 1e-9
    if dist.var_s2 > 0:
        assert x.var() == pytest.approx(dist.var_s2, rel=0.05)
    if spec["kind"] == "lognormal":
        assert np.median(x) == pytest.approx(600, rel=0.01)
        assert np.quantile(x, 0.99) == pytest.approx(1200, rel=0.03)
        assert Z99 == pytest.approx(2.326, abs=1e-3)
