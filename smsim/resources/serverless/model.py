"""Serverless endpoints: containers, cold starts, idle reclaim, throttling and per-ms billing.

Requests never become SimPy processes. :class:`ServerlessPool` runs a heap recursion over the
arrivals in time order (compiled with numba, the same source runs as plain Python for tests),
chunk by chunk, carrying its state between chunks so 10^7 requests stream in bounded memory.

Semantics at an arrival at time ``t`` (seconds from the horizon start):

1. every invocation that ended at or before ``t`` frees its container (ties: the end first);
2. every idle on-demand container freed at ``f`` with ``f + idle_reclaim_s <= t`` is reclaimed;
3. if ``max_concurrency`` invocations are in flight the request is **throttled** (no queue);
4. otherwise it runs on an idle provisioned container, else on the most recently freed idle
   on-demand container (warm), else on a new container after a **cold start** drawn from the
   spec's distribution. Its latency is ``cold + service``;
5. a request whose latency would exceed ``invocation_timeout_s`` **times out**: its container is
   held until the deadline and the inference that ran until then is billed.

Containers never outnumber ``max_concurrency``: a new one starts only when none is idle.

Billing (the engine records usage; prices come later from the catalog): each request's inference
duration, rounded up to the millisecond as AWS bills it, times the memory in GB (1024 MB) is
``serverless_compute_gb_second``; payload in + out is ``serverless_data_gb`` (throttled requests
are not processed, so not billed). Usage is summed per clock hour of arrival and recorded as one
amount spread over that hour. Provisioned concurrency: see :mod:`smsim.resources.serverless.spec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from smsim.core.engine import ResourceResult, SimContext
from smsim.core.histogram import LogHistogram

__all__ = ["OUT_SERVED", "OUT_THROTTLED", "OUT_TIMED_OUT", "ServerlessModel", "ServerlessPool"]

OUT_SERVED, OUT_THROTTLED, OUT_TIMED_OUT = 0, 1, 2
BYTES_PER_GB = 1024.0**3
HOUR_S = 3600.0

# state vector layout (float64): counters carried between chunks
S_HSIZE, S_RHEAD, S_RLEN, S_PROV_IDLE, S_CREATED, S_RECLAIMED, S_LIFE_S, N_STATE = range(8)


def _core(arr, svc, cold, c, idle_s, timeout_s, bill_cold, heap_t, heap_k, heap_c,
          ring_f, ring_c, state, out_code, out_lat, out_bill_s, out_flags):
    """One chunk of arrivals. Flags: 1 = cold start, 2 = ran on a provisioned container."""
    hsize = int(state[S_HSIZE])
    rhead = int(state[S_RHEAD])
    rlen = int(state[S_RLEN])
    prov_idle = int(state[S_PROV_IDLE])
    rcap = ring_f.shape[0]
    for i in range(arr.shape[0]):
        t = arr[i]
        # 1. free every container whose invocation ended by t (heap pop)
        while hsize > 0 and heap_t[0] <= t:
            e = heap_t[0]
            k = heap_k[0]
            ct = heap_c[0]
            hsize -= 1
            if hsize > 0:
                lt, lk, lc = heap_t[hsize], heap_k[hsize], heap_c[hsize]
                j = 0
                while True:
                    a = 2 * j + 1
                    if a >= hsize:
                        break
                    b = a + 1
                    if b < hsize and heap_t[b] < heap_t[a]:
                        a = b
                    if heap_t[a] < lt:
                        heap_t[j], heap_k[j], heap_c[j] = heap_t[a], heap_k[a], heap_c[a]
                        j = a
                    else:
                        break
                heap_t[j], heap_k[j], heap_c[j] = lt, lk, lc
            if k == 1:
                prov_idle += 1
            else:
                p = (rhead + rlen) % rcap
                ring_f[p] = e
                ring_c[p] = ct
                rlen += 1
        # 2. reclaim containers idle for idle_s (oldest-freed at the head)
        while rlen > 0 and ring_f[rhead] + idle_s <= t:
            state[S_RECLAIMED] += 1
            state[S_LIFE_S] += ring_f[rhead] + idle_s - ring_c[rhead]
            rhead = (rhead + 1) % rcap
            rlen -= 1
        # 3. throttle
        if hsize >= c:
            out_code[i] = 1
            out_lat[i] = math.nan
            out_bill_s[i] = 0.0
            out_flags[i] = 0
            continue
        # 4. pick a container
        d_cold = 0.0
        flags = 0
        kind = 0
        created = 0.0
        if prov_idle > 0:
            prov_idle -= 1
            kind = 1
            flags = 2
        elif rlen > 0:
            p = (rhead + rlen - 1) % rcap
            created = ring_c[p]
            rlen -= 1
        else:
            d_cold = cold[i]
            flags = 1
            created = t
            state[S_CREATED] += 1
        lat = d_cold + svc[i]
        if lat > timeout_s:
            out_code[i] = 2
            out_lat[i] = math.nan
            end = t + timeout_s
            run = timeout_s if bill_cold else max(0.0, timeout_s - d_cold)
        else:
            out_code[i] = 0
            out_lat[i] = lat
            end = t + lat
            run = lat if bill_cold else svc[i]
        out_bill_s[i] = math.ceil(round(run * 1000.0, 6)) / 1000.0
        out_flags[i] = flags
        # push (end, kind, created) on the busy heap
        j = hsize
        hsize += 1
        while j > 0:
            par = (j - 1) // 2
            if heap_t[par] <= end:
                break
            heap_t[j], heap_k[j], heap_c[j] = heap_t[par], heap_k[par], heap_c[par]
            j = par
        heap_t[j], heap_k[j], heap_c[j] = end, kind, created
    state[S_HSIZE] = hsize
    state[S_RHEAD] = rhead
    state[S_RLEN] = rlen
    state[S_PROV_IDLE] = prov_idle


_CORES: dict[str, object] = {"python": _core}


def _get_core(backend: str):
    if backend not in _CORES:
        import numba

        _CORES[backend] = numba.njit(cache=True)(_core)
    return _CORES[backend]


@dataclass
class ChunkResult:
    """Per-request outcomes of one chunk, aligned with its arrivals."""

    code: np.ndarray
    latency_s: np.ndarray
    billed_s: np.ndarray
    flags: np.ndarray

    @property
    def cold(self) -> np.ndarray:
        return (self.flags & 1) > 0

    @property
    def provisioned(self) -> np.ndarray:
        return (self.flags & 2) > 0


@dataclass
class ServerlessPool:
    """The container pool of one serverless endpoint; feed it arrivals in time order."""

    max_concurrency: int
    provisioned: int = 0
    idle_reclaim_s: float = 600.0
    timeout_s: float = 60.0
    bill_cold_start: bool = False
    backend: str = "numba"
    state: np.ndarray = field(init=False)
    clock_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        c = int(self.max_concurrency)
        if not 1 <= c:
            raise ValueError(f"max_concurrency must be >= 1, found {c}")
        if not 0 <= self.provisioned <= c:
            raise ValueError(f"provisioned must be in [0, {c}], found {self.provisioned}")
        self.heap_t = np.zeros(c)
        self.heap_k = np.zeros(c, np.int64)
        self.heap_c = np.zeros(c)
        self.ring_f = np.zeros(c + 1)
        self.ring_c = np.zeros(c + 1)
        self.state = np.zeros(N_STATE)
        self.state[S_PROV_IDLE] = self.provisioned
        self.core = _get_core(self.backend)

    def run(self, arrival_s: np.ndarray, service_s: np.ndarray, cold_s: np.ndarray) -> ChunkResult:
        """Process sorted arrivals (all at or after the previous chunk's last one)."""
        arr = np.ascontiguousarray(arrival_s, dtype=np.float64)
        n = arr.size
        if n and (arr[0] < self.clock_s or np.any(np.diff(arr) < 0)):
            raise ValueError("arrivals must be sorted and not before the previous chunk")
        out = ChunkResult(np.zeros(n, np.int64), np.zeros(n), np.zeros(n), np.zeros(n, np.int64))
        self.core(arr, np.ascontiguousarray(service_s, dtype=np.float64),
                  np.ascontiguousarray(cold_s, dtype=np.float64), int(self.max_concurrency),
                  float(self.idle_reclaim_s), float(self.timeout_s), bool(self.bill_cold_start),
                  self.heap_t, self.heap_k, self.heap_c, self.ring_f, self.ring_c, self.state,
                  out.code, out.latency_s, out.billed_s, out.flags)
        if n:
            self.clock_s = float(arr[-1])
        return out

    @property
    def in_flight(self) -> int:
        return int(self.state[S_HSIZE])

    def in_flight_at(self, t: float) -> int:
        """Invocations still running at ``t`` (``t`` at or after the last arrival)."""
        h = int(self.state[S_HSIZE])
        return int(np.count_nonzero(self.heap_t[:h] > t))

    def close(self, horizon_s: float) -> dict[str, float]:
        """Container totals at the horizon: created, reclaimed, container-seconds alive."""
        life = float(self.state[S_LIFE_S])
        reclaimed = int(self.state[S_RECLAIMED])
        h, head, rlen = int(self.state[S_HSIZE]), int(self.state[S_RHEAD]), int(self.state[S_RLEN])
        cap = self.ring_f.size
        for k in range(rlen):
            p = (head + k) % cap
            gone = self.ring_f[p] + self.idle_reclaim_s
            if gone <= horizon_s:
                reclaimed += 1
            life += min(gone, horizon_s) - self.ring_c[p]
        for k in range(h):  # busy now: idle from its end, then reclaimed
            if self.heap_k[k] == 0:
                gone = self.heap_t[k] + self.idle_reclaim_s
                if gone <= horizon_s:
                    reclaimed += 1
                life += min(gone, horizon_s) - self.heap_c[k]
        return {"containers_created": int(self.state[S_CREATED]), "containers_reclaimed": reclaimed,
                "container_s": life}


def _window_sums(bins: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    return np.bincount(bins, weights=weights, minlength=n)[:n].astype(np.float64)


class ServerlessModel:
    """A serverless endpoint: runs its whole workload through a :class:`ServerlessPool`."""

    SERIES_COLUMNS: ClassVar[list[str]] = ["window_start_s", "requests", "served", "throttled", "timed_out", "cold_starts",
                      "in_flight_end", "compute_gb_s", "latency_sum_s"]

    def __init__(self, spec, ctx: SimContext, backend: str = "numba") -> None:
        self.spec = spec
        self.tags = ctx.tags_for(spec)
        models = {m.name: m for m in getattr(ctx.scenario, "models", [])}
        if spec.model not in models:
            raise ValueError(f"serverless endpoint {spec.name!r}: model {spec.model!r} is not in models")
        self.profile = models[spec.model].latency_for(spec.latency_key)
        if self.profile is None:
            raise ValueError(f"model {spec.model!r} has no latency entry {spec.latency_key!r}")
        self.pool = ServerlessPool(spec.max_concurrency, spec.provisioned_concurrency, spec.idle_reclaim_s,
                                   spec.invocation_timeout_s, spec.bill_cold_start, backend)
        self.metrics: dict = {}
        self.series: pd.DataFrame | None = None

    def start(self, ctx: SimContext) -> None:
        from smsim.workload.spec import iter_chunks

        s = self.spec
        horizon = ctx.horizon_s
        w = float(s.series_window_s)
        nw = max(1, math.ceil(horizon / w - 1e-9))
        nh = max(1, math.ceil(horizon / HOUR_S - 1e-9))
        win = {k: np.zeros(nw) for k in self.SERIES_COLUMNS[1:]}
        hourly = {k: np.zeros(nh) for k in ("od_gb_s", "prov_gb_s", "data_gb")}
        hist = LogHistogram()
        tot = dict.fromkeys(("requests", "served", "throttled", "timed_out", "cold_starts",
                             "within_sla", "billed_s", "data_gb", "served_provisioned", "in_flight"), 0.0)
        arrivals_rng = ctx.arrivals_rng(s)
        svc_rng = ctx.rng("endpoint", s.name, "service")
        cold_rng = ctx.rng("endpoint", s.name, "cold_start")
        sla = s.sla.latency_threshold_s if s.sla is not None else None
        chunks = iter_chunks(s.workload, arrivals_rng, horizon, None, ctx.start,
                             getattr(ctx.scenario, "base_dir", None))
        pending = np.zeros(0)  # end times of earlier requests still running at the last chunk end
        t0 = 0.0
        for chunk in chunks:
            n = len(chunk)
            t1 = float(chunk.duration_s)
            svc = self.profile.sample(svc_rng, chunk) if n else np.zeros(0)
            cold = s.cold_start.base().sample(cold_rng, n)
            res = self.pool.run(chunk.arrival_s, svc, cold)
            served = res.code == OUT_SERVED
            processed = res.code != OUT_THROTTLED
            # in flight at the end of each window closing in (t0, t1]
            run_end = chunk.arrival_s + np.where(served, res.latency_s, s.invocation_timeout_s)
            arr_p = chunk.arrival_s[processed]
            all_ends = np.sort(np.concatenate([pending, run_end[processed]]))
            ks = np.arange(math.floor(t0 / w + 1e-9), min(nw, math.floor(t1 / w + 1e-9)))
            edges = (ks + 1) * w
            win["in_flight_end"][ks] = (pending.size + np.searchsorted(arr_p, edges, side="left")
                                        - np.searchsorted(all_ends, edges, side="right"))
            pending = all_ends[all_ends > t1]
            t0 = t1
            if n == 0:
                continue
            # outcomes count when they happen: a request still running at the horizon is in flight
            finished = run_end <= horizon
            tot["in_flight"] += np.count_nonzero(processed & ~finished)
            served = served & finished
            gb_in = (chunk.payload_bytes / BYTES_PER_GB if chunk.payload_bytes is not None
                     else np.full(n, s.data_in_gb_per_request or 0.0))
            gb = np.where(processed, gb_in + (s.data_out_gb_per_request or 0.0), 0.0)
            gb_s = res.billed_s * s.memory_gb
            wb = np.minimum((chunk.arrival_s // w).astype(np.int64), nw - 1)
            hb = np.minimum((chunk.arrival_s // HOUR_S).astype(np.int64), nh - 1)
            prov = res.provisioned
            win["requests"] += _window_sums(wb, None, nw)
            win["served"] += _window_sums(wb, served.astype(float), nw)
            win["throttled"] += _window_sums(wb, (res.code == OUT_THROTTLED).astype(float), nw)
            win["timed_out"] += _window_sums(wb, ((res.code == OUT_TIMED_OUT) & finished).astype(float), nw)
            win["cold_starts"] += _window_sums(wb, res.cold.astype(float), nw)
            win["compute_gb_s"] += _window_sums(wb, gb_s, nw)
            win["latency_sum_s"] += _window_sums(wb, np.where(served, res.latency_s, 0.0), nw)
            hourly["od_gb_s"] += _window_sums(hb, np.where(prov, 0.0, gb_s), nh)
            hourly["prov_gb_s"] += _window_sums(hb, np.where(prov, gb_s, 0.0), nh)
            hourly["data_gb"] += _window_sums(hb, gb, nh)
            lat = res.latency_s[served]
            hist.add(lat)
            tot["requests"] += n
            tot["served"] += served.sum()
            tot["throttled"] += (res.code == OUT_THROTTLED).sum()
            tot["timed_out"] += ((res.code == OUT_TIMED_OUT) & finished).sum()
            tot["cold_starts"] += res.cold.sum()
            tot["billed_s"] += res.billed_s.sum()
            tot["data_gb"] += gb.sum()
            tot["served_provisioned"] += (served & prov).sum()
            if sla is not None:
                tot["within_sla"] += np.count_nonzero(lat <= sla)
        self._meter(ctx, hourly, nh, horizon)
        pool = self.pool.close(horizon)
        self.series = pd.DataFrame({"window_start_s": np.arange(nw) * w, **win})
        self.metrics = self._summary(tot, hist, pool, horizon)

    def _meter(self, ctx: SimContext, hourly: dict, nh: int, horizon: float) -> None:
        s = self.spec
        comp = "ServerlessInference"
        for h in range(nh):
            a, b = h * HOUR_S, min((h + 1) * HOUR_S, horizon)
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_compute_gb_second",
                             hourly["od_gb_s"][h], a, b, self.tags)
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_provisioned_inference_gb_second",
                             hourly["prov_gb_s"][h], a, b, self.tags)
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_data_gb",
                             hourly["data_gb"][h], a, b, self.tags)
        if s.provisioned_concurrency:
            ctx.meter.amount(s.name, "serverless_endpoint", comp, "serverless_provisioned_gb_second",
                             s.provisioned_concurrency * s.memory_gb * horizon, 0.0, horizon, self.tags)

    def _summary(self, tot: dict, hist: LogHistogram, pool: dict, horizon: float) -> dict:
        s = self.spec
        q = hist.quantile(np.array([0.5, 0.9, 0.99])) if hist.count else [math.nan] * 3
        n = int(tot["requests"])
        in_flight = int(tot["in_flight"])
        out = {
            "memory_size_mb": s.memory_size_mb,
            "max_concurrency": s.max_concurrency,
            "provisioned_concurrency": s.provisioned_concurrency,
            "requests": n,
            "served": int(tot["served"]),
            "timed_out": int(tot["timed_out"]),
            "dropped": 0,
            "throttled": int(tot["throttled"]),
            "in_flight": in_flight,
            "throttle_rate": tot["throttled"] / n if n else 0.0,
            "latency_p50_s": float(q[0]),
            "latency_p90_s": float(q[1]),
            "latency_p99_s": float(q[2]),
            "latency_mean_s": hist.mean if hist.count else math.nan,
            "cold_starts": int(tot["cold_starts"]),
            "cold_start_rate": tot["cold_starts"] / n if n else 0.0,
            "served_provisioned": int(tot["served_provisioned"]),
            "billed_compute_s": float(tot["billed_s"]),
            "compute_gb_s": float(tot["billed_s"]) * s.memory_gb,
            "data_processed_gb": float(tot["data_gb"]),
            "containers_created": pool["containers_created"],
            "containers_reclaimed": pool["containers_reclaimed"],
            "container_gb_hours": pool["container_s"] * s.memory_gb / HOUR_S,
            "provisioned_gb_hours": s.provisioned_concurrency * s.memory_gb * horizon / HOUR_S,
            "instance_hours": 0.0,
        }
        if s.sla is not None:
            out["sla_attainment"] = tot["within_sla"] / n if n else 1.0
            out["sla_met"] = out["sla_attainment"] >= s.sla.percentile / 100.0
        return out

    def finish(self, ctx: SimContext) -> ResourceResult:
        return ResourceResult(self.spec.name, "serverless", "endpoints", _plain(self.metrics), self.series)


def _plain(metrics: dict) -> dict:
    """Metrics as plain Python scalars (JSON-able)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in metrics.items()}
