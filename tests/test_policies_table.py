"""Scaling policies as tables: each row is a context and the decision Application Auto Scaling makes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from smsim.resources.scaling.policies import (
    Decision,
    Metrics,
    PolicyState,
    ScalingContext,
    apply_scheduled,
    combine,
    decide,
)
from smsim.resources.scaling.spec import (
    AutoscalingSpec,
    ScheduledAction,
    StepScaling,
    TargetTracking,
)

TT = TargetTracking(target_value=70)  # 3/3 out, 15/15 in below 63, cooldowns 300 s
NOW = 3600.0
HI3 = (True, True)  # two earlier breaching datapoints; the row's datapoint makes the third
LO15 = (True,) * 14


def m(inv_per_instance: float, in_service: float, backlog: float = 0.0) -> Metrics:
    return Metrics(start_s=NOW - 60, invocations=inv_per_instance * in_service, in_service=in_service, backlog=backlog)


# columns: description, capacity, metrics, state, (min, max), expected desired, expected action
TARGET_TRACKING_ROWS = [
    ("first breach: alarm not yet in ALARM", 1, m(200, 1), PolicyState(), (1, 10), 1, "none"),
    ("two of three: still waiting", 1, m(200, 1), PolicyState(high=(True,)), (1, 10), 1, "none"),
    ("third breach fires: ceil(1*200/70)=3", 1, m(200, 1), PolicyState(high=HI3), (1, 10), 3, "scale_out"),
    ("exactly at target does not breach", 2, m(70, 2), PolicyState(high=HI3), (1, 10), 2, "none"),
    ("clamped to max", 2, m(700, 2), PolicyState(high=HI3), (1, 10), 10, "scale_out"),
    ("pending instances already cover load", 3, m(200, 1), PolicyState(high=HI3), (1, 10), 3, "none"),
    ("in scale-out cooldown a larger scale-out proceeds", 3, m(300, 1),
     PolicyState(high=HI3, last_scale_out_s=NOW - 120), (1, 10), 5, "scale_out"),
    ("in scale-out cooldown a smaller one does not", 3, m(150, 1),
     PolicyState(high=HI3, last_scale_out_s=NOW - 120), (1, 10), 3, "none"),
    ("scale-in after 15 low datapoints: ceil(4*30/70)=2", 4, m(30, 4), PolicyState(low=LO15), (1, 10), 2, "scale_in"),
    ("14 low datapoints are not enough", 4, m(30, 4), PolicyState(low=(True,) * 13), (1, 10), 4, "none"),
    ("64 is above 0.9*70=63: no breach", 4, m(64, 4), PolicyState(low=LO15), (1, 10), 4, "none"),
    ("scale-in clamped at min", 4, m(5, 4), PolicyState(low=LO15), (2, 10), 2, "scale_in"),
    ("scale-in blocked by scale-in cooldown", 4, m(30, 4),
     PolicyState(low=LO15, last_scale_in_s=NOW - 299), (1, 10), 4, "none"),
    ("scale-in allowed when cooldown just ended", 4, m(30, 4),
     PolicyState(low=LO15, last_scale_in_s=NOW - 300), (1, 10), 2, "scale_in"),
    ("scale-in blocked by scale-out cooldown", 4, m(30, 4),
     PolicyState(low=LO15, last_scale_out_s=NOW - 60), (1, 10), 4, "none"),
    ("scale-out during scale-in cooldown is immediate", 2, m(200, 2),
     PolicyState(high=HI3, last_scale_in_s=NOW - 60), (1, 10), 6, "scale_out"),
    ("no traffic publishes no datapoint: never low", 4, m(0, 4), PolicyState(low=LO15), (1, 10), 4, "none"),
]


@pytest.mark.parametrize(
    "why,capacity,metrics,state,bounds,desired,action", TARGET_TRACKING_ROWS, ids=[r[0] for r in TARGET_TRACKING_ROWS]
)
def test_target_tracking(why, capacity, metrics, state, bounds, desired, action):
    d = decide(ScalingContext(TT, NOW, capacity, metrics, bounds[0], bounds[1], state))
    assert (d.desired, d.action) == (desired, action), d.reason


def test_missing_as_zero_lets_an_idle_endpoint_scale_in():
    p = TargetTracking(target_value=70, missing_data="zero")
    d = decide(ScalingContext(p, NOW, 4, m(0, 4), 1, 10, PolicyState(low=LO15)))
    assert (d.desired, d.action) == (1, "scale_in")


def test_disable_scale_in():
    p = TargetTracking(target_value=70, disable_scale_in=True)
    d = decide(ScalingContext(p, NOW, 4, m(30, 4), 1, 10, PolicyState(low=LO15)))
    assert d.action == "none"


def test_history_is_bounded_and_passed_out():
    d = decide(ScalingContext(TT, NOW, 1, m(200, 1), 1, 10, PolicyState(high=(False, True, True))))
    assert d.state.high == (True, True, True)
    assert len(d.state.low) == 1


ASYNC = TargetTracking(metric="backlog_per_instance", target_value=5)


@pytest.mark.parametrize(
    "capacity,backlog,in_service,desired,action",
    [
        (0, 0, 0, 0, "none"),  # nothing queued: stay at zero
        (0, 1, 0, 1, "scale_out"),  # one request queued: at least one instance, no alarm wait
        (0, 12, 0, 3, "scale_out"),  # ceil(12/5) = 3
        (2, 12, 2, 2, "none"),  # with capacity, the alarm rules apply again (first breach)
    ],
)
def test_scale_from_zero(capacity, backlog, in_service, desired, action):
    metrics = Metrics(NOW - 60, 0.0, in_service, backlog=backlog)
    d = decide(ScalingContext(ASYNC, NOW, capacity, metrics, 0, 10))
    assert (d.desired, d.action) == (desired, action)


STEP_OUT = StepScaling(
    threshold=100, comparison=">=",
    steps=[{"lower_bound": 0, "upper_bound": 50, "adjustment": 1}, {"lower_bound": 50, "adjustment": 3}],
    cooldown_s=300,
)
STEP_IN = StepScaling(threshold=20, comparison="<", steps=[{"upper_bound": 0, "adjustment": -1}], cooldown_s=300)
PCT = StepScaling(
    threshold=100, adjustment_type="PercentChangeInCapacity", steps=[{"lower_bound": 0, "adjustment": 25}],
)
PCT_MIN = StepScaling(
    threshold=100, adjustment_type="PercentChangeInCapacity", min_adjustment_magnitude=2,
    steps=[{"lower_bound": 0, "adjustment": 25}],
)
EXACT = StepScaling(threshold=100, adjustment_type="ExactCapacity", steps=[{"lower_bound": 0, "adjustment": 6}])

STEP_ROWS = [
    ("below threshold: no alarm", STEP_OUT, 2, m(99, 2), PolicyState(), 2, "none"),
    ("lower bound inclusive: diff 0 -> +1", STEP_OUT, 2, m(100, 2), PolicyState(), 3, "scale_out"),
    ("diff 49.9 -> +1", STEP_OUT, 2, m(149.9, 2), PolicyState(), 3, "scale_out"),
    ("diff 50 -> +3", STEP_OUT, 2, m(150, 2), PolicyState(), 5, "scale_out"),
    ("in cooldown, same step from the pre-cooldown base: no change", STEP_OUT, 3, m(120, 3),
     PolicyState(last_scale_out_s=NOW - 60, scale_out_from=2), 3, "none"),
    ("in cooldown, a larger step: base 2 + 3 = 5", STEP_OUT, 3, m(160, 3),
     PolicyState(last_scale_out_s=NOW - 60, scale_out_from=2), 5, "scale_out"),
    ("after cooldown, same step from current capacity", STEP_OUT, 3, m(120, 3),
     PolicyState(last_scale_out_s=NOW - 300, scale_out_from=2), 4, "scale_out"),
    ("below-threshold alarm: upper bound inclusive, -1", STEP_IN, 3, m(10, 3), PolicyState(), 2, "scale_in"),
    ("scale-in waits for the cooldown", STEP_IN, 3, m(10, 3), PolicyState(last_scale_in_s=NOW - 100), 3, "none"),
    ("scale-in clamped at min", STEP_IN, 1, m(10, 1), PolicyState(), 1, "none"),
    ("percent: 25% of 10 = 2.5 rounds down to 2", PCT, 10, m(150, 10), PolicyState(), 12, "scale_out"),
    ("percent: 25% of 2 = 0.5 rounds up to 1", PCT, 2, m(150, 2), PolicyState(), 3, "scale_out"),
    ("percent with min magnitude 2", PCT_MIN, 2, m(150, 2), PolicyState(), 4, "scale_out"),
    ("exact capacity 6", EXACT, 2, m(150, 2), PolicyState(), 6, "scale_out"),
]


@pytest.mark.parametrize("why,policy,capacity,metrics,state,desired,action", STEP_ROWS, ids=[r[0] for r in STEP_ROWS])
def test_step_scaling(why, policy, capacity, metrics, state, desired, action):
    d = decide(ScalingContext(policy, NOW, capacity, metrics, 1, 20, state))
    assert (d.desired, d.action) == (desired, action), d.reason


def test_step_alarm_needs_its_datapoints():
    p = StepScaling(threshold=100, datapoints=2, evaluation_periods=3, steps=[{"lower_bound": 0, "adjustment": 1}])
    first = decide(ScalingContext(p, NOW, 2, m(150, 2), 1, 20))
    assert first.action == "none"
    second = decide(ScalingContext(p, NOW + 60, 2, m(150, 2), 1, 20, first.state))
    assert (second.desired, second.action) == (3, "scale_out")


def _d(desired, action):
    return Decision(desired, action, PolicyState(), "")


@pytest.mark.parametrize(
    "policies,decisions,desired,action",
    [
        ((TT, TT), (_d(5, "scale_out"), _d(7, "scale_out")), 7, "scale_out"),
        ((TT, TT), (_d(2, "scale_in"), _d(4, "none")), 4, "none"),  # target tracking: all must agree
        ((TT, TT), (_d(2, "scale_in"), _d(3, "scale_in")), 3, "scale_in"),  # the larger capacity
        ((STEP_OUT, STEP_IN), (_d(4, "none"), _d(3, "scale_in")), 3, "scale_in"),  # step scale-in alone
        ((TT, STEP_IN), (_d(6, "scale_out"), _d(3, "scale_in")), 6, "scale_out"),  # out beats in
    ],
)
def test_combine(policies, decisions, desired, action):
    c = combine(policies, 4, decisions, NOW)
    assert (c.desired, c.action) == (desired, action)


def test_combine_starts_cooldown_of_applied_policy_only():
    c = combine((TT, TT), 4, (_d(5, "scale_out"), _d(7, "scale_out")), NOW)
    assert c.states[1].last_scale_out_s == NOW and c.states[1].scale_out_from == 4
    assert c.states[0].last_scale_out_s == -math.inf


@pytest.mark.parametrize(
    "capacity,bounds,new_min,new_max,expected",
    [
        (2, (1, 10), 5, None, (5, 10, 5)),  # raising min raises capacity
        (8, (1, 10), None, 4, (1, 4, 4)),  # lowering max lowers capacity
        (3, (1, 10), 2, 6, (2, 6, 3)),  # inside the new bounds: unchanged
        (3, (1, 4), 6, None, (6, 6, 6)),  # min above old max drags max along
    ],
)
def test_scheduled(capacity, bounds, new_min, new_max, expected):
    action = ScheduledAction(schedule="cron(0 8 * * ? *)", min_capacity=new_min, max_capacity=new_max)
    assert apply_scheduled(capacity, bounds[0], bounds[1], action) == expected


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(0, 30), inv=st.floats(0, 5000), in_service=st.integers(0, 30),
    lo=st.integers(1, 10), span=st.integers(0, 20), hi_hist=st.integers(0, 3), lo_hist=st.integers(0, 15),
    policy=st.sampled_from([TT, STEP_OUT, STEP_IN, PCT, EXACT, ASYNC]),
)
def test_every_policy_stays_within_min_max(capacity, inv, in_service, lo, span, hi_hist, lo_hist, policy):
    hi = lo + span
    capacity = min(max(capacity, lo), hi)
    state = PolicyState(high=(True,) * hi_hist, low=(True,) * lo_hist)
    d = decide(ScalingContext(policy, NOW, capacity, m(inv, in_service, backlog=inv), lo, hi, state))
    assert lo <= d.desired <= hi
    assert (d.action == "none") == (d.desired == capacity)


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"min_capacity": 5, "max_capacity": 2}, "min_capacity 5 > max_capacity 2"),
        ({"min_capacity": 0, "max_capacity": 2}, "scale_to_zero is false"),
        ({"policies": [{"kind": "target_tracking", "target_value": 0}]}, "greater than 0"),
        ({"policies": [{"kind": "target_tracking", "target_value": 5, "scale_in_datapoints": 20}]},
         "scale_in_datapoints is 20 but scale_in_evaluation_periods is 15"),
        ({"policies": [{"kind": "step_scaling", "threshold": 1, "steps": [
            {"lower_bound": 0, "upper_bound": 10, "adjustment": 1}, {"lower_bound": 5, "adjustment": 2}]}]}, "overlap"),
        ({"scheduled_actions": [{"schedule": "cron(0 25 * * ? *)", "min_capacity": 1}]}, "23"),
        ({"provisioning": {"kind": "lognormal", "median_s": 600, "p99_s": 300}}, "p99_s 300.0 must exceed median_s 600.0"),
    ],
)
def test_spec_errors_quote_values(kwargs, fragment):
    with pytest.raises(ValidationError) as err:
        AutoscalingSpec(**{"max_capacity": 4, **kwargs})
    assert fragment in str(err.value)
