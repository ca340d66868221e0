"""Serverless endpoint spec (``kind: serverless``).

A SageMaker serverless endpoint runs containers of ``memory_size_mb`` (1024..6144 MB in 1024 MB
steps) on demand. At most ``max_concurrency`` invocations (1..200 per endpoint) run at once;
an invocation beyond that is throttled (``ThrottlingException``): serverless endpoints have no
queue, so a throttled request fails. A request that finds no warm idle container starts a new
one and waits for its cold start. ``provisioned_concurrency`` containers are kept warm for the
whole run.

Facts (``pricing/operational_params.csv``, ``other_rates.csv``): the memory sizes, the 200
concurrency limit, the compute price per second of *inference duration* (0.00002 USD per
GB-second, i.e. per 1024 MB-second, at every size) and 0.016 USD per GB of data processed.

Assumptions (AWS does not publish these; every one is a field so it can be swept):

* ``idle_reclaim_s`` (default 600 s): how long an idle on-demand container stays warm before
  it is reclaimed;
* ``cold_start`` (default lognormal, median 5 s, p99 20 s): the time from "no warm container" to
  the container being ready to run the request. Measure it with your container and model size;
* ``bill_cold_start`` (default false): the catalog prices "inference duration", so the cold
  start is not billed; set it to true to bill it as compute;
* a free container is reused most-recently-freed first, so the least recently used ones idle out;
* provisioned concurrency is billed with two rate keys, as AWS bills it with two prices:
  ``serverless_provisioned_gb_second`` (GB-seconds the provisioned containers exist) and
  ``serverless_provisioned_inference_gb_second`` (inference duration served on them). No sourced
  price exists for either, so the built-in catalog has no row for them: a scenario that uses
  provisioned concurrency fails validation until its catalog has both (``smsim pricing import``
  of a rates CSV).

Recorded (a baseline rebuilt from a bill, which bills GB-seconds, not requests): the compute billed
per hour replayed as ``compute_gb_second_per_hour_steps`` (``[offset_s, GB-seconds per hour]``,
or ``steps_file``, a CSV ``offset_s, gb_s_per_hour`` beside the scenario) and ``data_gb_per_day``
of data processed. It then needs no ``workload`` or ``model`` and simulates no requests; its
memory size and concurrency are not on a bill and do not change what it bills.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from smsim.resources.common import (
    Fidelity,
    ModelName,
    SlaSpec,
    fidelity_field,
    series_window_field,
    traffic_stream_field,
)
from smsim.resources.models import ANY_INSTANCE, LatencyProfileSpec, LognormalLatency
from smsim.resources.steps_file import Step, check_steps
from smsim.spec import (
    Count,
    Duration,
    NonNegFloat,
    PositiveDuration,
    ResourceName,
    StrictModel,
    Tags,
)
from smsim.workload.spec import WorkloadSpec

#: Memory sizes a serverless endpoint may have (MB).
SERVERLESS_MEMORY_SIZES_MB = (1024, 2048, 3072, 4096, 5120, 6144)
#: Concurrent invocations allowed per serverless endpoint.
SERVERLESS_MAX_CONCURRENCY = 200
#: Default idle time after which an on-demand container is reclaimed (an smsim assumption).
DEFAULT_IDLE_RECLAIM_S = 600.0
#: AWS bills compute GB-seconds with 1 GB = 1024 MB (0.00002 USD/s at 1024 MB).
MB_PER_GB = 1024.0


class ServerlessEndpointSpec(StrictModel):
    """A SageMaker serverless endpoint: memory size, max concurrency, cold starts, throttling."""

    COMPONENT: ClassVar[str] = "ServerlessInference"

    kind: Literal["serverless"] = "serverless"
    name: ResourceName
    model: ModelName | None = Field(None, description="a name in models: (a recorded endpoint needs none)")
    latency_key: str = Field(
        ANY_INSTANCE,
        description="which entry of the model's latency to use (serverless has no instance type); '*' by default",
    )
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(description="MemorySizeInMB")
    max_concurrency: int = Field(ge=1, le=SERVERLESS_MAX_CONCURRENCY, description="MaxConcurrency, 1..200")
    provisioned_concurrency: Count = Field(0, description="containers kept warm all the time (<= max_concurrency)")
    cold_start: LatencyProfileSpec = Field(
        default_factory=lambda: LognormalLatency(median_s=5.0, p99_s=20.0),
        description="cold-start time distribution (an smsim assumption by default: median 5 s, p99 20 s)",
    )
    idle_reclaim_s: PositiveDuration = Field(
        DEFAULT_IDLE_RECLAIM_S, description="idle time before a container is reclaimed (assumption; AWS does not say)"
    )
    bill_cold_start: bool = Field(False, description="bill cold-start time as compute (not billed by default)")
    invocation_timeout_s: PositiveDuration = Field(60.0, description="a request not done this long after arrival fails")
    workload: WorkloadSpec | None = Field(None, description="its traffic (required unless the compute is recorded)")
    compute_gb_second_per_hour_steps: list[Step] | None = Field(
        None, description="recorded compute: [offset_s, GB-seconds billed per hour] steps, instead of a workload"
    )
    steps_file: str | None = Field(
        None, description="CSV (offset_s, gb_s_per_hour) of recorded compute, relative to the scenario file"
    )
    data_gb_per_day: NonNegFloat = Field(0.0, description="recorded data processed per day (GB)")
    traffic_stream: str | None = traffic_stream_field()
    sla: SlaSpec | None = None
    fidelity: Fidelity | None = fidelity_field()
    data_in_gb_per_request: NonNegFloat | None = Field(
        None, description="payload in per request (GB); the trace's payload_bytes when present"
    )
    data_out_gb_per_request: NonNegFloat | None = Field(None, description="response per request (GB)")
    series_window_s: Duration = series_window_field()
    tags: Tags = Field(default_factory=dict)

    @property
    def recorded(self) -> bool:
        return self.compute_gb_second_per_hour_steps is not None or self.steps_file is not None

    @model_validator(mode="after")
    def _provisioned(self):
        check_steps(self.compute_gb_second_per_hour_steps, "compute_gb_second_per_hour_steps")
        if self.compute_gb_second_per_hour_steps is not None and self.steps_file is not None:
            raise ValueError("give the recorded compute once: compute_gb_second_per_hour_steps or steps_file")
        if self.recorded and self.workload is not None:
            raise ValueError("recorded compute replaces the workload; give one of them")
        if not self.recorded and self.workload is None:
            raise ValueError("a workload is required (or recorded compute: compute_gb_second_per_hour_steps)")
        if not self.recorded and self.model is None:
            raise ValueError("a model is required (a name in models:) unless the compute is recorded")
        if not self.recorded and self.data_gb_per_day:
            raise ValueError("data_gb_per_day is for recorded compute; give data_in/out_gb_per_request instead")
        if self.provisioned_concurrency > self.max_concurrency:
            raise ValueError(
                f"provisioned_concurrency {self.provisioned_concurrency} exceeds max_concurrency "
                f"{self.max_concurrency}"
            )
        return self

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every non-instance rate this endpoint is billed at."""
        if self.recorded:
            keys = [("steps_file" if self.steps_file else "compute_gb_second_per_hour_steps",
                     "serverless_compute_gb_second")]
            return keys + ([("data_gb_per_day", "serverless_data_gb")] if self.data_gb_per_day else [])
        keys = [("memory_size_mb", "serverless_compute_gb_second"), ("workload", "serverless_data_gb")]
        if self.provisioned_concurrency:
            keys += [("provisioned_concurrency", "serverless_provisioned_gb_second"),
                     ("provisioned_concurrency", "serverless_provisioned_inference_gb_second")]
        return keys

    @property
    def instance_type(self) -> str:
        """The key looked up in the model's ``latency`` (checked by the scenario like an instance type)."""
        return self.latency_key

    @property
    def memory_gb(self) -> float:
        """Container memory in billing GB (1 GB = 1024 MB)."""
        return self.memory_size_mb / MB_PER_GB


__all__ = [
    "DEFAULT_IDLE_RECLAIM_S",
    "MB_PER_GB",
    "SERVERLESS_MAX_CONCURRENCY",
    "SERVERLESS_MEMORY_SIZES_MB",
    "ServerlessEndpointSpec",
]
