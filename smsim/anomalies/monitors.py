"""Monitors, as in AWS Cost Anomaly Detection: what is watched and how large an anomaly must be.

A monitor splits spend by one dimension and watches each value's series separately:
``service`` (``lineItem/ProductCode``, AWS's "AWS services" monitor), ``component`` (smsim's cost
category: training, real-time inference, notebooks, ...), ``resource``, ``usage_type``,
``tag:KEY`` (a cost-allocation tag) or ``total``. An anomaly is reported only when its impact
(actual minus expected spend over its duration) is at least ``min_impact_usd`` and at least
``min_impact_pct`` percent of the expected spend, AWS's two alert thresholds.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from smsim.spec import NonNegFloat, StrictModel

_FIXED = ("total", "service", "component", "resource", "usage_type")


class Monitor(StrictModel):
    dimension: str = Field("service", description="total, service, component, resource, usage_type or tag:KEY")
    min_impact_usd: NonNegFloat = Field(0.0, description="smallest total impact reported, USD")
    min_impact_pct: NonNegFloat = Field(0.0, description="smallest impact reported, percent of expected spend")

    @field_validator("dimension")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in _FIXED and not (value.startswith("tag:") and len(value) > 4):
            raise ValueError(f"unknown monitor dimension {value!r}; use one of {', '.join(_FIXED)} or tag:KEY")
        return value

    def passes(self, impact_usd: float, expected_usd: float) -> bool:
        pct = 100.0 * impact_usd / expected_usd if expected_usd > 0 else float("inf")
        return impact_usd >= self.min_impact_usd and pct >= self.min_impact_pct
