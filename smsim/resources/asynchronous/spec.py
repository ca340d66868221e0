"""Asynchronous endpoint spec (``kind: async``).

A SageMaker asynchronous endpoint puts every request in an internal queue; instances of
``instance_type`` take requests from it, ``concurrency_per_instance`` at a time
(``MaxConcurrentInvocationsPerInstance``). Requests persist in the queue (there is no 60 s
invocation timeout), but one whose processing takes longer than ``max_processing_time_s``
(AWS: at most 1 hour, ``pricing/operational_params.csv``) fails after holding its worker that long.

Instances scale with ``autoscaling``, usually target tracking on ``backlog_per_instance``
(``ApproximateBacklogSizePerInstance``); ``min_capacity: 0`` with ``scale_to_zero: true`` is
allowed (async endpoints can scale to zero). The backlog counts requests waiting *and* in
processing (AWS: "items in the queue ... currently being processed or yet to be processed").
Without ``autoscaling`` the endpoint runs ``initial_instance_count`` instances all the time.

Billing: instances are metered from launch to termination under ``AsyncInference``; payloads
are ``endpoint_data_in_gb`` / ``endpoint_data_out_gb``.
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
    ResourceName,
    StrictModel,
    Tags,
)
from smsim.workload.spec import WorkloadSpec

#: AWS's maximum processing time of one asynchronous request.
ASYNC_MAX_PROCESSING_TIME_S = 3600.0


class AsyncEndpointSpec(StrictModel):
    """A SageMaker asynchronous endpoint variant with an internal queue."""

    COMPONENT: ClassVar[str] = "AsyncInference"

    kind: Literal["async"] = "async"
    name: ResourceName
    model: ModelName = Field(description="a name in models:")
    instance_type: InstanceType
    concurrency_per_instance: PositiveCount = Field(1, description="MaxConcurrentInvocationsPerInstance")
    initial_instance_count: int | None = Field(
        None, ge=0, le=100_000, description="instances at the start; default 1, or autoscaling's"
    )
    max_processing_time_s: PositiveDuration = Field(
        ASYNC_MAX_PROCESSING_TIME_S, le=ASYNC_MAX_PROCESSING_TIME_S,
        description="a request processing longer fails (AWS maximum 1 h)",
    )
    workload: WorkloadSpec
    traffic_stream: str | None = traffic_stream_field()
    autoscaling: AutoscalingSpec | None = Field(None, description="fixed fleet when absent")
    sla: SlaSpec | None = Field(None, description="on end-to-end latency (queue + processing)")
    fidelity: Fidelity | None = fidelity_field()
    data_in_gb_per_request: NonNegFloat | None = Field(
        None, description="payload in per request (GB); the trace's payload_bytes when present"
    )
    data_out_gb_per_request: NonNegFloat | None = Field(None, description="response per request (GB)")
    series_window_s: Duration = series_window_field()
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _capacity(self):
        a, n = self.autoscaling, self.initial_instance_count
        if a is None and n == 0:
            raise ValueError("initial_instance_count 0 without autoscaling would never serve a request")
        check_initial_count(a, n)
        reject_unpublished_metrics(a, {
            "no_capacity_invocation_failures": "stays 0 on an async endpoint (it queues requests instead of "
                                               "failing them; scale from zero on backlog instead)",
            "concurrent_requests_per_copy": "is published by llm endpoints only",
        })
        return self

    def scaling(self) -> AutoscalingSpec:
        """The autoscaling spec to run: the given one (starting at ``initial_instance_count`` when
        set) or a fixed fleet."""
        return variant_scaling(self.autoscaling, self.initial_instance_count)


__all__ = ["ASYNC_MAX_PROCESSING_TIME_S", "AsyncEndpointSpec"]
