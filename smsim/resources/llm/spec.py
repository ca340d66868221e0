"""LLM serving endpoint spec (``kind: llm``): a real-time endpoint whose model copies run a
continuous-batching engine (vLLM-style), simulated iteration by iteration.

Each instance holds ``copies_per_instance`` model copies (inference components sharing the
instance); each copy runs its own engine with ``kv_capacity_tokens`` of KV cache in blocks of
``engine.block_size_tokens``. The step time of one engine iteration comes from ``step_model``
(a linear form or a measured profile table). Requests carry input and output token counts
(from the trace, or from ``workload.attributes`` for synthetic arrivals).

Capacity is instances (``initial_instance_count`` / ``autoscaling``), as for ``realtime``; a
launched instance serves after its provisioning delay plus ``model_load_s``. With an
``inference_component`` block the endpoint is an inference component instead: capacity is its
copy count (``copy_count`` / ``autoscaling`` in copies) and the instances follow the copies
(:mod:`smsim.resources.llm.components`).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from smsim.resources.common import check_initial_count, traffic_stream_field, variant_scaling
from smsim.resources.scaling.spec import AutoscalingSpec
from smsim.spec import (
    Count,
    Duration,
    InstanceType,
    NonNegFloat,
    PositiveCount,
    PositiveDuration,
    ResourceName,
    StrictModel,
    Tags,
)
from smsim.workload.spec import WorkloadSpec

#: vLLM's KV-cache block size (tokens per block).
BLOCK_SIZE_TOKENS = 16


class LinearStepModel(StrictModel):
    """``step_s = base_s + prefill_s_per_token * P + decode_s_per_seq * D + kv_s_per_token * KV``
    for a step with ``P`` prefill tokens, ``D`` decoding sequences and ``KV`` context tokens read.
    Simple, and exact enough for tests and first estimates."""

    kind: Literal["linear"] = "linear"
    base_s: NonNegFloat = Field(description="fixed cost of one iteration (weights read, launch overheads)")
    prefill_s_per_token: NonNegFloat = 0.0
    decode_s_per_seq: NonNegFloat = 0.0
    kv_s_per_token: NonNegFloat = 0.0

    @model_validator(mode="after")
    def _positive(self):
        if self.base_s <= 0 and self.prefill_s_per_token <= 0 and self.decode_s_per_seq <= 0:
            raise ValueError("a step must take time: set base_s or a per-token/per-sequence cost above 0")
        return self


class ProfileStepModel(StrictModel):
    """A measured profile: a CSV with columns ``prefill_tokens``, ``decode_seqs``, ``step_time_s``
    on a full grid, interpolated bilinearly (see :mod:`smsim.resources.llm.profile`)."""

    kind: Literal["profile"] = "profile"
    path: str = Field(min_length=1, description="CSV file, relative to the scenario file")


class RooflineStepSpec(StrictModel):
    """The roofline of ``model`` on the endpoint's instance type (:mod:`.roofline`): step time,
    KV-cache capacity, copies per instance and model load time all follow from the facts tables;
    an explicit ``kv_capacity_tokens``, ``copies_per_instance`` or ``model_load_s`` overrides them."""

    kind: Literal["roofline"] = "roofline"
    model: str = Field(min_length=1, description="e.g. Llama-3.1-8B (data/pricing/llm_models.csv)")
    weight_dtype: Literal["fp16", "bf16", "fp8", "int8", "int4"] = "fp16"
    kv_dtype: Literal["fp16", "bf16", "fp8"] = "fp16"
    tp: PositiveCount | None = Field(None, description="tensor-parallel degree; the smallest that fits when absent")
    max_model_len: PositiveCount | None = Field(None, description="longest sequence a copy must hold (vLLM's)")


StepModelSpec = Annotated[LinearStepModel | ProfileStepModel | RooflineStepSpec, Field(discriminator="kind")]


class EngineLimits(StrictModel):
    """The serving engine's batch limits (vLLM's names)."""

    max_num_seqs: PositiveCount = Field(256, description="sequences running at once per copy")
    max_num_batched_tokens: PositiveCount = Field(8192, description="tokens (prefill + decode) per iteration")
    block_size_tokens: PositiveCount = Field(BLOCK_SIZE_TOKENS, description="KV-cache block size")
    prefix_caching: bool = Field(False, description="reuse cached prompt blocks (needs a trace with hash_ids)")
    prefix_block_tokens: PositiveCount = Field(512, description="tokens per trace hash id (Mooncake: 512)")


class TokenSlaSpec(StrictModel):
    """Token-level objectives: e.g. ``ttft_p99_s: 2, tpot_p99_s: 0.1``. Each given percentile
    must be within its threshold; a request counts toward goodput when its own TTFT, TPOT and
    end-to-end latency are within every given threshold (failed requests never count). An ITL
    objective ``itl_pQ_s: T`` is attained when Q % of all gaps between two tokens are within T;
    a request is goodput for it when Q % of its own gaps are within T (its Q-th percentile gap),
    so one long stall in a short reply costs that request, not the average."""

    ttft_p50_s: PositiveDuration | None = None
    ttft_p90_s: PositiveDuration | None = None
    ttft_p99_s: PositiveDuration | None = None
    tpot_p50_s: PositiveDuration | None = None
    tpot_p90_s: PositiveDuration | None = None
    tpot_p99_s: PositiveDuration | None = None
    e2e_p50_s: PositiveDuration | None = None
    e2e_p90_s: PositiveDuration | None = None
    e2e_p99_s: PositiveDuration | None = None
    itl_p50_s: PositiveDuration | None = None
    itl_p90_s: PositiveDuration | None = None
    itl_p99_s: PositiveDuration | None = None

    @model_validator(mode="after")
    def _some(self):
        if not self.objectives():
            raise ValueError("give at least one objective, e.g. ttft_p99_s: 2")
        return self

    def objectives(self) -> list[tuple[str, float, float]]:
        """``(metric, percentile, threshold_s)`` for every objective set."""
        out = []
        for metric in ("ttft", "tpot", "e2e", "itl"):
            for q in (50, 90, 99):
                v = getattr(self, f"{metric}_p{q}_s")
                if v is not None:
                    out.append((metric, float(q), float(v)))
        return out

    def itl_objectives(self) -> list[tuple[float, float]]:
        """``(percentile, threshold_s)`` of every ITL objective, in :meth:`objectives` order."""
        return [(q, t) for metric, q, t in self.objectives() if metric == "itl"]

    def per_request_limits(self) -> dict[str, float]:
        """The strictest threshold per request metric: a request meeting all of them is goodput."""
        out: dict[str, float] = {}
        for metric, _, t in self.objectives():
            if metric == "itl":
                continue
            out[metric] = min(t, out.get(metric, t))
        return out


class ManagedInstanceScaling(StrictModel):
    """The instance range of an endpoint hosting inference components (SageMaker's
    ``ProductionVariantManagedInstanceScaling``): instances launch when a new copy fits on none,
    and those hosting no copy terminate down to ``min_instance_count``."""

    min_instance_count: Count = 1
    max_instance_count: PositiveCount

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_instance_count > self.max_instance_count:
            raise ValueError(f"min_instance_count {self.min_instance_count} is above max_instance_count "
                             f"{self.max_instance_count}")
        return self


class InferenceComponentSpec(StrictModel):
    """Serve the model as an inference component: its copy count scales (``autoscaling``
    capacities count copies, SageMaker's ``DesiredCopyCount``), each copy holds
    ``accelerators_per_copy`` accelerators of an instance, and the endpoint's instances follow.
    Components naming the same ``endpoint`` share its instances (and its bill)."""

    endpoint: ResourceName | None = Field(
        None, description="the endpoint hosting the component; components naming the same one share its "
        "instances; the component's own name when absent")
    copy_count: Count | None = Field(
        None, description="copies at the start (RuntimeConfig CopyCount); autoscaling.min_capacity when absent, else 1")
    accelerators_per_copy: PositiveCount | None = Field(
        None, description="accelerators one copy holds (ComputeResourceRequirements); roofline: tp, else 1")
    accelerators_per_instance: PositiveCount | None = Field(
        None, description="accelerators of one instance; roofline: the instance type's, "
        "else copies_per_instance x accelerators_per_copy")
    managed_instance_scaling: ManagedInstanceScaling


class LlmEndpointSpec(StrictModel):
    """A SageMaker endpoint serving an LLM with continuous batching."""

    COMPONENT: ClassVar[str] = "RealTimeInference"

    kind: Literal["llm"] = "llm"
    name: ResourceName
    instance_type: InstanceType
    step_model: StepModelSpec
    kv_capacity_tokens: Annotated[int, Field(ge=1, le=10**9)] | None = Field(
        None, description="KV-cache tokens one model copy holds (accelerator memory minus weights); "
        "the roofline's when absent (required for linear and profile step models)"
    )
    copies_per_instance: PositiveCount | None = Field(
        None, description="model copies (inference components) per instance; roofline: accelerators / tp, else 1")
    model_load_s: Duration | None = Field(
        None, description="added to the provisioning delay of a launched instance; roofline: from the weights' size, else 0")
    engine: EngineLimits = Field(default_factory=EngineLimits)
    routing: Literal["least_outstanding", "prefix_aware", "round_robin"] = "least_outstanding"
    queue_limit: Count = Field(1024, description="requests waiting per copy beyond which arrivals are rejected")
    invocation_timeout_s: PositiveDuration = Field(
        60.0, description="a request not yet scheduled this long after arriving times out"
    )
    initial_instance_count: PositiveCount | None = None
    autoscaling: AutoscalingSpec | None = None
    inference_component: InferenceComponentSpec | None = Field(
        None, description="scale model copies, not instances (SageMaker inference components)")
    workload: WorkloadSpec
    traffic_stream: str | None = traffic_stream_field()
    sla: TokenSlaSpec | None = None
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self):
        ic = self.inference_component
        if ic is not None:
            if self.initial_instance_count is not None:
                raise ValueError("with inference_component, capacity is copies: give inference_component.copy_count, "
                                 "not initial_instance_count (instances follow the copies)")
            if self.autoscaling is not None and ic.copy_count is not None and not (
                    self.autoscaling.min_capacity <= ic.copy_count <= self.autoscaling.max_capacity):
                raise ValueError(f"inference_component.copy_count {ic.copy_count} is outside autoscaling "
                                 f"[min_capacity {self.autoscaling.min_capacity}, max_capacity "
                                 f"{self.autoscaling.max_capacity}] (copies)")
        check_initial_count(self.autoscaling, self.initial_instance_count)
        if self.engine.max_num_batched_tokens < self.engine.max_num_seqs:
            raise ValueError(
                f"engine.max_num_batched_tokens ({self.engine.max_num_batched_tokens}) is below "
                f"engine.max_num_seqs ({self.engine.max_num_seqs}): a full batch could not decode"
            )
        if self.kv_capacity_tokens is None and self.step_model.kind != "roofline":
            raise ValueError(f"kv_capacity_tokens is required with a {self.step_model.kind} step model "
                             "(only the roofline derives it from the hardware)")
        if self.kv_capacity_tokens is not None and self.kv_capacity_tokens < self.engine.block_size_tokens:
            raise ValueError(f"kv_capacity_tokens ({self.kv_capacity_tokens}) is below one block "
                             f"({self.engine.block_size_tokens} tokens)")
        if self.autoscaling is not None and self.autoscaling.can_reach_zero:
            if ic is None:
                raise ValueError("an llm endpoint keeps at least one instance: set autoscaling.min_capacity >= 1 "
                                 "(an inference_component can scale to zero copies)")
            if not self.autoscaling.scales_from_zero():
                raise ValueError("the inference component can reach zero copies but nothing brings it back: add a "
                                 "step_scaling policy on no_capacity_invocation_failures (or a scheduled action)")
        return self

    def scaling(self) -> AutoscalingSpec:
        """The scalable target: instances, or copies of an inference component."""
        if self.inference_component is not None:
            return variant_scaling(self.autoscaling, self.inference_component.copy_count)
        return variant_scaling(self.autoscaling, self.initial_instance_count)


__all__ = ["BLOCK_SIZE_TOKENS", "EngineLimits", "InferenceComponentSpec", "LinearStepModel", "LlmEndpointSpec",
           "ManagedInstanceScaling", "ProfileStepModel", "RooflineStepSpec", "StepModelSpec", "TokenSlaSpec"]
