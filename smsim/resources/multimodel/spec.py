"""Multi-model endpoint spec (``kind: multi_model``).

Many models (``models``: names in the scenario's ``models:`` registry, each with ``memory_gb``
and ``load_time_s``) share the instances of one ``instance_type``. Each instance caches loaded
models up to its cache memory and evicts the least recently used model that is not serving when
it needs room. The cache memory is ``cache_memory_gb`` when given, else the instance's
accelerator memory for GPU types (models are loaded onto the GPUs) and its host memory for CPU
types, both from the catalog; real containers leave less room than that, so set
``cache_memory_gb`` when you know the usable figure.

Per-model traffic comes from ``workload``: a ``mix`` workload keyed by model name, or a trace
with a model column. Routing: to an instance that has the model loaded and a free worker (the
least loaded of them), else to the least loaded in-service instance, which loads the model if it
lacks it (the request waits for the load). A request not finished ``invocation_timeout_s``
after arrival fails (SageMaker real-time: 60 s). Instances are billed as ``RealTimeInference``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from smsim.resources.common import (
    Fidelity,
    ModelName,
    SlaSpec,
    check_initial_count,
    fidelity_field,
    reject_unpublished_metrics,
    series_window_field,
    traffic_stream_field,
    variant_scaling,
)
from smsim.resources.scaling.spec import AutoscalingSpec
from smsim.spec import (
    Duration,
    InstanceType,
    NonNegFloat,
    PositiveCount,
    PositiveDuration,
    PositiveFloat,
    ResourceName,
    StrictModel,
    Tags,
)
from smsim.workload.spec import WorkloadSpec


class MultiModelEndpointSpec(StrictModel):
    """A SageMaker multi-model endpoint (one variant, one instance type, many models)."""

    COMPONENT: ClassVar[str] = "RealTimeInference"

    kind: Literal["multi_model"] = "multi_model"
    name: ResourceName
    models: list[ModelName] = Field(min_length=1, description="names in models: that this endpoint hosts")
    instance_type: InstanceType
    concurrency_per_instance: PositiveCount = Field(1, description="model-server workers per instance")
    initial_instance_count: PositiveCount | None = Field(None, description="instances at the start; default 1")
    cache_memory_gb: PositiveFloat | None = Field(
        None, description="memory for loaded models per instance; GPU memory (GPU types) or host memory when absent"
    )
    invocation_timeout_s: PositiveDuration = Field(60.0, description="SageMaker real-time: 60 s")
    workload: WorkloadSpec
    traffic_stream: str | None = traffic_stream_field()
    autoscaling: AutoscalingSpec | None = Field(None, description="fixed fleet when absent")
    sla: SlaSpec | None = None
    fidelity: Fidelity | None = fidelity_field()
    data_in_gb_per_request: NonNegFloat | None = Field(None, description="billed as endpoint data in")
    data_out_gb_per_request: NonNegFloat | None = Field(None, description="billed as endpoint data out")
    series_window_s: Duration = series_window_field()
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _checks(self):
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"models lists a name twice: {self.models}")
        a, n = self.autoscaling, self.initial_instance_count
        check_initial_count(a, n)
        reject_unpublished_metrics(a, {
            "concurrent_requests_per_copy": "is published by llm endpoints only",
            "backlog": "is published by async endpoints only",
            "backlog_per_instance": "is published by async endpoints only",
            "no_capacity_invocation_failures": "stays 0 on a multi-model endpoint (it never runs at 0 instances)",
        })
        if a is not None and a.can_reach_zero:
            raise ValueError("a multi-model endpoint cannot scale to 0 instances (SageMaker scales to zero only "
                             "endpoints that host inference components); keep min_capacity >= 1")
        return self

    @property
    def model(self) -> str:
        """The first hosted model (what a single-model check sees; every model is checked at build)."""
        return self.models[0]

    def scaling(self) -> AutoscalingSpec:
        """The autoscaling spec to run (see :func:`smsim.resources.common.variant_scaling`)."""
        return variant_scaling(self.autoscaling, self.initial_instance_count)


__all__ = ["MultiModelEndpointSpec"]
