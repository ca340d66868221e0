"""Scaling decisions as Application Auto Scaling makes them, as pure functions.

Every function here is ``f(context) -> decision``: all memory (CloudWatch alarm datapoint
history, time of the last scale-out and scale-in) lives in :class:`PolicyState`, which comes in
with the context and goes out with the decision. The SimPy control loop
(:mod:`smsim.resources.scaling.autoscaler`) and the fluid tier (:mod:`smsim.resources.scaling.fluid`) both call these same
functions, so the two tiers make the same decisions for the same metrics.

Model of one evaluation (once per one-minute CloudWatch period, after the period ends):

1. The finished period's datapoint is compared with each alarm threshold and appended to the
   alarm's history. An alarm is in ALARM when at least ``datapoints`` of the last
   ``evaluation_periods`` datapoints breach. A period without a datapoint (SageMaker publishes
   no Invocations datapoint for a minute without traffic) does not breach unless the policy says
   ``missing_data: zero``.
2. While an alarm is in ALARM the policy is invoked every minute (CloudWatch re-invokes scaling
   actions each minute an alarm stays in ALARM).
3. Target tracking: ``desired = ceil(in_service x metric / target)``. ``in_service`` is the
   number of instances the per-instance metric is averaged over, so ``in_service x metric`` is
   the total load; using the desired capacity instead (which counts instances still
   provisioning) would re-apply the same load growth every minute of a ~10 minute start-up.
   Scale-out happens when ``desired > capacity``: during the scale-out cooldown this is AWS's
   "only a larger scale-out", and the capacity added by the scale-out in progress is already
   part of ``capacity``. Scale-in happens when the low alarm is in ALARM, ``desired < capacity``,
   scale-in is enabled, and neither the scale-in cooldown nor the scale-out cooldown is running
   (a scale-out during a scale-in cooldown is immediate).
4. Step scaling: the step whose bounds contain ``metric - threshold`` gives the adjustment.
   During the cooldown after a scale-out, a further scale-out is computed from the capacity
   before that scale-out and happens only if larger; scale-in waits for the cooldown to end.
5. The result is clamped to ``[min_capacity, max_capacity]``. Cooldowns start only when a
   decision is applied (see :func:`combine`).

Async endpoints scaling from zero: with ``capacity == 0`` and a backlog, a policy on a backlog
metric scales straight to ``max(1, ceil(backlog / target))`` without waiting for its alarm.

Real-time endpoints scaling from zero (SageMaker inference components with minimum copies 0): a
request that arrives while no instance is InService fails and counts in
``no_capacity_invocation_failures`` (CloudWatch's NoCapacityInvocationFailures); a step-scaling
alarm on that metric launches instances like any step policy. A minute with such failures had
demand the endpoint could not serve, so it never breaches a target-tracking low alarm (smsim's
assumption: otherwise the low alarm of an idle endpoint, in ALARM before the failures, would
terminate the instance the step policy just launched, every minute).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from smsim.resources.scaling.spec import ScheduledAction, StepScaling, TargetTracking

Action = Literal["none", "scale_out", "scale_in"]
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Metrics:
    """One finished one-minute CloudWatch period of an endpoint variant.

    ``in_service`` is the time-averaged number of InService instances during the period (the
    denominator of every per-instance metric); utilizations are percent of the in-service
    capacity (0-100); ``backlog`` is the number of queued requests at the end of the period;
    ``no_capacity_failures`` counts the requests that failed because no instance was InService.
    """

    start_s: float
    invocations: float
    in_service: float
    cpu_utilization: float = 0.0
    gpu_utilization: float = 0.0
    backlog: float = 0.0
    no_capacity_failures: float = 0.0
    #: requests in flight per model copy, time-averaged (None: the data plane does not publish it)
    concurrent_requests_per_copy: float | None = None

    def value(self, metric: str) -> float | None:
        """The CloudWatch datapoint for ``metric``, or None when CloudWatch would publish none."""
        if metric == "invocations_per_instance":
            if self.invocations <= 0 or self.in_service <= 0:
                return None
            return self.invocations / self.in_service
        if metric in ("cpu_utilization", "gpu_utilization"):
            return None if self.in_service <= 0 else getattr(self, metric)
        if metric == "backlog_per_instance":
            return self.backlog / self.in_service if self.in_service > 0 else self.backlog
        if metric == "backlog":
            return self.backlog
        if metric == "concurrent_requests_per_copy":
            return None if self.in_service <= 0 else self.concurrent_requests_per_copy
        if metric == "no_capacity_invocation_failures":
            return self.no_capacity_failures if self.no_capacity_failures > 0 else None
        raise ValueError(f"unknown metric {metric!r}")


@dataclass(frozen=True, slots=True)
class PolicyState:
    """A policy's memory: alarm histories (oldest first) and its last scaling activities."""

    high: tuple[bool, ...] = ()
    low: tuple[bool, ...] = ()
    last_scale_out_s: float = -math.inf
    last_scale_in_s: float = -math.inf
    scale_out_from: int = 0


@dataclass(frozen=True, slots=True)
class ScalingContext:
    """What one policy sees at one evaluation.

    ``capacity`` is the desired capacity of the scalable target (instances InService plus those
    still provisioning); ``now_s`` is the evaluation time (the end of ``metrics``' period).
    """

    policy: TargetTracking | StepScaling
    now_s: float
    capacity: int
    metrics: Metrics
    min_capacity: int
    max_capacity: int
    state: PolicyState = PolicyState()


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy's proposal: ``desired`` (equal to the capacity when ``action`` is ``none``)."""

    desired: int
    action: Action
    state: PolicyState
    reason: str


def breaches(value: float | None, threshold: float, comparison: str, missing_data: str) -> bool:
    """Whether one datapoint breaches an alarm threshold (a missing datapoint per ``missing_data``)."""
    if value is None:
        if missing_data != "zero":
            return False
        value = 0.0
    if comparison == ">":
        return value > threshold
    if comparison == ">=":
        return value >= threshold
    if comparison == "<":
        return value < threshold
    return value <= threshold


def _push(history: tuple[bool, ...], flag: bool, periods: int) -> tuple[bool, ...]:
    return (history + (flag,))[-periods:]


def _in_alarm(history: tuple[bool, ...], datapoints: int) -> bool:
    return sum(history) >= datapoints


def _clamp(n: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, n))


def alarm_shapes(policy: TargetTracking | StepScaling) -> list[tuple[str, float, str, int, int, str]]:
    """The policy's alarms as ``(metric, threshold, comparison, datapoints, periods, side)``.

    ``side`` is ``high`` or ``low`` (the history slot in :class:`PolicyState`). The fluid tier
    uses this to skip minutes in which no alarm is in ALARM.
    """
    if getattr(policy, "kind", None) == "predictive":
        return []  # compiled into scheduled minimum capacities before the run (smsim.resources.scaling.predictive)
    if isinstance(policy, TargetTracking):
        return [
            (policy.metric, policy.target_value, ">", policy.scale_out_datapoints,
             policy.scale_out_evaluation_periods, "high"),
            (policy.metric, policy.scale_in_fraction * policy.target_value, "<",
             policy.scale_in_datapoints, policy.scale_in_evaluation_periods, "low"),
        ]
    return [(policy.metric, policy.threshold, policy.comparison, policy.datapoints, policy.evaluation_periods, "high")]


def decide(ctx: ScalingContext) -> Decision:
    """One policy's decision for one finished period (see the module docstring for the rules)."""
    if getattr(ctx.policy, "kind", None) == "predictive":
        return Decision(ctx.capacity, "none", ctx.state, "predictive: scheduled minimum capacities")
    if isinstance(ctx.policy, TargetTracking):
        return _target_tracking(ctx)
    return _step_scaling(ctx)


def _target_tracking(ctx: ScalingContext) -> Decision:
    p, m, cap = ctx.policy, ctx.metrics, ctx.capacity
    value = m.value(p.metric)
    st = ctx.state
    state = PolicyState(
        _push(st.high, breaches(value, p.target_value, ">", p.missing_data), p.scale_out_evaluation_periods),
        _push(st.low, m.no_capacity_failures <= 0
              and breaches(value, p.scale_in_fraction * p.target_value, "<", p.missing_data),
              p.scale_in_evaluation_periods),
        st.last_scale_out_s, st.last_scale_in_s, st.scale_out_from,
    )
    if cap == 0 and p.metric in ("backlog", "backlog_per_instance") and m.backlog > 0:
        want = _clamp(max(1, math.ceil(m.backlog / p.target_value - _EPS)), max(ctx.min_capacity, 1), ctx.max_capacity)
        return Decision(want, "scale_out", state, f"scale from zero: backlog {m.backlog:g} > 0")
    base = m.in_service if m.in_service > 0 else 1.0
    load = None if value is None else base * value
    if _in_alarm(state.high, p.scale_out_datapoints) and load is not None:
        want = _clamp(math.ceil(load / p.target_value - _EPS), ctx.min_capacity, ctx.max_capacity)
        if want > cap:
            return Decision(want, "scale_out", state, f"high alarm: ceil({base:g} x {value:g} / {p.target_value:g}) = {want}")
        return Decision(cap, "none", state, f"high alarm but desired {want} <= capacity {cap}")
    if _in_alarm(state.low, p.scale_in_datapoints):
        if p.disable_scale_in:
            return Decision(cap, "none", state, "low alarm; scale-in disabled")
        if ctx.now_s - state.last_scale_out_s < p.scale_out_cooldown_s:
            return Decision(cap, "none", state, "low alarm; blocked by scale-out cooldown")
        if ctx.now_s - state.last_scale_in_s < p.scale_in_cooldown_s:
            return Decision(cap, "none", state, "low alarm; blocked by scale-in cooldown")
        raw = 0 if load is None else math.ceil(load / p.target_value - _EPS)
        want = _clamp(raw, ctx.min_capacity, ctx.max_capacity)
        if want < cap:
            return Decision(want, "scale_in", state, f"low alarm: desired {want} < capacity {cap}")
        return Decision(cap, "none", state, f"low alarm but desired {want} >= capacity {cap}")
    return Decision(cap, "none", state, "no alarm")


def _percent_delta(capacity: int, pct: float, min_magnitude: int | None) -> int:
    """AWS rounding for PercentChangeInCapacity: toward zero, but at least 1 in magnitude."""
    x = capacity * pct / 100.0
    if x >= 1 or x <= -1:
        delta = math.floor(x) if x > 0 else math.ceil(x)
    elif x > 0:
        delta = 1
    elif x < 0:
        delta = -1
    else:
        delta = 0
    if min_magnitude is not None and delta != 0 and abs(delta) < min_magnitude:
        delta = min_magnitude if delta > 0 else -min_magnitude
    return delta


def step_for(policy: StepScaling, diff: float):
    """The step containing ``diff = metric - threshold``, or None."""
    above = policy.comparison in (">", ">=")
    for s in policy.steps:
        lo = -math.inf if s.lower_bound is None else s.lower_bound
        hi = math.inf if s.upper_bound is None else s.upper_bound
        if (above and lo <= diff < hi) or (not above and lo < diff <= hi):
            return s
    return None


def _step_scaling(ctx: ScalingContext) -> Decision:
    p, cap = ctx.policy, ctx.capacity
    value = ctx.metrics.value(p.metric)
    if value is None and p.missing_data == "zero":
        value = 0.0
    st = ctx.state
    state = PolicyState(
        _push(st.high, breaches(value, p.threshold, p.comparison, p.missing_data), p.evaluation_periods),
        st.low, st.last_scale_out_s, st.last_scale_in_s, st.scale_out_from,
    )
    if not _in_alarm(state.high, p.datapoints) or value is None:
        return Decision(cap, "none", state, "no alarm")
    step = step_for(p, value - p.threshold)
    if step is None:
        return Decision(cap, "none", state, f"alarm but no step contains {value - p.threshold:g}")
    in_out_cooldown = ctx.now_s - state.last_scale_out_s < p.cooldown_s
    base = state.scale_out_from if in_out_cooldown else cap
    if p.adjustment_type == "ExactCapacity":
        raw = int(step.adjustment)
    elif p.adjustment_type == "PercentChangeInCapacity":
        raw = base + _percent_delta(base, step.adjustment, p.min_adjustment_magnitude)
    else:
        raw = base + int(step.adjustment)
    want = _clamp(raw, ctx.min_capacity, ctx.max_capacity)
    if want > cap:
        note = f" (cooldown: from {base})" if in_out_cooldown else ""
        return Decision(want, "scale_out", state, f"step {step.adjustment:g}{note} -> {want}")
    if want < cap:
        last = max(state.last_scale_out_s, state.last_scale_in_s)
        if ctx.now_s - last < p.cooldown_s:
            return Decision(cap, "none", state, "scale-in blocked by cooldown")
        return Decision(want, "scale_in", state, f"step {step.adjustment:g} -> {want}")
    return Decision(cap, "none", state, f"step gives {want} = capacity")


@dataclass(frozen=True, slots=True)
class Combined:
    desired: int
    states: tuple[PolicyState, ...]
    action: Action
    reason: str


def combine(
    policies: tuple, capacity: int, decisions: tuple[Decision, ...], now_s: float
) -> Combined:
    """Merge several policies' decisions the way Application Auto Scaling does.

    The largest scale-out wins. Otherwise scale-in happens only if every target-tracking policy
    proposes it (step-scaling scale-ins need no agreement), to the largest proposed capacity.
    The cooldown of each policy whose proposal is applied starts at ``now_s``.
    """
    outs = [d.desired for d in decisions if d.action == "scale_out"]
    if outs:
        want = max(outs)
        states = tuple(
            _started_out(p, d.state, capacity, now_s) if d.action == "scale_out" and d.desired == want else d.state
            for p, d in zip(policies, decisions)
        )
        reason = next(d.reason for d in decisions if d.action == "scale_out" and d.desired == want)
        return Combined(want, states, "scale_out", reason)
    tt = [d for p, d in zip(policies, decisions) if isinstance(p, TargetTracking)]
    ins = [
        d.desired for p, d in zip(policies, decisions)
        if d.action == "scale_in" and (isinstance(p, StepScaling) or all(x.action == "scale_in" for x in tt))
    ]
    if ins:
        want = max(ins)
        states = tuple(
            PolicyState(d.state.high, d.state.low, d.state.last_scale_out_s, now_s, d.state.scale_out_from)
            if d.action == "scale_in" and d.desired == want else d.state
            for d in decisions
        )
        reason = next(d.reason for d in decisions if d.action == "scale_in" and d.desired == want)
        return Combined(want, states, "scale_in", reason)
    return Combined(capacity, tuple(d.state for d in decisions), "none", "")


def _started_out(policy, state: PolicyState, capacity: int, now_s: float) -> PolicyState:
    """State after an applied scale-out; within a running cooldown the pre-cooldown base is kept."""
    cooldown = policy.scale_out_cooldown_s if isinstance(policy, TargetTracking) else policy.cooldown_s
    base = state.scale_out_from if now_s - state.last_scale_out_s < cooldown else capacity
    return PolicyState(state.high, state.low, now_s, state.last_scale_in_s, base)


def apply_scheduled(
    capacity: int, min_capacity: int, max_capacity: int, action: ScheduledAction
) -> tuple[int, int, int]:
    """``(min, max, desired)`` after a scheduled action: new bounds, capacity clamped into them.

    When the action sets only one bound and it crosses the other, the other bound moves with it
    (so the pair stays ordered).
    """
    lo = min_capacity if action.min_capacity is None else action.min_capacity
    hi = max_capacity if action.max_capacity is None else action.max_capacity
    if lo > hi:
        if action.max_capacity is None:
            hi = lo
        else:
            lo = hi
    return lo, hi, _clamp(capacity, lo, hi)
