"""The fluid tier: an autoscaled endpoint over months at one-minute resolution, without SimPy.

Per minute ``k`` (period ``[60k, 60k + 60)``), with ``A`` arrivals, ``s`` InService instances
(time-averaged over the minute) and ``c = s x concurrency`` servers of rate ``mu = 1 / E[S]``:

* **Stable minutes** (no backlog, ``A < c mu 60``): everything is served; the mean wait is
  Allen-Cunneen's ``Wq = C(c, a) / (c mu - lam) x (ca2 + cs2) / 2`` with Erlang C ``C`` and
  ``a = lam / mu``; the wait tail is ``P(W > t) = C exp(-t (c mu - lam) / f)``, ``f = (ca2 + cs2)/2``
  (the same forms as :func:`smsim.queueing.allen_cunneen_wq` and
  :func:`smsim.queueing.gg_c_p_wait_gt`); requests whose wait exceeds the invocation timeout
  time out, and the p99 wait inverts the tail.
* **Overloaded minutes** (or minutes that start with a backlog) are a fluid queue:
  ``backlog' = backlog + A - c mu 60`` (not below 0). The mean wait is the mean backlog over
  the minute divided by the service rate; the p99 wait is the larger end backlog over the rate
  (the last request in line).
* **Saturated minutes**: FIFO keeps the newest requests queued, so a backlog larger than the
  arrivals of the last ``timeout_s`` seconds means the head of the queue reaches its deadline.
  The request kernel (:mod:`smsim.sim.kernel`) then starts each request just before its
  deadline, with a slack ``delta``, and cuts those whose service exceeds it at the deadline
  (holding the server until then): nothing abandons the queue, but most starts time out in
  service. The fluid tier takes that equilibrium: the ``L = backlog + A - recent`` requests
  leaving the queue share the minute's ``c x 60`` server-seconds, so ``delta`` solves
  ``E[min(S, delta)] = c x 60 / L``; ``L x P(S <= delta)`` are served (latency between
  ``timeout - delta`` and the timeout), the rest time out, the servers are fully busy, and
  the queue keeps the recent arrivals. ``delta`` is in the ``slack_s`` column (0 otherwise).
  ``S`` is the service distribution given as equal-probability quantile points
  (:attr:`ServiceModel.quantiles_s`; a lognormal with the given mean and scv by default).
* p99 latency is the p99 wait plus a p99 service time from a lognormal with the given mean
  and scv (an approximation; the sum of quantiles overstates the quantile of the sum).

Scaling uses the very same :func:`~smsim.sim.policies.decide`, :func:`~smsim.sim.policies.combine`
and :func:`~smsim.sim.policies.apply_scheduled` as the SimPy autoscaler, evaluated after each
minute. For speed, a compiled kernel runs the minutes in which no decision can change capacity
(no alarm in ALARM that could act, no scheduled action due, no scale-from-zero), and Python
calls the policies only at the other minutes, handing them the alarm history the kernel
recorded. ``every_minute=True`` calls the policies after every minute instead; the two modes
give identical results (tested).

Provisioning: instances launched at an evaluation become InService after a delay from
:mod:`smsim.sim.provisioning`; a minute in which an instance becomes ready counts it for the
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

import numba
import numpy as np
import pandas as pd
from scipy.special import ndtri

from smsim.cron import fire_times_s
from smsim.scenario.autoscaling import AutoscalingSpec, StepScaling, TargetTracking
from smsim.sim.meter import Meter
from smsim.sim.policies import (
    Metrics,
    PolicyState,
    ScalingContext,
    alarm_shapes,
    apply_scheduled,
    combine,
    decide,
)
from smsim.sim.provisioning import distribution

#: Columns of :attr:`FluidResult.minutes`.
MINUTE_COLUMNS = [
    "start_s", "arrivals", "capacity", "in_service", "utilization", "wait_mean_s", "wait_p99_s",
    "latency_p99_s", "served", "timed_out", "backlog", "slack_s", "no_capacity",
]
_METRIC_CODE = {"invocations_per_instance": 0, "cpu_utilization": 1, "gpu_utilization": 1,
                "backlog_per_instance": 2, "backlog": 3, "no_capacity_invocation_failures": 4}
_CMP_CODE = {">": 0, ">=": 1, "<": 2, "<=": 3}
_Z99 = 2.3263478740408408


@dataclass(frozen=True)
class ServiceModel:
    """How one instance serves: concurrency, service-time moments, arrival burstiness, timeout.

    ``timeout_s`` is 60 s for real-time endpoints (SageMaker's invocation timeout); use the
    async queue's limit for asynchronous endpoints.
    """

    service_mean_s: float
    service_scv: float = 1.0
    arrival_scv: float = 1.0
    concurrency_per_instance: int = 1
    timeout_s: float = 60.0
    #: Equal-probability quantile points of the service time (s); None: lognormal(mean, scv).
    quantiles_s: tuple[float, ...] | None = None

    def service_p99_s(self) -> float:
        if self.service_scv <= 0:
            return self.service_mean_s
        sigma = math.sqrt(math.log1p(self.service_scv))
        return self.service_mean_s * math.exp(-sigma * sigma / 2 + _Z99 * sigma)

    def service_points(self, n: int = 512) -> np.ndarray:
        """Sorted quantile points of the service time, rescaled so that their mean is the mean."""
        if self.quantiles_s is not None:
            q = np.sort(np.asarray(self.quantiles_s, dtype=np.float64))
        elif self.service_scv <= 0:
            q = np.full(n, self.service_mean_s)
        else:
            sigma = math.sqrt(math.log1p(self.service_scv))
            q = np.exp(sigma * ndtri((np.arange(n) + 0.5) / n))
        m = q.mean()
        return q * (self.service_mean_s / m) if m > 0 else np.full(q.size, self.service_mean_s)


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


@numba.njit(cache=True)
def _erlang_c(c: int, a: float) -> float:
    if c <= 0 or a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - (a / c) * (1.0 - b))


@numba.njit(cache=True)
def _slack(q, prefix, g):
    """``(delta, P(S <= delta))`` with ``E[min(S, delta)] = g`` for the service distribution given
    by sorted equal-probability points ``q`` (``prefix[j]`` = sum of the ``j`` smallest)."""
    n = q.shape[0]
    if g <= 0.0:
        return 0.0, 0.0
    if g >= prefix[n] / n:
        return q[n - 1], 1.0
    # smallest j with E[min(S, q[j])] = (prefix[j] + (n - j) q[j]) / n >= g
    a, b = 0, n - 1
    while a < b:
        mid = (a + b) // 2
        if (prefix[mid] + (n - mid) * q[mid]) / n >= g:
            b = mid
        else:
            a = mid + 1
    # on [q[a-1], q[a]] the points below delta complete: P(S <= delta) = a / n exactly
    return (n * g - prefix[a]) / (n - a), a / n


@numba.njit(cache=True)
def _breach(value: float, missing: bool, thr: float, cmp: int, missing_zero: bool) -> bool:
    if missing:
        if not missing_zero:
            return False
        value = 0.0
    if cmp == 0:
        return value > thr
    if cmp == 1:
        return value >= thr
    if cmp == 2:
        return value < thr
    return value <= thr


@numba.njit(cache=True)
def _run(k0, k_stop, every_minute, arrivals, cum_arrivals, frac, d_full, frac_pos, cover_max, count0, backlog0, svc,
         svc_q, svc_prefix, alarm_i, alarm_f, alarm_dyn, flags, capacity, lo, hi, out):
    """Run minutes ``k0 .. k_stop - 1``; return ``(k_last, count, backlog)`` at the first minute
    after which a policy could act (or ``k_stop - 1``). ``out`` rows follow MINUTE_COLUMNS[1:].

    ``svc`` = (mean_s, scv_s, scv_a, concurrency, timeout_s, service_p99_s), ``svc_q`` the sorted
    service quantile points and ``svc_prefix`` their prefix sums; per alarm,
    ``alarm_i`` = (metric, comparison, datapoints, periods, kind, missing_zero),
    ``alarm_f`` = (threshold, target), ``alarm_dyn`` = (can_act, scale-in blocked until s).
    ``frac_pos`` is the part of ``frac`` from instances becoming ready in the minute and
    ``cover_max`` the largest share of the minute one of them serves: in a minute without an
    instance InService from its start, the arrivals before the first one is ready fail
    (no capacity) and are not offered to the queue.
    """
    mean_s, scv_s, scv_a, conc, timeout_s, svc_p99 = svc[0], svc[1], svc[2], svc[3], svc[4], svc[5]
    a_metric, a_cmp, a_dp, a_periods = alarm_i[:, 0], alarm_i[:, 1], alarm_i[:, 2], alarm_i[:, 3]
    a_kind, a_missing_zero = alarm_i[:, 4], alarm_i[:, 5]
    a_thr, a_target = alarm_f[:, 0], alarm_f[:, 1]
    a_can_act, a_block_until = alarm_dyn[:, 0], alarm_dyn[:, 1]
    mu = 1.0 / mean_s
    f = (scv_a + scv_s) / 2.0
    count = count0
    backlog = backlog0
    n_alarms = alarm_i.shape[0] if flags.shape[0] > 0 else 0
    counts = np.zeros(n_alarms, dtype=np.int64)
    for a in range(n_alarms):
        for j in range(max(0, k0 - a_periods[a]), k0):  # the removal below drops k0 - periods
            counts[a] += flags[a, j]
    young_minutes = timeout_s / 60.0
    for k in range(k0, k_stop):
        count += d_full[k]
        s = count + frac[k]
        if s < 1e-12:
            s = 0.0
        A = arrivals[k]
        nc = 0.0
        if s - frac_pos[k] < 0.5:  # no instance InService from the start of the minute
            nc = A * (1.0 - min(max(cover_max[k], 0.0), 1.0))
            A -= nc
        c_eff = s * conc
        rate_min = c_eff * mu * 60.0
        lam = A / 60.0
        served = 0.0
        timed_out = 0.0
        wait_mean = 0.0
        wait_p99 = 0.0
        cut_slack = 0.0
        saturated = False
        if backlog <= 0.0 and A < rate_min:
            c_int = int(round(c_eff))  # noqa: RUF046 (explicit int for numba)
            a_off = lam / mu
            if c_int >= 1 and a_off < c_int and f > 0.0:
                pc = _erlang_c(c_int, a_off)
                slack = c_int * mu - lam
                wait_mean = pc / slack * f
                p_to = pc * math.exp(-timeout_s * slack / f)
                timed_out = A * p_to
                if pc > 0.01:
                    wait_p99 = min(f * math.log(pc / 0.01) / slack, timeout_s)
                wait_mean = min(wait_mean, timeout_s)
            served = A - timed_out
            backlog = 0.0
        else:
            total = backlog + A
            served = min(total, rate_min)
            b1 = total - served
            # FIFO: queued requests older than the timeout exceed the recent arrivals
            young_from = k + 1 - young_minutes  # arrivals after this minute are younger than the timeout
            y_i = int(math.floor(young_from))  # noqa: RUF046 (explicit int for numba)
            if y_i < 0:
                recent = cum_arrivals[k + 1]
            else:
                recent = cum_arrivals[k + 1] - cum_arrivals[y_i] - (young_from - y_i) * arrivals[y_i]
            if b1 > recent:
                # the head of the queue reaches its deadline: starts just before it, cut after
                saturated = True
                leaving = total - recent
                cut_slack, p_ok = _slack(svc_q, svc_prefix, c_eff * 60.0 / leaving)
                served = leaving * p_ok
                timed_out = leaving - served
                b1 = recent
                wait_mean = min((backlog + b1) / 2.0 / (leaving / 60.0), timeout_s)
                wait_p99 = timeout_s - cut_slack
            elif rate_min > 0.0:
                wait_mean = min((backlog + b1) / 2.0 / (rate_min / 60.0), timeout_s)
                wait_p99 = min(max(backlog, b1) / (rate_min / 60.0), timeout_s)
            else:
                wait_mean = timeout_s
                wait_p99 = timeout_s
            backlog = b1
        util = 0.0
        if c_eff > 0.0:
            util = 1.0 if saturated else min(1.0, served * mean_s / (c_eff * 60.0))
        out[0, k] = A
        out[1, k] = capacity
        out[2, k] = s
        out[3, k] = util
        out[4, k] = wait_mean
        out[5, k] = wait_p99
        out[6, k] = timeout_s if saturated else wait_p99 + svc_p99
        out[7, k] = served
        out[8, k] = timed_out
        out[9, k] = backlog
        out[10, k] = cut_slack
        out[11, k] = nc
        stop = every_minute
        if capacity == 0 and backlog > 0.0:
            stop = True
        for a in range(n_alarms):
            m = a_metric[a]
            missing = False
            if m == 0:
                value = A / s if s > 0.0 else 0.0
                missing = A <= 0.0 or s <= 0.0
            elif m == 1:
                value = util * 100.0
                missing = s <= 0.0
            elif m == 2:
                value = backlog / s if s > 0.0 else backlog
            elif m == 3:
                value = backlog
            else:
                value = nc
                missing = nc <= 0.0
            flag = 1 if _breach(value, missing, a_thr[a], a_cmp[a], a_missing_zero[a] == 1) else 0
            if a_kind[a] == 1 and nc > 0.0:
                flag = 0  # unmet demand is never below target (smsim.sim.policies)
            flags[a, k] = flag
            counts[a] += flag
            if k - a_periods[a] >= 0:
                counts[a] -= flags[a, k - a_periods[a]]
            if counts[a] >= a_dp[a] and a_can_act[a] > 0.0:
                kind = a_kind[a]
                if kind == 2:
                    stop = True
                elif kind == 0 and not missing:
                    base = s if s > 0.0 else 1.0
                    want = min(max(math.ceil(base * value / a_target[a] - 1e-9), lo), hi)
                    stop = stop or want > capacity
                elif kind == 1 and 60.0 * (k + 1) >= a_block_until[a]:
                    raw = 0
                    if not missing:
                        base = s if s > 0.0 else 1.0
                        raw = math.ceil(base * value / a_target[a] - 1e-9)
                    want = min(max(raw, lo), hi)
                    stop = stop or want < capacity
        if stop:
            return k, count, backlog
    return k_stop - 1, count, backlog


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
) -> FluidResult:
    """Simulate an autoscaled endpoint minute by minute over ``len(arrivals_per_minute)`` minutes."""
    arrivals = np.ascontiguousarray(arrivals_per_minute, dtype=np.float64)
    n = arrivals.size
    horizon_s = 60.0 * n
    cum = np.concatenate(([0.0], np.cumsum(arrivals)))
    fleet = _Fleet(n, spec, rng)
    for _ in range(spec.start_capacity):
        fleet.launch(0.0, ready_s=0.0)
    policies = tuple(spec.policies)
    shapes = [(pi, s) for pi, p in enumerate(policies) for s in alarm_shapes(p)]
    n_al = len(shapes)
    alarm_i = np.array(
        [[_METRIC_CODE[sh[0]], _CMP_CODE[sh[2]], sh[3], sh[4], _kind(policies[pi], sh),
          int(policies[pi].missing_data == "zero")] for pi, sh in shapes], dtype=np.int64,
    ).reshape(n_al, 6)
    alarm_f = np.array(
        [[sh[1], getattr(policies[pi], "target_value", 1.0)] for pi, sh in shapes], dtype=np.float64,
    ).reshape(n_al, 2)
    alarm_dyn = np.zeros((n_al, 2))
    svc = np.array([service.service_mean_s, service.service_scv, service.arrival_scv,
                    float(service.concurrency_per_instance), service.timeout_s, service.service_p99_s()])
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
        k_last, count, backlog = _run(
            k, k_stop, every_minute, arrivals, cum, fleet.frac, fleet.d_full, fleet.frac_pos, fleet.cover_max, count,
            backlog, svc, svc_q, svc_prefix, alarm_i, alarm_f, alarm_dyn, flags, cap, lo, hi, out,
        )
        now = 60.0 * (k_last + 1)
        for idx in fires.get(k_last, []):
            action = spec.scheduled_actions[idx]
            lo, hi, want = apply_scheduled(fleet.capacity, lo, hi, action)
            _set(fleet, want, now)
            events.append((now, "scheduled", fleet.capacity, f"{action.name}: min {lo} max {hi}"))
        if policies and now < horizon_s:  # as on the SimPy clock, nothing is evaluated at the horizon
            col = out[:, k_last].tolist()
            metrics = Metrics(60.0 * k_last, col[0], col[2], 100 * col[3], 100 * col[3], col[9], col[11])
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
