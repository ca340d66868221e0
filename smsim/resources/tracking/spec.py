"""Managed MLflow tracking servers (``tracking:``, ``kind: mlflow``).

A tracking server has a size (``Small``, ``Medium``, ``Large``: SageMaker's
``TrackingServerSize``; AWS recommends Small for teams of up to 25 users, Medium up to 50, Large
up to 100) and runs ``always-on`` or on a ``schedule`` (started and stopped around
``working_hours``, as ``StartMlflowTrackingServer`` / ``StopMlflowTrackingServer`` allow). Its
hours are billed under ``mlflow_tracking_server_<size>_hour``. No sourced price exists for
those rates, so the built-in catalog has none: a scenario with a tracking server fails
validation, naming the rate, until its catalog has one (``smsim pricing import``). Artifacts live
in the server's S3 bucket: ``artifact_initial_gb`` plus ``artifact_growth_gb_per_day`` in S3
Standard, one PUT per ``artifact_object_size_mb`` object.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from smsim.resources.hours import WorkingHours
from smsim.spec import NonNegFloat, PositiveCount, PositiveFloat, ResourceName, StrictModel, Tags

#: Team size AWS recommends each tracking server size for (CreateMlflowTrackingServer).
RECOMMENDED_USERS = {"Small": 25, "Medium": 50, "Large": 100}


def rate_key(size: str) -> str:
    """The hourly rate key of a tracking server size."""
    return f"mlflow_tracking_server_{size.lower()}_hour"


class MlflowTrackingServerSpec(StrictModel):
    """One managed MLflow tracking server and its artifact store."""

    kind: Literal["mlflow"] = "mlflow"
    name: ResourceName
    size: Literal["Small", "Medium", "Large"] = "Small"
    users: PositiveCount | None = Field(None, description="team size, checked against AWS's recommendation")
    policy: Literal["always-on", "schedule"] = "always-on"
    working_hours: WorkingHours = Field(default_factory=WorkingHours, description="on-hours of policy 'schedule'")
    artifact_initial_gb: NonNegFloat = 0.0
    artifact_growth_gb_per_day: NonNegFloat = 0.0
    artifact_object_size_mb: PositiveFloat = Field(16.0, description="mean artifact object size, for PUT counts")
    tags: Tags = Field(default_factory=dict)

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every rate this server is billed at."""
        keys = [("size", rate_key(self.size))]
        if self.artifact_initial_gb or self.artifact_growth_gb_per_day:
            keys += [("artifact_growth_gb_per_day", "s3_standard_gb_month"),
                     ("artifact_object_size_mb", "s3_put_requests_per_1000")]
        return keys

    @property
    def recommended_size(self) -> str | None:
        """The smallest size AWS recommends for ``users`` (None beyond 100 users or without users)."""
        if self.users is None:
            return None
        return next((size for size, n in RECOMMENDED_USERS.items() if self.users <= n), None)


__all__ = ["RECOMMENDED_USERS", "MlflowTrackingServerSpec", "rate_key"]
