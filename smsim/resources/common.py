"""Spec parts that resource kinds share: the latency objective (SLA), the fields of an endpoint
production variant, how a variant's initial instance count meets its autoscaling, and the
triggers that start jobs (training, batch transform, processing).

Kinds import this module; it imports no kind.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from smsim.cron import parse_schedule
from smsim.resources.scaling.spec import AutoscalingSpec
from smsim.spec import Duration, PositiveDuration, PositiveFloat, StrictModel, TimeZoneName

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


__all__ = ["CronTrigger", "Fidelity", "ModelName", "OnceTrigger", "PoissonTrigger", "SlaSpec", "check_initial_count", "fidelity_field", "series_window_field", "traffic_stream_field",
           "variant_scaling"]
