"""Real-time endpoints: scenario spec -> request kernel (or fluid tier) under the autoscaler -> metrics.

One :class:`RealtimeEndpointModel` per ``endpoints:`` entry of kind ``realtime``. It picks a tier:

* **request** (:class:`RequestTier`): every request is simulated by the compiled
  :class:`~smsim.core.kernel.Kernel`. The :class:`~smsim.resources.scaling.autoscaler.Autoscaler` SimPy loop
  calls :meth:`RequestTier.advance` at the end of every 60-s CloudWatch period; it feeds the
  kernel that period's arrivals (drawn chunk by chunk with :func:`~smsim.workload.iter_chunks`,
  so memory is bounded by one chunk) and their service times, and returns the period's metrics
  (Invocations, in-service instances, utilization = busy / provisioned server-seconds as the
  CPU/GPU proxy, backlog). Launches become kernel instances ready after their provisioning
  delay; terminations stop routing to an instance, which drains what it holds. A fixed fleet is
  the same loop with ``min = max`` capacity and no policies.
* **fluid** (:mod:`smsim.resources.realtime.fluid`): per-minute arrival counts through
  :func:`smsim.resources.scaling.fluid.simulate_fluid` with the same autoscaling spec.

``fidelity: auto`` chooses fluid when the expected number of requests exceeds
:data:`AUTO_MAX_REQUESTS` (2 x 10^7: about 20 s of request-tier work at the kernel's ~10^6
requests/s) or the horizon exceeds :data:`AUTO_MAX_HORIZON_S` (31 days), else request.

Outcomes: the kernel decides a request's outcome when it starts (served, or cut at its
deadline), so ``requests == served + timed_out + dropped + in_flight_at_horizon`` where
``in_flight_at_horizon`` counts the requests still waiting at the horizon;
``in_service_at_horizon`` of the served/timed-out ones finish after it (the per-minute series
counts completions, so it misses exactly those). A request that arrives while no instance is
InService (an endpoint scaled to zero, or whose first instance is still provisioning) fails at
once: it is dropped and counted in ``no_capacity_failures``, the NoCapacityInvocationFailures
metric a step-scaling policy uses to scale out from zero.

Billing: every instance is metered from launch to termination by the autoscaler (component
``RealTimeInference``) under the endpoint's name, with the instance id in the
``smsim:instance`` tag; optional data processed in/out is metered per hour.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.kernel import Kernel, KernelConfig, W
from smsim.resources.fidelity import choose_fidelity
from smsim.resources.realtime.fluid import FluidTier
from smsim.resources.realtime.metering import (
    COMPONENT,
    SERIES_COLUMNS,
    EndpointMeter,
    max_concurrent,
    meter_data,
    sla_attainment,
)
from smsim.resources.realtime.predictive import resolved_scaling
from smsim.resources.scaling.autoscaler import Autoscaler, Instance
from smsim.resources.scaling.policies import Metrics
from smsim.resources.scaling.spec import METRIC_PERIOD_S
from smsim.workload.spec import iter_chunks

# ----- shared helpers -------------------------------------------------------------------------


# ----- the request tier -----------------------------------------------------------------------

@dataclass
class _Buffer:
    arrival_s: np.ndarray
    service_s: np.ndarray
    pos: int
    end_s: float


class RequestTier:
    """The request-level data plane of one endpoint (the autoscaler's :class:`DataPlane`)."""

    def __init__(self, spec, profile, ctx: SimContext, *, backend: str = "numba") -> None:
        self.spec = spec
        self.profile = profile
        self.horizon_s = ctx.horizon_s
        name = spec.name
        self.config = KernelConfig(
            horizon_s=ctx.horizon_s, concurrency=spec.concurrency_per_instance, routing=spec.routing,
            timeout_s=spec.invocation_timeout_s, queue_limit=spec.queue_limit, window_s=METRIC_PERIOD_S,
            backend=backend,
        )
        routing_rng = ctx.rng("endpoint", name, "routing") if spec.routing == "random" else None
        self.kernel = Kernel(self.config, rng=routing_rng)
        self.chunks = iter_chunks(spec.workload, ctx.arrivals_rng(spec), ctx.horizon_s,
                                  start=ctx.start, base_dir=ctx.scenario.base_dir)
        self.service_rng = ctx.rng("endpoint", name, "service")
        self.buf = _Buffer(np.zeros(0), np.zeros(0), 0, 0.0)
        self.exhausted = False
        self.rows: list[tuple] = []
        self.prev_counts = self.kernel.hist.counts.copy()
        self.rep = self.kernel.hist.representative()
        self._qs = np.array([0.5, 0.99])
        self._none = np.zeros(0)
        self._q_out = np.zeros(2)
        self.tags = ctx.tags_for(spec)
        self.scaler = Autoscaler(
            ctx.env, resolved_scaling(spec, ctx), self, rng=ctx.rng("endpoint", name, "provisioning"), start=ctx.start,
            horizon_s=ctx.horizon_s, resource_id=name, instance_type=spec.instance_type, component=COMPONENT,
            meter=EndpointMeter(ctx.meter, name), tags=self.tags,
        )
        self.kernel_id: dict[str, int] = {}
        self.live: list[Instance] = []
        for inst in self.scaler.timeline.instances:
            self._on_event(0.0, "launch", inst)
        self.scaler.listeners.append(self._on_event)
        self.wall_s = 0.0
        # lifecycle policy: deletion after ``delete_after_idle_s`` without invocations
        self.idle_limit_s = spec.delete_after_idle_s
        self.last_arrival_s = 0.0
        self.deleted_at_s: float | None = None
        self.dropped_deleted = 0
        #: requests that arrived while no instance was InService (they fail at once)
        self.no_capacity = 0

    # -- capacity ------------------------------------------------------------------------------
    def _on_event(self, now: float, event: str, inst: Instance) -> None:
        if event == "launch":
            (kid,) = self.kernel.add_instances(1, max(inst.ready_s, self.kernel.clock_s))
            self.kernel_id[inst.instance_id] = int(kid)
            self.live.append(inst)
        elif event == "terminate":
            self.kernel.remove_instances([self.kernel_id[inst.instance_id]], max(now, self.kernel.clock_s))

    def _in_service_mean(self, a: float, b: float) -> float:
        total = 0.0
        for inst in self.live:
            lo, hi = max(a, inst.ready_s), min(b, inst.end_s)
            if hi > lo:
                total += hi - lo
        self.live = [i for i in self.live if i.end_s > b]
        return total / (b - a)

    # -- arrivals ------------------------------------------------------------------------------
    def _take(self, until_s: float) -> tuple[np.ndarray, np.ndarray]:
        parts_t, parts_s = [], []
        while True:
            b = self.buf
            hi = int(b.arrival_s.searchsorted(until_s, side="left"))
            if hi > b.pos:
                parts_t.append(b.arrival_s[b.pos:hi])
                parts_s.append(b.service_s[b.pos:hi])
                b.pos = hi
            if b.end_s >= until_s or self.exhausted:
                break
            trace = next(self.chunks, None)
            if trace is None:
                self.exhausted = True
                break
            self.buf = _Buffer(trace.arrival_s, self.profile.sample(self.service_rng, trace), 0, trace.duration_s)
        if not parts_t:
            return self._none, self._none
        if len(parts_t) == 1:
            return parts_t[0], parts_s[0]
        return np.concatenate(parts_t), np.concatenate(parts_s)

    def _lifecycle(self, arr: np.ndarray, svc: np.ndarray, until_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Delete the endpoint once no invocation arrived for ``idle_limit_s``; arrivals from then
        on fail (dropped). The limit is at least an hour, so within one minute the only gaps that
        can reach it start at the previous arrival."""
        if self.deleted_at_s is None:
            due = self.last_arrival_s + self.idle_limit_s
            first = float(arr[0]) if arr.size else math.inf
            if due < min(first, until_s) or (not arr.size and due <= until_s):
                self.deleted_at_s = due
                self.scaler.delete(due)
            elif arr.size:
                self.last_arrival_s = float(arr[-1])
        if self.deleted_at_s is not None and arr.size:
            self.dropped_deleted += int(arr.size)
            return self._none, self._none
        return arr, svc

    def _no_capacity(self, arr: np.ndarray, svc: np.ndarray, a: float, b: float) -> tuple[np.ndarray, np.ndarray, int]:
        """Fail the arrivals of ``[a, b)`` that find no instance InService (SageMaker answers them
        with an error at once: NoCapacityInvocationFailures); the others go to the kernel.
        Every capacity change inside the period is already in the timeline (module docstring of
        :mod:`smsim.resources.scaling.autoscaler`)."""
        spans = [(max(a, i.ready_s), min(b, i.end_s)) for i in self.live if i.ready_s < b and i.end_s > a]
        if any(lo <= a and hi >= b for lo, hi in spans):
            return arr, svc, 0
        ok = np.zeros(arr.size, dtype=bool)
        for lo, hi in spans:
            ok |= (arr >= lo) & (arr < hi)
        failed = int(arr.size - np.count_nonzero(ok))
        if not failed:
            return arr, svc, 0
        self.no_capacity += failed
        return arr[ok], svc[ok], failed

    # -- the DataPlane protocol ------------------------------------------------------------------
    def advance(self, until_s: float) -> Metrics:
        """Serve ``[clock, until_s)`` and return that period's CloudWatch metrics."""
        t_wall = time.perf_counter()
        k = self.kernel
        t0 = k.clock_s
        arr, svc = self._take(until_s)
        failed = 0
        if self.idle_limit_s is not None:
            before = self.dropped_deleted
            arr, svc = self._lifecycle(arr, svc, until_s)
            failed = self.dropped_deleted - before
        no_capacity = 0
        if arr.size:
            arr, svc, no_capacity = self._no_capacity(arr, svc, t0, until_s)
            failed += no_capacity
        k.advance(arr, svc, until_s)
        win = k.win[:, int(t0 // METRIC_PERIOD_S)].tolist()
        busy, cap = win[W.W_BUSY_S], win[W.W_CAPACITY_S]
        util = busy / cap if cap > 0 else 0.0
        in_service = self._in_service_mean(t0, until_s)
        # p50/p99 of the responses recorded this period; prev_counts catches up with the histogram.
        k.core.delta_quantiles(k.hist.counts, self.prev_counts, self.rep, self._qs, self._q_out)
        p50, p99 = self._q_out.tolist()
        arrivals = win[W.W_ARRIVALS]
        self.rows.append((t0, in_service, arrivals + failed, win[W.W_SERVED], win[W.W_TIMED_OUT],
                          win[W.W_DROPPED] + failed, p50, p99, util))
        queued = float(k.queued)
        self.wall_s += time.perf_counter() - t_wall
        return Metrics(t0, arrivals, in_service, 100.0 * util, 100.0 * util, queued, no_capacity)

    def start(self, ctx: SimContext) -> None:
        self.scaler.start()

    def finish(self, ctx: SimContext) -> tuple[dict, pd.DataFrame]:
        if self.kernel.clock_s < self.horizon_s:
            self.advance(self.horizon_s)
        self.scaler.finish(self.horizon_s)
        k = self.kernel
        c = k.counts()
        hist = k.hist
        q = hist.quantile(np.array([0.5, 0.9, 0.99, 0.999])) if c["served"] else [math.nan] * 4
        finished = c["served"] + c["timed_out"] + c["dropped"]
        tl = self.scaler.timeline
        billed_s = tl.billed_s(self.horizon_s)
        busy = float(k.win[W.W_BUSY_S].sum())
        capacity = float(k.win[W.W_CAPACITY_S].sum())
        events = self.scaler.events_frame()
        series = pd.DataFrame(self.rows, columns=SERIES_COLUMNS)
        metrics = {
            "requests": c["arrivals"] + self.dropped_deleted + self.no_capacity,
            "served": c["served"],
            "timed_out": c["timed_out"],
            "timed_out_queue": c["timed_out_queue"],
            "timed_out_service": c["timed_out_service"],
            "dropped": c["dropped"] + self.dropped_deleted + self.no_capacity,
            "no_capacity_failures": self.no_capacity,
            "deleted_at_s": self.deleted_at_s,
            "throttled": 0,
            "in_flight_at_horizon": c["queued"],
            "in_service_at_horizon": c["in_service"],
            "latency_mean_s": c["mean_response_s"],
            "latency_p50_s": float(q[0]),
            "latency_p90_s": float(q[1]),
            "latency_p99_s": float(q[2]),
            "latency_p999_s": float(q[3]),
            "latency_relative_error": self.config.relative_error,
            "mean_wait_s": c["mean_wait_started_s"],
            "mean_instances": billed_s / self.horizon_s,
            "mean_instances_in_service": float(np.average(series.instances_in_service,
                                                          weights=np.diff(np.append(series.time_s, self.horizon_s)))),
            "max_instances": max_concurrent([(i.launch_s, min(i.end_s, self.horizon_s)) for i in tl.instances]),
            "instance_hours": billed_s / 3600.0,
            "utilization": busy / capacity if capacity > 0 else math.nan,
            "scale_out_events": int((events.event == "scale_out").sum()),
            "scale_in_events": int((events.event == "scale_in").sum()),
            "scheduled_actions": int((events.event == "scheduled").sum()),
        }
        if self.spec.sla is not None:
            metrics["sla_attainment"] = sla_attainment(hist.counts, self.rep, self.spec.sla.latency_threshold_s, finished)
        return metrics, series


# ----- the resource model ----------------------------------------------------------------------

class RealtimeEndpointModel:
    """A real-time endpoint in the engine: builds its tier, and reports metrics and a series."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        model = {m.name: m for m in ctx.scenario.models}[spec.model]
        self.profile = model.latency_for(spec.instance_type)
        self.tags = ctx.tags_for(spec)
        self.fidelity, self.expected = choose_fidelity(spec, ctx)
        if self.fidelity == "fluid":
            self.tier = FluidTier(spec, self.profile, ctx)
        else:
            self.tier = RequestTier(spec, self.profile, ctx)

    def start(self, ctx: SimContext) -> None:
        self.tier.start(ctx)

    def finish(self, ctx: SimContext) -> ResourceResult:
        metrics, series = self.tier.finish(ctx)
        s = self.spec
        head = {"fidelity": self.fidelity, "instance_type": s.instance_type, "model": s.model,
                "routing": s.routing, "concurrency_per_instance": s.concurrency_per_instance}
        if self.expected is not None:
            head["expected_requests"] = self.expected
        head.update(metrics)
        if s.sla is not None:
            head["sla_latency_threshold_s"] = s.sla.latency_threshold_s
            head["sla_percentile"] = s.sla.percentile
            head["sla_met"] = bool(head["sla_attainment"] >= s.sla.percentile / 100.0)
        head.update(meter_data(ctx, s, series, self.tags))
        return ResourceResult(resource_id=s.name, kind=s.kind, section="endpoints", metrics=head, series=series)


__all__ = ["RealtimeEndpointModel", "RequestTier"]
