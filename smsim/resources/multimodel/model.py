"""Multi-model endpoints: spec -> cache-aware data plane under the autoscaler -> metrics.

The data plane (routing, per-instance LRU caches, loads, timeouts) is described in
:mod:`smsim.resources.multimodel.plane`; endpoints run its compiled twin
(:mod:`smsim.resources.multimodel.kernel`), which gives the same results request for request.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.resources.fidelity import choose_fidelity
from smsim.resources.multimodel.kernel import CompiledPlane
from smsim.resources.multimodel.plane import CachedModel, MMInstance, MultiModelPlane
from smsim.resources.scaling.autoscaler import Autoscaler, in_service_series

__all__ = ["CachedModel", "MMInstance", "MultiModelEndpoint", "MultiModelPlane"]

HOUR_S = 3600.0


def cache_memory_gb(spec, catalog) -> tuple[float, str]:
    """Cache memory per instance and where it came from."""
    if spec.cache_memory_gb is not None:
        return float(spec.cache_memory_gb), "cache_memory_gb"
    if catalog is None:
        raise ValueError(f"multi-model endpoint {spec.name!r}: no catalog to read {spec.instance_type} memory "
                         f"from; set cache_memory_gb")
    it = catalog.instance(spec.instance_type)
    if it.accelerator_count > 0 and it.accelerator_memory_gib > 0:
        return float(it.accelerator_memory_gib), "accelerator_memory_gib"
    return float(it.memory_gib), "memory_gib"


class MultiModelEndpoint:
    """A multi-model endpoint: workload, cache-aware data plane, autoscaler, meter."""

    def __init__(self, spec, ctx: SimContext) -> None:
        from smsim.workload.spec import materialize

        self.spec = spec
        self.tags = ctx.tags_for(spec)
        registry = {m.name: m for m in getattr(ctx.scenario, "models", [])}
        missing = [n for n in spec.models if n not in registry]
        if missing:
            raise ValueError(f"multi-model endpoint {spec.name!r}: models {missing} are not in models:")
        specs = [registry[n] for n in spec.models]
        for ms in specs:
            if ms.memory_gb is None:
                raise ValueError(f"model {ms.name!r} on multi-model endpoint {spec.name!r} needs memory_gb")
            if ms.latency_for(spec.instance_type) is None:
                raise ValueError(f"model {ms.name!r} has no latency profile for {spec.instance_type!r}")
        self.capacity_gb, self.capacity_source = cache_memory_gb(spec, ctx.catalog)
        self.model_specs = specs
        self.tier, _ = choose_fidelity(spec, ctx)
        if self.tier == "fluid":  # per minute: nothing materialized (smsim.resources.multimodel.fluid)
            too_big = [ms.name for ms in specs if ms.memory_gb > self.capacity_gb]
            if too_big:
                raise ValueError(f"models {too_big} need more than the {self.capacity_gb} GB an instance caches")
            return
        horizon = ctx.horizon_s
        trace = materialize(spec.workload, ctx.arrivals_rng(spec), horizon, ctx.start,
                            getattr(ctx.scenario, "base_dir", None))
        pos = {n: k for k, n in enumerate(spec.models)}
        if trace.model_index is None:
            if len(spec.models) != 1:
                raise ValueError(f"multi-model endpoint {spec.name!r}: the workload names no models; use a "
                                 f"'mix' workload keyed by model name or a trace with a model column")
            index = np.zeros(len(trace), np.int64)
        else:
            unknown = sorted(set(trace.models) - set(pos))
            if unknown:
                raise ValueError(f"multi-model endpoint {spec.name!r}: the workload has models {unknown} "
                                 f"that are not in its models list")
            index = np.array([pos[n] for n in trace.models], np.int64)[trace.model_index]
        service = np.zeros(len(trace))
        svc_rng = ctx.rng("endpoint", spec.name, "service")
        for k, ms in enumerate(specs):
            sel = np.flatnonzero(index == k)
            if sel.size:
                service[sel] = ms.latency_for(spec.instance_type).sample(svc_rng, trace.take(sel))
        self.trace, self.index = trace, index
        sla = spec.sla.latency_threshold_s if spec.sla is not None else None
        self.plane = CompiledPlane(
            trace.arrival_s, index, service, memory_gb=[ms.memory_gb for ms in specs],
            load_time_s=[ms.load_time_s for ms in specs], horizon_s=horizon,
            concurrency=spec.concurrency_per_instance, capacity_gb=self.capacity_gb,
            timeout_s=spec.invocation_timeout_s, window_s=spec.series_window_s, sla_s=sla,
        )
        self.scaler = Autoscaler(
            ctx.env, spec.scaling(), self.plane, rng=ctx.rng("endpoint", spec.name, "provisioning"),
            start=ctx.start, horizon_s=horizon, resource_id=spec.name, instance_type=spec.instance_type,
            component="RealTimeInference", meter=ctx.meter, tags=self.tags,
        )
        self.plane.attach(self.scaler)

    def start(self, ctx: SimContext) -> None:
        if self.tier == "fluid":
            from smsim.resources.multimodel import fluid

            self.fluid = fluid.run(self, ctx)
            self._meter_fluid_data(ctx)
            return
        self.scaler.start()
        from smsim.resources.endpoint_data import meter_trace_data

        meter_trace_data(ctx, self.spec, self.trace, "multi_model_endpoint", "RealTimeInference", self.tags)

    def _meter_fluid_data(self, ctx: SimContext) -> None:
        """Data in and out per clock hour from the fluid form's per-window requests and the
        spec's GB per request (a trace's payload sizes are not read in the fluid form)."""
        s = self.spec
        series = self.fluid[1]
        hours = (series.window_start_s.to_numpy() // HOUR_S).astype(np.int64)
        for key, per in (("endpoint_data_in_gb", s.data_in_gb_per_request),
                         ("endpoint_data_out_gb", s.data_out_gb_per_request)):
            if not per:
                continue
            gb = np.bincount(hours, weights=series.requests.to_numpy() * per)
            for h, amount in enumerate(gb):
                if amount > 0:
                    ctx.meter.amount(s.name, "multi_model_endpoint", "RealTimeInference", key, float(amount),
                                     h * HOUR_S, min((h + 1) * HOUR_S, ctx.horizon_s), self.tags)

    def finish(self, ctx: SimContext) -> ResourceResult:
        if self.tier == "fluid":
            metrics, series = self.fluid
            return ResourceResult(self.spec.name, "multi_model", "endpoints", _plain(metrics), series)
        horizon = ctx.horizon_s
        p = self.plane
        if p.last_s < horizon:
            p.advance(horizon)
        self.scaler.finish(horizon)
        t = p.tot
        n = len(self.trace)
        q = p.hist.quantile(np.array([0.5, 0.9, 0.99])) if p.hist.count else [math.nan] * 3
        routed = t["hits"] + t["misses"]
        metrics = {
            "instance_type": self.spec.instance_type,
            "models": len(self.spec.models),
            "cache_memory_gb": self.capacity_gb,
            "cache_memory_source": self.capacity_source,
            "requests": n,
            "served": t["served"],
            "timed_out": t["timed_out"],
            "dropped": t["dropped"],
            "dropped_no_memory": t["dropped_no_memory"],
            "throttled": 0,
            "in_flight": t["in_flight"],
            "latency_p50_s": float(q[0]),
            "latency_p90_s": float(q[1]),
            "latency_p99_s": float(q[2]),
            "latency_mean_s": p.hist.mean if p.hist.count else math.nan,
            "cache_hit_rate": t["hits"] / routed if routed else math.nan,
            "loads": t["loads"],
            "cold_starts": t["loads"],
            "evictions": t["evictions"],
            "models_ever_loaded": int(np.count_nonzero(p.loads_by_model)),
            "instance_hours": self.scaler.timeline.billed_s(horizon) / HOUR_S,
        }
        metrics["fidelity"] = "request"
        if self.spec.sla is not None:
            metrics["sla_attainment"] = t["within_sla"] / n if n else 1.0
            metrics["sla_met"] = metrics["sla_attainment"] >= self.spec.sla.percentile / 100.0
        nw = p.win["requests"].size
        series = pd.DataFrame({"window_start_s": np.arange(nw) * self.spec.series_window_s, **p.win,
                               "instances_in_service": in_service_series(self.scaler.timeline, horizon,
                                                                         self.spec.series_window_s)[:nw]})
        return ResourceResult(self.spec.name, "multi_model", "endpoints", _plain(metrics), series)


def _plain(metrics: dict) -> dict:
    """Metrics as plain Python scalars (JSON-able)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in metrics.items()}
