"""Asynchronous endpoints: an internal queue, backlog-driven autoscaling with scale to zero.

The data plane is the request :class:`~smsim.core.kernel.Kernel` with one shared FIFO queue (the
endpoint's internal queue feeds every instance's workers) and no invocation timeout. The
control plane is the :class:`~smsim.resources.scaling.autoscaler.Autoscaler` SimPy loop: every minute it
advances the kernel, reads the backlog (waiting + in processing, as ``ApproximateBacklogSize``)
and the in-service instances, and scales; launched instances join the kernel when InService.

A request whose service time exceeds ``max_processing_time_s`` holds its worker that long and
then fails (``timed_out``; also reported as ``failed_max_processing_time``). Outcomes count at
the time they happen: requests waiting or in processing at the horizon are ``in_flight``.

Billing: the autoscaler meters every instance from launch to termination under
``AsyncInference``; payload GB in and out are metered per clock hour of arrival.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.histogram import LogHistogram
from smsim.core.kernel import Kernel, KernelConfig
from smsim.resources.fidelity import choose_fidelity
from smsim.resources.scaling.autoscaler import Autoscaler, in_service_series
from smsim.resources.scaling.policies import Metrics

__all__ = ["AsyncEndpointModel", "AsyncPlane"]

HOUR_S = 3600.0


class AsyncPlane:
    """The kernel as the autoscaler's data plane for one async endpoint.

    ``arrival_s`` and ``service_s`` are the whole run's requests (sorted arrivals); service
    times above ``max_processing_s`` are cut there and the request fails.
    """

    def __init__(self, arrival_s: np.ndarray, service_s: np.ndarray, *, horizon_s: float, concurrency: int,
                 max_processing_s: float, window_s: float = 60.0, sla_s: float | None = None,
                 backend: str = "numba") -> None:
        self.arrival_s = np.asarray(arrival_s, dtype=np.float64)
        self.failed = np.asarray(service_s) > max_processing_s
        self.service_s = np.minimum(service_s, max_processing_s)
        self.horizon_s = float(horizon_s)
        self.window_s = float(window_s)
        self.sla_s = sla_s
        self.kernel = Kernel(KernelConfig(horizon_s=horizon_s, concurrency=concurrency, routing="shared",
                                          timeout_s=math.inf, window_s=window_s, record=True, backend=backend))
        self.ids: dict[str, int] = {}
        self.timeline = None
        self.last_s = 0.0
        self.pos = 0
        self.queue_hist = LogHistogram()
        self.e2e_hist = LogHistogram()
        nw = max(1, math.ceil(horizon_s / window_s - 1e-9))
        self.win_failed = np.zeros(nw)
        self.win_ok = np.zeros(nw)
        self.counts = dict.fromkeys(("served", "failed", "within_sla"), 0)

    def attach(self, scaler: Autoscaler) -> None:
        self.timeline = scaler.timeline
        for inst in scaler.timeline.instances:
            self.ids[inst.instance_id] = int(self.kernel.add_instances(1, inst.ready_s)[0])
        scaler.listeners.append(self.on_change)

    def on_change(self, t: float, event: str, inst) -> None:
        if event == "launch":
            self.ids[inst.instance_id] = int(self.kernel.add_instances(1, max(inst.ready_s, self.kernel.clock_s))[0])
        elif event == "terminate":
            self.kernel.remove_instances([self.ids[inst.instance_id]], max(t, self.kernel.clock_s))

    def advance(self, until_s: float) -> Metrics:
        until_s = min(until_s, self.horizon_s)
        hi = int(np.searchsorted(self.arrival_s, until_s, side="left"))
        lo = self.pos
        rec = self.kernel.advance(self.arrival_s[lo:hi], self.service_s[lo:hi], until_s)
        self.pos = hi
        self._tally(rec)
        in_service = self.timeline.in_service_mean(self.last_s, until_s) if until_s > self.last_s else 0.0
        util = 0.0
        if in_service > 0:
            rows = self.kernel.windows(until_s)
            util = float(rows.utilization.iloc[-1]) if len(rows) else 0.0
            util = 0.0 if math.isnan(util) else util
        backlog = float(self.kernel.queued + self.kernel.in_service)
        m = Metrics(self.last_s, float(hi - lo), in_service, 100 * util, 100 * util, backlog)
        self.last_s = until_s
        return m

    def _tally(self, rec) -> None:
        if rec is None or rec.index.size == 0:
            return
        started = ~np.isnan(rec.start_s)
        idx, start, end = rec.index[started], rec.start_s[started], rec.end_s[started]
        done = end <= self.horizon_s
        idx, start, end = idx[done], start[done], end[done]
        arr = self.arrival_s[idx]
        fail = self.failed[idx]
        ok = ~fail
        self.queue_hist.add(start - arr)
        e2e = (end - arr)[ok]
        self.e2e_hist.add(e2e)
        wb = np.minimum((end // self.window_s).astype(np.int64), self.win_ok.size - 1)
        self.win_failed += np.bincount(wb[fail], minlength=self.win_ok.size)
        self.win_ok += np.bincount(wb[ok], minlength=self.win_ok.size)
        self.counts["served"] += int(ok.sum())
        self.counts["failed"] += int(fail.sum())
        if self.sla_s is not None:
            self.counts["within_sla"] += int(np.count_nonzero(e2e <= self.sla_s))


class AsyncEndpointModel:
    """An async endpoint: workload, kernel data plane, autoscaler, meter."""

    def __init__(self, spec, ctx: SimContext, backend: str = "numba") -> None:
        from smsim.workload.spec import materialize

        self.spec = spec
        self.tags = ctx.tags_for(spec)
        models = {m.name: m for m in getattr(ctx.scenario, "models", [])}
        model = models.get(spec.model)
        if model is None:
            raise ValueError(f"async endpoint {spec.name!r}: model {spec.model!r} is not in models")
        profile = model.latency_for(spec.instance_type)
        if profile is None:
            raise ValueError(f"model {spec.model!r} has no latency profile for {spec.instance_type!r}")
        self.profile = profile
        self.tier, _ = choose_fidelity(spec, ctx)
        if self.tier == "fluid":  # per minute: nothing materialized (smsim.resources.asynchronous.fluid)
            return
        horizon = ctx.horizon_s
        self.trace = materialize(spec.workload, ctx.arrivals_rng(spec), horizon, ctx.start,
                                 getattr(ctx.scenario, "base_dir", None))
        service = profile.sample(ctx.rng("endpoint", spec.name, "service"), self.trace)
        sla = spec.sla.latency_threshold_s if spec.sla is not None else None
        self.plane = AsyncPlane(self.trace.arrival_s, service, horizon_s=horizon,
                                concurrency=spec.concurrency_per_instance,
                                max_processing_s=spec.max_processing_time_s, window_s=spec.series_window_s,
                                sla_s=sla, backend=backend)
        self.scaler = Autoscaler(
            ctx.env, spec.scaling(), self.plane, rng=ctx.rng("endpoint", spec.name, "provisioning"),
            start=ctx.start, horizon_s=horizon, resource_id=spec.name, instance_type=spec.instance_type,
            component="AsyncInference", meter=ctx.meter, tags=self.tags,
        )
        self.plane.attach(self.scaler)

    def start(self, ctx: SimContext) -> None:
        if self.tier == "fluid":
            from smsim.resources.asynchronous import fluid

            self.fluid = fluid.run(self.spec, self.profile, ctx, self.tags)
            self._meter_fluid_data(ctx)
            return
        self.scaler.start()
        self._meter_data(ctx)

    def _meter_fluid_data(self, ctx: SimContext) -> None:
        """Data in and out per clock hour of arrival, from the fluid form's per-window requests
        and the spec's GB per request (a trace's payload sizes are not read in the fluid form)."""
        s = self.spec
        series = self.fluid[1]
        hours = (series.window_start_s.to_numpy() // HOUR_S).astype(np.int64)
        for key, per in (("endpoint_data_in_gb", s.data_in_gb_per_request), ("endpoint_data_out_gb",
                                                                             s.data_out_gb_per_request)):
            if not per:
                continue
            gb = np.bincount(hours, weights=series.requests.to_numpy() * per)
            for h, amount in enumerate(gb):
                if amount > 0:
                    ctx.meter.amount(s.name, "async_endpoint", "AsyncInference", key, float(amount),
                                     h * HOUR_S, min((h + 1) * HOUR_S, ctx.horizon_s), self.tags)

    def _meter_data(self, ctx: SimContext) -> None:
        from smsim.resources.endpoint_data import meter_trace_data

        meter_trace_data(ctx, self.spec, self.trace, "async_endpoint", "AsyncInference", self.tags)

    def finish(self, ctx: SimContext) -> ResourceResult:
        if self.tier == "fluid":
            metrics, series = self.fluid
            return ResourceResult(self.spec.name, "async", "endpoints", _plain(metrics), series)
        horizon = ctx.horizon_s
        plane = self.plane
        if plane.last_s < horizon:
            plane.advance(horizon)
        self.scaler.finish(horizon)
        k = plane.kernel
        counts = k.counts()
        n = len(self.trace)
        served, failed = plane.counts["served"], plane.counts["failed"]
        q = plane.e2e_hist.quantile(np.array([0.5, 0.9, 0.99])) if plane.e2e_hist.count else [math.nan] * 3
        qq = plane.queue_hist.quantile(np.array([0.5, 0.9, 0.99])) if plane.queue_hist.count else [math.nan] * 3
        windows = k.windows(horizon)
        nw = len(windows)
        events = self.scaler.events_frame()
        metrics = {
            "instance_type": self.spec.instance_type,
            "requests": n,
            "served": served,
            "timed_out": failed,
            "failed_max_processing_time": failed,
            "dropped": 0,
            "throttled": 0,
            "in_flight": n - served - failed,
            "queued_at_end": counts["queued"],
            "latency_p50_s": float(q[0]),
            "latency_p90_s": float(q[1]),
            "latency_p99_s": float(q[2]),
            "latency_mean_s": plane.e2e_hist.mean if plane.e2e_hist.count else math.nan,
            "queue_time_p50_s": float(qq[0]),
            "queue_time_p90_s": float(qq[1]),
            "queue_time_p99_s": float(qq[2]),
            "cold_starts": len(self.scaler.timeline.instances) - self.spec.scaling().start_capacity,
            "instance_hours": self.scaler.timeline.billed_s(horizon) / HOUR_S,
            "max_backlog": float((windows.queue_end + windows.in_flight_end).max()) if nw else 0.0,
            "scaling_activities": int((events.event != "start").sum()) if len(events) else 0,
        }
        metrics["fidelity"] = "request"
        if self.spec.sla is not None:
            metrics["sla_attainment"] = plane.counts["within_sla"] / n if n else 1.0
            metrics["sla_met"] = metrics["sla_attainment"] >= self.spec.sla.percentile / 100.0
        series = pd.DataFrame({
            "window_start_s": windows.window_start_s,
            "requests": windows.arrivals,
            "served": plane.win_ok[:nw],
            "timed_out": plane.win_failed[:nw],
            "backlog_end": windows.queue_end + windows.in_flight_end,
            "queue_end": windows.queue_end,
            "in_flight_end": windows.in_flight_end,
            "instances_in_service": in_service_series(self.scaler.timeline, horizon, self.spec.series_window_s)[:nw],
            "utilization": windows.utilization,
            "waiting_request_s": windows.waiting_request_s,
        })
        return ResourceResult(self.spec.name, "async", "endpoints", _plain(metrics), series)


def _plain(metrics: dict) -> dict:
    """Metrics as plain Python scalars (JSON-able)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in metrics.items()}
