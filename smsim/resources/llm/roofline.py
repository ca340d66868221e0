"""Step time of one LLM engine iteration from the roofline of the instance's accelerators.

One iteration (vLLM/TensorRT-LLM continuous batching) runs ``prefill_tokens`` prompt tokens
(chunked prefill) and ``decode_seqs`` sequences that each produce one token; attention reads the
KV cache of ``kv_tokens`` context tokens. On ``tp`` accelerators (tensor parallelism):

* linear layers: ``max(FLOPs / (tp x peak x compute_eff), weight bytes / (tp x bandwidth x memory_eff))``
  with FLOPs = 2 x active linear parameters x tokens (+ the LM head for the sequences that sample);
* attention: ``max(attention FLOPs / (...), KV bytes read / (...))``, attention FLOPs =
  4 x layers x q_dim x (query, key) pairs;
* two all-reduces per layer when ``tp > 1``: ``latency + 2 (tp-1)/tp x activation bytes / link``;
* a fixed per-step overhead (scheduling, sampling, kernel launches).

Decode is memory-bound (the weights are read once per step whatever the batch), prefill
compute-bound; a step's time never falls when any of its three inputs grows. Units: seconds.
The calibration of the efficiencies is in :mod:`smsim.resources.llm.calibration`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from smsim.resources.llm.calibration import EFFICIENCIES, Efficiencies, with_overrides
from smsim.resources.llm.hardware import HALF_BYTES, WEIGHT_BYTES
from smsim.resources.llm.memory import ServingHardware, serving_hardware

__all__ = ["RooflineStepModel", "ServingHardware", "StepTimeModel", "roofline_step_model", "serving_hardware"]


@runtime_checkable
class StepTimeModel(Protocol):
    """What the serving engine needs: the duration of one iteration, in seconds."""

    def step_time_s(self, prefill_tokens: int, decode_seqs: int, kv_tokens: int) -> float: ...


@dataclass(frozen=True)
class RooflineStepModel:
    """The roofline step time of one model copy; cheap per call (plain float arithmetic)."""

    hw: ServingHardware
    eff: Efficiencies

    def __post_init__(self) -> None:
        hw, eff, shape = self.hw, self.eff, self.hw.shape
        acc, tp = hw.instance.accelerator, hw.tp
        wb = WEIGHT_BYTES[hw.weight_dtype]
        units = acc.matrix_units(hw.weight_dtype)
        linear_flops = acc.peak_flops(units) * tp * (eff.compute_efficiency if units == "bf16" else eff.compute_efficiency_8bit)
        flops = tp * eff.compute_efficiency
        bandwidth = tp * acc.memory_bandwidth_gb_per_s * 1e9 * eff.memory_efficiency
        c = {
            # linear layers: FLOPs per token (active experts) and per sampled sequence (LM head)
            "linear_s_per_token": 2 * shape.linear_params(shape.experts_per_token) / linear_flops,
            "head_s_per_seq": 2 * shape.vocab_size * shape.hidden_size / (acc.peak_flops("bf16") * flops),
            # weights read once per step; MoE experts only when some token routes to them
            "dense_read_s": (shape.linear_params(0 if shape.experts > 1 else 1) * wb
                             + (shape.vocab_size * shape.hidden_size + shape.norm_params) * HALF_BYTES) / bandwidth,
            "experts_read_s": shape.layers * shape.experts * shape.expert_params * wb / bandwidth,
            "miss": 1.0 - shape.experts_per_token / shape.experts,
            "moe": shape.experts > 1,
            # attention: 4 x layers x q_dim FLOPs per (query, key) pair; KV bytes per token read/written
            "attn_s_per_pair": 4 * shape.layers * shape.q_dim / (acc.peak_flops("bf16") * flops),
            "kv_s_per_token": hw.kv_bytes_per_token * hw.kv_replication / bandwidth,
            "overhead_s": eff.step_overhead_s,
        }
        if tp > 1:
            link = hw.instance.interconnect_gb_per_s * 1e9 * eff.link_efficiency
            n_allreduce = 2 * shape.layers
            c["comm_fixed_s"] = n_allreduce * eff.allreduce_s(hw.instance.interconnect)
            c["comm_s_per_token"] = n_allreduce * 2 * (tp - 1) / tp * shape.hidden_size * HALF_BYTES / link
        else:
            c["comm_fixed_s"] = c["comm_s_per_token"] = 0.0
        object.__setattr__(self, "_c", c)

    def step_time_s(self, prefill_tokens: int, decode_seqs: int, kv_tokens: int, prefill_seqs: int | None = None) -> float:
        """Seconds for one iteration. ``prefill_seqs`` (default 1 when there is prefill) only sets how
        many sequences sample a token and how the prefill tokens split for causal attention."""
        c = self._c
        tokens = prefill_tokens + decode_seqs
        if tokens <= 0:
            return 0.0
        n_prefill = (1 if prefill_tokens > 0 else 0) if prefill_seqs is None else max(prefill_seqs, 1)
        read = c["dense_read_s"]
        read += c["experts_read_s"] * (1.0 - c["miss"] ** tokens) if c["moe"] else 0.0
        compute = c["linear_s_per_token"] * tokens + c["head_s_per_seq"] * (decode_seqs + n_prefill)
        pairs = kv_tokens + (prefill_tokens * prefill_tokens / (2 * n_prefill) if n_prefill else 0.0)
        attention = max(c["attn_s_per_pair"] * pairs, c["kv_s_per_token"] * (kv_tokens + tokens))
        comm = c["comm_fixed_s"] + c["comm_s_per_token"] * tokens
        return max(compute, read) + attention + comm + c["overhead_s"]

    def step_times_s(self, prefill_tokens, decode_seqs, kv_tokens) -> np.ndarray:
        """:meth:`step_time_s` over arrays of steps (one prefill sequence per step with prefill)."""
        c = self._c
        p = np.asarray(prefill_tokens, dtype=float)
        d = np.asarray(decode_seqs, dtype=float)
        k = np.asarray(kv_tokens, dtype=float)
        tokens = p + d
        n_prefill = (p > 0).astype(float)
        read = c["dense_read_s"] + (c["experts_read_s"] * (1.0 - c["miss"] ** tokens) if c["moe"] else 0.0)
        compute = c["linear_s_per_token"] * tokens + c["head_s_per_seq"] * (d + n_prefill)
        pairs = k + np.where(n_prefill > 0, p * p / 2, 0.0)
        attention = np.maximum(c["attn_s_per_pair"] * pairs, c["kv_s_per_token"] * (k + tokens))
        out = np.maximum(compute, read) + attention + c["comm_fixed_s"] + c["comm_s_per_token"] * tokens + c["overhead_s"]
        return np.where(tokens > 0, out, 0.0)


def roofline_step_model(hw: ServingHardware, **efficiency_overrides: float) -> RooflineStepModel:
    """The roofline step model of ``hw`` with the calibrated efficiencies, any of them overridden
    by keyword (``memory_efficiency``, ``compute_efficiency``, ``link_efficiency``,
    ``allreduce_latency_s``, ``step_overhead_s``)."""
    return RooflineStepModel(hw, with_overrides(EFFICIENCIES, efficiency_overrides))

