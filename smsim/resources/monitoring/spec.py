"""Model Monitor schedules, data capture, model quality drift and retraining (``monitoring:``).

A Model Monitor schedule starts a processing job (``instance_count`` x ``instance_type``, billed
``job_duration_s`` as component ``Processing``) every hour or every day; SageMaker's
``CreateMonitoringSchedule`` starts Processing jobs on the data captured from an endpoint.
Data capture stores ``sampling_percentage`` % of an endpoint's requests (request plus response
bytes) in S3 Standard: GB-months until ``retention_days`` and one PUT per object of
``object_size_mb``.

Model quality (a score such as AUC or accuracy, higher is better) decays by a declared process.
A model trained on data up to time ``c`` (its data cutoff) has at time ``t``::

    quality(t) = max(floor, initial - drift_per_day * (t - c) / 1 day - shock_size * shocks in (c, t])

where shocks (sudden concept shifts) arrive as a Poisson process of ``shocks_per_day``. The model
deployed at the start has cutoff 0. A monitoring run at ``t`` estimates ``quality(t)`` with a
normal error of ``noise_sd``. Retraining (a training job of ``instance_count`` x
``instance_type`` for ``duration_s``) starts on a schedule (``mode: scheduled``), when a
monitoring run's estimate falls below ``threshold`` (``mode: drift``; the job is started when
the monitoring job ends; not within ``cooldown_s`` of the last deployment), or both; its model
has the retraining's start as cutoff and replaces the deployed one when the job ends. One
retraining runs at a time.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from smsim.resources.common import CronTrigger, OnceTrigger
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

RetrainTrigger = Annotated[CronTrigger | OnceTrigger, Field(discriminator="kind")]


class DataCaptureSpec(StrictModel):
    """Endpoint data capture to S3 (``DataCaptureConfig``)."""

    sampling_percentage: float = Field(100.0, gt=0, le=100, description="InitialSamplingPercentage")
    request_bytes: NonNegFloat = Field(description="captured request payload per record")
    response_bytes: NonNegFloat = Field(0.0, description="captured response payload per record")
    requests_per_day: NonNegFloat | None = Field(
        None, description="requests of the monitored traffic; the named endpoint's own arrivals when absent"
    )
    object_size_mb: PositiveFloat = Field(
        1.0, description="mean size of one capture file in S3 (one PUT each); an input, not an AWS figure"
    )
    retention_days: PositiveFloat | None = Field(None, description="S3 lifecycle expiration; kept to the horizon when absent")


class QualitySpec(StrictModel):
    """The declared decay of model quality (see the module docstring)."""

    initial: float = Field(description="quality of a freshly trained model, e.g. 0.92 AUC")
    drift_per_day: NonNegFloat = Field(0.0, description="linear loss per day of model age")
    shocks_per_day: NonNegFloat = Field(0.0, description="rate of sudden concept shifts (Poisson)")
    shock_size: NonNegFloat = Field(0.0, description="quality lost at each shift")
    noise_sd: NonNegFloat = Field(0.0, description="standard error of a monitoring run's quality estimate")
    floor: float = Field(0.0, description="quality never falls below this")

    @model_validator(mode="after")
    def _floor(self):
        if self.floor > self.initial:
            raise ValueError(f"floor {self.floor:g} is above initial quality {self.initial:g}")
        return self


class RetrainingSpec(StrictModel):
    """When and how the model is retrained."""

    COMPONENT: ClassVar[str] = "Training"
    mode: Literal["scheduled", "drift", "both"]
    trigger: RetrainTrigger | None = Field(None, description="schedule of scheduled retraining")
    threshold: float | None = Field(None, description="drift: retrain when the estimate is below it")
    instance_type: InstanceType
    instance_count: PositiveCount = 1
    duration_s: PositiveDuration = Field(description="billed length of one retraining job")
    cooldown_s: Duration = Field(0.0, description="drift: ignore alarms this long after a retrained model deploys")
    volume_gb: NonNegFloat = Field(30.0, description="ML storage volume per instance (training jobs default to 30)")

    @model_validator(mode="after")
    def _mode_fields(self):
        if self.mode in ("scheduled", "both") and self.trigger is None:
            raise ValueError(f"mode {self.mode!r} needs a trigger (a cron or once schedule); found none")
        if self.mode in ("drift", "both") and self.threshold is None:
            raise ValueError(f"mode {self.mode!r} needs a threshold; found none")
        if self.mode == "drift" and self.trigger is not None:
            raise ValueError(f"mode 'drift' retrains on detections only; remove trigger {self.trigger.kind!r} "
                             "or use mode 'both'")
        return self


class ModelMonitorSpec(StrictModel):
    """One monitoring schedule on one endpoint, with optional capture, quality and retraining."""

    kind: Literal["model-monitor"] = "model-monitor"
    name: ResourceName
    endpoint: str | None = Field(None, description="the monitored endpoint (a name in endpoints:)")
    schedule: Literal["hourly", "daily"] = "daily"
    daily_at_hour: int = Field(0, ge=0, le=23, description="UTC hour of a daily schedule")
    instance_type: InstanceType = "ml.m5.xlarge"
    instance_count: PositiveCount = 1
    job_duration_s: PositiveDuration = Field(900.0, description="billed length of one monitoring job")
    volume_gb: NonNegFloat = Field(30.0, description="ML storage volume per instance (ProcessingJob default 30)")
    capture: DataCaptureSpec | None = None
    quality: QualitySpec | None = None
    retraining: RetrainingSpec | None = None
    tags: Tags = Field(default_factory=dict)

    COMPONENT: ClassVar[str] = "Processing"

    @model_validator(mode="after")
    def _consistent(self):
        if self.capture is not None and self.capture.requests_per_day is None and self.endpoint is None:
            raise ValueError("capture needs either capture.requests_per_day or endpoint (whose requests are captured)")
        if self.retraining is not None and self.quality is None:
            raise ValueError("retraining needs a quality: section (the decay that retraining restores)")
        r, q = self.retraining, self.quality
        if r is not None and r.threshold is not None and not q.floor <= r.threshold <= q.initial:
            raise ValueError(f"retraining.threshold {r.threshold:g} must lie within [quality.floor {q.floor:g}, "
                             f"quality.initial {q.initial:g}]")
        if self.schedule == "hourly" and self.daily_at_hour != 0:
            raise ValueError(f"daily_at_hour {self.daily_at_hour} applies to a daily schedule, not an hourly one")
        if self.schedule == "hourly" and self.job_duration_s > 3600.0:
            raise ValueError(f"job_duration_s {self.job_duration_s:g} exceeds the hourly schedule's 3600 s")
        return self

    @property
    def cron(self) -> str:
        return "0 * * * *" if self.schedule == "hourly" else f"0 {self.daily_at_hour} * * *"

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every non-instance rate this monitor is billed at."""
        keys = [("volume_gb", "ml_storage_gb_month")] if self.volume_gb else []
        if self.retraining is not None and self.retraining.volume_gb:
            keys.append(("retraining.volume_gb", "ml_storage_gb_month"))
        if self.capture is not None:
            keys += [("capture", "s3_standard_gb_month"), ("capture.object_size_mb", "s3_put_requests_per_1000")]
        return keys


__all__ = ["DataCaptureSpec", "ModelMonitorSpec", "QualitySpec", "RetrainingSpec"]

