"""Edge fleets (``edge:``, ``kind: edge-fleet``): devices serving a share of an endpoint's requests.

``share_of_requests`` of ``endpoint``'s requests are served on ``devices`` devices running a
model compiled for them (for example with SageMaker Neo); the endpoint sees the rest (see
:mod:`smsim.resources.offload`). The device side's costs are the user's own figures, not AWS
prices: ``usd_per_device_month`` (hardware amortisation, connectivity, fleet management),
``usd_per_1000_inferences`` (energy, per-call fees) and ``usd_per_compilation_job`` for each
compilation job of ``compilation_trigger`` (smsim has no sourced price for a compilation job).
They are billed under ``declared_usd``, one USD per unit, as external costs. When ``model`` names
the device build and both it and the endpoint's model declare a quality, the fleet reports the
quality over all requests, ``(1 - share) x endpoint quality + share x device quality``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from smsim.resources.common import CronTrigger, OnceTrigger
from smsim.spec import Count, Fraction, NonNegFloat, ResourceName, StrictModel, Tags

CompileTrigger = Annotated[CronTrigger | OnceTrigger, Field(discriminator="kind")]

#: The identity rate (1 USD per unit) that carries costs the scenario declares in USD.
DECLARED_USD = "declared_usd"


class EdgeFleetSpec(StrictModel):
    """Devices serving a share of one endpoint's requests, and what they cost."""

    kind: Literal["edge-fleet"] = "edge-fleet"
    name: ResourceName
    endpoint: str = Field(description="the endpoint whose requests the devices take (a name in endpoints:)")
    share_of_requests: Fraction = Field(description="share of the endpoint's requests served on devices")
    devices: Count = 0
    model: str | None = Field(None, description="the build running on devices (a name in models:), for its quality")
    usd_per_device_month: NonNegFloat = Field(0.0, description="your cost per device per 730-hour month")
    usd_per_1000_inferences: NonNegFloat = Field(0.0, description="your cost per 1,000 requests served on devices")
    compilation_trigger: CompileTrigger | None = Field(None, description="when the model is compiled for the devices")
    usd_per_compilation_job: NonNegFloat = Field(0.0, description="your cost per compilation job")
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self):
        if self.share_of_requests > 0 and self.devices == 0:
            raise ValueError(f"share_of_requests {self.share_of_requests:g} is served on devices, but devices is 0")
        if self.usd_per_compilation_job > 0 and self.compilation_trigger is None:
            raise ValueError(f"usd_per_compilation_job {self.usd_per_compilation_job:g} needs a compilation_trigger "
                             "(when the model is compiled)")
        return self

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)``: declared costs ride on the identity rate."""
        declared = self.usd_per_device_month or self.usd_per_1000_inferences or self.usd_per_compilation_job
        return [("share_of_requests", DECLARED_USD)] if declared else []


__all__ = ["DECLARED_USD", "EdgeFleetSpec"]
