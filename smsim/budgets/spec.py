"""The ``budgets:`` section of a scenario: cost budgets with AWS Budgets' semantics.

A budget has a period (``month``, ``quarter`` or ``year``, UTC calendar periods), an amount per
period (``amount_usd`` for a fixed budget, ``planned`` amounts for chosen periods, or both: the
planned amount wins for its period), a cost type (``amortized``, savings-plan covered usage at
its effective rate and the unused commitment; or ``unblended``, the bill as charged), filters
(the lines counted: components, instance types, resources, tags; within one filter values are
alternatives, across filters all must match) and thresholds on ``actual`` or ``forecasted``
spend, as a percentage of the period's amount or as an absolute amount, and actions (stop
notebooks, scale an endpoint to its minimum, stop launching training) for a what-if.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from smsim.spec import NonNegFloat, ResourceName, StrictModel, TagKey, TagValue

Period = Literal["month", "quarter", "year"]
_FIRST_MONTHS = {"month": range(1, 13), "quarter": (1, 4, 7, 10), "year": (1,)}


class PlannedAmount(StrictModel):
    """The amount of one period of a planned budget."""

    start: date = Field(description="first day of the period (e.g. 2026-04-01 for Q2 of a quarterly budget)")
    amount_usd: NonNegFloat = Field(description="budgeted spend of that period, USD")


class BudgetFilters(StrictModel):
    """Which ledger lines a budget counts; empty lists mean no restriction."""

    components: list[str] = Field(default_factory=list, description="smsim/component values, e.g. Training")
    instance_types: list[str] = Field(default_factory=list, description="instance types, e.g. ml.g5.xlarge")
    resources: list[str] = Field(default_factory=list, description="resource names (lineItem/ResourceId)")
    tags: dict[TagKey, list[TagValue]] = Field(
        default_factory=dict, description="tag key -> accepted values (a line matches one of them)")

    def is_empty(self) -> bool:
        return not (self.components or self.instance_types or self.resources or self.tags)

    def describe(self) -> str:
        parts = [f"component in {self.components}" if self.components else "",
                 f"instance_type in {self.instance_types}" if self.instance_types else "",
                 f"resource in {self.resources}" if self.resources else ""]
        parts += [f"tag {k} in {v}" for k, v in self.tags.items()]
        return " and ".join(p for p in parts if p) or "all spend"


class Threshold(StrictModel):
    """An alert: fires once per period when spend of ``on`` kind exceeds the threshold."""

    on: Literal["actual", "forecasted"] = "actual"
    percent: NonNegFloat | None = Field(None, description="percent of the period's budgeted amount")
    amount_usd: NonNegFloat | None = Field(None, description="absolute threshold, USD")

    @model_validator(mode="after")
    def _one(self):
        if (self.percent is None) == (self.amount_usd is None):
            raise ValueError("a threshold needs exactly one of percent or amount_usd")
        return self

    def limit_usd(self, amount_usd: float) -> float:
        return amount_usd * self.percent / 100.0 if self.percent is not None else float(self.amount_usd)

    def label(self) -> str:
        value = f"{self.percent:g}%" if self.percent is not None else f"${self.amount_usd:,.2f}"
        return f"{self.on} > {value}"


class BudgetAction(StrictModel):
    """What to do when the budget's actual spend exceeds ``at_percent`` of a period's amount (as
    an AWS Budgets action), applied once, from the end of the hour it is crossed in."""

    kind: Literal["stop-notebooks", "endpoint-to-minimum", "stop-training"]
    at_percent: NonNegFloat = Field(100.0, description="percent of the period's budgeted amount")
    resources: list[str] = Field(default_factory=list,
                                 description="resource names it acts on (default: every resource of its kind)")


class Budget(StrictModel):
    """One cost budget."""

    name: ResourceName
    period: Period = "month"
    amount_usd: NonNegFloat | None = Field(None, description="budgeted spend of every period, USD")
    planned: list[PlannedAmount] = Field(default_factory=list, description="amounts of chosen periods")
    cost: Literal["amortized", "unblended"] = "amortized"
    filters: BudgetFilters = Field(default_factory=BudgetFilters)
    thresholds: list[Threshold] = Field(default_factory=lambda: [Threshold(on="actual", percent=100.0)])
    actions: list[BudgetAction] = Field(default_factory=list, description="what-if actions on crossing")

    @model_validator(mode="after")
    def _amounts(self):
        from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

        if self.amount_usd is None and not self.planned:
            raise ValueError(f"budget {self.name!r} has no amount: give amount_usd or planned amounts")
        errors: list[InitErrorDetails] = []
        seen: dict[date, int] = {}
        for i, p in enumerate(self.planned):
            if p.start.day != 1 or p.start.month not in _FIRST_MONTHS[self.period]:
                errors.append(InitErrorDetails(
                    type=PydanticCustomError("period", "{msg}", {"msg": (
                        f"{p.start} does not start a {self.period}; a {self.period}ly budget's periods "
                        f"start on the 1st of {'any month' if self.period == 'month' else 'Jan, Apr, Jul or Oct' if self.period == 'quarter' else 'January'}")}),
                    loc=("planned", i, "start"), input=str(p.start)))
            elif p.start in seen:
                errors.append(InitErrorDetails(
                    type=PydanticCustomError("overlap", "{msg}", {"msg": (
                        f"planned amounts {seen[p.start]} and {i} are for the same {self.period} "
                        f"starting {p.start}; periods must not overlap")}),
                    loc=("planned", i, "start"), input=str(p.start)))
            else:
                seen[p.start] = i
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def amount_for(self, period_start: datetime) -> float | None:
        """The budgeted amount of the period starting at ``period_start`` (None: not budgeted)."""
        day = period_start.date()
        for p in self.planned:
            if p.start == day:
                return float(p.amount_usd)
        return None if self.amount_usd is None else float(self.amount_usd)


class BudgetsFile(StrictModel):
    """A stand-alone budgets file (``smsim budget --budgets FILE``), for bills and projections."""

    budgets: list[Budget] = Field(default_factory=list)

    @field_validator("budgets")
    @classmethod
    def _names(cls, value):
        return unique_budget_names(value)


def unique_budget_names(budgets: list[Budget]) -> list[Budget]:
    names = [b.name for b in budgets]
    for i, n in enumerate(names):
        if names.index(n) != i:
            raise ValueError(f"budget name {n!r} is used twice; names must be unique")
    return budgets


def tag_filter_errors(budgets: list[Budget], known: set[str]):
    """``(loc, key, message)`` for every tag filter naming a tag no resource carries."""
    from smsim.errors import did_you_mean

    for i, b in enumerate(budgets):
        for key in b.filters.tags:
            if key not in known:
                yield (("budgets", i, "filters", "tags", key), key,
                       f"budget {b.name!r} filters on tag {key!r}, which no resource carries "
                       f"(known: {', '.join(sorted(known)) or 'none'}){did_you_mean(key, known)}")


__all__ = ["Budget", "BudgetAction", "BudgetFilters", "BudgetsFile", "Period", "PlannedAmount", "Threshold",
           "resource_filter_errors", "tag_filter_errors", "unique_budget_names"]


def resource_filter_errors(budgets: list[Budget], known: set[str]):
    """``(loc, name, message)`` for every resource filter naming no resource of the scenario."""
    from smsim.errors import did_you_mean

    for i, b in enumerate(budgets):
        for j, name in enumerate(b.filters.resources):
            if name not in known:
                yield (("budgets", i, "filters", "resources", j), name,
                       f"budget {b.name!r} filters on resource {name!r}, which the scenario does not have"
                       f"{did_you_mean(name, known)}")
