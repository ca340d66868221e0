"""A finding: one thing to change in an account, with the evidence, what it saves per month, how
sure smsim is, and the what-if that demonstrates it (a variant patch over the baseline scenario).

Savings are USD per month of 730 hours at the bill's public (on-demand or spot) rates, before
savings plans and private discounts, so they add up across findings only approximately (a plan
that covers an idle endpoint today would cover something else tomorrow).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

CONFIDENCE_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Finding:
    kind: str  # idle_endpoint, notebook_left_on, unused_warm_pool, right_size, spot_training, ...
    resource: str
    title: str
    evidence: str
    saving_usd_per_month: float
    confidence: str  # high | medium | low
    #: a variant of the baseline scenario: ``{"name", "description", "patch"}``; None when the
    #: finding is informational (untagged spend)
    what_if: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rank(findings: list[Finding]) -> list[Finding]:
    """Largest saving first; ties by confidence, then kind and resource (a stable, total order)."""
    return sorted(findings, key=lambda f: (-round(f.saving_usd_per_month, 6), CONFIDENCE_ORDER[f.confidence],
                                           f.kind, f.resource))


def variant(name: str, description: str, patch: dict[str, Any]) -> dict[str, Any]:
    return {"name": name[:63], "description": description, "patch": patch}
