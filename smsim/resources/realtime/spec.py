"""Real-time endpoint spec (``kind: realtime``).

A real-time endpoint (one production variant) runs ``instance_type`` instances, each with
``concurrency_per_instance`` model-server workers serving ``model`` (a name in the scenario's
``models:``). Requests come from ``workload``; SageMaker routes each to an instance either at
random (the default ``RANDOM`` strategy) or to the instance with the fewest outstanding requests
(``LEAST_OUTSTANDING_REQUESTS``); ``shared`` (one queue for all workers) is not a SageMaker
option but the exact M/M/c system, kept for validation and as an optimistic bound. A request
that has not finished ``invocation_timeout_s`` after arriving fails (SageMaker real-time: 60 s).

Capacity is fixed at ``initial_instance_count`` unless ``autoscaling`` is given. ``fidelity``
picks the request-level simulation or the per-minute fluid approximation (inherits the
scenario's when absent).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from smsim.resources.common import (
    Fidelity,
    ModelName,
    SlaSpec,
    check_initial_count,
    reject_unpublished_metrics,
    traffic_stream_field,
)
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

#: SageMaker's invocation timeout for real-time endpoints.
REALTIME_TIMEOUT_S = 60.0



class RealtimeEndpointSpec(StrictModel):
    """A SageMaker real-time endpoint variant."""

    COMPONENT: ClassVar[str] = "RealTimeInference"

    kind: Literal["realtime"] = "realtime"
    name: ResourceName
    model: ModelName = Field(description="a name in models:")
    instance_type: InstanceType
    concurrency_per_instance: PositiveCount = Field(1, description="model-server workers per instance")
    initial_instance_count: PositiveCount | None = Field(
        None, description="instances at the start (the whole run without autoscaling); default 1 or autoscaling's"
    )
    routing: Literal["random", "least_outstanding", "shared"] = Field(
        "random", description="SageMaker RANDOM or LEAST_OUTSTANDING_REQUESTS; 'shared' = one queue (M/M/c)"
    )
    invocation_timeout_s: PositiveDuration = Field(REALTIME_TIMEOUT_S, description="SageMaker real-time: 60 s")
    queue_limit: Count | None = Field(None, description="requests waiting per queue beyond which arrivals are dropped")
    workload: WorkloadSpec
    traffic_stream: str | None = traffic_stream_field()
    autoscaling: AutoscalingSpec | None = Field(None, description="fixed fleet when absent")
    delete_after_idle_s: Duration | None = Field(
        None, ge=3600.0,
        description="lifecycle policy: delete the endpoint after this long without invocations "
        "(counted from creation at the horizon start); later requests fail as dropped",
    )
    fidelity: Fidelity | None = Field(None, description="request, fluid or auto; the scenario's when absent")
    sla: SlaSpec | None = None
    data_in_gb_per_request: NonNegFloat | None = Field(None, description="billed as endpoint data processed in")
    data_out_gb_per_request: NonNegFloat | None = Field(None, description="billed as endpoint data processed out")
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _capacity(self):
        a = self.autoscaling
        n = self.initial_instance_count
        check_initial_count(a, n)
        if a is not None and n is not None:
            if a.initial_capacity is not None and a.initial_capacity != n:
                raise ValueError(
                    f"initial_instance_count {n} disagrees with autoscaling.initial_capacity {a.initial_capacity}; "
                    f"set one of them"
                )
        reject_unpublished_metrics(a, {
            "concurrent_requests_per_copy": "is published by llm endpoints only (track invocations_per_instance "
                                            "or a utilization here)",
        })
        if a is not None and a.can_reach_zero and not a.scales_from_zero():
            raise ValueError(
                "autoscaling can take this endpoint to 0 instances, but no policy or scheduled action scales it "
                "out again: at zero a real-time endpoint fails every request, and (as for SageMaker inference "
                "components) only a step_scaling alarm on no_capacity_invocation_failures launches an instance; add "
                "{kind: step_scaling, metric: no_capacity_invocation_failures, threshold: 1, comparison: '>=', "
                "steps: [{lower_bound: 0, adjustment: 1}]}, or keep min_capacity >= 1"
            )
        return self

    @property
    def start_instances(self) -> int:
        """Instances at ``t = 0``."""
        if self.initial_instance_count is not None:
            return self.initial_instance_count
        return self.autoscaling.start_capacity if self.autoscaling is not None else 1

    def scaling(self) -> AutoscalingSpec:
        """The autoscaling spec to run: the given one starting at :attr:`start_instances`, or a
        fixed fleet (min = max = start, no policies)."""
        n = self.start_instances
        if self.autoscaling is None:
            return AutoscalingSpec(min_capacity=n, max_capacity=n)
        return self.autoscaling.model_copy(update={"initial_capacity": n})


__all__ = ["REALTIME_TIMEOUT_S", "Fidelity", "RealtimeEndpointSpec"]
