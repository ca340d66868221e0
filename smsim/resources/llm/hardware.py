"""Accelerators, instance types and model shapes as typed values, and the byte counts they imply.

Units: bytes, FLOP/s and bytes/s internally; ``*_gb`` fields are 10^9 bytes as vendors publish
them. Parameter counts come from the model's shape (embedding, attention, gated MLP per expert,
norms), and are checked against the published totals in the tests.

Quantisation (``weight_dtype``): ``fp16``/``bf16`` 2 bytes a weight, ``fp8``/``int8`` 1, ``int4``
half a byte plus one fp16 scale per group of 128 (AWQ/GPTQ layout). Only the linear layers of the
transformer blocks are quantised; the embedding table, the LM head and the norms stay 16-bit, as
vLLM and TensorRT-LLM keep them. The KV cache (``kv_dtype``) is ``fp16``/``bf16`` or ``fp8``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from smsim.errors import InputError, did_you_mean
from smsim.resources.llm.facts import lookup_row

GB = 1e9

#: Bytes per weight of the quantised linear layers.
WEIGHT_BYTES: dict[str, float] = {"fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5 + 2.0 / 128}
#: Bytes per KV-cache element.
KV_BYTES: dict[str, int] = {"fp16": 2, "bf16": 2, "fp8": 1}
#: Bytes of the 16-bit parts (embedding, LM head, norms) and of activations moved between GPUs.
HALF_BYTES = 2


def check_dtype(value: str, choices: dict, field: str) -> str:
    v = str(value).strip().lower()
    if v not in choices:
        raise InputError(f"{field} {value!r} is not one of {', '.join(choices)}" + did_you_mean(v, choices), path=field)
    return v


@dataclass(frozen=True)
class Accelerator:
    name: str
    memory_gb: float
    memory_bandwidth_gb_per_s: float
    bf16_dense_tflops: float
    fp8_dense_tflops: float | None  # None: no fp8 tensor cores (fp8 weights run as weight-only)
    int8_dense_tops: float | None

    def matrix_units(self, weight_dtype: str) -> str:
        """Which matrix units run the linear layers with these weights: ``fp8``, ``int8`` or ``bf16``.

        fp8 weights use the fp8 units where the accelerator has them (W8A8), int8 the int8 units;
        otherwise (and for int4, which is weight-only) the GEMMs run in bf16.
        """
        if weight_dtype == "fp8" and self.fp8_dense_tflops:
            return "fp8"
        if weight_dtype == "int8" and self.int8_dense_tops:
            return "int8"
        return "bf16"

    def peak_flops(self, units: str) -> float:
        """Dense peak FLOP/s (or OP/s) of the ``fp8``, ``int8`` or ``bf16`` matrix units."""
        tera = {"fp8": self.fp8_dense_tflops, "int8": self.int8_dense_tops}.get(units) or self.bf16_dense_tflops
        return tera * 1e12


@dataclass(frozen=True)
class InstanceAccelerators:
    instance_type: str
    accelerator: Accelerator
    count: int
    interconnect: str
    interconnect_gb_per_s: float  # per accelerator, one direction; 0 when there is one accelerator

    @property
    def memory_gb(self) -> float:
        return self.accelerator.memory_gb * self.count


@dataclass(frozen=True)
class ModelShape:
    """A decoder-only transformer with grouped-query attention and a gated (SwiGLU) MLP."""

    name: str
    params_b: float  # published total, for reference
    active_params_b: float
    layers: int
    hidden_size: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    experts: int
    experts_per_token: int
    qkv_bias: bool
    tied_embeddings: bool
    max_context_tokens: int

    # --- parameter counts (exact, from the shape) ---
    @property
    def q_dim(self) -> int:
        return self.attention_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def attention_params(self) -> int:
        """Per layer: q, k, v, o projections (+ q/k/v biases)."""
        h = self.hidden_size
        bias = (self.q_dim + 2 * self.kv_dim) if self.qkv_bias else 0
        return h * self.q_dim + 2 * h * self.kv_dim + self.q_dim * h + bias

    @property
    def expert_params(self) -> int:
        """One gated MLP: gate, up and down projections."""
        return 3 * self.hidden_size * self.intermediate_size

    @property
    def router_params(self) -> int:
        return self.hidden_size * self.experts if self.experts > 1 else 0

    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size

    @property
    def lm_head_params(self) -> int:
        """Extra parameters of the LM head (0 when it shares the embedding table)."""
        return 0 if self.tied_embeddings else self.vocab_size * self.hidden_size

    @property
    def norm_params(self) -> int:
        return (2 * self.layers + 1) * self.hidden_size

    def linear_params(self, experts: int) -> int:
        """Parameters of the quantisable linear layers with ``experts`` experts per layer."""
        return self.layers * (self.attention_params + experts * self.expert_params + self.router_params)

    @property
    def total_params(self) -> int:
        return self.linear_params(self.experts) + self.embedding_params + self.lm_head_params + self.norm_params

    @property
    def active_params(self) -> int:
        """Parameters one token touches (MoE: ``experts_per_token`` experts)."""
        return self.linear_params(self.experts_per_token) + self.embedding_params + self.lm_head_params + self.norm_params

    # --- bytes ---
    def weight_bytes(self, weight_dtype: str) -> float:
        """Bytes of all weights held in accelerator memory."""
        half = (self.embedding_params + self.lm_head_params + self.norm_params) * HALF_BYTES
        return self.linear_params(self.experts) * WEIGHT_BYTES[weight_dtype] + half

    def active_weight_bytes(self, weight_dtype: str) -> float:
        """Bytes one token's forward pass reads (MoE: only its experts); the embedding lookup excluded."""
        half = (self.vocab_size * self.hidden_size + self.norm_params) * HALF_BYTES
        return self.linear_params(self.experts_per_token) * WEIGHT_BYTES[weight_dtype] + half

    def kv_bytes_per_token(self, kv_dtype: str) -> int:
        """K and V of every layer for one token: 2 x layers x kv_heads x head_dim x bytes."""
        return 2 * self.layers * self.kv_heads * self.head_dim * KV_BYTES[kv_dtype]


@functools.lru_cache(maxsize=256)
def accelerator(name: str) -> Accelerator:
    row = lookup_row("accelerators.csv", name, "accelerator")
    return Accelerator(
        name=row["accelerator"], memory_gb=row["memory_gb"], memory_bandwidth_gb_per_s=row["memory_bandwidth_gb_per_s"],
        bf16_dense_tflops=row["bf16_dense_tflops"], fp8_dense_tflops=_opt(row["fp8_dense_tflops"]),
        int8_dense_tops=_opt(row["int8_dense_tops"]),
    )


@functools.lru_cache(maxsize=256)
def instance_accelerators(instance_type: str) -> InstanceAccelerators:
    row = lookup_row("accelerator_instances.csv", instance_type, "instance_type")
    return InstanceAccelerators(
        instance_type=row["instance_type"], accelerator=accelerator(row["accelerator"]),
        count=int(row["accelerator_count"]), interconnect=row["interconnect"],
        interconnect_gb_per_s=float(row["interconnect_gb_per_s"]),
    )


@functools.lru_cache(maxsize=256)
def model_shape(name: str) -> ModelShape:
    """A model by name; a Hugging Face id (``meta-llama/Llama-3.1-8B-Instruct``) matches its base row."""
    key = str(name).strip().split("/")[-1]
    base = re.sub(r"(?i)-(instruct|chat|hf|it)(?=-|$)", "", re.sub(r"(?i)^meta-", "", key))
    errors = []
    for candidate in dict.fromkeys((key, base, re.sub(r"-v\d+(\.\d+)*$", "", base))):
        try:
            return _shape(lookup_row("llm_models.csv", candidate, "model"))
        except InputError as exc:
            errors.append(exc)
    raise errors[0]


def _shape(row: dict) -> ModelShape:
    ints = ("layers", "hidden_size", "attention_heads", "kv_heads", "head_dim", "intermediate_size", "vocab_size",
            "experts", "experts_per_token", "max_context_tokens")
    return ModelShape(
        name=row["model"], params_b=row["params_b"], active_params_b=row["active_params_b"],
        qkv_bias=bool(row["qkv_bias"]), tied_embeddings=bool(row["tied_embeddings"]),
        **{k: int(row[k]) for k in ints},
    )


def _opt(value) -> float | None:
    return None if value != value or value == 0 else float(value)  # NaN (empty) -> None
