"""What fits: one model copy on ``tp`` accelerators of an instance, its KV-cache capacity and load time.

A copy's memory is ``tp x accelerator GB x gpu_memory_utilization`` (vLLM's default 0.9); from it
come the weights and an activation reserve per accelerator (CUDA context, CUDA graphs and the
activation peak vLLM measures at start-up); the rest holds the KV cache, in blocks of 16 tokens.
When ``tp`` exceeds the model's KV heads, each head is replicated on ``tp / kv_heads``
accelerators, and so is its cache. A copy must hold at least one ``max_model_len`` sequence (vLLM
refuses to start otherwise). ``tp`` must divide the instance's accelerator count and the model's
attention heads.

Model load time: weights pulled from S3 and loaded at ``MODEL_LOAD_GB_PER_S`` plus a fixed engine
start-up (``ENGINE_START_S``: process start, weight placement, CUDA-graph capture). Both are
assumptions, documented in the README, not measurements; instance provisioning is not included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smsim.errors import InputError
from smsim.resources.llm.hardware import (
    GB,
    KV_BYTES,
    WEIGHT_BYTES,
    InstanceAccelerators,
    ModelShape,
    check_dtype,
    instance_accelerators,
    model_shape,
)

GPU_MEMORY_UTILIZATION = 0.9
ACTIVATION_RESERVE_GB = 1.5  # per accelerator
KV_BLOCK_TOKENS = 16
DEFAULT_MAX_MODEL_LEN = 4096
MODEL_LOAD_GB_PER_S = 0.5
ENGINE_START_S = 60.0


@dataclass(frozen=True)
class ServingHardware:
    """One model copy on ``tp`` accelerators of one instance."""

    instance_type: str
    model: str
    weight_dtype: str
    kv_dtype: str
    tp: int
    kv_capacity_tokens: int
    copies_per_instance: int
    load_time_s: float
    kv_bytes_per_token: int  # K and V of one token, all layers (2 x layers x kv_heads x head_dim x bytes)
    weight_bytes: float  # per copy
    kv_replication: float  # tp / kv_heads when tp > kv_heads, else 1
    max_model_len: int
    gpu_memory_utilization: float
    shape: ModelShape = field(repr=False)
    instance: InstanceAccelerators = field(repr=False)

    @property
    def accelerator(self) -> str:
        return self.instance.accelerator.name

    @property
    def memory_per_copy_gb(self) -> float:
        return self.instance.accelerator.memory_gb * self.tp


def valid_tp(instance: InstanceAccelerators, shape: ModelShape) -> list[int]:
    """Tensor-parallel degrees that divide both the accelerator count and the attention heads."""
    return [d for d in range(1, instance.count + 1) if instance.count % d == 0 and shape.attention_heads % d == 0]


def serving_hardware(
    instance_type: str,
    model: str,
    weight_dtype: str = "fp16",
    kv_dtype: str = "fp16",
    tp: int | None = None,
    *,
    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION,
    max_model_len: int | None = None,
    activation_reserve_gb: float = ACTIVATION_RESERVE_GB,
) -> ServingHardware:
    """The serving layout of ``model`` on ``instance_type``; ``tp=None`` picks the smallest that fits.

    Raises :class:`InputError` with the figures when the model does not fit even on every usable
    accelerator, or when ``tp`` is not a usable degree.
    """
    weight_dtype = check_dtype(weight_dtype, WEIGHT_BYTES, "weight_dtype")
    kv_dtype = check_dtype(kv_dtype, KV_BYTES, "kv_dtype")
    if not 0 < gpu_memory_utilization <= 1:
        raise InputError(f"gpu_memory_utilization must be in (0, 1], found {gpu_memory_utilization}",
                         path="gpu_memory_utilization")
    if not activation_reserve_gb >= 0:
        raise InputError(f"activation_reserve_gb must be >= 0, found {activation_reserve_gb}", path="activation_reserve_gb")
    instance = instance_accelerators(instance_type)
    shape = model_shape(model)
    needed_len = DEFAULT_MAX_MODEL_LEN if max_model_len is None else int(max_model_len)
    if needed_len < 1 or needed_len > shape.max_context_tokens:
        raise InputError(f"max_model_len {max_model_len} is outside 1..{shape.max_context_tokens}, the context "
                         f"{shape.name} supports", path="max_model_len")
    degrees = valid_tp(instance, shape)
    if tp is not None and tp not in degrees:
        raise InputError(
            f"tp={tp} is not usable for {shape.name} on {instance.instance_type} ({instance.count} x "
            f"{instance.accelerator.name}); tp must divide both the accelerator count and the "
            f"{shape.attention_heads} attention heads: {', '.join(map(str, degrees))}", path="tp")
    weights = shape.weight_bytes(weight_dtype)
    kv_token = shape.kv_bytes_per_token(kv_dtype)
    for degree in [tp] if tp is not None else degrees:
        replication = max(degree, shape.kv_heads) / shape.kv_heads
        free = degree * (instance.accelerator.memory_gb * gpu_memory_utilization - activation_reserve_gb) * GB - weights
        capacity = int(free // (kv_token * replication) // KV_BLOCK_TOKENS * KV_BLOCK_TOKENS) if free > 0 else 0
        if capacity >= needed_len:
            return ServingHardware(
                instance_type=instance.instance_type, model=shape.name, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
                tp=degree, kv_capacity_tokens=capacity, copies_per_instance=instance.count // degree,
                load_time_s=model_load_time_s(weights), kv_bytes_per_token=kv_token, weight_bytes=weights,
                kv_replication=replication, max_model_len=needed_len,
                gpu_memory_utilization=gpu_memory_utilization, shape=shape, instance=instance,
            )
    raise InputError(_does_not_fit(shape, instance, weight_dtype, kv_dtype, weights, kv_token, needed_len,
                                   degrees if tp is None else [tp], gpu_memory_utilization, activation_reserve_gb),
                     path="instance_type")


def model_load_time_s(weight_bytes: float) -> float:
    """Seconds from a ready instance to a serving copy: download and load the weights, start the engine."""
    return ENGINE_START_S + weight_bytes / (MODEL_LOAD_GB_PER_S * GB)


def _does_not_fit(shape, instance, weight_dtype, kv_dtype, weights, kv_token, needed_len, degrees, util, reserve) -> str:
    acc = instance.accelerator
    head = f"{shape.name} {weight_dtype} needs {weights / GB:.0f} GB of weights"
    if weights >= instance.memory_gb * GB:
        return f"{head}; {instance.instance_type} has {instance.count} x {acc.memory_gb:g} GB = {instance.memory_gb:g} GB"
    top = max(degrees)
    usable = top * (acc.memory_gb * util - reserve)
    kv_gb = needed_len * kv_token * max(top, shape.kv_heads) / shape.kv_heads / GB
    where = f"at tp={top}" + (f" (the largest degree dividing its {shape.attention_heads} attention heads)"
                              if top < instance.count and len(degrees) > 1 else "")
    return (f"{head} and {kv_gb:.1f} GB of {kv_dtype} KV cache for one {needed_len}-token sequence; {where} "
            f"{instance.instance_type} offers {top} x {acc.memory_gb:g} GB x {util:g} - {reserve:g} GB reserve each = "
            f"{usable:.0f} GB")
