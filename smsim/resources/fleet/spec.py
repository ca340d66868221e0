"""A fixed fleet: N instances of one type for one SageMaker component, optionally on a weekly
schedule, or a recorded count over time (``count_steps``, as a bill records it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from smsim.pricing.vocabulary import COMPONENTS
from smsim.resources.hours import WorkingHours
from smsim.resources.steps_file import Step
from smsim.resources.steps_file import check_steps as _check_steps
from smsim.spec import (
    Count,
    InstanceType,
    PositiveFloat,
    ResourceName,
    StrictModel,
    Tags,
)

#: SageMaker components that bill instance time (the catalog's vocabulary).
Component = Literal[COMPONENTS]  # type: ignore[valid-type]


class FleetSpec(StrictModel):
    """Instances that simply run: the simplest resource, and the building block of what-ifs.

    ``count_steps`` replays a recorded count (a baseline built from a bill): fractional counts
    are instance-hours per hour, so an hour with 2.5 instance-hours bills exactly that.
    ``steps_file`` holds such steps in a CSV (a recording too long to write inline), ``count_scale``
    multiplies whatever count the fleet runs (a what-if: half the instances, or hours stretched).
    ``volume_gb_steps`` adds the ML storage volumes the instances carry, billed as GB-months.
    """

    kind: Literal["fleet"] = "fleet"
    name: ResourceName
    instance_type: InstanceType
    component: Component = "RealTimeInference"
    count: Count = Field(1, description="instances running while the fleet is on")
    market: Literal["OnDemand", "Spot"] = "OnDemand"
    schedule: WorkingHours | None = Field(
        None, description="when the fleet is on; always on when absent"
    )
    count_steps: list[Step] | None = Field(
        None, description="recorded instances over time as [offset_s, count] steps; replaces count and schedule"
    )
    volume_gb_steps: list[Step] | None = Field(
        None, description="ML storage volume GB held over time as [offset_s, gb] steps"
    )
    steps_file: str | None = Field(
        None, min_length=1,
        description="CSV of recorded steps (columns offset_s, count and optionally volume_gb), relative to "
        "the scenario file; replaces count_steps (and volume_gb_steps) for long recordings",
    )
    count_scale: PositiveFloat = Field(
        1.0, description="multiplies the instance count (recorded or fixed): 0.5 = half the instances"
    )
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _spot_only_for_training(self):
        if self.market == "Spot" and self.component != "Training":
            raise ValueError(
                f"market 'Spot' is only offered for component 'Training' (managed spot training), "
                f"not {self.component!r}"
            )
        return self

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every non-instance rate the fleet is billed at."""
        key = {"Notebook": "ml_storage_notebook_gb_month", "Studio": "studio_storage_gb_month"}.get(
            self.component, "ml_storage_gb_month")
        return [("volume_gb_steps", key)] if self.volume_gb_steps else [("steps_file", key)] if self.steps_file else []

    @model_validator(mode="after")
    def _steps(self):
        _check_steps(self.count_steps, "count_steps")
        _check_steps(self.volume_gb_steps, "volume_gb_steps")
        recorded = [f for f in ("count_steps", "steps_file") if getattr(self, f) is not None]
        if self.schedule is not None:
            recorded.append("schedule")
        if len(recorded) > 1:
            raise ValueError(f"{' and '.join(recorded)} all say when the fleet runs; give one of them")
        return self
