"""The requests of an LLM endpoint: arrivals with input and output tokens, period by period.

Arrivals come from the endpoint's ``workload`` through smsim's usual readers and generators
(:func:`smsim.workload.iter_chunks`: synthetic ones in bounded memory). Token counts come from
the trace's columns (the Azure LLM ``ContextTokens``/``GeneratedTokens`` and Mooncake
``input_length``/``output_length`` layouts are recognised, see :mod:`smsim.workload.traces`) or
from ``workload.attributes`` distributions; a request has at least one input and one output token.

Prefix caching needs the trace's prompt block hashes (Mooncake's ``hash_ids`` column, one id per
``engine.prefix_block_tokens`` tokens): they are read once from the same file and looked up by the
request's source row, so rate scaling, tiling and skipping keep each request's hashes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError
from smsim.workload.real_traces import dataset_path
from smsim.workload.request_trace import RequestTrace
from smsim.workload.spec import RealWorkload, TraceWorkload, iter_chunks, recorded_attributes


def _trace_path(spec, base_dir: Path | None) -> Path:
    p = Path(spec.workload.path)
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


def _source(spec) -> str:
    """The workload as the scenario names it (a trace file's path as written)."""
    w = spec.workload
    if isinstance(w, TraceWorkload):
        return w.path
    if isinstance(w, RealWorkload):
        return f"of real dataset {w.dataset!r}"
    return f"{w.kind} workload"


def check_tokens(trace: RequestTrace, spec, base_dir: Path | None) -> None:
    """Refuse requests without token counts, naming the file and the missing column."""
    for name, names in (("input_tokens", "input_tokens, ContextTokens, prompt_tokens, input_length"),
                        ("output_tokens", "output_tokens, GeneratedTokens, completion_tokens, output_length")):
        if getattr(trace, name) is None:
            src = _source(spec)
            recorded = isinstance(spec.workload, TraceWorkload | RealWorkload)
            how = (f"the trace {src} has no {name} column (expected one of {names}, or name it in workload.columns)"
                   if recorded else f"the {spec.workload.kind} workload draws no {name}")
            raise InputError(
                f"an llm endpoint needs {name} per request: {how}; or give workload.attributes.{name} "
                "(a distribution, e.g. {kind: lognormal, median: 500, p99: 4000})",
                file=str(_trace_path(spec, base_dir)) if isinstance(spec.workload, TraceWorkload) else None,
                path=f"endpoints.{spec.name}.workload",
            )


def missing_tokens(spec, base_dir: Path | None) -> None:
    """Before the run: a recorded trace without token columns (and no ``attributes`` filling
    them) is the error :func:`check_tokens` would raise at the run's first requests."""
    have = recorded_attributes(spec.workload, base_dir)
    if have is None:
        return
    for name in ("input_tokens", "output_tokens"):
        if name not in have:
            check_tokens(RequestTrace(np.zeros(1), 1.0), spec, base_dir)


def load_hashes(spec, base_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """``(flat hash ids, offsets by file row)`` of the workload's trace (see the module doc)."""
    w = spec.workload
    if isinstance(w, RealWorkload) and w.dataset.startswith("mooncake"):
        path = dataset_path(w.dataset, w.data_dir, base_dir)
    elif isinstance(w, TraceWorkload) and w.shape == "requests":
        path = _trace_path(spec, base_dir)
    else:
        raise InputError("engine.prefix_caching needs a request trace with a hash_ids column "
                         "(a JSON Lines trace such as Mooncake's); this workload has none",
                         path=f"endpoints.{spec.name}.engine.prefix_caching")
    try:
        frame = pd.read_json(path, lines=True) if path.suffix in (".jsonl", ".ndjson", ".json") else pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read the trace for its hash_ids: {exc}", file=str(path)) from None
    if "hash_ids" not in frame.columns:
        raise InputError(f"engine.prefix_caching needs a hash_ids column; columns are {', '.join(map(str, frame.columns))}",
                         file=str(path), path=f"endpoints.{spec.name}.engine.prefix_caching")
    lists = frame["hash_ids"].tolist()
    lengths = np.zeros(len(lists), np.int64)
    for i, h in enumerate(lists):
        if not isinstance(h, list) or not all(isinstance(x, int) and x >= 0 for x in h):
            raise InputError(f"hash_ids must be a list of non-negative integers, found {str(h)[:60]!r}",
                             file=str(path), line=i + 1, path=f"row {i + 1}, column 'hash_ids'")
        lengths[i] = len(h)
    flat = np.fromiter((x for h in lists for x in h), dtype=np.int64, count=int(lengths.sum()))
    return flat, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


class TokenRequests:
    """Arrivals, input and output tokens and source rows of ``[clock, until_s)``, chunk by chunk."""

    def __init__(self, spec, rng: np.random.Generator, horizon_s: float, *, start, base_dir: Path | None) -> None:
        self.spec = spec
        self.base_dir = base_dir
        self.chunks = iter_chunks(spec.workload, rng, horizon_s, start=start, base_dir=base_dir)
        self.buf: RequestTrace | None = None
        self.pos = 0
        self.done = False
        self.checked = False

    def _next(self) -> bool:
        trace = next(self.chunks, None)
        if trace is None:
            self.done = True
            return False
        if not self.checked and len(trace):
            check_tokens(trace, self.spec, self.base_dir)
            self.checked = True
        self.buf, self.pos = trace, 0
        return True

    def take(self, until_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        parts: list[tuple] = []
        while True:
            b = self.buf
            if b is not None:
                hi = int(b.arrival_s.searchsorted(until_s, side="left"))
                if hi > self.pos and len(b):
                    sl = slice(self.pos, hi)
                    if b.input_tokens is None or b.output_tokens is None:
                        check_tokens(b, self.spec, self.base_dir)
                    rows = b.source_row[sl] if b.source_row is not None else np.full(hi - self.pos, -1.0)
                    parts.append((b.arrival_s[sl], b.input_tokens[sl], b.output_tokens[sl], rows))
                    self.pos = hi
                if b.duration_s >= until_s:
                    break
            if self.done or not self._next():
                break
        if not parts:
            z = np.zeros(0)
            return z, z.astype(np.int64), z.astype(np.int64), z.astype(np.int64)
        t, p, o, r = (np.concatenate(x) for x in zip(*parts, strict=True))
        p = np.maximum(np.rint(p), 1).astype(np.int64)
        o = np.maximum(np.rint(o), 1).astype(np.int64)
        return t, p, o, r.astype(np.int64)


__all__ = ["TokenRequests", "check_tokens", "load_hashes", "missing_tokens"]
