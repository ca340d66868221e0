"""Cost allocation by tag: who spent what, with untagged cost shown, never dropped.

Allocation uses the ledger's amortized view (``smsim/net_cost_usd``): savings-plan covered usage
carries its effective cost, so a team that used the plan pays for what it used; unused commitment
has no resource tags and lands under ``"untagged"``. The values of one key sum to the total bill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.billing.columns import TAG_PREFIX

UNTAGGED = "untagged"
NET = "smsim/net_cost_usd"


def tag_keys(ledger: pd.DataFrame) -> list[str]:
    """The user tag keys present in ``ledger`` (without the ``resourceTags/user:`` prefix)."""
    return sorted(c[len(TAG_PREFIX):] for c in ledger.columns if c.startswith(TAG_PREFIX))


def cost_by_tag(ledger: pd.DataFrame, key: str) -> dict[str, float]:
    """Net cost per value of tag ``key`` (``"untagged"`` for lines without it), largest first."""
    column = f"{TAG_PREFIX}{key}"
    if column not in ledger:
        return {UNTAGGED: float(ledger[NET].sum())} if len(ledger) else {}
    return grouped_sum(ledger[column], ledger[NET], empty=UNTAGGED)


def cost_by_column(ledger: pd.DataFrame, column: str, *, empty: str = "(none)") -> dict[str, float]:
    """Net cost grouped by any ledger column (empty values under ``empty``), largest first."""
    return grouped_sum(ledger[column], ledger[NET], empty=empty)


def grouped_sum(labels: pd.Series, values: pd.Series, *, empty: str) -> dict[str, float]:
    """Sum of ``values`` per distinct text of ``labels`` (missing or "" under ``empty``), largest first."""
    codes, names = label_codes(labels)
    return sum_by_code(codes, names, values.to_numpy(dtype=float), empty=empty)


def label_codes(labels: pd.Series) -> tuple[np.ndarray, list[str]]:
    """``(codes, names)`` of a text column, code -1 where missing. Categorical columns give their own
    codes (no string per line); others are factorized."""
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return labels.cat.codes.to_numpy(), [str(c) for c in labels.cat.categories]
    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    return codes, [str(c) for c in uniques]


def sum_by_code(codes: np.ndarray, names: list[str], weights: np.ndarray, *, empty: str) -> dict[str, float]:
    """Sum of ``weights`` per name of ``codes`` (-1 and "" under ``empty``), largest first."""
    counts = np.bincount(codes + 1, minlength=len(names) + 1)
    sums = np.bincount(codes + 1, weights=weights, minlength=len(names) + 1)
    totals: dict[str, float] = {}
    for name, count, total in zip([empty, *names], counts.tolist(), sums.tolist(), strict=True):
        if count:
            label = empty if name == "" else name
            totals[label] = totals.get(label, 0.0) + total
    series = pd.Series(totals, dtype=float).sort_index().sort_values(ascending=False)
    return {str(k): float(v) for k, v in series.items()}
