"""LLM endpoints in the engine: the SimPy control plane around the token-level data plane.

The :class:`~smsim.resources.scaling.autoscaler.Autoscaler` (the same SimPy loop real-time
endpoints use: CloudWatch minutes, alarms, cooldowns, provisioning delay, metering from launch to
termination) calls :meth:`LlmDataPlane.advance` at the end of every minute. ``advance`` takes the
minute's arrivals, runs the compiled engine (:mod:`.engine`) over every model copy to the minute's
end, and returns the minute's metrics, including ``concurrent_requests_per_copy`` (requests in
flight per InService copy, time-averaged), the metric SageMaker target tracking uses for
inference components.

A launched instance brings ``copies_per_instance`` copies, which take requests once the instance
is InService and the model is loaded (``model_load_s`` after; the initial fleet starts warm). A
terminated instance's copies stop taking requests and finish what they hold (billing stops at
termination, as for real-time endpoints). Instances are metered by the autoscaler (component
``RealTimeInference``); the engine knows nothing of prices.

An endpoint with ``inference_component`` scales copies instead: the autoscaler's units are copies
(:class:`~smsim.resources.llm.components.CopyScaler`), each placed on the shared instance pool of
its endpoint, which launches, terminates and meters the instances.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.resources.llm.components import CopyScaler, pool_for
from smsim.resources.llm.engine import EngineConfig, ServingEngine
from smsim.resources.llm.layout import Layout, copy_accelerators, resolve
from smsim.resources.llm.metrics import TokenMetrics
from smsim.resources.llm.requests import TokenRequests, load_hashes
from smsim.resources.realtime.metering import EndpointMeter, max_concurrent
from smsim.resources.scaling.autoscaler import Autoscaler, Instance
from smsim.resources.scaling.policies import Metrics

SERIES_COLUMNS = ["time_s", "copies_in_service", "arrivals", "served", "input_tokens", "output_tokens",
                  "concurrent_requests_per_copy", "busy_share", "preemptions", "kv_blocks_used", "instances"]


def engine_config(spec, layout: Layout) -> EngineConfig:
    e = spec.engine
    return EngineConfig(
        kv_capacity_blocks=layout.kv_capacity_blocks(e.block_size_tokens), max_num_seqs=e.max_num_seqs,
        max_num_batched_tokens=e.max_num_batched_tokens, block_size_tokens=e.block_size_tokens,
        queue_limit=spec.queue_limit, timeout_s=spec.invocation_timeout_s, routing=spec.routing,
        prefix_caching=e.prefix_caching, prefix_block_tokens=e.prefix_block_tokens,
        itl_thresholds_s=tuple(t for _, t in spec.sla.itl_objectives()) if spec.sla is not None else (),
    )


class LlmDataPlane:
    """The autoscaler's data plane for one LLM endpoint (see the module doc)."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.horizon_s = ctx.horizon_s
        base = ctx.scenario.base_dir
        hashes = load_hashes(spec, base) if spec.engine.prefix_caching else None
        if spec.routing == "prefix_aware" and hashes is None:
            from smsim.errors import InputError

            raise InputError("routing: prefix_aware needs engine.prefix_caching: true (and a trace with hash_ids)",
                             path=f"endpoints.{spec.name}.routing")
        self.layout = resolve(spec, base)
        self.engine = ServingEngine(engine_config(spec, self.layout), self.layout.form, hashes=hashes)
        self.requests = TokenRequests(spec, ctx.arrivals_rng(spec), ctx.horizon_s, start=ctx.start, base_dir=base)
        self.metrics = TokenMetrics(spec.sla)
        self.rows: list[tuple] = []
        self.copies: dict[str, tuple[list[int], float, Instance]] = {}
        self.last = self.engine.counters()
        kw = dict(rng=ctx.rng("endpoint", spec.name, "provisioning"), start=ctx.start, horizon_s=ctx.horizon_s,
                  resource_id=spec.name, instance_type=spec.instance_type, component=spec.COMPONENT,
                  meter=EndpointMeter(ctx.meter, spec.name), tags=ctx.tags_for(spec))
        self.pool = None
        if spec.inference_component is not None:
            need, per_instance = copy_accelerators(spec, self.layout)
            self.pool = pool_for(spec, ctx, per_instance)
            self.need = need
            self.scaler = CopyScaler(ctx.env, spec.scaling(), self, pool=self.pool, accelerators_per_copy=need,
                                     load_s=self.layout.model_load_s, **kw)
        else:
            self.scaler = Autoscaler(ctx.env, spec.scaling(), self, **kw)
        for inst in self.scaler.timeline.instances:
            self._on_event(0.0, "launch", inst)
        self.scaler.listeners.append(self._on_event)

    def _on_event(self, now: float, event: str, inst: Instance) -> None:
        if event == "launch" and self.pool is not None:  # one copy, its ready time includes the load
            self.copies[inst.instance_id] = (self.engine.add_copies(1, inst.ready_s), inst.ready_s, inst)
        elif event == "launch":
            ready = inst.ready_s + (self.layout.model_load_s if inst.ready_s > 0 else 0.0)
            ids = self.engine.add_copies(self.layout.copies_per_instance, ready)
            self.copies[inst.instance_id] = (ids, ready, inst)
        elif event == "terminate":
            self.engine.end_copies(self.copies[inst.instance_id][0], now)

    def _copies_in_service(self, a: float, b: float) -> float:
        """Time-averaged model copies taking requests in ``[a, b)``."""
        total = 0.0
        for ids, ready, inst in self.copies.values():
            lo, hi = max(a, ready), min(b, inst.end_s)
            if hi > lo:
                total += (hi - lo) * len(ids)
        return total / (b - a)

    def advance(self, until_s: float) -> Metrics:
        t0 = self.engine.clock_s
        t, p, o, rows = self.requests.take(until_s)
        finished = self.engine.advance(t, p, o, until_s, index=rows)
        self.metrics.add(finished)
        c = self.engine.counters()
        d = {k: c[k] - self.last[k] for k in ("arrivals", "served", "input_tokens_served", "output_tokens",
                                               "request_seconds", "busy_copy_seconds", "preemptions",
                                               "rejected_no_capacity")}
        self.last = c
        span = until_s - t0
        copies = self._copies_in_service(t0, until_s)
        per_copy = d["request_seconds"] / span / copies if copies > 0 else 0.0
        busy = d["busy_copy_seconds"] / span / copies if copies > 0 else 0.0
        used = int(self.engine.kv_blocks_used().sum())
        if self.pool is not None:
            instances = self.pool.instances_mean(t0, until_s)
            units = copies  # the scalable target counts copies
        else:
            instances = self.scaler.timeline.billed_s(until_s) - self.scaler.timeline.billed_s(t0)
            instances /= span
            units = copies / self.layout.copies_per_instance
        self.rows.append((t0, copies, d["arrivals"], d["served"], d["input_tokens_served"], d["output_tokens"],
                          per_copy, busy, d["preemptions"], used, instances))
        waiting = float(self.engine.waiting().sum())  # the backlog: not yet running
        return Metrics(t0, float(d["arrivals"]), units, 100.0 * min(busy, 1.0), 100.0 * min(busy, 1.0), waiting,
                       float(d["rejected_no_capacity"]), per_copy)

    def finish(self) -> tuple[dict, pd.DataFrame]:
        if self.engine.clock_s < self.horizon_s:
            self.advance(self.horizon_s)
        self.scaler.finish(self.horizon_s)
        c = self.engine.counters()
        failed = c["timed_out"] + c["rejected_queue_full"] + c["rejected_no_capacity"] + c["rejected_too_long"]
        ended = c["served"] + failed
        tl = self.pool.timeline if self.pool is not None else self.scaler.timeline
        billed_s = tl.billed_s(self.horizon_s)
        series = pd.DataFrame(self.rows, columns=SERIES_COLUMNS)
        events = self.scaler.events_frame()
        h = self.horizon_s
        weights = np.diff(np.append(series.time_s.to_numpy(), h))
        m = {
            "requests": c["arrivals"], "served": c["served"], "timed_out": c["timed_out"],
            "dropped": c["rejected_queue_full"] + c["rejected_no_capacity"] + c["rejected_too_long"],
            "rejected_queue_full": c["rejected_queue_full"], "no_capacity_failures": c["rejected_no_capacity"],
            "rejected_too_long": c["rejected_too_long"], "throttled": 0, "in_flight_at_horizon": c["in_system"],
            "input_tokens": c["input_tokens_served"], "output_tokens": c["output_tokens"],
            "input_tokens_per_s": c["input_tokens_served"] / h, "output_tokens_per_s": c["output_tokens"] / h,
            "prefill_tokens_computed": c["prefill_tokens_computed"], "prefix_hit_tokens": c["prefix_hit_tokens"],
            "preemptions": c["preemptions"], "engine_steps": c["engine_steps"],
            "peak_kv_blocks_per_copy": c["peak_kv_blocks"], "kv_capacity_blocks": self.engine.cfg.kv_capacity_blocks,
            "mean_concurrent_requests": c["request_seconds"] / h,
            "mean_copies_in_service": float(np.average(series.copies_in_service, weights=weights)) if len(series) else 0.0,
            "mean_instances": billed_s / h, "instance_hours": billed_s / 3600.0,
            "max_instances": max_concurrent([(i.launch_s, min(i.end_s, h)) for i in tl.instances]),
            "busy_share": float(np.average(series.busy_share, weights=weights)) if len(series) else math.nan,
            "scale_out_events": int((events.event == "scale_out").sum()),
            "scale_in_events": int((events.event == "scale_in").sum()),
        }
        if self.pool is not None:
            copies = self.scaler.timeline
            m.update(self.pool.summary(h))
            m.update(endpoint=self.pool.name, accelerators_per_copy=self.need,
                     copy_hours=copies.billed_s(h) / 3600.0, max_copies=max_concurrent(
                         [(c.launch_s, min(c.end_s, h)) for c in copies.instances]),
                     accelerator_hours_held=self.pool.accelerator_seconds(h, self.spec.name) / 3600.0,
                     copies_unplaced=self.scaler.unplaced)
            # this component's share of the endpoint's bill: its accelerator-hours over all copies'
            held = m["endpoint_accelerator_hours_held"]
            share = m["accelerator_hours_held"] / held if held > 0 else math.nan
            m["endpoint_cost_share"] = share
            # instance-hours of the endpoint charged to this component (they add up over its components)
            m["instance_hours"] = m["endpoint_instance_hours"] * (share if share == share else 0.0)
            m["mean_instances"] = m["instance_hours"] * 3600.0 / h
        itl = self.engine.itl
        m.update(self.metrics.summary(ended=ended, horizon_s=h, itl=itl))
        q = itl.quantile(np.array([0.5, 0.9, 0.99])) if itl.count else [math.nan] * 3
        m.update(itl_mean_s=itl.mean, itl_p50_s=float(q[0]), itl_p90_s=float(q[1]), itl_p99_s=float(q[2]))
        return m, series


class LlmEndpointModel:
    """An ``llm`` endpoint in the engine (built as ``LlmEndpointModel(spec, ctx)``)."""

    def __init__(self, spec, ctx: SimContext) -> None:
        self.spec = spec
        self.plane = LlmDataPlane(spec, ctx)

    def start(self, ctx: SimContext) -> None:
        self.plane.scaler.start()

    def finish(self, ctx: SimContext) -> ResourceResult:
        metrics, series = self.plane.finish()
        s = self.spec
        lay = self.plane.layout
        head = {"instance_type": s.instance_type, "copies_per_instance": lay.copies_per_instance,
                "tensor_parallel": lay.tp, "kv_capacity_tokens": lay.kv_capacity_tokens, "model_load_s": lay.model_load_s,
                "routing": s.routing, "max_num_seqs": s.engine.max_num_seqs,
                "max_num_batched_tokens": s.engine.max_num_batched_tokens}
        head.update(metrics)
        return ResourceResult(resource_id=s.name, kind=s.kind, section="endpoints", metrics=head, series=series)


__all__ = ["SERIES_COLUMNS", "LlmDataPlane", "LlmEndpointModel", "engine_config"]
