"""How a scenario is priced (its ``pricing:`` section): the catalog, private discounts, the
spot model and the savings plans held."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from smsim.spec import Duration, Percent, PositiveFloat, StrictModel

SpTerm = Literal["1y", "3y"]
SpPayment = Literal["no-upfront", "partial-upfront", "all-upfront"]


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
