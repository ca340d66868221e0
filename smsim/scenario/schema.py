"""The scenario: what to simulate, for how long, priced how.

Resource sections (``fleets``, ``endpoints``, ``training_jobs``, ...) are lists of models
whose ``kind`` field discriminates the variant. Each section's models live in their own module.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from smsim.scenario.common import (
    Duration,
    Percent,
    PositiveDuration,
    PositiveFloat,
    ResourceName,
    StrictModel,
    Tags,
)
from smsim.scenario.fleet import FleetSpec

SpTerm = Literal["1y", "3y"]
SpPayment = Literal["no-upfront", "partial-upfront", "all-upfront"]


class Horizon(StrictModel):
    start: datetime = Field(
        datetime(2026, 1, 1, tzinfo=timezone.utc),
        description="simulation start, ISO 8601; UTC when no offset is given",
    )
    duration_s: PositiveDuration = Field(description="length of the simulated period, e.g. '7d'")

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class HeldSavingsPlan(StrictModel):
    """A SageMaker Savings Plan already bought (or to be bought, in a what-if)."""

    commitment_usd_per_hour: PositiveFloat
    term: SpTerm = "1y"
    payment: SpPayment = "no-upfront"
    start_offset_s: Duration = Field(0.0, description="when the plan starts, from the horizon start")
    name: str | None = None


class SpotModel(StrictModel):
    """How managed spot is priced: the catalog's per-family savings, or one fixed discount."""

    discount_pct: Percent | None = Field(
        None, description="spot discount off on-demand; the catalog's per-family value when absent"
    )


class PricingOptions(StrictModel):
    catalog: str = Field("builtin", description="'builtin' or a path to a user catalog directory")
    enterprise_discount_pct: Percent = Field(0.0, description="private pricing discount, applied last")
    spot: SpotModel = Field(default_factory=SpotModel)
    savings_plans: list[HeldSavingsPlan] = Field(default_factory=list)


class Scenario(StrictModel):
    """A whole what-if: resources, workload, horizon and pricing."""

    name: ResourceName
    description: str = ""
    region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    horizon: Horizon
    seed: int = Field(0, ge=0, le=2**63 - 1)
    fidelity: Literal["request", "fluid", "auto"] = Field(
        "auto", description="request-level simulation, per-minute fluid approximation, or chosen by size"
    )
    pricing: PricingOptions = Field(default_factory=PricingOptions)
    tags: Tags = Field(default_factory=dict, description="default tags on every resource")
    fleets: list[FleetSpec] = Field(default_factory=list)

    #: Where the scenario was read from (relative trace paths resolve against its folder).
    _source: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _unique_names(self):
        seen: dict[str, str] = {}
        for section, spec in self.resources():
            if spec.name in seen:
                raise ValueError(
                    f"resource name {spec.name!r} is used twice ({seen[spec.name]} and {section}); names must be unique"
                )
            seen[spec.name] = section
        return self

    def resources(self):
        """``(section, spec)`` for every resource, in file order within section order."""
        for section in SECTIONS:
            for spec in getattr(self, section, None) or []:
                yield section, spec

    @property
    def horizon_s(self) -> float:
        return self.horizon.duration_s

    @property
    def source(self) -> str | None:
        return self._source

    @property
    def base_dir(self):
        """Folder that relative paths in the scenario are resolved against."""
        from pathlib import Path

        return Path(self._source).resolve().parent if self._source else Path.cwd()

    def with_source(self, source: str | None) -> "Scenario":
        self._source = None if source is None else str(source)
        return self


#: Resource sections in the order they are simulated and reported.
SECTIONS = ["fleets"]
