"""The multi-model data plane compiled with numba: the same routing, LRU caches, loads, timeouts
and counters as :class:`smsim.resources.multimodel.plane.MultiModelPlane`, request for request.

The Python plane is the reference; the tests require the same instance, outcome, hit or miss
and completion time for every request, the same caches and the same counters. State lives in
arrays owned by :class:`CompiledPlane`:

* per instance: ready and end times, its workers' free times (a min-heap of ``concurrency``),
  the completion times of its outstanding requests (a min-heap, grown on demand) and its model
  cache as a list of model indices in least-recently-used order, with each model's ready time
  and the end of its last request (``c_ready``, ``c_busy``: instance x model);
* per request routed in a call: latency of the served ones, handed to the histogram in bulk.

Instances whose end has passed are dropped from the scan, so a request costs O(live instances
+ cached models), not O(instances ever launched).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from smsim.resources.multimodel.plane import MultiModelPlane
from smsim.resources.scaling.policies import Metrics

#: Window rows (as in ``MultiModelPlane.win``) and totals (``MultiModelPlane.tot``), in order.
WIN_KEYS = ("requests", "served", "timed_out", "dropped", "hits", "loads", "evictions", "busy_s")
TOT_KEYS = ("served", "timed_out", "dropped", "dropped_no_memory", "hits", "misses", "loads", "evictions",
            "within_sla", "in_flight")
#: Per-request outcome codes of the records.
OUTCOMES = {0: "served", 1: "timed_out_service", 2: "timed_out_queue", 3: "dropped", 4: "dropped_no_memory",
            5: "in_flight"}

_JIT = numba.njit(cache=True)


@_JIT
def _sift_down(h, i, n):
    while True:
        lo = 2 * i + 1
        if lo >= n:
            return
        r = lo + 1
        j = r if r < n and h[r] < h[lo] else lo
        if h[j] < h[i]:
            h[i], h[j] = h[j], h[i]
            i = j
        else:
            return


@_JIT
def _push(h, n, x):
    i = n
    h[i] = x
    while i > 0:
        p = (i - 1) // 2
        if h[i] < h[p]:
            h[i], h[p] = h[p], h[i]
            i = p
        else:
            return


@_JIT
def _outstanding(ends, n_ends, k, t):
    """Pop the completions ``<= t`` of instance ``k``; the count left."""
    h = ends[k]
    n = n_ends[k]
    while n > 0 and h[0] <= t:
        n -= 1
        h[0] = h[n]
        _sift_down(h, 0, n)
    n_ends[k] = n
    return n


@_JIT
def route(arrival, model, service, lo, hi, live, n_live, ready, end, workers, ends, n_ends, lru, n_lru, c_ready,
          c_busy, used, mem, load, conc, cap, timeout, horizon, window_s, sla, win, tot, loads_by_model, lat, n_lat,
          rec, busy_out):
    """Route requests ``lo .. hi - 1``; returns ``(next request, status)``: status 0 done, 1 when an
    outstanding-completions heap is full (grow ``ends`` and call again from the returned index).

    ``live[:n_live]`` are the instances not yet ended, in launch order (pruned here); ``rec``
    (``n x 4``: instance, outcome, hit, completion) is filled when it has rows.
    """
    nw = win.shape[1]
    record = rec.shape[0] > 0
    busy = busy_out[0]
    for i in range(lo, hi):
        t = arrival[i]
        m = model[i]
        w = min(int(t // window_s), nw - 1)
        win[0, w] += 1.0
        # prune ended instances (time only moves forward)
        j = 0
        for q in range(n_live[0]):
            k = live[q]
            if end[k] > t:
                live[j] = k
                j += 1
        n_live[0] = j
        best = -1
        best_n = 0
        any_live = False
        for q in range(n_live[0]):
            k = live[q]
            if not (ready[k] <= t < end[k]):
                continue
            any_live = True
            n = _outstanding(ends, n_ends, k, t)
            if c_ready[k, m] >= 0.0 and n < conc and (best < 0 or n < best_n):
                best, best_n = k, n
        if not any_live:
            tot[2] += 1.0
            win[3, w] += 1.0
            if record:
                rec[i, 0], rec[i, 1], rec[i, 2], rec[i, 3] = -1.0, 3.0, 0.0, math.nan
            continue
        if best < 0:
            for q in range(n_live[0]):
                k = live[q]
                if not (ready[k] <= t < end[k]):
                    continue
                n = n_ends[k]
                if best < 0 or n < best_n:
                    best, best_n = k, n
        k = best
        if n_ends[k] >= ends.shape[1]:
            win[0, w] -= 1.0  # routed again after the heap grows
            busy_out[0] = busy
            return i, 1
        start = max(t, workers[k, 0])
        deadline = t + timeout
        if start >= deadline:
            tot[1] += 1.0
            win[2, w] += 1.0
            if record:
                rec[i, 0], rec[i, 1], rec[i, 2], rec[i, 3] = k, 2.0, 0.0, math.nan
            continue
        nl = n_lru[k]
        hit = c_ready[k, m] >= 0.0
        if hit:
            tot[4] += 1.0
            win[4, w] += 1.0
            p = 0
            while lru[k, p] != m:
                p += 1
            for r in range(p, nl - 1):
                lru[k, r] = lru[k, r + 1]
            lru[k, nl - 1] = m
            svc_start = max(start, c_ready[k, m])
        else:
            need = mem[m]
            if used[k] + need > cap + 1e-9:
                s = 0.0
                for r in range(nl):
                    x = lru[k, r]
                    if c_busy[k, x] <= t and c_ready[k, x] <= t:
                        s += mem[x]
                free = cap - used[k] + s
                if free + 1e-9 < need:
                    tot[3] += 1.0
                    tot[2] += 1.0
                    win[3, w] += 1.0
                    if record:
                        rec[i, 0], rec[i, 1], rec[i, 2], rec[i, 3] = k, 4.0, 0.0, math.nan
                    continue
                keep = 0
                done_evicting = False
                for r in range(nl):
                    x = lru[k, r]
                    if not done_evicting and c_busy[k, x] <= t and c_ready[k, x] <= t:
                        if used[k] + need <= cap + 1e-9:
                            done_evicting = True
                        else:
                            c_ready[k, x] = -1.0
                            used[k] -= mem[x]
                            tot[7] += 1.0
                            win[6, w] += 1.0
                            continue
                    lru[k, keep] = x
                    keep += 1
                nl = keep
            tot[5] += 1.0
            tot[6] += 1.0
            loads_by_model[m] += 1
            win[5, w] += 1.0
            c_ready[k, m] = start + load[m]
            c_busy[k, m] = start
            lru[k, nl] = m
            nl += 1
            used[k] += mem[m]
            svc_start = c_ready[k, m]
        n_lru[k] = nl
        e = svc_start + service[i]
        done = min(e, deadline)
        workers[k, 0] = done
        _sift_down(workers[k], 0, workers.shape[1])
        _push(ends[k], n_ends[k], done)
        n_ends[k] += 1
        c_busy[k, m] = max(c_busy[k, m], done)
        if done > horizon:
            tot[9] += 1.0
            outcome = 5.0
        elif e > deadline:
            tot[1] += 1.0
            win[2, w] += 1.0
            outcome = 1.0
        else:
            tot[0] += 1.0
            win[1, w] += 1.0
            lat[n_lat[0]] = e - t
            n_lat[0] += 1
            if sla >= 0.0 and e - t <= sla:
                tot[8] += 1.0
            outcome = 0.0
        win[7, w] += done - start
        busy += done - start
        if record:
            rec[i, 0], rec[i, 1], rec[i, 2], rec[i, 3] = k, outcome, 1.0 if hit else 0.0, done
    busy_out[0] = busy
    return hi, 0


class CompiledPlane(MultiModelPlane):
    """:class:`MultiModelPlane` run by the compiled :func:`route` (same results, request for request).

    ``record=True`` keeps per-request rows in :attr:`records` (``n x 4``: instance, outcome code
    of :data:`OUTCOMES`, hit, completion time).
    """

    def __init__(self, *args, record: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        n_models = self.memory_gb.size
        self._n_models = n_models
        min_mem = float(self.memory_gb.min()) if n_models else 1.0
        self._max_cached = max(1, min(n_models, int(self.capacity_gb / max(min_mem, 1e-12) + 1e-6) + 1))
        self._n = 0
        self._ready = np.zeros(4)
        self._end = np.full(4, np.inf)
        self._workers = np.zeros((4, self.concurrency))
        self._ends = np.zeros((4, 4 * self.concurrency + 16))
        self._n_ends = np.zeros(4, np.int64)
        self._lru = np.zeros((4, self._max_cached), np.int64)
        self._n_lru = np.zeros(4, np.int64)
        self._c_ready = np.full((4, n_models), -1.0)
        self._c_busy = np.zeros((4, n_models))
        self._used = np.zeros(4)
        self._live = np.zeros(4, np.int64)
        self._n_live = np.zeros(1, np.int64)
        self._ids: dict[str, int] = {}
        self._win = np.zeros((len(WIN_KEYS), self.win["requests"].size))
        self.win = {k: self._win[j] for j, k in enumerate(WIN_KEYS)}
        self._tot = np.zeros(len(TOT_KEYS))
        self.records = np.zeros((self.arrival_s.size, 4)) if record else np.zeros((0, 4))
        self._lat = np.zeros(0)

    # ---- capacity ---------------------------------------------------------------------------
    def _grow(self, n: int) -> None:
        def grow(a, fill):
            b = np.full((n, *a.shape[1:]), fill, dtype=a.dtype)
            b[: a.shape[0]] = a
            return b

        self._ready, self._end = grow(self._ready, 0.0), grow(self._end, np.inf)
        self._workers, self._ends = grow(self._workers, 0.0), grow(self._ends, 0.0)
        self._n_ends, self._lru, self._n_lru = grow(self._n_ends, 0), grow(self._lru, 0), grow(self._n_lru, 0)
        self._c_ready, self._c_busy = grow(self._c_ready, -1.0), grow(self._c_busy, 0.0)
        self._used, self._live = grow(self._used, 0.0), grow(self._live, 0)

    def _new(self, ready_s: float) -> int:
        k = self._n
        if k >= self._ready.size:
            self._grow(2 * self._ready.size)
        self._ready[k] = ready_s
        self._workers[k] = ready_s
        self._live[self._n_live[0]] = k
        self._n_live[0] += 1
        self._n += 1
        return k

    def _add(self, inst) -> None:
        self._ids[inst.instance_id] = self._new(inst.ready_s)

    def on_change(self, t: float, event: str, inst) -> None:
        if event == "launch":
            self._add(inst)
        elif event == "terminate":
            self._end[self._ids[inst.instance_id]] = t

    def add_instance(self, ready_s: float = 0.0) -> int:
        """An instance without an autoscaler (tests, fixed fleets driven by hand): its index."""
        return self._new(ready_s)

    def end_instance(self, k: int, t: float) -> None:
        """Instance ``k`` (launch order) takes no new work from ``t`` on."""
        self._end[k] = t

    def cache_of(self, k: int) -> list[int]:
        """Instance ``k``'s cached models, least recently used first."""
        return self._lru[k, : self._n_lru[k]].tolist()

    # ---- requests ---------------------------------------------------------------------------
    def advance(self, until_s: float) -> Metrics:
        until_s = min(until_s, self.horizon_s)
        hi = int(np.searchsorted(self.arrival_s, until_s, side="left"))
        lo = self.pos
        if self._lat.size < hi - lo:
            self._lat = np.zeros(max(hi - lo, 2 * self._lat.size))
        n_lat = np.zeros(1, np.int64)
        busy = np.zeros(1)
        sla = -1.0 if self.sla_s is None else float(self.sla_s)
        i = lo
        while True:
            i, status = route(self.arrival_s, self.model_index, self.service_s, i, hi, self._live, self._n_live,
                              self._ready, self._end, self._workers, self._ends, self._n_ends, self._lru, self._n_lru,
                              self._c_ready, self._c_busy, self._used, self.memory_gb, self.load_time_s,
                              self.concurrency, self.capacity_gb, self.timeout_s, self.horizon_s, self.window_s, sla,
                              self._win, self._tot, self.loads_by_model, self._lat, n_lat, self.records, busy)
            if status == 0:
                break
            wider = np.zeros((self._ends.shape[0], 2 * self._ends.shape[1]))
            wider[:, : self._ends.shape[1]] = self._ends
            self._ends = wider
        if n_lat[0]:
            self.hist.add(self._lat[: n_lat[0]])
        self.tot = {k: int(v) for k, v in zip(TOT_KEYS, self._tot, strict=True)}
        self.pos = hi
        in_service = self.timeline.in_service_mean(self.last_s, until_s) if (
            self.timeline is not None and until_s > self.last_s) else 0.0
        cap = in_service * self.concurrency * (until_s - self.last_s)
        util = min(100.0, 100.0 * float(busy[0]) / cap) if cap > 0 else 0.0
        m = Metrics(self.last_s, float(hi - lo), in_service, util, util, 0.0)
        self.last_s = until_s
        return m


__all__ = ["OUTCOMES", "CompiledPlane", "route"]
