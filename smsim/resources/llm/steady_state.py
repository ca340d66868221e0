"""Closed forms over the step model: saturation throughput, latency at low load, batch-1 decode.

These need no simulation, so they check the step model against published figures on their own,
and they give the serving simulation a reference to agree with.

Saturation (every request has ``input_tokens`` in and ``output_tokens`` out, the queue never
empties): ``B`` sequences run at once; each step decodes one token for each, and since a sequence
lives ``output_tokens`` steps, ``B x input / output`` prompt tokens enter per step (chunked
prefill spreads them) while the cache holds ``B x (input + output / 2)`` context tokens on
average. ``B`` is the largest batch the KV cache holds at that average, capped by
``max_num_seqs``; throughput is ``B / step time``.

Low load (one request alone): TTFT is the prefill in chunks of ``max_num_batched_tokens``; TPOT
is the mean decode step over the growing context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smsim.resources.llm.memory import ServingHardware
from smsim.resources.llm.roofline import StepTimeModel


@dataclass(frozen=True)
class Saturation:
    batch: int
    limited_by: str  # "kv_cache" | "max_num_seqs"
    step_s: float
    output_tokens_per_s: float  # per model copy
    requests_per_s: float
    tpot_s: float  # the step time each running sequence sees


def saturation(hw: ServingHardware, model: StepTimeModel, input_tokens: int, output_tokens: int,
               max_num_seqs: int = 256) -> Saturation:
    """Steady-state output tokens/s of one model copy with an unbounded queue of identical requests."""
    if input_tokens < 1 or output_tokens < 1:
        raise ValueError("input_tokens and output_tokens must be >= 1")
    context = input_tokens + output_tokens / 2
    by_kv = max(1, int(hw.kv_capacity_tokens // context))
    batch = min(by_kv, max_num_seqs)
    prefill = batch * input_tokens / output_tokens
    step = model.step_time_s(round(prefill), batch, round(batch * context + prefill))
    return Saturation(batch=batch, limited_by="kv_cache" if by_kv < max_num_seqs else "max_num_seqs", step_s=step,
                      output_tokens_per_s=batch / step, requests_per_s=batch / step / output_tokens, tpot_s=step)


def low_load_ttft_s(model: StepTimeModel, input_tokens: int, max_num_batched_tokens: int = 8192) -> float:
    """Time to first token of a request alone: its prompt in chunks, each attending to what came before."""
    total, done = 0.0, 0
    while done < input_tokens:
        chunk = min(max_num_batched_tokens, input_tokens - done)
        total += model.step_time_s(chunk, 0, done + chunk)
        done += chunk
    return total


def low_load_tpot_s(model: StepTimeModel, input_tokens: int, output_tokens: int) -> float:
    """Mean time per output token after the first, for a request alone."""
    if output_tokens < 2:
        return 0.0
    contexts = input_tokens + np.arange(1, output_tokens)
    vector = getattr(model, "step_times_s", None)
    if vector is not None:
        return float(np.mean(vector(np.zeros_like(contexts), np.ones_like(contexts), contexts)))
    return float(np.mean([model.step_time_s(0, 1, int(c)) for c in contexts]))


def closed_form_tpot_s(hw: ServingHardware) -> float:
    """Batch-1 decode at the datasheet bandwidth: bytes one token reads per accelerator / bandwidth.

    The bytes are the weights a token touches (MoE: its experts only; not the embedding table);
    no KV cache, no overhead, no efficiency: the floor every engine stays above.
    """
    per_accelerator = hw.shape.active_weight_bytes(hw.weight_dtype) / hw.tp
    return per_accelerator / (hw.instance.accelerator.memory_bandwidth_gb_per_s * 1e9)

