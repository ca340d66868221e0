"""The fluid tier: an autoscaled endpoint over months at one-minute resolution, without SimPy.

The minutes run in the compiled loop of :mod:`smsim.resources.scaling.fluid_kernel` (the queue of
each minute: stable, overloaded or saturated); this module keeps the fleet and the policies.

Scaling uses the very same :func:`~smsim.resources.scaling.policies.decide`, :func:`~smsim.resources.scaling.policies.combine`
and :func:`~smsim.resources.scaling.policies.apply_scheduled` as the SimPy autoscaler, evaluated after each
minute. For speed, a compiled kernel runs the minutes in which no decision can change capacity
(no alarm in ALARM that could act, no scheduled action due, no scale-from-zero), and Python
calls the policies only at the other minutes, handing them the alarm history the kernel
recorded. ``every_minute=True`` calls the policies after every minute instead; the two modes
give identical results (tested).

Provisioning: instances launched at an evaluation become InService after a delay from
:mod:`smsim.resources.scaling.provisioning`; a minute in which an instance becomes ready counts it for the
fraction of the minute it serves. Instances are billed from launch to termination.

No capacity: in a minute that starts with no instance InService, the arrivals before the first
instance becomes ready (all of them when none does) fail at once (``no_capacity``; arrivals are
taken as uniform within the minute) and only the others are offered to the queue; the
``arrivals`` column counts those offered. Several instances becoming ready in one such minute
count from the earliest; a pending instance cancelled in the minute it would have become ready
still counts (rare: scale-in removes pending instances only when the load falls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from scipy.special import ndtri

from smsim.core.fluid import ServiceModel
from smsim.core.meter import Meter
from smsim.cron import fire_times_s
from smsim.resources.scaling.fluid_kernel import (
    CMP_CODE,
    METRIC_CODE,
    MINUTE_COLUMNS,
    backlog_reading,
    run_minutes,
)
from smsim.resources.scaling.policies import (
    Metrics,
    PolicyState,
    ScalingContext,
    alarm_shapes,
    apply_scheduled,
    combine,
    decide,
)
from smsim.resources.scaling.provisioning import distribution
from smsim.resources.scaling.spec import AutoscalingSpec, StepScaling, TargetTracking


@dataclass
class FluidResult:
    """Per-minute records, instance lifecycles (seconds), and scaling activities."""

    minutes: pd.DataFrame
    instances: pd.DataFrame  # instance_id, launch_s, ready_s, end_s
    events: list[tuple] = field(default_factory=list)  # (time_s, event, capacity, detail)
    policy_calls: int = 0

    def instance_seconds(self) -> float:
        return float((self.instances.end_s - self.instances.launch_s).sum())

    def meter(self, meter: Meter, resource_id: str, instance_type: str,
              component: str = "RealTimeInference", tags: dict[str, str] | None = None) -> None:
        """Record every instance interval (launch to termination) as instance usage."""
        for row in self.instances.itertuples(index=False):
            meter.instance(f"{resource_id}-{row.instance_id}",
                           "endpoint_instance", component, instance_type, row.launch_s, row.end_s, 1, "OnDemand", tags)


class _Fleet:
    """Instance lifecycles in the fluid tier, kept as difference arrays the kernel integrates."""

    def __init__(self, n_minutes: int, spec: AutoscalingSpec, rng) -> None:
        self.frac = np.zeros(n_minutes + 2)
        self.d_full = np.zeros(n_minutes + 2)
        self.frac_pos = np.zeros(n_minutes + 2)  # the part of frac from instances becoming ready
        self.cover_max = np.zeros(n_minutes + 2)  # the largest share of its minute one of them serves
        self.n = n_minutes
        self.live: list[list] = []  # [id, launch_s, ready_s]
        self.done: list[tuple] = []
        self.delay = distribution(spec.provisioning)
        self.rng = rng
        self.order = spec.termination_order
        self._next = 0

    def _coverage(self, ready_s: float, sign: float, becoming_ready: bool = True) -> None:
        m = ready_s / 60.0
        mi = math.floor(m)
        if mi >= self.n:
            return
        share = mi + 1 - m
        self.frac[mi] += sign * share
        self.d_full[mi + 1] += sign
        if becoming_ready:
            self.frac_pos[mi] += sign * share
            if sign > 0:
                self.cover_max[mi] = max(self.cover_max[mi], share)

    def launch(self, now: float, ready_s: float | None = None) -> None:
        ready = now + float(self.delay.sample(self.rng)) if ready_s is None else ready_s
        self.live.append([f"i{self._next}", now, ready])
        self._next += 1
        self._coverage(ready, 1.0)

    def terminate(self, now: float, count: int) -> None:
        pending = [x for x in self.live if x[2] > now][::-1]
        serving = [x for x in self.live if x[2] <= now]
        if self.order == "newest_first":
            serving = serving[::-1]
        for inst in (pending + serving)[:count]:
            self.live.remove(inst)
            # in service over [ready, now): cancel the ready step if it is still ahead
            self._coverage(max(inst[2], now), -1.0, becoming_ready=inst[2] > now)
            self.done.append((inst[0], inst[1], inst[2], now))

    @property
    def capacity(self) -> int:
        return len(self.live)


def simulate_fluid(
    arrivals_per_minute: np.ndarray,
    spec: AutoscalingSpec,
    service: ServiceModel,
    *,
    rng: np.random.Generator,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    every_minute: bool = False,
    arrival_times_s: np.ndarray | None = None,
    readings_rng: np.random.Generator | None = None,
) -> FluidResult:
    """Simulate an autoscaled endpoint minute by minute over ``len(arrivals_per_minute)`` minutes.

    ``arrival_times_s`` (sorted), when given, place each minute's arrivals in it, so a burst that
    starts late in a minute is still queued at its end (the backlog the policies read).
    ``readings_rng``, when given, draws the count in processing in each backlog reading of an
    internal queue (:func:`~smsim.resources.scaling.fluid_kernel.backlog_reading`); without it
    a reading is the median count."""
    arrivals = np.ascontiguousarray(arrivals_per_minute, dtype=np.float64)
    n = arrivals.size
    horizon_s = 60.0 * n
    cum = np.concatenate(([0.0], np.cumsum(arrivals)))
    if arrival_times_s is not None and len(arrival_times_s):
        t_arr = np.ascontiguousarray(arrival_times_s, dtype=np.float64)
        t_first = np.searchsorted(t_arr, np.arange(n + 1) * 60.0).astype(np.int64)
    else:
        t_arr, t_first = np.zeros(0), np.zeros(n + 1, dtype=np.int64)
    drawn = readings_rng is not None and service.queue_without_capacity
    read_u = readings_rng.random(n) if drawn else np.zeros(0)
    read_z = ndtri(read_u) if drawn else np.zeros(0)
    fleet = _Fleet(n, spec, rng)
    for _ in range(spec.start_capacity):
        fleet.launch(0.0, ready_s=0.0)
    policies = tuple(spec.policies)
    shapes = [(pi, s) for pi, p in enumerate(policies) for s in alarm_shapes(p)]
    n_al = len(shapes)
    alarm_i = np.array(
        [[METRIC_CODE[sh[0]], CMP_CODE[sh[2]], sh[3], sh[4], _kind(policies[pi], sh),
          int(policies[pi].missing_data == "zero")] for pi, sh in shapes], dtype=np.int64,
    ).reshape(n_al, 6)
    alarm_f = np.array(
        [[sh[1], getattr(policies[pi], "target_value", 1.0)] for pi, sh in shapes], dtype=np.float64,
    ).reshape(n_al, 2)
    alarm_dyn = np.zeros((n_al, 2))
    svc = np.array([service.service_mean_s, service.service_scv, service.arrival_scv,
                    float(service.concurrency_per_instance), service.timeout_s, service.service_p99_s(),
                    float(service.queue_without_capacity)])
    svc_q = service.service_points()
    svc_prefix = np.concatenate(([0.0], np.cumsum(svc_q)))
    by_policy = [[(a, sh[4], sh[5]) for a, (pi, sh) in enumerate(shapes) if pi == q] for q in range(len(policies))]
    flags = np.zeros((n_al, n), dtype=np.int8)
    out = np.zeros((len(MINUTE_COLUMNS) - 1, n))
    fires: dict[int, list[int]] = {}
    for k, action in enumerate(spec.scheduled_actions):
        for t in fire_times_s(action.schedule, action.timezone, start, horizon_s):
            fires.setdefault(max(math.ceil(t / 60.0) - 1, 0), []).append(k)
    fire_minutes = sorted(fires)
    lo, hi = spec.min_capacity, spec.max_capacity
    states = [PolicyState() for _ in policies]
    events: list[tuple] = []
    calls = 0
    count, backlog, k = 0.0, 0.0, 0
    fire_pos = 0
    while k < n:
        while fire_pos < len(fire_minutes) and fire_minutes[fire_pos] < k:
            fire_pos += 1
        k_stop = fire_minutes[fire_pos] + 1 if fire_pos < len(fire_minutes) else n
        cap = fleet.capacity
        for a, (pi, sh) in enumerate(shapes):
            alarm_dyn[a, 0] = _can_act(policies[pi], sh, cap, lo, hi)
            alarm_dyn[a, 1] = _block_until(policies[pi], sh, states[pi])
        k_last, count, backlog = run_minutes(
            k, k_stop, every_minute, arrivals, cum, fleet.frac, fleet.d_full, fleet.frac_pos, fleet.cover_max, count,
            backlog, svc, svc_q, svc_prefix, alarm_i, alarm_f, alarm_dyn, flags, cap, lo, hi, out, t_arr, t_first,
            read_u, read_z,
        )
        now = 60.0 * (k_last + 1)
        for idx in fires.get(k_last, []):
            action = spec.scheduled_actions[idx]
            lo, hi, want = apply_scheduled(fleet.capacity, lo, hi, action)
            _set(fleet, want, now)
            events.append((now, "scheduled", fleet.capacity, f"{action.name}: min {lo} max {hi}"))
        if policies and now < horizon_s:  # as on the SimPy clock, nothing is evaluated at the horizon
            col = out[:, k_last].tolist()
            c_eff = col[2] * service.concurrency_per_instance
            backlog = (backlog_reading(col[9], col[3] * c_eff, c_eff, read_u[k_last] if drawn else 0.5,
                                       read_z[k_last] if drawn else 0.0, drawn)
                       if service.queue_without_capacity else col[9])
            metrics = Metrics(60.0 * k_last, col[0], col[2], 100 * col[3], 100 * col[3], backlog, col[11])
            cap = fleet.capacity
            decisions = []
            for pi, p in enumerate(policies):
                st = states[pi]
                if not every_minute:
                    st = _with_history(st, flags, by_policy[pi], k_last)
                decisions.append(decide(ScalingContext(p, now, cap, metrics, lo, hi, st)))
            calls += 1
            merged = combine(policies, cap, tuple(decisions), now)
            states = list(merged.states)
            if merged.action != "none":
                _set(fleet, merged.desired, now)
                events.append((now, merged.action, fleet.capacity, merged.reason))
        k = k_last + 1
    frame = pd.DataFrame(out.T, columns=MINUTE_COLUMNS[1:])
    frame.insert(0, "start_s", np.arange(n) * 60.0)
    rows = list(fleet.done) + [(x[0], x[1], x[2], horizon_s) for x in fleet.live]
    inst = pd.DataFrame(rows, columns=["instance_id", "launch_s", "ready_s", "end_s"])
    inst["end_s"] = inst.end_s.clip(upper=horizon_s)
    return FluidResult(frame, inst, events, calls)


def _kind(policy, shape) -> int:
    """Kernel filter kind: 0 target-tracking high alarm, 1 its low alarm, 2 step scaling."""
    if isinstance(policy, TargetTracking):
        return 0 if shape[5] == "high" else 1
    return 2


def _block_until(policy, shape, state: PolicyState) -> float:
    """The time before which a target-tracking low alarm cannot scale in (cooldowns, disabled)."""
    if isinstance(policy, TargetTracking) and shape[5] == "low":
        if policy.disable_scale_in:
            return math.inf
        return max(state.last_scale_out_s + policy.scale_out_cooldown_s, state.last_scale_in_s + policy.scale_in_cooldown_s)
    return 0.0


def _can_act(policy, shape, capacity: int, lo: int, hi: int) -> bool:
    """Whether an alarm in ALARM could change capacity (conservative: True when unsure)."""
    if isinstance(policy, TargetTracking):
        if shape[5] == "high":
            return capacity < hi
        return capacity > lo and not policy.disable_scale_in
    assert isinstance(policy, StepScaling)
    return lo < hi or capacity != lo


def _with_history(state: PolicyState, flags, alarms, k: int) -> PolicyState:
    """``state`` with its alarm histories set from the kernel's flags for minutes before ``k``."""
    high: tuple[bool, ...] = ()
    low: tuple[bool, ...] = ()
    for a, periods, side in alarms:
        window = tuple(flags[a, max(0, k - periods + 1):k].astype(np.bool_).tolist())
        if side == "high":
            high = window
        else:
            low = window
    return PolicyState(high, low, state.last_scale_out_s, state.last_scale_in_s, state.scale_out_from)


def _set(fleet: _Fleet, desired: int, now: float) -> None:
    cap = fleet.capacity
    for _ in range(desired - cap):
        fleet.launch(now)
    if desired < cap:
        fleet.terminate(now, cap - desired)
