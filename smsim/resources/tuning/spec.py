"""Hyperparameter tuning jobs: trials, parallelism, strategy, early stopping, warm start, spot.

A tuning job launches up to ``max_trials`` training jobs (trials), at most
``max_parallel_trials`` at a time, on ``instance_count`` x ``instance_type`` each. Each trial
trains for a time drawn from ``trial_duration`` (the time of a trial that runs to the end) and
reaches an objective value drawn from ``objective``; or both come from a ``trial_log`` CSV
exported from earlier tuning jobs. The strategy decides how trials are launched and stopped:

* ``random``: a new trial starts whenever a slot frees;
* ``bayesian``: trials run in batches of ``max_parallel_trials``, each batch waiting for the
  previous one's results (smsim's reading of "Bayesian search learns from completed trials");
* ``hyperband``: as random, but each trial passes rungs of ``min_resource * eta^k`` epochs and
  stops at a rung unless its objective ranks in the top 1/eta of the trials that reached it.
  smsim ranks trials at a rung by their final objective, i.e. it assumes early results rank
  trials as their final results do: the best case for Hyperband (the best trial always passes).

SageMaker requires ``TrainingJobEarlyStoppingType`` OFF with Hyperband, which has its own
stopping; ``early_stopping`` (the ``Auto`` median rule) is for random and Bayesian search.
Automatic model tuning adds no charge of its own: the trials are billed as training jobs.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

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
    PositiveDuration,
    ResourceName,
    StrictModel,
    Tags,
)

TuningTrigger = Annotated[CronTrigger | OnceTrigger | PoissonTrigger, Field(discriminator="kind")]

#: SageMaker's limit on ``HyperbandStrategyConfig.MaxResource`` (epochs).
MAX_HYPERBAND_RESOURCE = 20_000


class ObjectiveDistribution(StrictModel):
    """The final objective metric of a trial: normal (mean, sd) or uniform (low, high)."""

    distribution: Literal["normal", "uniform"] = "normal"
    mean: float = 0.0
    sd: NonNegFloat = 1.0
    low: float = 0.0
    high: float = 1.0
    goal: Literal["maximize", "minimize"] = "maximize"

    @model_validator(mode="after")
    def _bounds(self):
        if self.distribution == "uniform" and not self.low < self.high:
            raise ValueError(f"objective low {self.low:g} must be below high {self.high:g}")
        return self


class EarlyStopping(StrictModel):
    """SageMaker's ``Auto`` early stopping (a trial worse than the median of earlier trials at
    the same epoch stops), as a declared outcome: the trials whose objective lies in the worst
    ``stopped_fraction`` of the objective distribution stop after a fraction of their training
    drawn uniformly from [``stop_at_min_fraction``, ``stop_at_max_fraction``]."""

    stopped_fraction: Fraction = Field(description="share of trials stopped early, e.g. 0.4")
    stop_at_min_fraction: Fraction = 0.2
    stop_at_max_fraction: Fraction = 0.6

    @model_validator(mode="after")
    def _order(self):
        if self.stop_at_min_fraction > self.stop_at_max_fraction:
            raise ValueError(
                f"stop_at_min_fraction {self.stop_at_min_fraction:g} exceeds stop_at_max_fraction "
                f"{self.stop_at_max_fraction:g}"
            )
        return self


class HyperbandSpec(StrictModel):
    """``HyperbandStrategyConfig``: epochs per trial from ``min_resource`` to ``max_resource``;
    ``reduction_factor`` (eta) is the share 1/eta of trials kept at each rung."""

    min_resource: PositiveCount = 1
    max_resource: PositiveCount
    reduction_factor: int = Field(3, ge=2, le=10, description="eta: keep the top 1/eta at each rung")

    @model_validator(mode="after")
    def _range(self):
        if self.max_resource > MAX_HYPERBAND_RESOURCE:
            raise ValueError(f"max_resource {self.max_resource} exceeds SageMaker's limit of {MAX_HYPERBAND_RESOURCE}")
        if self.min_resource > self.max_resource:
            raise ValueError(f"min_resource {self.min_resource} exceeds max_resource {self.max_resource}")
        return self


class WarmStart(StrictModel):
    """Warm start from parent tuning jobs: their ``parent_trials`` results are known before the
    first new trial, so the best so far starts at the best of them (drawn from ``objective``)."""

    parent_trials: PositiveCount
    type: Literal["identical-data-and-algorithm", "transfer-learning"] = "identical-data-and-algorithm"


class Completion(StrictModel):
    """``TuningJobCompletionCriteria``: the job stops once a completed trial reaches
    ``target_objective``, or after ``max_trials_not_improving`` completed trials in a row that
    did not improve the best; running trials are stopped then."""

    target_objective: float | None = None
    max_trials_not_improving: PositiveCount | None = None


class TrialLog(StrictModel):
    """Trials from a CSV: a SageMaker tuning analytics export (``TrainingElapsedTimeSeconds``,
    ``FinalObjectiveValue``, ``TrainingJobStatus``) or ``duration_s``, ``objective``, ``status``.
    ``as-logged`` replays rows in order (at least ``max_trials`` rows); ``resample`` draws rows
    with replacement. The log's own early stops stand: the strategy then only decides how trials
    are launched (Hyperband's rungs and early stopping are not applied again)."""

    path: str
    order: Literal["as-logged", "resample"] = "as-logged"


class TuningJobSpec(StrictModel):
    """A family of hyperparameter tuning jobs of one shape started by one trigger."""

    COMPONENT: ClassVar[str] = "Training"

    kind: Literal["tuning"] = "tuning"
    name: ResourceName
    trigger: TuningTrigger
    instance_type: InstanceType
    instance_count: PositiveCount = Field(1, description="instances per trial")
    strategy: Literal["random", "bayesian", "hyperband"] = "bayesian"
    max_trials: PositiveCount = Field(description="MaxNumberOfTrainingJobs")
    max_parallel_trials: PositiveCount = Field(1, description="MaxParallelTrainingJobs")
    trial_duration: DurationDistribution | None = Field(
        None, description="training time of a trial that runs to the end (before any early stop)")
    objective: ObjectiveDistribution = Field(default_factory=ObjectiveDistribution)
    trial_log: TrialLog | None = None
    early_stopping: EarlyStopping | None = None
    hyperband: HyperbandSpec | None = None
    warm_start: WarmStart | None = None
    completion: Completion | None = None
    max_runtime_s: PositiveDuration | None = Field(
        None, description="ResourceLimits.MaxRuntimeInSeconds: the job stops its trials after this long")
    provisioning_s: Duration = Field(180.0, description="launching a trial's instances; not billed")
    download_s: Duration = Field(60.0, description="data and image download per trial; billed")
    upload_s: Duration = Field(30.0, description="model upload per trial; billed")
    volume_gb: NonNegFloat = Field(30.0, description="ML storage volume per instance")
    market: Literal["OnDemand", "Spot"] = "OnDemand"
    spot: SpotSettings | None = None
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self):
        if (self.trial_duration is None) == (self.trial_log is None):
            raise ValueError("give either trial_duration (with objective) or trial_log, not both or neither")
        if (self.strategy == "hyperband") != (self.hyperband is not None):
            raise ValueError(
                f"strategy {self.strategy!r} with{'out' if self.hyperband is None else ''} a hyperband "
                "section: hyperband settings go with strategy 'hyperband' only, and it needs them"
            )
        if self.strategy == "hyperband" and self.early_stopping is not None:
            raise ValueError("SageMaker requires early stopping OFF with strategy 'hyperband' "
                             "(Hyperband stops trials at its rungs); remove early_stopping")
        if self.trial_log is not None and (self.early_stopping is not None or self.warm_start is not None):
            raise ValueError("a trial_log already records early stops and its objective values; "
                             "early_stopping and warm_start need trial_duration and objective instead")
        if self.market == "OnDemand" and self.spot is not None:
            raise ValueError("spot settings given but market is 'OnDemand'; set market: Spot")
        return self

    @property
    def parallel(self) -> int:
        """Trials running at once: ``max_parallel_trials``, at most ``max_trials``."""
        return min(self.max_parallel_trials, self.max_trials)

    @property
    def spot_settings(self) -> SpotSettings:
        return self.spot or SpotSettings()

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every non-instance rate these jobs are billed at."""
        return [("volume_gb", "ml_storage_gb_month")] if self.volume_gb else []

    def load_trial_log(self, base_dir=None):
        """The trial log's trials (None without one), checked against ``max_trials``. Errors in
        the CSV name its line; a missing file or too few rows name ``trial_log.path``."""
        if self.trial_log is None:
            return None
        from pathlib import Path

        from smsim.errors import InputError
        from smsim.resources.tuning.trial_log import read_trial_log

        path = Path(self.trial_log.path).expanduser()
        if not path.is_absolute():
            path = Path(base_dir or Path.cwd()) / path
        if not path.is_file():
            raise InputError(f"trial log not found: {path}", path="trial_log.path")
        log = read_trial_log(path)
        if self.trial_log.order == "as-logged" and len(log) < self.max_trials:
            raise InputError(f"the trial log {path.name} has {len(log)} rows but max_trials is {self.max_trials}; "
                             "log more trials or set order: resample", path="trial_log.path")
        return log

