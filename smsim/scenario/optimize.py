"""The scenario's ``optimize:`` section: which endpoint, which objectives, which search space.

Every dimension is a list of values to try (or a range / filter that expands to one); a
dimension left empty keeps the base endpoint's value. Capacity is searched either as a fixed
fleet (``instance_count``: every size from ``min`` to ``max``) or as autoscaling policies
(``autoscaling``: the product of its lists), or both. ``savings_plan_usd_per_hour`` values are
priced on each simulated candidate's usage without simulating again; ``"auto"`` sizes the
commitment that is optimal for that candidate's own hourly usage.

Example::

    optimize:
      endpoint: chat
      sla: "p99<=250ms"
      max_error_rate: 0.1%
      models: [llama-8b-fp16, llama-8b-int8]
      min_quality: 0.70               # models[].quality; the quality-cost frontier is reported too
      instance_types: {accelerator: gpu, families: [g5, g6]}
      instance_count: {min: 1, max: 8}
      autoscaling: {min_capacity: [1, 2], max_capacity: [8], target_value: [300, 600]}
      savings_plan_usd_per_hour: [0, auto]
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from smsim.resources.common import SpotSettings
from smsim.resources.serverless.spec import SERVERLESS_MAX_CONCURRENCY
from smsim.spec import (
    Count,
    Duration,
    Fraction,
    InstanceType,
    PositiveCount,
    PositiveDuration,
    PositiveFloat,
    StrictModel,
)


class CountRange(StrictModel):
    """Fixed fleet sizes ``min..max`` (inclusive)."""

    min: PositiveCount = 1
    max: PositiveCount

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError(f"instance_count min {self.min} > max {self.max}")
        return self


class InstanceFilter(StrictModel):
    """Instance types from the catalog that are offered for real-time inference in the region and
    match every given condition; types without enough memory for a model are left out per model."""

    accelerator: str = Field("any", description="'any', 'gpu' (any accelerator), 'none', or an accelerator type")
    families: list[str] = Field(default_factory=list, description="e.g. [g5, g6]; any family when empty")
    min_memory_gib: PositiveFloat | None = None
    max_usd_per_hour: PositiveFloat | None = None


class ScalingSpace(StrictModel):
    """Target-tracking autoscaling policies: the product of these lists (min <= max pairs only)."""

    min_capacity: list[PositiveCount] = Field(default_factory=lambda: [1], min_length=1)
    max_capacity: list[PositiveCount] = Field(min_length=1)
    metric: Literal["invocations_per_instance", "cpu_utilization", "gpu_utilization"] = "invocations_per_instance"
    target_value: list[PositiveFloat] = Field(min_length=1)
    scale_out_cooldown_s: list[Duration] = Field(default_factory=lambda: [300.0], min_length=1)
    scale_in_cooldown_s: list[Duration] = Field(default_factory=lambda: [300.0], min_length=1)


class ServerlessSpace(StrictModel):
    """Serverless endpoints as alternatives to the real-time ones."""

    memory_size_mb: list[Literal[1024, 2048, 3072, 4096, 5120, 6144]] = Field(min_length=1)
    max_concurrency: list[int] = Field(min_length=1)

    @field_validator("max_concurrency")
    @classmethod
    def _limit(cls, value: list[int]) -> list[int]:
        for v in value:
            if not 1 <= v <= SERVERLESS_MAX_CONCURRENCY:
                raise ValueError(f"max_concurrency {v} outside 1..{SERVERLESS_MAX_CONCURRENCY}")
        return value


class TrainingSpace(StrictModel):
    """Training configurations of one training job: the product of these lists.

    A dimension left empty keeps the job's own value. ``checkpoint_interval_s`` applies to spot
    candidates only (``none`` means no checkpoints). ``instance_types`` is a list, or a map from
    type to its speed factor against the work's reference type (a listed type other than the
    job's own needs one). Objectives are ``metric<=value`` / ``metric>=value`` on the job's
    metrics (see :mod:`smsim.optimize.training`), e.g. ``mean_job_elapsed_hours<=6``.
    """

    job: str | None = Field(None, description="the training job to optimize; the only one when absent")
    markets: list[Literal["OnDemand", "Spot"]] = Field(default_factory=list)
    checkpoint_interval_s: list[PositiveDuration | Literal["none"]] = Field(default_factory=list)
    instance_count: list[PositiveCount] = Field(default_factory=list)
    instance_types: list[InstanceType] | dict[InstanceType, PositiveFloat] = Field(default_factory=list)
    spot: SpotSettings | None = Field(None, description="spot settings for spot candidates of an on-demand job")
    deadline: str | None = Field(None, description="e.g. 'mean_job_elapsed_hours<=6' or 'max_job_elapsed_hours<=8'")
    completion_rate: Fraction | None = Field(None, description="minimum share of jobs that complete")
    objectives: list[str] = Field(default_factory=list, description="more objectives, e.g. 'p95_job_elapsed_hours<=7'")


class LlmSearchSpace(StrictModel):
    """For an ``llm`` endpoint: the serving dimensions to try (the endpoint's own when empty) and
    its token objectives (the endpoint's ``sla`` when absent). Instance types come from
    ``instance_types`` (a list), fleets from ``instance_count`` and ``autoscaling`` (its
    ``target_value`` as concurrent requests per copy)."""

    weight_dtypes: list[Literal["fp16", "bf16", "fp8", "int8", "int4"]] = Field(default_factory=list)
    kv_dtypes: list[Literal["fp16", "bf16", "fp8"]] = Field(default_factory=list)
    tp: list[PositiveCount | Literal["auto"]] = Field(default_factory=list)
    max_num_seqs: list[PositiveCount] = Field(default_factory=list)
    sla: dict[Literal["ttft_p50_s", "ttft_p90_s", "ttft_p99_s", "tpot_p50_s", "tpot_p90_s", "tpot_p99_s",
                      "e2e_p50_s", "e2e_p90_s", "e2e_p99_s", "itl_p50_s", "itl_p90_s", "itl_p99_s"],
              PositiveDuration] | None = Field(
        None, description="token objectives, e.g. {ttft_p99_s: 2, tpot_p99_s: 0.1}")


class OptimizeSpec(StrictModel):
    """What to optimize and over which space (the scenario's ``optimize:`` section)."""

    endpoint: str | None = Field(None, description="the endpoint to optimize; the only one when absent")
    training: TrainingSpace | None = Field(None, description="search a training job's configuration instead")
    sla: str = Field("p99<=250ms", description="latency objective, e.g. 'p99<=250ms' or 'p999<=1s'")
    max_error_rate: str | float | None = Field(None, description="e.g. '0.1%' or 0.001; timeouts, drops, throttles")
    instance_types: list[InstanceType] | InstanceFilter | None = Field(
        None, description="a list, or a catalog filter; the endpoint's own type when absent"
    )
    models: list[str] = Field(default_factory=list, description="model variants (names in models:)")
    min_quality: float | None = Field(
        None, description="leave out model variants whose declared quality is below this (models[].quality)"
    )
    concurrency_per_instance: list[PositiveCount] = Field(default_factory=list)
    instance_count: CountRange | None = Field(None, description="fixed fleet sizes to try")
    autoscaling: ScalingSpace | None = Field(None, description="autoscaling policies to try")
    serverless: ServerlessSpace | None = None
    llm: LlmSearchSpace | None = Field(None, description="serving dimensions and token SLAs of an llm endpoint")
    savings_plan_usd_per_hour: list[float | Literal["auto"]] = Field(
        default_factory=lambda: [0.0], min_length=1, description="commitments to price; 'auto' sizes one"
    )
    savings_plan_term: Literal["1y", "3y"] = "1y"
    savings_plan_payment: Literal["no-upfront", "partial-upfront", "all-upfront"] = "no-upfront"
    fidelity: Literal["request", "fluid"] = Field(
        "request", description="fidelity whose answer is returned (and equals exhaustive search at it)"
    )
    screen: bool = Field(True, description="run the fluid tier first to start the capacity searches near the answer")
    budget_evals: PositiveCount | None = Field(None, description="stop after this many simulations")
    top: Count = Field(5, description="runners-up to report")

    @field_validator("savings_plan_usd_per_hour")
    @classmethod
    def _non_negative(cls, value: list) -> list:
        for v in value:
            if v != "auto" and v < 0:
                raise ValueError(f"savings plan commitment {v} must be >= 0")
        return value


__all__ = ["CountRange", "InstanceFilter", "LlmSearchSpace", "OptimizeSpec", "ScalingSpace", "ServerlessSpace", "TrainingSpace"]
