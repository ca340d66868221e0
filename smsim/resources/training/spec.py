"""Training jobs: what starts them, how much work they are, how they scale, and managed spot.

Work is compute, not wall time. A job needs ``work_reference_instance_hours`` (W) of the
reference instance type; on N instances of a type with speed factor ``s`` it trains for
``W / (N * s * efficiency(N))`` hours (see :class:`Scaling`). A fine-tune declares
``fine_tune_fraction``: its work is that fraction of W.

Triggers (``trigger.kind``): ``cron`` (a five-field cron expression in a time zone, e.g. nightly
retraining), ``once`` (one-off jobs at given offsets), ``poisson`` (retraining at a random rate,
e.g. data drift) and ``trace`` (a job-trace file; see :mod:`smsim.workload.jobs`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from smsim.resources.common import (
    DEFAULT_MAX_RUNTIME_S,
    CronTrigger,
    OnceTrigger,
    PoissonTrigger,
    SpotSettings,
)
from smsim.spec import (
    Duration,
    Fraction,
    InstanceType,
    NonNegFloat,
    PositiveCount,
    PositiveDuration,
    PositiveFloat,
    ResourceName,
    StrictModel,
    Tags,
)

#: SageMaker's upper limit on ``MaxRuntimeInSeconds`` (28 days); the default is in common.
MAX_RUNTIME_LIMIT_S = 28 * 86_400.0
#: SageMaker's limit on a warm pool's ``KeepAlivePeriodInSeconds``.
MAX_WARM_POOL_KEEP_ALIVE_S = 3600.0


TraceFormat = Literal["csv", "gavel", "pollux", "philly"]


class TraceTrigger(StrictModel):
    """Jobs from a trace file, one job per row (see :mod:`smsim.workload.jobs` for formats).

    ``csv`` rows carry ``submit_s``, ``instance_count`` and either
    ``work_reference_instance_hours`` or ``runtime_s`` (wall time measured at that count on the
    reference type), optionally ``instance_type``. The GPU traces (``gavel``, ``pollux``) give
    GPU counts, mapped to ``ceil(gpus / gpus_per_instance)`` instances; they carry no runtimes,
    so runtimes are resampled from the Philly runtime file ``runtimes_path``. ``philly`` is the
    runtime file alone, with arrivals from ``rate_per_day``.
    """

    kind: Literal["trace"] = "trace"
    path: str
    format: TraceFormat = "csv"
    gpus_per_instance: PositiveCount = Field(1, description="GPUs per instance of this job's type")
    runtimes_path: str | None = Field(
        None, description="Philly runtimes used for gavel/pollux/philly"
    )
    rate_per_day: PositiveFloat | None = Field(None, description="arrival rate for format 'philly'")
    vc: str | None = Field(None, description="gavel: keep one virtual cluster only")
    time_scale: PositiveFloat = Field(1.0, description="multiplies trace submit times")
    repeat: bool = Field(False, description="replay the trace again after its last submit")


Trigger = Annotated[
    CronTrigger | OnceTrigger | PoissonTrigger | TraceTrigger, Field(discriminator="kind")
]


class Scaling(StrictModel):
    """Data-parallel efficiency: Amdahl serial fraction plus a per-instance communication cost.

    ``speedup(N) = 1 / (serial_fraction + (1 - serial_fraction) / N)`` and
    ``efficiency(N) = speedup(N) / N / (1 + comm_cost_per_instance * (N - 1))``; both terms are 1
    at N = 1, so a single instance is never penalised.
    """

    serial_fraction: Fraction = 0.0
    comm_cost_per_instance: NonNegFloat = Field(
        0.0, description="fractional slowdown per extra instance (0.02 = 2% per instance)"
    )


class TrainingJobSpec(StrictModel):
    """A family of training jobs of one shape started by one trigger."""

    kind: Literal["training"] = "training"
    name: ResourceName
    trigger: Trigger
    instance_type: InstanceType
    instance_count: PositiveCount = 1
    work_reference_instance_hours: PositiveFloat = Field(
        1.0, description="compute per job in instance-hours of the reference type (traces override)"
    )
    work_cv: NonNegFloat = Field(0.0, description="coefficient of variation of work (lognormal)")
    fine_tune_fraction: Fraction | None = Field(
        None, description="a fine-tune: this fraction of a full training's work"
    )
    speed_factor: PositiveFloat = Field(1.0, description="speed of instance_type vs the reference")
    scaling: Scaling = Field(default_factory=Scaling)
    provisioning_s: Duration = Field(
        180.0, description="'Starting' (launching instances): before TrainingStartTime, not billed"
    )
    download_s: Duration = Field(
        60.0, description="'Downloading' data and image (and checkpoints on restart): billed"
    )
    upload_s: Duration = Field(30.0, description="'Uploading' the model artifact: billed")
    max_runtime_s: PositiveDuration = Field(
        DEFAULT_MAX_RUNTIME_S, description="MaxRuntimeInSeconds: cap on running (billable) time"
    )
    volume_gb: NonNegFloat = Field(30.0, description="ML storage volume per instance")
    checkpoint_gb: NonNegFloat = Field(0.0, description="checkpoint size in S3 while a job runs")
    model_artifact_gb: NonNegFloat = Field(0.0, description="model.tar.gz written to S3 per job")
    artifact_retention_s: Duration = Field(
        30 * 86_400.0, description="how long model artifacts (and checkpoints) stay in S3"
    )
    market: Literal["OnDemand", "Spot"] = "OnDemand"
    spot: SpotSettings | None = None
    warm_pool_keep_alive_s: Duration = Field(
        0.0, description="KeepAlivePeriodInSeconds; 0 disables the warm pool"
    )
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self):
        if self.max_runtime_s > MAX_RUNTIME_LIMIT_S:
            raise ValueError(
                f"max_runtime_s {self.max_runtime_s:g} exceeds SageMaker's limit of "
                f"{MAX_RUNTIME_LIMIT_S:g} s (28 days)"
            )
        if self.warm_pool_keep_alive_s > MAX_WARM_POOL_KEEP_ALIVE_S:
            raise ValueError(
                f"warm_pool_keep_alive_s {self.warm_pool_keep_alive_s:g} exceeds SageMaker's limit "
                f"of {MAX_WARM_POOL_KEEP_ALIVE_S:g} s"
            )
        if self.market == "OnDemand" and self.spot is not None:
            raise ValueError("spot settings given but market is 'OnDemand'; set market: Spot")
        if self.market == "Spot":
            if self.warm_pool_keep_alive_s > 0:
                raise ValueError("smsim does not model warm pools for managed spot jobs")
            spot = self.spot or SpotSettings()
            if not spot.max_wait_s > self.max_runtime_s:
                raise ValueError(
                    f"spot.max_wait_s ({spot.max_wait_s:g}) must be larger than max_runtime_s "
                    f"({self.max_runtime_s:g}), as SageMaker requires"
                )
        return self

    @property
    def spot_settings(self) -> SpotSettings:
        return self.spot or SpotSettings()

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every non-instance rate these jobs are billed at."""
        keys = [("volume_gb", "ml_storage_gb_month")] if self.volume_gb else []
        s3 = []
        if self.checkpoint_gb and self.market == "Spot":
            s3.append("checkpoint_gb")
        if self.model_artifact_gb:
            s3.append("model_artifact_gb")
        for field in s3:
            keys += [(field, "s3_standard_gb_month"), (field, "s3_put_requests_per_1000")]
        return keys
