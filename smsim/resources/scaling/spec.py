"""Autoscaling specs: Application Auto Scaling policies, scheduled actions, provisioning delay.

These mirror what Application Auto Scaling lets a user configure on a SageMaker endpoint
variant (``PutScalingPolicy``, ``PutScheduledAction``, ``RegisterScalableTarget``), plus what
smsim must assume because AWS does not publish it:

* the CloudWatch alarm shapes that target tracking creates. smsim's defaults (3 of 3 one-minute
  datapoints above target to scale out, 15 of 15 below 90 % of target to scale in) are a user
  observation on re:Post, not an AWS-documented constant (see
  ``pricing/operational_params.csv``), so they are configurable;
* how long a new instance takes to become ``InService``. The default (600 s fixed) is the single
  observed create-to-InService time of ~10 min (ml.g6.xlarge, vLLM, 2025), not an AWS figure.

Cooldown defaults (300 s each way) are AWS's documented defaults for SageMaker variants.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from smsim.resources.scaling.predictive_spec import PredictiveScaling
from smsim.spec import (
    Count,
    Duration,
    PositiveCount,
    PositiveDuration,
    PositiveFloat,
    StrictModel,
    TimeZoneName,
)

#: Metrics a policy may track. Per-instance metrics are averages over InService instances.
Metric = Literal[
    "invocations_per_instance",  # SageMakerVariantInvocationsPerInstance, invocations per minute
    "cpu_utilization",  # percent, 0-100 (smsim normalises to one instance's capacity)
    "gpu_utilization",  # percent, 0-100
    "backlog_per_instance",  # ApproximateBacklogSizePerInstance (async endpoints)
    "backlog",  # ApproximateBacklogSize, total queued requests (async; used to scale from zero)
    # NoCapacityInvocationFailures: requests per minute that failed because no instance was in
    # service (real-time endpoints at zero; a step-scaling alarm on it scales them out from zero)
    "no_capacity_invocation_failures",
    # ConcurrentRequestsPerCopy (inference components; llm endpoints): requests in flight per
    # model copy, averaged over the minute, as SageMaker's high-resolution concurrency metric
    "concurrent_requests_per_copy",
]

Comparison = Literal[">", ">=", "<", "<="]
MissingData = Literal["not_breaching", "zero"]

#: CloudWatch's standard metric period for SageMaker endpoint metrics.
METRIC_PERIOD_S = 60.0


class TargetTracking(StrictModel):
    """Keep ``metric`` near ``target_value`` (``PolicyType: TargetTrackingScaling``).

    Application Auto Scaling creates two CloudWatch alarms: a high alarm (``scale_out_datapoints``
    of ``scale_out_evaluation_periods`` one-minute datapoints above target) and a low alarm
    (``scale_in_datapoints`` of ``scale_in_evaluation_periods`` below
    ``scale_in_fraction`` x target). While either is in ALARM the policy is invoked every minute.
    """

    kind: Literal["target_tracking"] = "target_tracking"
    name: str = "target-tracking"
    metric: Metric = "invocations_per_instance"
    target_value: PositiveFloat = Field(description="target metric value, e.g. 70 invocations per instance per minute")
    scale_out_cooldown_s: Duration = Field(300.0, description="AWS default 300 s")
    scale_in_cooldown_s: Duration = Field(300.0, description="AWS default 300 s")
    disable_scale_in: bool = False
    scale_out_datapoints: PositiveCount = 3
    scale_out_evaluation_periods: PositiveCount = 3
    scale_in_datapoints: PositiveCount = 15
    scale_in_evaluation_periods: PositiveCount = 15
    scale_in_fraction: float = Field(0.9, gt=0, le=1, description="low alarm threshold as a fraction of target")
    missing_data: MissingData = Field(
        "not_breaching",
        description=(
            "how a minute without a datapoint counts: SageMaker publishes no Invocations datapoint "
            "for a minute with no traffic, so by default an idle endpoint never breaches the low alarm"
        ),
    )

    @model_validator(mode="after")
    def _shapes(self):
        for side in ("scale_out", "scale_in"):
            m = getattr(self, f"{side}_datapoints")
            n = getattr(self, f"{side}_evaluation_periods")
            if m > n:
                raise ValueError(f"{side}_datapoints is {m} but {side}_evaluation_periods is {n}; need datapoints <= periods")
        if self.metric in ("cpu_utilization", "gpu_utilization") and self.target_value > 100:
            raise ValueError(f"target_value {self.target_value} for {self.metric} is above 100 percent")
        if self.metric == "no_capacity_invocation_failures":
            raise ValueError("no_capacity_invocation_failures is an alarm metric for a step_scaling policy "
                             "(scale out from zero), not a target to track")
        return self


class Step(StrictModel):
    """One step: applies when ``lower_bound <= metric - threshold < upper_bound`` (bounds may be open).

    As in AWS, bounds are relative to the alarm threshold; for an alarm that breaches *above* the
    threshold the lower bound is inclusive, for one that breaches *below* it the upper bound is.
    """

    lower_bound: float | None = None
    upper_bound: float | None = None
    adjustment: float

    @model_validator(mode="after")
    def _ordered(self):
        if self.lower_bound is not None and self.upper_bound is not None and self.lower_bound >= self.upper_bound:
            raise ValueError(f"step lower_bound {self.lower_bound} must be below upper_bound {self.upper_bound}")
        return self


class StepScaling(StrictModel):
    """A CloudWatch alarm on ``metric`` plus step adjustments (``PolicyType: StepScaling``)."""

    kind: Literal["step_scaling"] = "step_scaling"
    name: str = "step-scaling"
    metric: Metric = "invocations_per_instance"
    threshold: float
    comparison: Comparison = ">="
    datapoints: PositiveCount = 1
    evaluation_periods: PositiveCount = 1
    adjustment_type: Literal["ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"] = "ChangeInCapacity"
    steps: list[Step] = Field(min_length=1)
    min_adjustment_magnitude: PositiveCount | None = Field(
        None, description="with PercentChangeInCapacity, change by at least this many instances"
    )
    cooldown_s: Duration = 300.0
    missing_data: MissingData = "not_breaching"

    @model_validator(mode="after")
    def _steps(self):
        if self.datapoints > self.evaluation_periods:
            raise ValueError(
                f"datapoints is {self.datapoints} but evaluation_periods is {self.evaluation_periods}; need datapoints <= periods"
            )
        spans = sorted(
            ((s.lower_bound if s.lower_bound is not None else float("-inf")),
             (s.upper_bound if s.upper_bound is not None else float("inf")))
            for s in self.steps
        )
        for (a0, b0), (a1, b1) in itertools.pairwise(spans):
            if a1 < b0:
                raise ValueError(f"steps [{a0}, {b0}) and [{a1}, {b1}) overlap")
        if self.adjustment_type != "ExactCapacity":
            for s in self.steps:
                if self.adjustment_type == "ChangeInCapacity" and s.adjustment != int(s.adjustment):
                    raise ValueError(f"ChangeInCapacity adjustment {s.adjustment} must be a whole number")
        else:
            for s in self.steps:
                if s.adjustment < 0 or s.adjustment != int(s.adjustment):
                    raise ValueError(f"ExactCapacity adjustment {s.adjustment} must be a whole number >= 0")
        return self


Policy = Annotated[TargetTracking | StepScaling | PredictiveScaling, Field(discriminator="kind")]


class ScheduledAction(StrictModel):
    """Change min/max capacity at cron times or once (``PutScheduledAction``).

    ``schedule`` is ``cron(m h dom mon dow [year])`` in AWS form (day-of-week 1-7 = SUN-SAT),
    a five-field Unix crontab (day-of-week 0-7, 0 and 7 = Sunday), ``rate(N minutes|hours|days)``
    or ``at(YYYY-MM-DDThh:mm:ss)``, evaluated in ``timezone``.
    """

    name: str = "scheduled"
    schedule: str
    timezone: TimeZoneName = "UTC"
    min_capacity: Count | None = None
    max_capacity: Count | None = None


    @field_validator("schedule")
    @classmethod
    def _parses(cls, value: str) -> str:
        from smsim.cron import parse_schedule

        parse_schedule(value)
        return value

    @model_validator(mode="after")
    def _bounds(self):
        if self.min_capacity is None and self.max_capacity is None:
            raise ValueError(f"scheduled action {self.name!r} sets neither min_capacity nor max_capacity")
        if self.min_capacity is not None and self.max_capacity is not None and self.min_capacity > self.max_capacity:
            raise ValueError(
                f"scheduled action {self.name!r}: min_capacity {self.min_capacity} > max_capacity {self.max_capacity}"
            )
        return self


class FixedDelay(StrictModel):
    kind: Literal["fixed"] = "fixed"
    delay_s: Duration = 600.0


class UniformDelay(StrictModel):
    kind: Literal["uniform"] = "uniform"
    low_s: Duration
    high_s: Duration

    @model_validator(mode="after")
    def _ordered(self):
        if self.low_s > self.high_s:
            raise ValueError(f"low_s {self.low_s} > high_s {self.high_s}")
        return self


class LognormalDelay(StrictModel):
    """Lognormal with the given median and 99th percentile (p99 > median)."""

    kind: Literal["lognormal"] = "lognormal"
    median_s: PositiveDuration
    p99_s: PositiveDuration

    @model_validator(mode="after")
    def _ordered(self):
        if self.p99_s <= self.median_s:
            raise ValueError(f"p99_s {self.p99_s} must exceed median_s {self.median_s}")
        return self


ProvisioningDelay = Annotated[FixedDelay | UniformDelay | LognormalDelay, Field(discriminator="kind")]


class AutoscalingSpec(StrictModel):
    """A scalable target (one endpoint variant) with its policies and scheduled actions."""

    min_capacity: Count = 1
    max_capacity: Count = 1
    initial_capacity: Count | None = Field(None, description="instances at the start; min_capacity when absent")
    policies: list[Policy] = Field(default_factory=list)
    scheduled_actions: list[ScheduledAction] = Field(default_factory=list)
    scale_to_zero: bool = Field(
        False, description="allow min_capacity 0 (async endpoints; real-time endpoints with a step_scaling "
        "policy on no_capacity_invocation_failures, as SageMaker inference components scale from zero)")
    provisioning: ProvisioningDelay = Field(default_factory=FixedDelay)
    termination_order: Literal["newest_first", "oldest_first"] = Field(
        "newest_first", description="which instances scale-in removes (instances still provisioning go first)"
    )

    @model_validator(mode="after")
    def _checks(self):
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity {self.min_capacity} > max_capacity {self.max_capacity}")
        if self.min_capacity == 0 and not self.scale_to_zero:
            raise ValueError("min_capacity is 0 but scale_to_zero is false; set scale_to_zero: true")
        if self.max_capacity == 0:
            raise ValueError("max_capacity is 0; an endpoint needs at least one instance at some point")
        if self.initial_capacity is not None and not (self.min_capacity <= self.initial_capacity <= self.max_capacity):
            raise ValueError(
                f"initial_capacity {self.initial_capacity} is outside [{self.min_capacity}, {self.max_capacity}]"
            )
        for action in self.scheduled_actions:
            if action.min_capacity == 0 and not self.scale_to_zero:
                raise ValueError(f"scheduled action {action.name!r} sets min_capacity 0 but scale_to_zero is false")
        names = [p.name for p in self.policies]
        if len(set(names)) != len(names):
            raise ValueError(f"policy names must be unique, found {names}")
        return self

    @property
    def can_reach_zero(self) -> bool:
        """Whether capacity may be 0 at some time (at the start, by scale-in or a scheduled action)."""
        return (self.min_capacity == 0 or self.start_capacity == 0
                or any(a.min_capacity == 0 for a in self.scheduled_actions))

    def scales_from_zero(self) -> bool:
        """Whether something brings capacity back from 0: a scheduled action that raises
        ``min_capacity`` to 1 or more, or a policy that launches an instance when requests fail
        for lack of capacity (a step-scaling alarm on ``no_capacity_invocation_failures`` above
        its threshold with a step that adds)."""
        if any(a.min_capacity is not None and a.min_capacity >= 1 for a in self.scheduled_actions):
            return True
        for p in self.policies:
            if getattr(p, "kind", None) != "step_scaling" or p.metric != "no_capacity_invocation_failures":
                continue
            if p.comparison in (">", ">=") and any(s.adjustment >= 1 if p.adjustment_type == "ExactCapacity"
                                                   else s.adjustment > 0 for s in p.steps):
                return True
        return False

    @property
    def start_capacity(self) -> int:
        return self.min_capacity if self.initial_capacity is None else self.initial_capacity
