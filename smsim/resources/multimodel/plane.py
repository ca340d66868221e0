"""The multi-model data plane in plain Python: per-instance LRU model caches, cache-aware routing,
load latency. The reference for the compiled :mod:`smsim.resources.multimodel.kernel`.

Requests are assigned in arrival order:

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

from smsim.core.histogram import LogHistogram
from smsim.resources.scaling.autoscaler import Autoscaler
from smsim.resources.scaling.policies import Metrics

__all__ = ["CachedModel", "MMInstance", "MultiModelPlane"]


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
                 sla_s: float | None = None, record: bool = False) -> None:
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
        #: per-request rows when ``record``: instance, outcome code (``kernel.OUTCOMES``), hit, completion
        self.records = np.zeros((self.arrival_s.size, 4)) if record else np.zeros((0, 4))

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

    def end_instance(self, k: int, t: float) -> None:
        """Instance ``k`` (launch order) takes no new work from ``t`` on."""
        self.order[k].end_s = t

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
            self._record(i, -1, 3, False, math.nan)
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
            self._record(i, inst.ident, 2, False, math.nan)
            return 0.0
        entry = inst.cache.get(m)
        entry_hit = entry is not None
        if entry is not None:
            self.tot["hits"] += 1
            self.win["hits"][w] += 1
            inst.cache.move_to_end(m)
            svc_start = max(start, entry.ready_s)
        else:
            if not self._make_room(inst, m, t, w):
                self.tot["dropped_no_memory"] += 1
                self._record(i, inst.ident, 4, False, math.nan)
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
        self._record(i, inst.ident, 5 if done > self.horizon_s else 1 if end > deadline else 0, entry_hit, done)
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

    def _record(self, i: int, inst: int, outcome: int, hit: bool, done: float) -> None:
        if self.records.shape[0]:
            self.records[i] = (inst, outcome, float(hit), done)

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
