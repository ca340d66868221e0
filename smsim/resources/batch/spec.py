"""Batch transform and processing jobs: bulk work on a fleet started per job.

A job has ``records_per_job`` records (or ``gb_per_job`` GB) and each instance processes
``records_per_instance_s`` records per second (or ``gb_per_instance_hour`` GB per hour), so on
N instances its processing time is ``records / (N * throughput)``. Before that it is provisioned
(``provisioning_s``, not billed) and starts up (``startup_s``: container start and model load,
billed). At most ``max_concurrent_jobs`` jobs of one spec run at once; the rest queue in
submission order. Triggers are those of training jobs except traces.

Batch transform vs a real-time endpoint for the same bulk work: give one scenario a
``batch-transform`` job with the nightly records, and the other a fleet (or endpoint) of
``RealTimeInference`` instances that is on all day; both are priced by the same ledger (see the
README section "Training, batch, notebooks and storage").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from smsim.resources.common import CronTrigger, OnceTrigger, PoissonTrigger
from smsim.spec import (
    Duration,
    InstanceType,
    NonNegFloat,
    PositiveCount,
    PositiveFloat,
    ResourceName,
    StrictModel,
    Tags,
)

BulkTrigger = Annotated[CronTrigger | OnceTrigger | PoissonTrigger, Field(discriminator="kind")]


class BulkJobSpec(StrictModel):
    """Fields shared by batch transform and processing jobs."""

    name: ResourceName
    trigger: BulkTrigger
    instance_type: InstanceType
    instance_count: PositiveCount = 1
    records_per_job: PositiveFloat | None = None
    records_per_instance_s: PositiveFloat | None = None
    gb_per_job: PositiveFloat | None = None
    gb_per_instance_hour: PositiveFloat | None = None
    work_cv: NonNegFloat = Field(
        0.0, description="coefficient of variation of job size (lognormal)"
    )
    provisioning_s: Duration = Field(180.0, description="launching instances; not billed")
    startup_s: Duration = Field(120.0, description="container start and model load; billed")
    max_concurrent_jobs: PositiveCount = 1
    volume_gb: NonNegFloat = Field(30.0, description="ML storage volume per instance")
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_size(self):
        by_records = self.records_per_job is not None and self.records_per_instance_s is not None
        by_gb = self.gb_per_job is not None and self.gb_per_instance_hour is not None
        if by_records == by_gb:
            raise ValueError(
                "give either records_per_job with records_per_instance_s, or gb_per_job with "
                f"gb_per_instance_hour (found records_per_job={self.records_per_job}, "
                f"records_per_instance_s={self.records_per_instance_s}, gb_per_job={self.gb_per_job}, "
                f"gb_per_instance_hour={self.gb_per_instance_hour})"
            )
        return self

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every non-instance rate these jobs are billed at."""
        return [("volume_gb", "ml_storage_gb_month")] if self.volume_gb else []

    @property
    def processing_s(self) -> float:
        """Processing seconds of a job of mean size on ``instance_count`` instances."""
        if self.records_per_job is not None:
            return self.records_per_job / (self.instance_count * self.records_per_instance_s)
        return self.gb_per_job * 3600.0 / (self.instance_count * self.gb_per_instance_hour)


class BatchTransformSpec(BulkJobSpec):
    kind: Literal["batch-transform"] = "batch-transform"


class ProcessingJobSpec(BulkJobSpec):
    kind: Literal["processing"] = "processing"


BatchJob = Annotated[BatchTransformSpec, Field(discriminator="kind")]
ProcessingJob = Annotated[ProcessingJobSpec, Field(discriminator="kind")]
