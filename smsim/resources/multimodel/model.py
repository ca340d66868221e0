"""Multi-model endpoints: per-instance LRU model caches, cache-aware routing, load latency.

:class:`MultiModelPlane` is the autoscaler's data plane. Requests are assigned in arrival order
(O(instances) Python work per request, fine for the 10^5-10^6 requests of a typical MME run):

1. the in-service instances are those with ``ready_s <= t < end_s`` (a removed instance takes
   no new work and finishes what it holds); with none, the request is ``dropped``;
2. **routing**: among instances with the model cached (loaded or loading) and fewer than
   ``concurrency`` outstanding requests, the least loaded (ties: oldest instance); else the
   least loaded in-service instance;
3. on that instance the request takes the worker that frees first (FIFO per instance):
   ``start = max(arrival, worker free)``. A **hit** starts service at ``max(start, model
   ready)``; a **miss** loads the model first (``load_time_s``, on that worker), after evicting
   least-recently-used models with no request in flight until it fits (if it cannot fit, the
   request is ``dropped``); the model counts as cached from the miss on;
4. **timeout**: a request not started by ``arrival + timeout`` leaves the queue; one that would
   end later is cut at the deadline (both ``timed_out``).

Latency (served requests) is ``end - arrival``, including the wait and any load time. LRU order
is by last request routed to the model on that instance.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.histogram import LogHistogram
from smsim.resources.scaling.autoscaler import Autoscaler, in_service_series
from smsim.resources.scaling.policies import Metrics

__all__ = ["CachedModel", "MMInstance", "MultiModelEndpoint", "MultiModelPlane"]

HOUR_S = 3600.0


@dataclass
class CachedModel:
    ready_s: float  # when the load finishes
    busy_until_s: float  # last end of a request routed to it (in flight until then)


@dataclass
class MMInstance:
    """One instance: its workers, outstanding requests and model cache."""

    ident: int
    ready_s: float
    concurrency: int
    capacity_gb: float
    end_s: float = math.inf
    workers: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    cache: OrderedDict = field(default_factory=OrderedDict)
    used_gb: float = 0.0

    def __post_init__(self) -> None:
        self.workers = [self.ready_s] * self.concurrency

    def outstanding(self, t: float) -> int:
        ends = self.ends
        while ends and ends[0] <= t:
            heapq.heappop(ends)
        return len(ends)


class MultiModelPlane:
    """Cache-aware routing over autoscaled instances; see the module docstring."""

    def __init__(self, arrival_s, model_index, service_s, *, memory_gb, load_time_s, horizon_s: float,
                 concurrency: int, capacity_gb: float, timeout_s: float = 60.0, window_s: float = 60.0,
                 sla_s: float | None = None) -> None:
        self.arrival_s = np.asarray(arrival_s, dtype=np.float64)
        self.model_index = np.asarray(model_index, dtype=np.int64)
        self.service_s = np.asarray(service_s, dtype=np.float64)
        self.memory_gb = np.asarray(memory_gb, dtype=np.float64)
        self.load_time_s = np.asarray(load_time_s, dtype=np.float64)
        too_big = np.flatnonzero(self.memory_gb > capacity_gb)
        if too_big.size:
            raise ValueError(f"model index {int(too_big[0])} needs {self.memory_gb[too_big[0]]} GB but an "
                             f"instance caches at most {capacity_gb} GB")
        self.horizon_s, self.window_s = float(horizon_s), float(window_s)
        self.concurrency, self.capacity_gb, self.timeout_s, self.sla_s = concurrency, capacity_gb, timeout_s, sla_s
        self.instances: dict[str, MMInstance] = {}
        self.order: list[MMInstance] = []
        self.timeline = None
        self.pos = 0
        self.last_s = 0.0
        self.hist = LogHistogram()
        nw = max(1, math.ceil(horizon_s / window_s - 1e-9))
        self.win = {k: np.zeros(nw) for k in ("requests", "served", "timed_out", "dropped", "hits", "loads",
                                               "evictions", "busy_s")}
        self.tot = dict.fromkeys(("served", "timed_out", "dropped", "dropped_no_memory", "hits", "misses",
                                  "loads", "evictions", "within_sla", "in_flight"), 0)
        self.loads_by_model = np.zeros(self.memory_gb.size, np.int64)

    # ---- capacity ---------------------------------------------------------------------------
    def attach(self, scaler: Autoscaler) -> None:
        self.timeline = scaler.timeline
        for inst in scaler.timeline.instances:
            self._add(inst)
        scaler.listeners.append(self.on_change)

    def _add(self, inst) -> None:
        state = MMInstance(len(self.order), inst.ready_s, self.concurrency, self.capacity_gb)
        self.instances[inst.instance_id] = state
        self.order.append(state)

    def on_change(self, t: float, event: str, inst) -> None:
        if event == "launch":
            self._add(inst)
        elif event == "terminate":
            self.instances[inst.instance_id].end_s = t

    def add_instance(self, ready_s: float = 0.0) -> MMInstance:
        """An instance without an autoscaler (tests, fixed fleets driven by hand)."""
        state = MMInstance(len(self.order), ready_s, self.concurrency, self.capacity_gb)
        self.order.append(state)
        return state

    # ---- requests ---------------------------------------------------------------------------
    def advance(self, until_s: float) -> Metrics:
        until_s = min(until_s, self.horizon_s)
        hi = int(np.searchsorted(self.arrival_s, until_s, side="left"))
        lo = self.pos
        busy = 0.0
        for i in range(lo, hi):
            busy += self._route(i)
        self.pos = hi
        in_service = self.timeline.in_service_mean(self.last_s, until_s) if (
            self.timeline is not None and until_s > self.last_s) else 0.0
        cap = in_service * self.concurrency * (until_s - self.last_s)
        util = min(100.0, 100.0 * busy / cap) if cap > 0 else 0.0
        m = Metrics(self.last_s, float(hi - lo), in_service, util, util, 0.0)
        self.last_s = until_s
        return m

    def _route(self, i: int) -> float:
        t = float(self.arrival_s[i])
        m = int(self.model_index[i])
        w = min(int(t // self.window_s), self.win["requests"].size - 1)
        self.win["requests"][w] += 1
        live = [s for s in self.order if s.ready_s <= t < s.end_s]
        if not live:
            return self._drop(w)
        best = None
        for s in live:
            n = s.outstanding(t)
            if m in s.cache and n < s.concurrency and (best is None or n < best[0]):
                best = (n, s)
        if best is None:
            best = min(((s.outstanding(t), s) for s in live), key=lambda x: (x[0], x[1].ident))
        inst = best[1]
        start = max(t, inst.workers[0])
        deadline = t + self.timeout_s
        if start >= deadline:  # left the queue before a worker took it
            self.tot["timed_out"] += 1
            self.win["timed_out"][w] += 1
            return 0.0
        entry = inst.cache.get(m)
        if entry is not None:
            self.tot["hits"] += 1
            self.win["hits"][w] += 1
            inst.cache.move_to_end(m)
            svc_start = max(start, entry.ready_s)
        else:
            if not self._make_room(inst, m, t, w):
                self.tot["dropped_no_memory"] += 1
                return self._drop(w)
            self.tot["misses"] += 1
            self.tot["loads"] += 1
            self.loads_by_model[m] += 1
            self.win["loads"][w] += 1
            entry = CachedModel(start + self.load_time_s[m], start)
            inst.cache[m] = entry
            inst.used_gb += self.memory_gb[m]
            svc_start = entry.ready_s
        end = svc_start + self.service_s[i]
        done = min(end, deadline)
        heapq.heapreplace(inst.workers, done)
        heapq.heappush(inst.ends, done)
        entry.busy_until_s = max(entry.busy_until_s, done)
        if done > self.horizon_s:
            self.tot["in_flight"] += 1
        elif end > deadline:
            self.tot["timed_out"] += 1
            self.win["timed_out"][w] += 1
        else:
            self.tot["served"] += 1
            self.win["served"][w] += 1
            self.hist.add(np.array([end - t]))
            if self.sla_s is not None and end - t <= self.sla_s:
                self.tot["within_sla"] += 1
        self.win["busy_s"][w] += done - start
        return done - start

    def _drop(self, w: int) -> float:
        self.tot["dropped"] += 1
        self.win["dropped"][w] += 1
        return 0.0

    def _make_room(self, inst: MMInstance, m: int, t: float, w: int) -> bool:
        need = self.memory_gb[m]
        if inst.used_gb + need <= self.capacity_gb + 1e-9:
            return True
        idle = [k for k, e in inst.cache.items() if e.busy_until_s <= t and e.ready_s <= t]
        free = self.capacity_gb - inst.used_gb + sum(self.memory_gb[k] for k in idle)
        if free + 1e-9 < need:
            return False
        for k in idle:  # LRU first (OrderedDict order)
            if inst.used_gb + need <= self.capacity_gb + 1e-9:
                break
            del inst.cache[k]
            inst.used_gb -= self.memory_gb[k]
            self.tot["evictions"] += 1
            self.win["evictions"][w] += 1
        return True


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
        self.plane = MultiModelPlane(
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
        self.scaler.start()
        from smsim.resources.endpoint_data import meter_trace_data

        meter_trace_data(ctx, self.spec, self.trace, "multi_model_endpoint", "RealTimeInference", self.tags)

    def finish(self, ctx: SimContext) -> ResourceResult:
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
