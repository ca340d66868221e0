"""Spec parts that resource kinds share: the latency objective (SLA), the fields of an endpoint
production variant, how a variant's initial instance count meets its autoscaling, and the
triggers that start jobs (training, batch transform, processing), and managed spot settings
(training jobs and tuning trials).

Kinds import this module; it imports no kind.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from smsim.cron import parse_schedule
from smsim.resources.scaling.spec import AutoscalingSpec
from smsim.spec import (
    Duration,
    NonNegFloat,
    PositiveDuration,
    PositiveFloat,
    StrictModel,
    TimeZoneName,
)

#: The name of a model in the scenario's ``models:``.
ModelName = Annotated[str, Field(min_length=1, max_length=256)]


class SlaSpec(StrictModel):
    """A latency objective: ``percentile`` % of requests served within ``latency_threshold_s``.

    Attainment is the share of requests served within the threshold; requests that time out or
    are dropped count as misses. The objective is met when attainment >= ``percentile`` / 100.
    """

    latency_threshold_s: PositiveDuration
    percentile: float = Field(99.0, gt=0, lt=100, description="e.g. 99 for 'p99 <= threshold'")


def traffic_stream_field():
    """``traffic_stream``: endpoints naming the same stream draw the same arrivals."""
    return Field(
        None, min_length=1, max_length=63,
        description="endpoints naming the same stream draw the same arrivals (common random numbers); "
        "default: the endpoint's own name",
    )


def series_window_field():
    """``series_window_s``: the length of one row of an endpoint's result series."""
    return Field(60.0, gt=0, description="length of one row of the result series")


def check_initial_count(autoscaling: AutoscalingSpec | None, n: int | None) -> None:
    """A variant's ``initial_instance_count`` must lie within its autoscaling bounds."""
    if autoscaling is not None and n is not None and not autoscaling.min_capacity <= n <= autoscaling.max_capacity:
        raise ValueError(
            f"initial_instance_count {n} is outside autoscaling [min_capacity {autoscaling.min_capacity}, "
            f"max_capacity {autoscaling.max_capacity}]"
        )


def reject_unpublished_metrics(autoscaling: AutoscalingSpec | None, unpublished: dict[str, str]) -> None:
    """Refuse policies on a metric this endpoint kind never publishes: such a policy would
    validate, run and silently never act. ``unpublished`` maps each metric to the reason."""
    if autoscaling is None:
        return
    for p in autoscaling.policies:
        metric = getattr(p, "metric", None)
        if metric in unpublished:
            raise ValueError(f"policy {p.name!r} tracks {metric}, which {unpublished[metric]}, "
                             f"so the policy would never act")


def variant_scaling(autoscaling: AutoscalingSpec | None, initial_instance_count: int | None) -> AutoscalingSpec:
    """The autoscaling spec a variant runs: the given one (starting at ``initial_instance_count``
    when set), or a fixed fleet of ``initial_instance_count`` (default 1) instances."""
    if autoscaling is None:
        n = 1 if initial_instance_count is None else initial_instance_count
        return AutoscalingSpec(min_capacity=n, max_capacity=n)
    if initial_instance_count is None:
        return autoscaling
    return autoscaling.model_copy(update={"initial_capacity": initial_instance_count})




class CronTrigger(StrictModel):
    """Jobs at the times of a five-field cron expression (minute hour day month weekday)."""

    kind: Literal["cron"] = "cron"
    cron: str = Field(description="e.g. '0 2 * * *' for 02:00 every day", examples=["0 2 * * *"])
    timezone: TimeZoneName = "UTC"

    @field_validator("cron")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_schedule(value)
        return value



class OnceTrigger(StrictModel):
    """One-off jobs at fixed offsets from the horizon start."""

    kind: Literal["once"] = "once"
    at_s: list[Duration] = Field(min_length=1, description="offsets from the horizon start")



#: Which tier simulates an endpoint (:mod:`smsim.resources.fidelity`).
Fidelity = Literal["request", "fluid", "auto"]


def fidelity_field():
    """``fidelity``: request, fluid or auto; the scenario's when absent."""
    return Field(None, description="request, fluid or auto; the scenario's when absent")


class PoissonTrigger(StrictModel):
    """Jobs at random: a Poisson process (exponential gaps), e.g. retraining on data drift."""

    kind: Literal["poisson"] = "poisson"
    rate_per_day: PositiveFloat


class DurationDistribution(StrictModel):
    """A random duration: fixed, lognormal (mean and coefficient of variation) or exponential."""

    distribution: Literal["fixed", "lognormal", "exponential"] = "fixed"
    mean_s: PositiveDuration
    cv: NonNegFloat = Field(0.0, description="coefficient of variation (lognormal only)")

    @model_validator(mode="after")
    def _cv(self):
        if self.distribution != "lognormal" and self.cv:
            raise ValueError(f"cv {self.cv:g} applies to a lognormal distribution, not {self.distribution!r}")
        return self

    @property
    def sd_s(self) -> float:
        """Standard deviation in seconds (every random input declares its moments)."""
        return {"fixed": 0.0, "exponential": self.mean_s, "lognormal": self.cv * self.mean_s}[self.distribution]

    def draw(self, rng, n: int):
        """``n`` durations in seconds (a fixed one draws nothing, so other streams stay aligned)."""
        import math

        import numpy as np

        if self.distribution == "fixed":
            return np.full(n, self.mean_s)
        if self.distribution == "exponential":
            return rng.exponential(self.mean_s, n)
        sigma2 = math.log1p(self.cv**2)
        return self.mean_s * rng.lognormal(-sigma2 / 2, math.sqrt(sigma2), n)



def pipeline_topic(pipeline: str) -> str:
    """The engine topic a pipeline publishes its deployable runs on and deployments follow."""
    return f"pipeline:{pipeline}"

#: SageMaker's default ``MaxRuntimeInSeconds`` (one day).
DEFAULT_MAX_RUNTIME_S = 86_400.0


class CapacityWait(StrictModel):
    """Time waiting for spot capacity before each (re)start: exponential or fixed, mean in seconds."""

    distribution: Literal["exponential", "fixed"] = "exponential"
    mean_s: Duration = 300.0


class SpotSettings(StrictModel):
    """Managed spot training: interruptions, checkpoints, capacity waits and the wait budget.

    Interruptions are a Poisson process per instance; the job is interrupted when any of its
    instances is. The rate comes from the instance type's EC2 Spot Advisor bucket
    (:func:`smsim.resources.managed_spot.bucket_rate_per_instance_hour`) unless ``interruption_bucket`` or
    ``interruption_rate_per_instance_hour`` overrides it.
    """

    checkpoint_interval_s: PositiveDuration | None = Field(
        None, description="training progress between checkpoints; none restarts from zero"
    )
    checkpoint_write_s: Duration = Field(30.0, description="time to write one checkpoint")
    interruption_rate_per_instance_hour: NonNegFloat | None = None
    interruption_bucket: Literal["<5%", "5-10%", "10-15%", "15-20%", ">20%"] | None = None
    capacity_wait: CapacityWait = Field(default_factory=CapacityWait)
    max_wait_s: PositiveDuration = Field(
        2 * DEFAULT_MAX_RUNTIME_S,
        description="MaxWaitTimeInSeconds: elapsed time from creation to completion",
    )
    fallback: Literal["none", "on-demand"] = Field(
        "none",
        description="'on-demand' reruns a job stopped by MaxWaitTimeExceeded on on-demand "
        "(from its last checkpoint); AWS documents no such fallback, it is a user-side retry",
    )


__all__ = ["DEFAULT_MAX_RUNTIME_S", "CapacityWait", "CronTrigger", "DurationDistribution", "Fidelity", "ModelName", "OnceTrigger", "PoissonTrigger",
           "SlaSpec", "SpotSettings", "check_initial_count", "fidelity_field", "pipeline_topic", "series_window_field", "traffic_stream_field",
           "variant_scaling"]
