"""The serverless container pool: cold starts, idle reclaim and throttling, request by request.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["OUT_SERVED", "OUT_THROTTLED", "OUT_TIMED_OUT", "ChunkResult", "ServerlessPool"]

OUT_SERVED, OUT_THROTTLED, OUT_TIMED_OUT = 0, 1, 2

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
