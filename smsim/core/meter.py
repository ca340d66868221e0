"""Usage metering: the only thing the engine tells billing.

The engine knows time, not money. Every resource records *usage records*; billing prices them
afterwards (see :mod:`smsim.billing.ledger`). A record is one of three kinds:

``instance``
    ``quantity`` instances of ``instance_type`` ran for ``component`` in ``market``
    (``OnDemand`` or ``Spot``) from ``start_s`` to ``end_s`` (seconds from the horizon start).
    Priced per instance-second at the catalog's hourly rate.
``storage``
    ``quantity`` GB were held from ``start_s`` to ``end_s``; ``rate_key`` names a GB-month rate
    in the catalog (for example ``ml_storage_gb_month``, ``s3_standard_gb_month``).
``amount``
    ``quantity`` units of ``rate_key`` (GB-seconds of serverless compute, GB of data processed,
    GB transferred, thousands of requests, ...), spread uniformly over ``[start_s, end_s]``
    (a point in time when they are equal).

Invariants: ``0 <= start_s <= end_s``, ``quantity >= 0``; tags are plain ``str -> str``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

UsageKind = Literal["instance", "storage", "amount"]
Market = Literal["OnDemand", "Spot"]

USAGE_COLUMNS = [
    "resource_id",
    "resource_kind",
    "component",
    "usage_kind",
    "instance_type",
    "market",
    "rate_key",
    "start_s",
    "end_s",
    "quantity",
    "tags",
]


@dataclass(frozen=True, slots=True)
class UsageRecord:
    resource_id: str
    resource_kind: str
    component: str
    usage_kind: UsageKind
    start_s: float
    end_s: float
    quantity: float
    instance_type: str = ""
    market: Market = "OnDemand"
    rate_key: str = ""
    tags: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not (0 <= self.start_s <= self.end_s):
            raise ValueError(f"usage interval must satisfy 0 <= start <= end: {self}")
        if self.quantity < 0:
            raise ValueError(f"usage quantity must be >= 0: {self}")
        if self.usage_kind == "instance" and not self.instance_type:
            raise ValueError(f"instance usage needs an instance_type: {self}")
        if self.usage_kind in ("storage", "amount") and not self.rate_key:
            raise ValueError(f"{self.usage_kind} usage needs a rate_key: {self}")


@dataclass
class Meter:
    """Collects usage records from every simulated resource of a run."""

    records: list[UsageRecord] = field(default_factory=list)

    def instance(
        self,
        resource_id: str,
        resource_kind: str,
        component: str,
        instance_type: str,
        start_s: float,
        end_s: float,
        count: float = 1,
        market: Market = "OnDemand",
        tags: dict[str, str] | None = None,
    ) -> None:
        """Record ``count`` instances running from ``start_s`` to ``end_s``."""
        if end_s <= start_s or count <= 0:
            return
        self.records.append(
            UsageRecord(
                resource_id, resource_kind, component, "instance", float(start_s), float(end_s),
                float(count), instance_type=instance_type, market=market, tags=_tags(tags),
            )
        )

    def storage(
        self,
        resource_id: str,
        resource_kind: str,
        component: str,
        rate_key: str,
        gb: float,
        start_s: float,
        end_s: float,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Record ``gb`` gigabytes held from ``start_s`` to ``end_s``."""
        if end_s <= start_s or gb <= 0:
            return
        self.records.append(
            UsageRecord(
                resource_id, resource_kind, component, "storage", float(start_s), float(end_s),
                float(gb), rate_key=rate_key, tags=_tags(tags),
            )
        )

    def amount(
        self,
        resource_id: str,
        resource_kind: str,
        component: str,
        rate_key: str,
        quantity: float,
        start_s: float,
        end_s: float | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Record ``quantity`` units of ``rate_key`` used over ``[start_s, end_s]``."""
        if quantity <= 0:
            return
        end = float(start_s if end_s is None else end_s)
        self.records.append(
            UsageRecord(
                resource_id, resource_kind, component, "amount", float(start_s), end,
                float(quantity), rate_key=rate_key, tags=_tags(tags),
            )
        )

    def amounts_by_hour(
        self,
        resource_id: str,
        resource_kind: str,
        component: str,
        rate_key: str,
        times_s,
        quantities,
        horizon_s: float,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Record per-event quantities (GB per request, ...) summed into clock-hour amounts, so a
        million requests become at most one record per hour."""
        import math

        import numpy as np

        hours = max(1, math.ceil(horizon_s / 3600.0 - 1e-9))
        index = np.minimum((np.asarray(times_s, dtype=float) // 3600.0).astype(np.int64), hours - 1)
        per_hour = np.bincount(index, weights=np.asarray(quantities, dtype=float), minlength=hours)
        for h in np.flatnonzero(per_hour > 0).tolist():
            self.amount(resource_id, resource_kind, component, rate_key, float(per_hour[h]),
                        h * 3600.0, min((h + 1) * 3600.0, horizon_s), tags)

    def frame(self) -> pd.DataFrame:
        return usage_frame(self.records)


def _tags(tags: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    if not tags:
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in tags.items()))


def usage_frame(records: list[UsageRecord]) -> pd.DataFrame:
    """Records as a DataFrame with :data:`USAGE_COLUMNS`; ``tags`` holds dicts.

    Built column by column. Records with equal tags share one ``tags`` dict (a resource's records
    usually do), so the frame holds one dict per distinct tag set, not one per row: treat them as
    read-only.
    """
    text = ("resource_id", "resource_kind", "component", "usage_kind", "instance_type", "market", "rate_key")
    data: dict[str, object] = {}
    for name in text:
        data[name] = pd.array([getattr(r, name) for r in records], dtype="str")
    for name in ("start_s", "end_s", "quantity"):
        data[name] = np.fromiter((getattr(r, name) for r in records), dtype=float, count=len(records))
    shared: dict[tuple, dict[str, str]] = {}
    tags = np.empty(len(records), dtype=object)
    for i, r in enumerate(records):
        found = shared.get(r.tags)
        if found is None:
            found = shared[r.tags] = dict(r.tags)
        tags[i] = found
    data["tags"] = tags
    return pd.DataFrame({c: data[c] for c in USAGE_COLUMNS})


class UsageWriter:
    """Appends usage records for one resource with its tags frozen once.

    Same records and checks as :class:`~smsim.core.meter.Meter`'s methods (the record's own
    validation runs), without re-sorting the tag dict on every record, which dominates the cost of
    metering hundreds of thousands of job runs.
    """

    def __init__(
        self, meter: Meter, resource_id: str, resource_kind: str, tags: dict[str, str]
    ) -> None:
        self.records = meter.records
        self.rid, self.kind = resource_id, resource_kind
        self.tags = tuple(sorted((str(k), str(v)) for k, v in tags.items()))

    def instance(
        self,
        component: str,
        instance_type: str,
        a: float,
        b: float,
        count: float,
        market: str = "OnDemand",
        tags: tuple | None = None,
    ) -> None:
        if b > a and count > 0:
            self.records.append(
                UsageRecord(
                    self.rid,
                    self.kind,
                    component,
                    "instance",
                    float(a),
                    float(b),
                    float(count),
                    instance_type=instance_type,
                    market=market,
                    tags=self.tags if tags is None else tags,
                )
            )

    def storage(
        self,
        component: str,
        rate_key: str,
        gb: float,
        a: float,
        b: float,
        tags: tuple | None = None,
    ) -> None:
        if b > a and gb > 0:
            self.records.append(
                UsageRecord(
                    self.rid,
                    self.kind,
                    component,
                    "storage",
                    float(a),
                    float(b),
                    float(gb),
                    rate_key=rate_key,
                    tags=self.tags if tags is None else tags,
                )
            )

    def amount(
        self,
        component: str,
        rate_key: str,
        quantity: float,
        a: float,
        b: float | None = None,
        tags: tuple | None = None,
    ) -> None:
        if quantity > 0:
            self.records.append(
                UsageRecord(
                    self.rid,
                    self.kind,
                    component,
                    "amount",
                    float(a),
                    float(a if b is None else b),
                    float(quantity),
                    rate_key=rate_key,
                    tags=self.tags if tags is None else tags,
                )
            )

    def with_tags(self, extra: dict[str, str]) -> tuple:
        """The frozen tag tuple of this resource's tags overlaid with ``extra``."""
        merged = dict(self.tags)
        merged.update(extra)
        return tuple(sorted((str(k), str(v)) for k, v in merged.items()))
