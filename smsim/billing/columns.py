"""The ledger's vocabulary: its columns, the fields of a line item, and text interned as codes."""

from __future__ import annotations

import numpy as np

TAG_PREFIX = "resourceTags/user:"


CUR_COLUMNS = [
    "identity/TimeInterval",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/LineItemType",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/UnblendedRate",
    "lineItem/UnblendedCost",
    "lineItem/LineItemDescription",
    "pricing/term",
    "pricing/unit",
    "pricing/publicOnDemandCost",
    "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanRate",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/UsedCommitment",
    "savingsPlan/TotalCommitmentToDate",
]


SMSIM_COLUMNS = [
    "smsim/hour",
    "smsim/usage_start_s",
    "smsim/usage_end_s",
    "smsim/component",
    "smsim/resource_kind",
    "smsim/instance_type",
    "smsim/market",
    "smsim/pricing_class",
    "smsim/savings_plan",
    "smsim/net_cost_usd",
]


#: Pricing classes of ``smsim/pricing_class``.
PRICING_CLASSES = (
    "on_demand", "spot", "storage", "metered", "savings_plan_covered", "savings_plan_negation",
    "savings_plan_commitment", "enterprise_discount",
)


TEXT_FIELDS = (
    "line_type", "product", "usage_type", "operation", "unit", "description", "term", "pricing_class",
    "resource_id", "resource_kind", "component", "instance_type", "market", "sp_arn", "plan",
)


NUMBER_FIELDS = (
    "start_s", "end_s", "amount", "rate", "cost", "public_od", "sp_rate", "sp_effective", "used",
    "total_commitment", "net",
)


#: Fields a line takes from its line group unless the line sets them (``inherit`` of a part).
GROUP_TEXT = (
    "resource_id", "resource_kind", "component", "instance_type", "market", "product", "usage_type",
    "operation", "unit", "description", "pricing_class", "term",
)


#: A part of the ledger: arrays of equal length (``g`` line group or -1, ``hour``, and any of the
#: fields above), plus the names of the fields it takes from its group under ``inherit``.
Lines = dict


class Vocabulary:
    """Text interned as int codes, so per-line text costs an int, not a Python string."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}
        self.code("")

    def code(self, text: str) -> int:
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.strings)
            self.strings.append(text)
        return found

    def codes(self, texts) -> np.ndarray:
        return np.fromiter((self.code(t) for t in texts), dtype=np.int32)

    def full(self, n: int, text: str) -> np.ndarray:
        return np.full(n, self.code(text), dtype=np.int32)
