"""The token-level data plane of one LLM endpoint: all its model copies, iteration by iteration.

:class:`ServingEngine` owns the state arrays of the compiled loop in :mod:`._loop` and runs it
between control events (the autoscaler's minute ticks): ``advance(arrivals, until_s)`` routes the
arrivals, runs every copy's engine steps whose start is before ``until_s`` and returns the
requests finished meanwhile. Nothing here knows SimPy or money.

Semantics (the reference twin, :mod:`.reference`, implements the same in plain objects):

* A copy steps back to back while it holds work; a step's start schedules (vLLM with chunked
  prefill): running sequences in admission order (a decode needs 1 token, a prefill the rest of
  its prompt up to the token budget ``max_num_batched_tokens``), each given the KV blocks it
  needs; when the cache is full the most recently admitted running sequence is preempted (its
  blocks freed, recomputed later); then preempted sequences (most recent first) and waiting
  requests (arrival order) are admitted while ``max_num_seqs`` and the budget allow and the blocks
  of the whole prompt are free above a watermark of 1 % of the cache (vLLM's ``can_allocate``).
  The step's time comes from the step model at (prefill tokens, decoding sequences, context
  tokens read); its tokens appear at its end. A prefill that completes emits the first token.
  Every gap between two tokens of a sequence goes into the inter-token histogram (:attr:`itl`)
  and, per request, is counted when above each of the config's ``itl_thresholds_s`` (so goodput
  can judge a request by its own gaps: :attr:`Finished.itl_over`).
* A request is routed at its arrival to a copy InService (least outstanding requests, prefix
  match first, or round robin); none InService, a full waiting queue, or a request longer than
  a copy's whole cache is rejected. A request still waiting ``invocation_timeout_s`` after it
  arrived, never scheduled, times out.
* Prefix caching: a copy remembers the trace's prompt block hashes of finished prefills (LRU,
  in blocks not held by running sequences); an admitted request's leading cached blocks skip
  prefill (at least one token is computed). Shared blocks are not deduplicated between running
  sequences (memory saving ignored: conservative).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smsim.core.histogram import LogHistogram
from smsim.resources.llm import _loop
from smsim.resources.llm import _loop_parts as L
from smsim.resources.llm.profile import StepForm

POLICIES = {"least_outstanding": L.LEAST_OUTSTANDING, "prefix_aware": L.PREFIX_AWARE, "round_robin": L.ROUND_ROBIN}


def _exec(name: str, file: str, **inject):
    """Execute ``file`` (beside this module) as module ``name`` with ``inject`` in its globals."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(file))
    module = importlib.util.module_from_spec(spec)
    for key, value in inject.items():
        setattr(module, key, value)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _compiled():
    """The loop and its helpers compiled with numba (``_loop_parts`` first, handed to ``_loop``)."""
    import numba

    # The loop allocates nothing: without the reference-counting runtime, passing its ~25 arrays to a
    # helper twice per engine step costs no atomic increments and decrements.
    jit = numba.njit(cache=True, _nrt=False, error_model="numpy")
    parts = _exec("smsim.resources.llm._loop_parts_jit", "_loop_parts.py", _JIT=jit)
    return _exec("smsim.resources.llm._loop_jit", "_loop.py", _JIT=jit, _PARTS=parts)


@dataclass(frozen=True)
class EngineConfig:
    """Static settings of one endpoint's copies (tokens, blocks, seconds)."""

    kv_capacity_blocks: int
    max_num_seqs: int = 256
    max_num_batched_tokens: int = 8192
    block_size_tokens: int = 16
    queue_limit: int = 1024
    timeout_s: float = 60.0
    routing: str = "least_outstanding"
    prefix_caching: bool = False
    prefix_block_tokens: int = 512
    watermark: float = 0.01  # vLLM: share of blocks kept free when admitting
    itl_thresholds_s: tuple[float, ...] = ()  # per-request gap thresholds counted (at most L.N_ITL)

    @property
    def watermark_blocks(self) -> int:
        return int(self.watermark * self.kv_capacity_blocks)


@dataclass
class Finished:
    """Requests finished in one ``advance``: arrival, first token and finish times (s), tokens."""

    arrival_s: np.ndarray
    first_token_s: np.ndarray
    finish_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    index: np.ndarray  # the request's index in the hash table (or -1)
    itl_over: np.ndarray | None = None  # (n, N_ITL): the request's gaps above each ITL threshold

    @property
    def gaps(self) -> np.ndarray:
        """Inter-token gaps of each request (output tokens - 1)."""
        return np.maximum(self.output_tokens - 1, 0)

    @property
    def ttft_s(self) -> np.ndarray:
        return self.first_token_s - self.arrival_s

    @property
    def e2e_s(self) -> np.ndarray:
        return self.finish_s - self.arrival_s

    @property
    def tpot_s(self) -> np.ndarray:
        """Mean time per output token after the first (NaN for one-token outputs)."""
        n = self.output_tokens - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, (self.finish_s - self.first_token_s) / np.maximum(n, 1), np.nan)


class ServingEngine:
    """All copies of one endpoint; see the module doc. ``jit=False`` runs the loop as plain Python."""

    def __init__(self, cfg: EngineConfig, form: StepForm, *, hashes: tuple[np.ndarray, np.ndarray] | None = None,
                 jit: bool = True) -> None:
        self.cfg = cfg
        self.form = form
        self.loop = _compiled() if jit else _loop
        self.caching = bool(cfg.prefix_caching and hashes is not None)
        if hashes is None:
            hashes = (np.zeros(0, np.int64), np.zeros(1, np.int64))
        self.hflat = np.ascontiguousarray(hashes[0], dtype=np.int64)
        self.hoff = np.ascontiguousarray(hashes[1], dtype=np.int64)
        self.ent_blocks = max(1, cfg.prefix_block_tokens // cfg.block_size_tokens)
        self.entries = max(1, cfg.kv_capacity_blocks // self.ent_blocks) if self.caching else 1
        self.n_copies = 0
        self.qcap = cfg.queue_limit + 1
        self.per_copy_slots = cfg.max_num_seqs + self.qcap
        self.cf = np.zeros((0, L.N_CF))
        self.ci = np.zeros((0, L.N_CI), np.int64)
        self.run = np.zeros((0, cfg.max_num_seqs), np.int64)
        self.pre = np.zeros((0, cfg.max_num_seqs), np.int64)
        self.wq = np.zeros((0, self.qcap), np.int64)
        self.ehash = np.zeros((0, self.entries), np.int64)
        self.elast = np.zeros((0, self.entries))
        self.rf = np.zeros((0, L.N_RF))
        self.ri = np.zeros((0, L.N_RI), np.int64)
        self.free = np.zeros(0, np.int64)
        self.nfree = np.zeros(1, np.int64)
        self.k = np.zeros(L.N_K, np.int64)
        self.acc = np.zeros(L.N_A)
        #: every gap between two consecutive tokens of a sequence (s), preemption stalls included
        self.itl = LogHistogram()
        self.rr = np.zeros(1, np.int64)
        self.heap = np.zeros(0, np.int64)  # copies by next step time (rebuilt by each advance)
        self.pos = np.zeros(0, np.int64)
        self.in_system = 0
        self.clock_s = 0.0
        if len(cfg.itl_thresholds_s) > L.N_ITL:
            raise ValueError(f"at most {L.N_ITL} ITL thresholds, got {len(cfg.itl_thresholds_s)}")
        self.itl_thr = np.full(L.N_ITL, math.inf)
        self.itl_thr[: len(cfg.itl_thresholds_s)] = cfg.itl_thresholds_s

    # -- copies ----------------------------------------------------------------------------------
    def add_copies(self, n: int, ready_s: float) -> list[int]:
        """``n`` copies that take requests from ``ready_s`` on; returns their ids."""
        c0 = self.n_copies
        self.n_copies += n
        if self.n_copies > self.cf.shape[0]:
            grow = max(self.n_copies, 2 * self.cf.shape[0]) - self.cf.shape[0]
            self.cf = np.vstack([self.cf, np.zeros((grow, L.N_CF))])
            self.ci = np.vstack([self.ci, np.zeros((grow, L.N_CI), np.int64)])
            for name, width, dtype in (("run", self.cfg.max_num_seqs, np.int64), ("pre", self.cfg.max_num_seqs, np.int64),
                                       ("wq", self.qcap, np.int64), ("ehash", self.entries, np.int64),
                                       ("elast", self.entries, np.float64)):
                setattr(self, name, np.vstack([getattr(self, name), np.zeros((grow, width), dtype)]))
            s0 = self.rf.shape[0]
            extra = grow * self.per_copy_slots
            self.rf = np.vstack([self.rf, np.zeros((extra, L.N_RF))])
            self.ri = np.vstack([self.ri, np.zeros((extra, L.N_RI), np.int64)])
            nf = int(self.nfree[0])
            free = np.zeros(s0 + extra, np.int64)
            free[:nf] = self.free[:nf]
            free[nf:nf + extra] = np.arange(s0 + extra - 1, s0 - 1, -1)
            self.free = free
            self.nfree[0] = nf + extra
        if self.heap.size < self.cf.shape[0]:
            self.heap = np.zeros(self.cf.shape[0], np.int64)
            self.pos = np.zeros(self.cf.shape[0], np.int64)
        ids = list(range(c0, self.n_copies))
        for c in ids:
            self.cf[c] = (ready_s, math.inf, math.inf, -1.0, 0.0)
            self.ci[c] = 0
        return ids

    def end_copies(self, ids: list[int], at_s: float) -> None:
        """Stop routing to these copies from ``at_s``; they finish what they hold."""
        for c in ids:
            self.cf[c, L.CF_END] = min(self.cf[c, L.CF_END], at_s)

    def kv_blocks_used(self) -> np.ndarray:
        return self.ci[: self.n_copies, L.CI_USED].copy()

    def waiting(self) -> np.ndarray:
        """Requests per copy not running: waiting to be admitted or preempted."""
        ci = self.ci[: self.n_copies]
        return ci[:, L.CI_PRE] + ci[:, L.CI_WLEN]

    def outstanding(self) -> np.ndarray:
        ci = self.ci[: self.n_copies]
        return ci[:, L.CI_RUN] + ci[:, L.CI_PRE] + ci[:, L.CI_WLEN]

    # -- running ---------------------------------------------------------------------------------
    def advance(self, arrival_s: np.ndarray, input_tokens: np.ndarray, output_tokens: np.ndarray,
                until_s: float, index: np.ndarray | None = None) -> Finished:
        """Route ``arrival_s`` (sorted, in ``[clock, until_s)``) and run to ``until_s``."""
        cfg, f = self.cfg, self.form
        n = arrival_s.size
        if n and not (arrival_s[0] >= self.clock_s and arrival_s[-1] < until_s):
            raise ValueError(f"arrivals must lie in [{self.clock_s}, {until_s}), found {arrival_s[0]}..{arrival_s[-1]}")
        cap = self.rf.shape[0] + n + 1
        done_f = np.zeros((cap, 3))
        done_i = np.zeros((cap, 3 + L.N_ITL), np.int64)
        self.k[L.K_DONE] = 0
        g = np.full(n, -1, np.int64) if index is None else np.ascontiguousarray(index, dtype=np.int64)
        self.in_system = int(self.loop.advance(
            float(until_s), self.n_copies, np.ascontiguousarray(arrival_s, dtype=np.float64),
            np.ascontiguousarray(input_tokens, dtype=np.int64), np.ascontiguousarray(output_tokens, dtype=np.int64),
            g, self.cf, self.ci, self.run, self.pre, self.wq, self.rf, self.ri, self.free, self.nfree,
            self.hflat, self.hoff, self.ehash, self.elast, self.k, self.acc, done_f, done_i, self.rr,
            self.in_system, f.kind, f.pieces, f.grid_p, f.grid_d, f.table, cfg.max_num_seqs,
            cfg.max_num_batched_tokens, cfg.block_size_tokens, cfg.kv_capacity_blocks, self.ent_blocks,
            cfg.prefix_block_tokens, self.caching, float(cfg.timeout_s), cfg.queue_limit,
            POLICIES[cfg.routing], cfg.watermark_blocks, self.heap, self.pos, self.itl.counts, self.itl.edges,
            self.itl_thr, len(cfg.itl_thresholds_s)))
        self.itl.total = float(self.acc[L.A_ITL_SUM])
        self.clock_s = float(until_s)
        m = int(self.k[L.K_DONE])
        return Finished(done_f[:m, 0], done_f[:m, 1], done_f[:m, 2], done_i[:m, 0], done_i[:m, 1], done_i[:m, 2],
                        done_i[:m, 3:])

    def counters(self) -> dict[str, float]:
        k = self.k
        return {
            "arrivals": int(k[L.K_ARRIVALS]), "served": int(k[L.K_SERVED]), "timed_out": int(k[L.K_TIMED_OUT]),
            "rejected_queue_full": int(k[L.K_REJECT_FULL]), "rejected_no_capacity": int(k[L.K_REJECT_NOCAP]),
            "rejected_too_long": int(k[L.K_REJECT_LONG]), "preemptions": int(k[L.K_PREEMPT]),
            "input_tokens_served": int(k[L.K_TOKENS_IN]), "output_tokens": int(k[L.K_TOKENS_OUT]),
            "prefill_tokens_computed": int(k[L.K_PREFILL_DONE]), "prefix_hit_tokens": int(k[L.K_HIT]),
            "engine_steps": int(k[L.K_STEPS]), "peak_kv_blocks": int(k[L.K_PEAK_BLOCKS]),
            "kv_over_capacity": int(k[L.K_OVER]), "in_system": self.in_system,
            "request_seconds": float(self.acc[L.A_CONC]), "busy_copy_seconds": float(self.acc[L.A_BUSY]),
        }


__all__ = ["POLICIES", "EngineConfig", "Finished", "ServingEngine"]
