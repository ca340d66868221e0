"""Predictive scaling: the pure decision as a table, the schedule, and the cost/SLA comparison."""

from __future__ import annotations

import numpy as np
import pytest

from smsim import api
from smsim.errors import InputError
from smsim.resources.realtime.predictive import with_predictive
from smsim.resources.scaling.predictive import (
    PredictiveContext,
    decide_predictive,
    plan,
    resolve_predictive,
    seasonal_naive,
)
from smsim.resources.scaling.predictive_spec import PredictiveScaling
from smsim.resources.scaling.spec import AutoscalingSpec, ScheduledAction, TargetTracking
from tests.conftest import SCENARIOS

POLICY = PredictiveScaling(target_value=60)
DAY = np.r_[np.full(9, 3600.0), np.full(8, 36000.0), np.full(7, 3600.0)]  # invocations per hour


@pytest.mark.parametrize(("load", "lo", "hi", "want"), [
    (np.full(24, 3600.0 * 5), 1, 10, [5] * 48),          # 300/min / 60 per instance
    (np.full(24, 3600.0 * 5 + 1), 1, 10, [6] * 48),      # any excess needs one more
    (np.full(24, 0.0), 2, 10, [2] * 48),                 # never below min_capacity
    (np.full(24, 3600.0 * 50), 1, 8, [8] * 48),          # HonorMaxCapacity
    (np.tile(DAY, 2), 1, 20, [1] * 9 + [10] * 8 + [1] * 7 + [1] * 9 + [10] * 8 + [1] * 7),
])
def test_decision_table(load, lo, hi, want):
    d = decide_predictive(PredictiveContext(POLICY, 0.0, load, lo, hi))
    assert d.min_capacity.tolist() == want


def test_no_forecast_before_min_history():
    d = decide_predictive(PredictiveContext(POLICY, 0.0, np.full(23, 1e5), 1, 10))
    assert d.min_capacity.size == 0 and "23 h" in d.reason


def test_seasonal_naive_weekly_and_daily():
    week = np.arange(168, dtype=float)
    assert seasonal_naive(np.tile(week, 2), 48).tolist() == week[:48].tolist()
    assert seasonal_naive(np.tile(DAY, 3), 30).tolist() == np.tile(DAY, 2)[:30].tolist()


def test_plan_uses_only_the_past_and_launches_before_the_hour():
    minutes = np.repeat(np.tile(DAY, 3) / 60.0, 60)
    hours = plan(POLICY, minutes, 1, 20)
    # day 1 has no forecast (the first one needs 24 h of load); later hours use the latest
    # forecast made at or before launch = hour start - 600 s
    assert hours.forecast.iloc[:25].isna().all()
    assert hours.min_capacity.iloc[24 + 9: 24 + 17].tolist() == [10] * 8
    assert (hours.launch_s == hours.hour * 3600.0 - 600.0).all()
    assert (hours.forecast_made_s <= hours.launch_s).all()
    # changing traffic after a forecast never changes that forecast
    later = minutes.copy()
    later[60 * 50:] *= 3
    again = plan(POLICY, later, 1, 20)
    made = again.forecast_made_s <= 50 * 3600.0
    assert again[made].equals(hours[made])


def test_resolve_schedules_minimums_and_refuses_clashing_actions():
    spec = AutoscalingSpec(min_capacity=1, max_capacity=20, policies=[TargetTracking(target_value=60)])
    from datetime import UTC, datetime

    start = datetime(2026, 3, 2, tzinfo=UTC)
    minutes = np.repeat(np.tile(DAY, 3) / 60.0, 60)
    out = resolve_predictive(spec, minutes, start, policy=POLICY)
    assert [p.kind for p in out.policies] == ["target_tracking"]
    ups = [a for a in out.scheduled_actions if a.min_capacity == 10]
    assert ups[0].schedule == "at(2026-03-03T08:50:00)"
    bad = spec.model_copy(update={"scheduled_actions": [ScheduledAction(schedule="cron(0 8 * * ? *)", min_capacity=3)]})
    with pytest.raises(InputError, match="set min_capacity"):
        resolve_predictive(bad, minutes, start, policy=POLICY)


def test_predictive_beats_target_tracking_on_timeouts_at_a_known_peak():
    # A six-fold jump at 09:00 every day; instances take 10 minutes to come up. Target tracking
    # reacts after the jump; predictive scaling has the peak capacity InService at 09:00 from the
    # second day on (the first forecast needs 24 h of load).
    base = api.load_scenario(SCENARIOS / "predictive_scaling.yaml")
    scn = with_predictive(base, "predictive", POLICY)
    res = {r["resource_id"]: r for r in api.run_scenario(scn).summary["resources"]}
    reactive, predictive = res["reactive"], res["predictive"]
    assert reactive["requests"] == predictive["requests"]
    assert predictive["timed_out"] < 0.5 * reactive["timed_out"]
    assert predictive["sla_attainment"] > reactive["sla_attainment"]
    # the price: a little more capacity, bounded by the scheduled minimums
    assert 1.0 <= predictive["cost_usd"] / reactive["cost_usd"] < 1.10
    assert predictive["scheduled_actions"] >= 6
