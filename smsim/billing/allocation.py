"""Cost allocation by tag: who spent what, with untagged cost shown, never dropped.

Allocation uses the ledger's amortized view (``smsim/net_cost_usd``): savings-plan covered usage
carries its effective cost, so a team that used the plan pays for what it used; unused commitment
has no resource tags and lands under ``"untagged"``. The values of one key sum to the total bill.
"""

from __future__ import annotations

import pandas as pd

from smsim.billing.ledger import TAG_PREFIX

UNTAGGED = "untagged"
NET = "smsim/net_cost_usd"


def tag_keys(ledger: pd.DataFrame) -> list[str]:
    """The user tag keys present in ``ledger`` (without the ``resourceTags/user:`` prefix)."""
    return sorted(c[len(TAG_PREFIX):] for c in ledger.columns if c.startswith(TAG_PREFIX))


def cost_by_tag(ledger: pd.DataFrame, key: str) -> dict[str, float]:
    """Net cost per value of tag ``key`` (``"untagged"`` for lines without it), largest first."""
    column = f"{TAG_PREFIX}{key}"
    if column in ledger:
        values = ledger[column].astype("string").fillna(UNTAGGED).replace("", UNTAGGED)
    else:
        values = pd.Series(UNTAGGED, index=ledger.index, dtype="string")
    totals = ledger[NET].groupby(values.to_numpy(dtype=object)).sum()
    return {str(k): float(v) for k, v in totals.sort_values(ascending=False).items()}


def cost_by_column(ledger: pd.DataFrame, column: str, *, empty: str = "(none)") -> dict[str, float]:
    """Net cost grouped by any ledger column (empty values under ``empty``), largest first."""
    values = ledger[column].astype("string").fillna(empty).replace("", empty)
    totals = ledger[NET].groupby(values.to_numpy(dtype=object)).sum()
    return {str(k): float(v) for k, v in totals.sort_values(ascending=False).items()}
