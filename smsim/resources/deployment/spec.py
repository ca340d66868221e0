"""Deployment strategies for a real-time endpoint's model updates, and the capacity they add.

A deployment entry bills only the capacity a deployment runs *beside* the serving fleet (the
serving fleet itself belongs to its endpoint or fleet entry): the green fleet of a blue/green
update, the new batch of a rolling update, the shadow fleet of a shadow test. Instances are
billed from launch (``provisioning_s`` included), as smsim's autoscaling bills them.

* ``blue-green``: a full green fleet of ``instance_count`` launches; traffic shifts in steps
  (``all-at-once``: 1, ``canary``: 2, ``linear``: ``ceil(1 / linear_step)``), each followed by
  a ``baking_period_s`` (WaitIntervalInSeconds); after the last, ``termination_wait_s``
  (TerminationWaitInSeconds) passes and the blue fleet is terminated. The blue fleet stays whole
  until then (auto-rollback shifts all traffic back to it), so the overlap is
  ``instance_count x (provisioning_s + steps x baking_period_s + termination_wait_s)``. smsim
  follows the user guide ("for each step, there is a baking period", the last one included);
  the API calls WaitIntervalInSeconds the wait *between* steps, so if no bake follows the last
  step on your endpoint, count that time in ``termination_wait_s`` instead.
* ``rolling``: batches of ``batch_size`` new instances each launch, take traffic, bake for
  ``baking_period_s`` and replace as many old ones; for an inference component,
  ``spare_instances`` already free on the endpoint absorb part of each batch.
* ``shadow``: a shadow variant receiving ``traffic_share`` of the requests runs for
  ``duration_s`` on ``ceil(instance_count x traffic_share)`` instances (or ``shadow_instance_count``).

Deployments start on a schedule (cron, including ``rate(14 days)``; once; Poisson) or follow a
pipeline: ``trigger: {kind: pipeline, pipeline: NAME}`` deploys each new model that pipeline
publishes.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from smsim.resources.common import CronTrigger, OnceTrigger, PoissonTrigger
from smsim.spec import (
    Duration,
    Fraction,
    InstanceType,
    PositiveCount,
    PositiveDuration,
    ResourceName,
    StrictModel,
    Tags,
)


class PipelineCadence(StrictModel):
    """Deploy whenever the named pipeline produces a new model (``delay_s`` after its run)."""

    kind: Literal["pipeline"] = "pipeline"
    pipeline: ResourceName
    delay_s: Duration = 0.0


DeploymentTrigger = Annotated[CronTrigger | OnceTrigger | PoissonTrigger | PipelineCadence,
                              Field(discriminator="kind")]


#: SageMaker's limit on WaitIntervalInSeconds (TrafficRoutingConfig and RollingUpdatePolicy).
MAX_WAIT_INTERVAL_S = 3600.0


def _check_baking(value: float) -> float:
    if value > MAX_WAIT_INTERVAL_S:
        raise ValueError(f"baking_period_s {value:g} exceeds SageMaker's WaitIntervalInSeconds limit of "
                         f"{MAX_WAIT_INTERVAL_S:g} s")
    return value


BakingPeriod = Annotated[Duration, AfterValidator(_check_baking)]


class DeploymentBase(StrictModel):
    """Fields every deployment strategy shares."""

    COMPONENT: ClassVar[str] = "RealTimeInference"

    name: ResourceName
    trigger: DeploymentTrigger
    instance_type: InstanceType
    instance_count: PositiveCount = Field(description="instances of the serving fleet being updated")
    provisioning_s: Duration = Field(600.0, description="launching new instances; billed, as autoscaling bills launches")
    rollback_probability: Fraction = Field(
        0.0, description="chance an alarm trips during a deployment: all traffic returns to the old fleet "
        "and the new capacity is terminated at a uniform time within the deployment")
    tags: Tags = Field(default_factory=dict)

    def references(self) -> list[tuple[tuple, str, str]]:
        """``(field path, section, name)`` of every other resource this entry names."""
        if self.trigger.kind == "pipeline":
            return [(("trigger", "pipeline"), "pipelines", self.trigger.pipeline)]
        return []


class BlueGreenSpec(DeploymentBase):
    """A blue/green update with all-at-once, canary or linear traffic shifting."""

    kind: Literal["blue-green"] = "blue-green"
    traffic_shifting: Literal["all-at-once", "canary", "linear"] = "all-at-once"
    canary_size: Fraction = Field(0.1, description="canary: share of the green fleet's capacity first (at most 0.5)")
    linear_step: Fraction = Field(0.2, description="linear: share of capacity per step (0.1 to 0.5)")
    baking_period_s: BakingPeriod = Field(600.0, description="WaitIntervalInSeconds: baking after each traffic shift")
    termination_wait_s: Duration = Field(0.0, description="TerminationWaitInSeconds: wait before terminating blue")

    @model_validator(mode="after")
    def _sizes(self):
        if self.traffic_shifting == "canary" and not 0 < self.canary_size <= 0.5:
            raise ValueError(f"canary_size {self.canary_size:g} must be above 0 and at most 0.5 of the fleet")
        if self.traffic_shifting == "linear" and not 0.1 <= self.linear_step <= 0.5:
            raise ValueError(f"linear_step {self.linear_step:g} must be between 0.1 and 0.5 of the fleet")
        return self

    @property
    def shift_steps(self) -> int:
        """Traffic shifts, each followed by a baking period."""
        if self.traffic_shifting == "canary":
            return 2
        if self.traffic_shifting == "linear":
            return math.ceil(round(1.0 / self.linear_step, 9))
        return 1


class RollingSpec(DeploymentBase):
    """A rolling update of an endpoint or of an inference component, batch by batch."""

    kind: Literal["rolling"] = "rolling"
    target: Literal["endpoint", "inference-component"] = "endpoint"
    batch_size: PositiveCount = Field(description="MaximumBatchSize: instances replaced per batch")
    baking_period_s: BakingPeriod = Field(600.0, description="WaitIntervalInSeconds: baking after each batch")
    spare_instances: int = Field(0, ge=0, le=100_000,
                                 description="inference component: instances' worth of free capacity already on the endpoint")

    @model_validator(mode="after")
    def _spare(self):
        if self.target == "endpoint" and self.spare_instances:
            raise ValueError("spare_instances applies to target 'inference-component' (an endpoint update "
                             "always launches new instances)")
        return self


class ShadowSpec(DeploymentBase):
    """A shadow test: a shadow variant served a copy of ``traffic_share`` of the requests."""

    kind: Literal["shadow"] = "shadow"
    traffic_share: Fraction = Field(description="share of requests copied to the shadow variant")
    duration_s: PositiveDuration = Field(description="how long each shadow test runs")
    shadow_instance_count: PositiveCount | None = Field(
        None, description="instances of the shadow variant; default ceil(instance_count x traffic_share)")

    @model_validator(mode="after")
    def _share(self):
        if self.traffic_share <= 0:
            raise ValueError("traffic_share must be above 0")
        return self

    @property
    def shadow_instances(self) -> int:
        if self.shadow_instance_count is not None:
            return self.shadow_instance_count
        return max(1, math.ceil(round(self.instance_count * self.traffic_share, 9)))
