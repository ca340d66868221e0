"""Pipelines: a DAG of steps (processing, training, evaluation, registration, deployment) run on
a schedule, with step caching and retries.

Each step names the steps it ``depends_on``; a step starts when all of them have succeeded
(and, with ``max_parallel_steps``, when a slot is free). Job steps run ``instance_count`` x
``instance_type`` for a time drawn from ``duration`` and are billed as the SageMaker job they
start: ``processing`` and ``evaluation`` as Processing, ``training`` as Training, ``transform``
as BatchTransform. ``registration``, ``condition``, ``lambda`` and ``deployment`` steps take
time but run no SageMaker instances (a deployment's capacity belongs to its endpoint; a
``deployments:`` entry can follow this pipeline to bill the overlap). The pipeline service
itself adds no charge beyond its steps' jobs.

Caching (``CacheConfig``): a step reuses a successful execution that finished within
``expire_after_s``; ``rule: inputs-unchanged`` hits only when every step it depends on hit the
cache and its own inputs did not change (probability ``inputs_change_probability``);
``rule: probability`` hits with ``hit_probability``. A cached step costs nothing and takes no
time. A ``training`` step may run on managed spot (``market: Spot``, ``spot:`` as for training
jobs): each attempt then goes through the managed spot lifecycle, and one that does not
complete within its wait budget fails like any other attempt. Retries: an attempt fails with ``failure_probability`` after a uniform share of its
duration (billed); ``retry`` (``RetryPolicy``) allows ``max_attempts`` more attempts, the k-th
after ``interval_s * backoff_rate**k``. A step that fails for good fails the run: no further
step starts, running ones finish.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from smsim.resources.common import (
    CronTrigger,
    DurationDistribution,
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
    PositiveFloat,
    ResourceName,
    StrictModel,
    Tags,
)

PipelineTrigger = Annotated[CronTrigger | OnceTrigger | PoissonTrigger, Field(discriminator="kind")]

#: The SageMaker job each step type starts, as the component it is billed under (None: no job).
STEP_COMPONENT: dict[str, str | None] = {
    "processing": "Processing",
    "evaluation": "Processing",
    "training": "Training",
    "transform": "BatchTransform",
    "registration": None,
    "condition": None,
    "lambda": None,
    "deployment": None,
}
#: SageMaker's limit on ``IntervalSeconds`` of a retry policy (12 hours).
MAX_RETRY_INTERVAL_S = 43_200.0


class CachePolicy(StrictModel):
    """``CacheConfig`` of a step and smsim's rule for when a cached execution is reused."""

    expire_after_s: Duration = Field(30 * 86_400.0, description="ExpireAfter: how old a reusable execution may be")
    rule: Literal["inputs-unchanged", "probability"] = "inputs-unchanged"
    inputs_change_probability: Fraction = Field(
        0.0, description="inputs-unchanged: chance the step's own inputs (data, code, parameters) changed since the last run")
    hit_probability: Fraction | None = Field(None, description="probability: chance of a hit when an execution exists")

    @model_validator(mode="after")
    def _rule_fields(self):
        if (self.rule == "probability") != (self.hit_probability is not None):
            raise ValueError("hit_probability goes with rule 'probability', and that rule needs it")
        return self


class RetryPolicy(StrictModel):
    """A step's retry policy: ``max_attempts`` retries after the first attempt, waiting
    ``interval_s * backoff_rate**k`` before the k-th (SageMaker's IntervalSeconds, BackoffRate)."""

    max_attempts: PositiveCount = Field(description="MaxAttempts: retries after the first attempt")
    interval_s: Duration = Field(1.0, description="IntervalSeconds: wait before the first retry")
    backoff_rate: PositiveFloat = Field(2.0, description="BackoffRate: multiplier of the wait per retry")

    @model_validator(mode="after")
    def _interval(self):
        if self.interval_s > MAX_RETRY_INTERVAL_S:
            raise ValueError(f"interval_s {self.interval_s:g} exceeds SageMaker's limit of {MAX_RETRY_INTERVAL_S:g} s")
        return self


class PipelineStep(StrictModel):
    """One step of a pipeline."""

    name: ResourceName
    type: Literal["processing", "evaluation", "training", "transform", "registration", "condition",
                  "lambda", "deployment"]
    depends_on: list[ResourceName] = Field(default_factory=list)
    instance_type: InstanceType | None = None
    instance_count: PositiveCount = 1
    duration: DurationDistribution = Field(description="billed time of one attempt (a job step's instances run)")
    provisioning_s: Duration = Field(0.0, description="launching a job step's instances before each attempt; not billed")
    volume_gb: NonNegFloat = Field(30.0, description="ML storage volume per instance of a job step")
    market: Literal["OnDemand", "Spot"] = Field("OnDemand", description="Spot: a training step on managed spot")
    spot: SpotSettings | None = None
    cache: CachePolicy | None = None
    failure_probability: Fraction = Field(0.0, description="chance that one attempt fails")
    retry: RetryPolicy | None = None

    @property
    def component(self) -> str | None:
        """The SageMaker component this step's job is billed as (None: the step runs no job)."""
        return STEP_COMPONENT[self.type]

    @model_validator(mode="after")
    def _instances(self):
        if self.component is not None and self.instance_type is None:
            raise ValueError(f"a {self.type!r} step runs a {self.component} job: give its instance_type")
        if self.component is None and self.instance_type is not None:
            raise ValueError(f"a {self.type!r} step runs no SageMaker instances; remove instance_type "
                             f"{self.instance_type!r}")
        if self.market == "Spot" and self.type != "training":
            raise ValueError(f"market 'Spot' is offered for training steps (managed spot training), not {self.type!r}")
        if self.market == "OnDemand" and self.spot is not None:
            raise ValueError("spot settings given but market is 'OnDemand'; set market: Spot")
        return self

    @property
    def spot_settings(self) -> SpotSettings:
        return self.spot or SpotSettings()


class PipelineSpec(StrictModel):
    """A pipeline: its steps as a DAG, and the schedule that starts its executions."""

    kind: Literal["pipeline"] = "pipeline"
    name: ResourceName
    trigger: PipelineTrigger
    steps: list[PipelineStep] = Field(min_length=1)
    max_parallel_steps: PositiveCount | None = Field(None, description="ParallelismConfiguration.MaxParallelExecutionSteps")
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dag(self):
        """Step names are unique, dependencies name steps, and there is no cycle; each error is
        located at the offending field so the loader names its line."""
        from smsim.resources.pipelines.dag import find_cycle

        errors: list[InitErrorDetails] = []

        def error(loc: tuple, value, message: str) -> None:
            errors.append(InitErrorDetails(type=PydanticCustomError("dag", "{msg}", {"msg": message}),
                                           loc=loc, input=value))

        index: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if step.name in index:
                error(("steps", i, "name"), step.name, f"step name {step.name!r} is used twice "
                      f"(steps[{index[step.name]}] and steps[{i}])")
            index.setdefault(step.name, i)
        for i, step in enumerate(self.steps):
            for j, dep in enumerate(step.depends_on):
                if dep not in index:
                    error(("steps", i, "depends_on", j), dep, f"step {step.name!r} depends on {dep!r}, which is not a "
                          f"step of pipeline {self.name!r} (steps: {', '.join(index)})")
                elif dep == step.name:
                    error(("steps", i, "depends_on", j), dep, f"step {step.name!r} depends on itself")
        if not errors:
            cycle = find_cycle({s.name: list(s.depends_on) for s in self.steps})
            if cycle:
                i = index[cycle[0]]
                error(("steps", i, "depends_on"), list(self.steps[i].depends_on),
                      f"the steps form a cycle: {' -> '.join(cycle)}; a pipeline must be a DAG")
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every non-instance rate these runs are billed at."""
        return [(f"steps.{i}.volume_gb", "ml_storage_gb_month") for i, s in enumerate(self.steps)
                if s.component is not None and s.volume_gb][:1]
