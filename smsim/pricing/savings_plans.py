"""Savings-plan rate lookup: what one instance-hour costs under a SageMaker Savings Plan.

Rows of ``savings_plan_rates.csv`` match usage by ``instance_pattern`` (an exact type such as
``ml.m5.xlarge`` or a glob such as ``ml.g5.*``), ``component`` (or ``Any``), ``region`` (or ``*``),
``term`` and ``payment``. A row gives either a listed rate (``usd_per_hour``, as imported from
``describe-savings-plans-offering-rates``) or a ``discount_pct`` off on-demand. The most specific
matching row wins: exact type over a pattern, a named component over ``Any``, a named region over
``*``. The built-in rows are *assumed* discounts (``assumed == "true"``): AWS publishes no
per-instance SageMaker Savings Plans table.

The hourly *application* of plans to usage (highest savings percentage first) is billing's job:
see :mod:`smsim.billing.savings_plan_application`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import pandas as pd

from smsim.errors import InputError
from smsim.pricing.vocabulary import ANY_COMPONENT

#: Seconds per savings-plan term (AWS ``durationSeconds``: 31536000 and 94608000).
TERM_SECONDS = {"1y": 31_536_000.0, "3y": 94_608_000.0}


@dataclass(frozen=True)
class SavingsPlanRow:
    instance_pattern: str
    component: str
    region: str
    term: str
    payment: str
    discount_pct: float | None
    usd_per_hour: float | None
    assumed: bool
    source: str

    def specificity(self) -> tuple[int, int, int]:
        exact = not any(ch in self.instance_pattern for ch in "*?[")
        return (int(exact), int(self.component != ANY_COMPONENT), int(self.region != "*"))

    def matches(self, instance_type: str, component: str, region: str, term: str, payment: str) -> bool:
        return (
            self.term == term
            and self.payment == payment
            and self.component in (component, ANY_COMPONENT)
            and self.region in (region, "*")
            and fnmatch.fnmatchcase(instance_type, self.instance_pattern)
        )


class SavingsPlanRates:
    """Matching of usage to savings-plan rate rows (immutable after construction)."""

    def __init__(self, rows: tuple[SavingsPlanRow, ...]) -> None:
        self._rows = rows
        self._cache: dict[tuple[str, str, str, str, str], SavingsPlanRow] = {}

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> SavingsPlanRates:
        rows = tuple(
            SavingsPlanRow(
                r.instance_pattern, r.component, r.region, r.term, r.payment,
                None if pd.isna(r.discount_pct) else float(r.discount_pct),
                None if pd.isna(r.usd_per_hour) else float(r.usd_per_hour),
                r.assumed == "true", r.source,
            )
            for r in frame.itertuples(index=False)
        )
        return cls(rows)

    def row(self, instance_type: str, component: str, region: str, term: str, payment: str) -> SavingsPlanRow:
        key = (instance_type, component, region, term, payment)
        found = self._cache.get(key)
        if found is None:
            candidates = [r for r in self._rows if r.matches(*key)]
            if not candidates:
                raise InputError(
                    f"no savings-plan rate for {instance_type} ({component}, {region}, {term} {payment}); "
                    "add a row to savings_plan_rates.csv or import offering rates with 'smsim pricing import'",
                    path="pricing.savings_plans",
                )
            # the most specific row; among equals, a listed rate over a discount, then the last row
            found = max(
                enumerate(candidates),
                key=lambda ir: (ir[1].specificity(), ir[1].usd_per_hour is not None, ir[0]),
            )[1]
            self._cache[key] = found
        return found

    def rate_usd_per_hour(
        self, instance_type: str, component: str, region: str, term: str, payment: str, ondemand_usd_per_hour: float
    ) -> float:
        row = self.row(instance_type, component, region, term, payment)
        if row.usd_per_hour is not None:
            return row.usd_per_hour
        return ondemand_usd_per_hour * (1.0 - row.discount_pct / 100.0)
