"""Notebook instances and Studio: users, their working days, and the stop policy.

Each of ``users`` works on the days and hours of ``working_hours``; per user and day the start
and end move by a normal jitter (standard deviations ``start_jitter_s`` / ``end_jitter_s``) and
the user is absent with ``absence_probability``. Within a day the user alternates active
periods (exponential, mean ``active_mean_s``) and idle gaps (exponential, mean
``idle_gap_mean_s``). A ``trace_path`` CSV (``user``, ``start_s``, ``end_s``: active periods)
replaces the generated pattern.

Policies: ``always-on`` (never stopped), ``schedule`` (on exactly during ``working_hours``: an
on/off-hours lifecycle script), ``manual`` (on from the user's first activity to the end of
their day), ``idle-shutdown`` (stopped ``idle_timeout_s`` after activity ends; restarted at the
next activity). The ML storage volume (``storage_gb_per_user``) is billed all the time, stopped
or not: ``ml_storage_notebook_gb_month`` for notebook instances, ``studio_storage_gb_month``
for Studio spaces.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from smsim.resources.hours import WorkingHours
from smsim.spec import (
    Duration,
    Fraction,
    InstanceType,
    NonNegFloat,
    PositiveCount,
    PositiveDuration,
    ResourceName,
    StrictModel,
    Tags,
)

#: GB-month rate key of each kind's ML storage volume.
STORAGE_RATE_KEY = {
    "notebook-instance": "ml_storage_notebook_gb_month",
    "studio": "studio_storage_gb_month",
}


class NotebookSpec(StrictModel):
    """A group of notebook-instance or Studio users sharing one pattern and one policy."""

    kind: Literal["notebook-instance", "studio"] = "notebook-instance"
    name: ResourceName
    users: PositiveCount = 1
    instance_type: InstanceType = "ml.t3.medium"
    user_instance_types: list[InstanceType] | None = Field(
        None, description="per-user types, cycled over users; instance_type when absent"
    )
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    start_jitter_s: Duration = 1800.0
    end_jitter_s: Duration = 1800.0
    absence_probability: Fraction = 0.1
    active_mean_s: PositiveDuration = 2700.0
    idle_gap_mean_s: PositiveDuration = 1200.0
    policy: Literal["always-on", "schedule", "manual", "idle-shutdown"] = "idle-shutdown"
    idle_timeout_s: Duration = 3600.0
    storage_gb_per_user: NonNegFloat = 5.0
    trace_path: str | None = None
    tags: Tags = Field(default_factory=dict)

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of the storage volume's rate."""
        return [("storage_gb_per_user", STORAGE_RATE_KEY[self.kind])] if self.storage_gb_per_user else []

    def user_type(self, i: int) -> str:
        types = self.user_instance_types or [self.instance_type]
        return types[i % len(types)]
