"""The data-plane request kernel: a FIFO multi-server queue advanced in chunks between control events.

SimPy runs the control plane (autoscaler ticks, instance launches); requests never become SimPy
processes. Instead the control loop calls :meth:`Kernel.advance` once per metric period with the
arrivals of that period, and changes capacity between calls. The kernel is a heap recursion in
time order (O(log c) per request; per-instance routing adds O(instances) per arrival), compiled
with numba; the identical source also runs as plain Python (``backend="python"``) for tests.

Semantics (all times seconds from the horizon start):

* **Servers.** Capacity is ``instances x concurrency`` servers. An instance added with
  ``ready_s`` takes work from ``ready_s``; an instance removed at ``at_s`` takes no new work
  from ``at_s`` on and finishes what it holds (its in-service requests, and with per-instance
  routing its own queue). A free server takes the oldest waiting request; among free servers
  the one free the longest (then lowest id) is used.
* **Routing.** ``"shared"``: one FIFO queue feeds all servers (M/M/c when instances are equal).
  ``"random"``: each arrival goes to a uniformly random in-service instance (``ready_s <= t <
  removal``), which queues it FIFO. ``"least_outstanding"``: to the in-service instance with
  the fewest requests in service plus queued (ties: lowest instance id). With per-instance
  routing and no in-service instance the arrival is dropped.
* **Timeout** ``timeout_s`` (SageMaker real-time: 60 s) gives each request the deadline
  ``arrival + timeout_s``. A request that cannot start before its deadline leaves the queue at
  the deadline (``timed_out``, queue side); one that starts but would finish after it is cut at
  the deadline, holding its server until then (``timed_out``, service side). ``inf`` disables.
* **Queue limit** ``queue_limit``: an arrival that would have to wait while that many requests
  are already waiting in its queue is ``dropped`` at arrival (``None``: unlimited).
* **Ties** (measure zero with continuous times): starts and abandonments at time ``t`` happen
  before an arrival at ``t``; events exactly at ``until_s`` belong to the next call.

Conservation: every arrival ends as exactly one of served / timed_out / dropped, or is still
queued or in service. Busy server-seconds never exceed provisioned server-seconds per window.

Metrics stream into bounded memory: totals, a response-time :class:`LogHistogram` (served
requests), and per-window rows (see :data:`WINDOW_COLUMNS`); a window is final once ``clock_s``
has passed its end. Per-request rows are returned only when ``record=True``.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from smsim.core.histogram import LUT_SUB, LogHistogram, quantiles_from_counts

__all__ = ["OUTCOMES", "WINDOW_COLUMNS", "Kernel", "KernelConfig", "Records"]

Routing = Literal["shared", "random", "least_outstanding"]
_MODES = {"shared": 0, "random": 1, "least_outstanding": 2}
#: Outcome codes in :class:`Records`.
OUTCOMES = {0: "served", 1: "timed_out_service", 2: "timed_out_queue", 3: "dropped"}
_NO_LIMIT = np.iinfo(np.int64).max // 4


def _load_core(jit: bool):
    """Execute ``_kernel_numba.py`` as a module, jitted or as plain Python."""
    name = "smsim.core._kernel_numba" if jit else "smsim.core._kernel_python"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).with_name("_kernel_numba.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    if jit:
        import numba

        # The kernel allocates nothing: it only reads and writes arrays owned by Kernel. Without
        # the reference-counting runtime, passing an array to a helper costs nothing; with it,
        # every array argument of every helper call is an atomic increment and decrement.
        module._JIT = numba.njit(cache=True, _nrt=False)
        # Starting a request is the per-request path: inlined into its two callers.
        module._JIT_INLINE = numba.njit(cache=True, _nrt=False, inline="always")
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_core_py = _load_core(False)
W = _core_py  # row and outcome constants
assert W.LUT_SUB == LUT_SUB

#: Per-window columns of :meth:`Kernel.windows` (counts by the window in which each happened).
WINDOW_COLUMNS = [
    "window_start_s", "arrivals", "starts", "ends", "served", "timed_out", "dropped",
    "busy_server_s", "capacity_server_s", "waiting_request_s", "response_sum_s",
    "in_flight_end", "queue_end", "utilization", "mean_response_s",
]


@dataclass(frozen=True)
class KernelConfig:
    """Static settings of one endpoint variant's data plane."""

    horizon_s: float
    concurrency: int = 1
    routing: Routing = "shared"
    timeout_s: float = 60.0
    queue_limit: int | None = None
    window_s: float = 60.0
    record: bool = False
    window_histograms: bool = False
    relative_error: float = 0.005
    backend: Literal["numba", "python"] = "numba"

    def __post_init__(self) -> None:
        if not (self.horizon_s > 0 and math.isfinite(self.horizon_s)):
            raise ValueError(f"horizon_s must be finite and > 0, found {self.horizon_s}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, found {self.concurrency}")
        if self.routing not in _MODES:
            raise ValueError(f"routing must be one of {sorted(_MODES)}, found {self.routing!r}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0 (inf for none), found {self.timeout_s}")
        if self.queue_limit is not None and self.queue_limit < 0:
            raise ValueError(f"queue_limit must be >= 0, found {self.queue_limit}")
        if not self.window_s > 0:
            raise ValueError(f"window_s must be > 0, found {self.window_s}")


@dataclass
class Records:
    """Per-request rows decided during one call, in decision order.

    ``index`` is the request's position in the concatenation of all arrivals given to the
    kernel; ``start_s`` is NaN for requests that never started; ``instance`` is -1 when none.
    """

    index: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    outcome: np.ndarray
    instance: np.ndarray

    @staticmethod
    def concat(parts: list[Records]) -> Records:
        """All rows sorted by request index."""
        cols = {k: np.concatenate([getattr(p, k) for p in parts]) for k in Records.__annotations__}
        order = np.argsort(cols["index"], kind="stable")
        return Records(**{k: v[order] for k, v in cols.items()})


class Kernel:
    """Resumable FIFO multi-server queue; see the module docstring for the semantics."""

    def __init__(self, config: KernelConfig, rng: np.random.Generator | None = None) -> None:
        self.config = config
        self.core = _load_core(config.backend == "numba")
        self.mode = _MODES[config.routing]
        if self.mode == 1 and rng is None:
            raise ValueError("random routing needs a numpy Generator (rng)")
        self.rng = rng
        self.clock_s = 0.0
        self.n_requests = 0
        self.n_instances = 0
        self.hist = LogHistogram(config.relative_error)
        nw = math.ceil(config.horizon_s / config.window_s)
        self.win = np.zeros((W.N_WROWS, nw + 1))
        self.whist = np.zeros((nw + 1 if config.window_histograms else 0, self.hist.n_buckets), np.int64)
        self.totals = np.zeros(W.N_TOTALS)
        c = config.concurrency
        self._inst_cap = 0
        self.inst_ready = np.zeros(0)
        self.inst_retire = np.zeros(0)
        self.avail = self.ready = self.retire = self.jobend = self.acc_from = np.zeros(0)
        self.done = np.zeros(0, np.int64)
        nq, hcap = (1, 0) if self.mode == 0 else (0, c)
        self.heap = np.zeros((nq, hcap), np.int64)
        self.hsize = np.zeros(nq, np.int64)
        r = 1024 if self.mode == 0 else 16
        self.q_arr = np.zeros((nq, r))
        self.q_svc = np.zeros((nq, r))
        self.q_gid = np.zeros((nq, r), np.int64)
        self.q_head = np.zeros(nq, np.int64)
        self.q_len = np.zeros(nq, np.int64)
        self._active = np.zeros(0, np.int64)  # servers whose capacity is still accounted
        self._n_active = 0
        self._timeout = float(config.timeout_s)
        self._qlimit = _NO_LIMIT if config.queue_limit is None else int(config.queue_limit)
        self._window_s = float(config.window_s)
        self._empty_f = np.zeros(0)
        self._empty_i = np.zeros(0, np.int64)
        self._no_rec_f = np.zeros((0, 2))
        self._no_rec_i = np.zeros((0, 3), np.int64)
        self._rec_n = np.zeros(1, np.int64)

    # ----- capacity -------------------------------------------------------------------------
    def add_instances(self, n: int, ready_s: float) -> np.ndarray:
        """Add ``n`` instances taking work from ``ready_s`` (``>= clock_s``); returns their ids."""
        if ready_s < self.clock_s:
            raise ValueError(f"ready_s {ready_s} is before the kernel clock {self.clock_s}")
        c = self.config.concurrency
        ids = np.arange(self.n_instances, self.n_instances + n)
        if n <= 0:
            return ids
        self._grow_instances(self.n_instances + n)
        self.inst_ready[ids] = ready_s
        self.inst_retire[ids] = math.inf
        servers = np.arange(ids[0] * c, (ids[-1] + 1) * c)
        self.avail[servers] = ready_s
        self.ready[servers] = ready_s
        self.retire[servers] = math.inf
        self.jobend[servers] = 0.0
        self.acc_from[servers] = ready_s
        for sid in servers:
            q = 0 if self.mode == 0 else int(sid) // c
            self.hsize[q] = W._hpush(self.heap, q, self.hsize[q], int(sid), self.avail)
        self._active = np.concatenate([self._active[: self._n_active], servers])
        self._n_active = self._active.size
        self.n_instances += n
        return ids

    def remove_instances(self, ids, at_s: float) -> None:
        """Instances ``ids`` take no new work from ``at_s`` (``>= clock_s``) and drain."""
        if at_s < self.clock_s:
            raise ValueError(f"at_s {at_s} is before the kernel clock {self.clock_s}")
        c = self.config.concurrency
        for j in np.atleast_1d(np.asarray(ids, dtype=np.int64)):
            if not 0 <= j < self.n_instances:
                raise ValueError(f"unknown instance id {j}")
            t = min(self.inst_retire[j], at_s)
            self.inst_retire[j] = t
            self.retire[j * c : (j + 1) * c] = t

    def live_instances(self, at_s: float | None = None) -> np.ndarray:
        """Ids of instances not removed by ``at_s`` (default: the clock), ready or not."""
        t = self.clock_s if at_s is None else at_s
        return np.nonzero(self.inst_retire[: self.n_instances] > t)[0]

    def set_instances(self, count: int, time_s: float, ready_s: float | None = None) -> None:
        """Scale to ``count`` live instances at ``time_s``: add (ready at ``ready_s``, default
        ``time_s``) or remove the newest first."""
        live = self.live_instances(time_s)
        if count > live.size:
            self.add_instances(count - live.size, time_s if ready_s is None else ready_s)
        elif count < live.size:
            self.remove_instances(live[::-1][: live.size - count], time_s)

    def _grow_instances(self, need: int) -> None:
        if need <= self._inst_cap:
            return
        cap = max(need, 2 * self._inst_cap, 4)
        c = self.config.concurrency

        def grow(a, size, fill=0.0):
            out = np.full((size,) + a.shape[1:], fill, dtype=a.dtype)
            out[: a.shape[0]] = a
            return out

        self.inst_ready = grow(self.inst_ready, cap, math.inf)
        self.inst_retire = grow(self.inst_retire, cap, math.inf)
        for name in ("avail", "ready", "retire", "jobend", "acc_from"):
            setattr(self, name, grow(getattr(self, name), cap * c))
        self.done = grow(self.done, cap * c)
        if self.mode == 0:
            heap = np.zeros((1, cap * c), np.int64)
            heap[0, : self.heap.shape[1]] = self.heap[0]
            self.heap = heap
        else:
            self.heap = grow(self.heap, cap)
            self.hsize = grow(self.hsize, cap)
            for name in ("q_arr", "q_svc", "q_gid", "q_head", "q_len"):
                setattr(self, name, grow(getattr(self, name), cap))
        self._inst_cap = cap

    def _grow_queues(self) -> None:
        nq, r = self.q_arr.shape
        new = [np.zeros((nq, 2 * r), dtype=a.dtype) for a in (self.q_arr, self.q_svc, self.q_gid)]
        for q in range(nq):
            pos = (self.q_head[q] + np.arange(self.q_len[q])) % r
            for dst, src in zip(new, (self.q_arr, self.q_svc, self.q_gid), strict=True):
                dst[q, : pos.size] = src[q, pos]
        self.q_arr, self.q_svc, self.q_gid = new
        self.q_head[:] = 0

    # ----- processing -----------------------------------------------------------------------
    def advance(self, arrivals: np.ndarray, services: np.ndarray, until_s: float) -> Records | None:
        """Process ``arrivals`` (sorted, in ``[clock_s, until_s)``) and all events before ``until_s``.

        ``services`` are the requests' service times (seconds). Afterwards ``clock_s ==
        until_s``. Returns the per-request rows decided in this call when ``record=True``.
        """
        arr = np.ascontiguousarray(arrivals, dtype=np.float64)
        svc = np.ascontiguousarray(services, dtype=np.float64)
        if arr.shape != svc.shape or arr.ndim != 1:
            raise ValueError(f"arrivals {arr.shape} and services {svc.shape} must be equal 1-D")
        until = float(until_s)
        if until < self.clock_s:
            raise ValueError(f"until_s {until_s} is before the kernel clock {self.clock_s}")
        core = self.core
        if arr.size:
            bad, kind = core.check_inputs(arr, svc, self.clock_s, until)
            if kind == 1:
                raise ValueError(
                    f"arrivals must be sorted within [{self.clock_s}, {until_s}); found "
                    f"{arr[bad]} at position {bad} (range [{arr[0]}, {arr[-1]}])"
                )
            if kind == 2:
                raise ValueError(f"service times must be >= 0; found {svc[bad]} at position {bad}")
        u = self.rng.random(arr.size) if self.mode == 1 else self._empty_f
        cfg = self.config
        if cfg.record:
            nrec = int(self.q_len.sum()) + arr.size
            rec_f = np.zeros((nrec, 2))
            rec_i = np.zeros((nrec, 3), np.int64)
        else:
            rec_f, rec_i = self._no_rec_f, self._no_rec_i
        rec_n = self._rec_n
        rec_n[0] = 0
        routable = self._empty_i if self.mode == 0 else self.live_instances()
        i = 0
        while True:
            i, status, n_active = core.advance_core(
                arr, svc, u, self.n_requests, i, until, self.mode, cfg.concurrency,
                self._timeout, self._qlimit, self.avail, self.ready, self.retire, self.jobend,
                self.heap, self.hsize, self.q_arr, self.q_svc, self.q_gid, self.q_head, self.q_len,
                routable, self.inst_retire, self.inst_ready, self.win, self.totals,
                self.hist.counts, self.hist.edges, self.hist.lut, self.hist.lut_e0, self.whist,
                self._window_s, rec_f, rec_i, rec_n, self._active, self._n_active,
                self.acc_from, self.done,
            )
            if status == 0:
                break
            self._grow_queues()
        self._n_active = n_active
        self.hist.total = self.totals[W.T_RESP_SUM]
        self.n_requests += arr.size
        self.clock_s = until
        if not cfg.record:
            return None
        n = int(rec_n[0])
        return Records(rec_i[:n, 0].copy(), rec_f[:n, 0].copy(), rec_f[:n, 1].copy(),
                       rec_i[:n, 1].copy(), rec_i[:n, 2].copy())

    # ----- state and metrics ----------------------------------------------------------------
    @property
    def queued(self) -> int:
        """Requests waiting now (at ``clock_s``)."""
        return int(self.q_len.sum())

    @property
    def in_service(self) -> int:
        """Requests in service at ``clock_s``."""
        n = self.n_instances * self.config.concurrency
        return int(np.count_nonzero(self.jobend[:n] > self.clock_s))

    def counts(self) -> dict[str, float]:
        """Totals so far; ``arrivals == served + timed_out + dropped + queued + in_service``."""
        t = self.totals
        served = t[W.T_SERVED]
        to = t[W.T_TIMED_OUT_SERVICE] + t[W.T_TIMED_OUT_QUEUE]
        started = served + t[W.T_TIMED_OUT_SERVICE] + self.in_service
        return {
            "arrivals": int(t[W.T_ARRIVALS]),
            "served": int(served),
            "timed_out": int(to),
            "timed_out_queue": int(t[W.T_TIMED_OUT_QUEUE]),
            "timed_out_service": int(t[W.T_TIMED_OUT_SERVICE]),
            "dropped": int(t[W.T_DROPPED]),
            "queued": self.queued,
            "in_service": self.in_service,
            "busy_server_s": float(t[W.T_BUSY_S]),
            "mean_response_s": float(t[W.T_RESP_SUM] / served) if served else math.nan,
            "mean_wait_started_s": float(t[W.T_WAIT_SUM_STARTED] / started) if started else math.nan,
        }

    def windows(self, upto_s: float | None = None) -> pd.DataFrame:
        """Per-window rows for windows ending at or before ``upto_s`` (default: the clock).

        Counts are attributed to the window where each event happened (arrivals and drops at
        arrival, served and timed-out at their end). ``in_flight_end``/``queue_end`` are the
        numbers in service/waiting at the window's end; ``waiting_request_s`` includes the
        partial waits of requests still queued at the clock.
        """
        w = self.config.window_s
        upto = self.clock_s if upto_s is None else min(upto_s, self.clock_s)
        k = min(math.floor(upto / w + 1e-9), self.win.shape[1] - 1)
        win = self.win
        wait2 = win[W.W_WAIT_S : W.W_WAIT_S + 1].copy()
        for q in range(self.q_len.shape[0]):
            r = self.q_arr.shape[1]
            for p in (self.q_head[q] + np.arange(self.q_len[q])) % r:
                W._add_interval(wait2, 0, float(self.q_arr[q, p]), self.clock_s, w,
                                        wait2.shape[1] - 1)
        wait = wait2[0]
        in_flight = np.cumsum(win[W.W_STARTS] - win[W.W_ENDS])
        queue = np.cumsum(win[W.W_ENQ] - win[W.W_DEQ])
        with np.errstate(invalid="ignore", divide="ignore"):
            util = win[W.W_BUSY_S] / win[W.W_CAPACITY_S]
            mresp = win[W.W_RESP_SUM_S] / win[W.W_SERVED]
        frame = pd.DataFrame({
            "window_start_s": np.arange(win.shape[1]) * w,
            "arrivals": win[W.W_ARRIVALS], "starts": win[W.W_STARTS], "ends": win[W.W_ENDS],
            "served": win[W.W_SERVED], "timed_out": win[W.W_TIMED_OUT],
            "dropped": win[W.W_DROPPED], "busy_server_s": win[W.W_BUSY_S],
            "capacity_server_s": win[W.W_CAPACITY_S], "waiting_request_s": wait,
            "response_sum_s": win[W.W_RESP_SUM_S], "in_flight_end": in_flight,
            "queue_end": queue, "utilization": util, "mean_response_s": mresp,
        })
        return frame.iloc[:k].reset_index(drop=True)

    def window_quantiles(self, q) -> np.ndarray:
        """Response-time quantiles per window (rows) — needs ``window_histograms=True``."""
        if self.whist.shape[0] == 0:
            raise ValueError("window quantiles need KernelConfig(window_histograms=True)")
        return quantiles_from_counts(self.whist, self.hist.representative(), q)
