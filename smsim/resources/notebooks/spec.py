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

Studio (``kind: studio``) runs each space's app (``app``: JupyterLab or Code Editor; tagged
``smsim:app``) on its own instance. ``users_per_space`` > 1 groups users into shared spaces: a
space is on while any member's policy keeps it on (the union of their intervals) and has one
volume (its ``utilization``, active user-hours over instance-hours, can then exceed 1: users
overlap on one instance). Studio's built-in idle shutdown (``IdleSettings.IdleTimeoutInMinutes``) accepts 60 to
525,600 minutes, so a Studio ``idle_timeout_s`` must lie within 1 h and 365 d unless
``idle_shutdown_by: script`` (a lifecycle-configuration script, any timeout).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

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
#: Studio's built-in idle shutdown timeout range (IdleSettings, 60 to 525,600 minutes).
STUDIO_IDLE_TIMEOUT_S = (60 * 60.0, 525_600 * 60.0)

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
    storage_gb_per_user: NonNegFloat = Field(5.0, description="ML storage volume per user (per space when shared)")
    app: Literal["jupyterlab", "code-editor"] | None = Field(None, description="Studio app; jupyterlab when absent")
    users_per_space: PositiveCount = Field(1, description="Studio: users sharing one space (one instance, one volume)")
    idle_shutdown_by: Literal["studio", "script"] = Field(
        "studio", description="Studio: the built-in idle shutdown (60 min to 365 d) or a lifecycle-configuration script"
    )
    trace_path: str | None = None
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _studio_only(self):
        if self.kind != "studio":
            if self.app is not None or self.users_per_space != 1 or self.idle_shutdown_by != "studio":
                raise ValueError(f"app ({self.app}), users_per_space ({self.users_per_space}) and idle_shutdown_by "
                                 f"({self.idle_shutdown_by}) are Studio settings; "
                                 "a notebook instance runs one Jupyter server per user")
            return self
        lo, hi = STUDIO_IDLE_TIMEOUT_S
        builtin = self.policy == "idle-shutdown" and self.idle_shutdown_by == "studio"
        if builtin and not lo <= self.idle_timeout_s <= hi:
            raise ValueError(f"idle_timeout_s {self.idle_timeout_s:g} is outside Studio's built-in idle shutdown range "
                             f"[{lo:g}, {hi:g}] s (IdleTimeoutInMinutes 60 to 525,600); a lifecycle-configuration "
                             "script can stop apps sooner: set idle_shutdown_by: script")
        return self

    @property
    def spaces(self) -> int:
        """Number of instances (spaces): users grouped ``users_per_space`` at a time."""
        return -(-self.users // self.users_per_space)

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of the storage volume's rate."""
        return [("storage_gb_per_user", STORAGE_RATE_KEY[self.kind])] if self.storage_gb_per_user else []

    def user_type(self, i: int) -> str:
        types = self.user_instance_types or [self.instance_type]
        return types[i % len(types)]
