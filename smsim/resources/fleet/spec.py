"""A fixed fleet: N instances of one type for one SageMaker component, optionally on a weekly schedule."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from smsim.pricing.vocabulary import COMPONENTS
from smsim.resources.hours import WorkingHours
from smsim.spec import Count, InstanceType, ResourceName, StrictModel, Tags

#: SageMaker components that bill instance time (the catalog's vocabulary).
Component = Literal[COMPONENTS]  # type: ignore[valid-type]


class FleetSpec(StrictModel):
    """Instances that simply run: the simplest resource, and the building block of what-ifs."""

    kind: Literal["fleet"] = "fleet"
    name: ResourceName
    instance_type: InstanceType
    component: Component = "RealTimeInference"
    count: Count = Field(1, description="instances running while the fleet is on")
    market: Literal["OnDemand", "Spot"] = "OnDemand"
    schedule: WorkingHours | None = Field(
        None, description="when the fleet is on; always on when absent"
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
