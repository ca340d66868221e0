"""S3 data with lifecycle rules, and data transfer amounts.

``s3``: data lands as daily cohorts (``initial_gb`` at the start, then ``growth_gb_per_day``),
moves between storage classes by ``transitions`` (``after_days`` counted from creation, as S3
lifecycle rules count) and is deleted at ``expiration_days``. Or, as a bill records it (a
baseline rebuilt from a bill), the GB held in one ``storage_class`` over time: ``gb_steps``
(``[offset_s, gb]``, GB held from that offset) or ``steps_file`` (a CSV ``offset_s, gb`` beside
the scenario, for long recordings), with PUT and GET requests per day; ``component`` then names
the bill component its lines carry (a training job's ``S3:Checkpoints``). ``transfer``: a steady number of
GB per day under one transfer rate key (endpoint data in/out, internet egress, inter-region,
cross-AZ). The endpoint lifecycle policy (delete an idle endpoint) belongs to endpoints.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from smsim.resources.steps_file import Step, check_steps
from smsim.spec import NonNegFloat, PositiveFloat, ResourceName, StrictModel, Tags

StorageClass = Literal[
    "standard", "standard_ia", "one_zone_ia", "glacier_ir", "glacier_flexible", "deep_archive"
]
#: GB-month rate key of each class.
CLASS_RATE_KEY = {
    "standard": "s3_standard_gb_month",
    "standard_ia": "s3_standard_ia_gb_month",
    "one_zone_ia": "s3_one_zone_ia_gb_month",
    "glacier_ir": "s3_glacier_ir_gb_month",
    "glacier_flexible": "s3_glacier_flexible_gb_month",
    "deep_archive": "s3_deep_archive_gb_month",
}
#: Minimum storage duration (days) S3 charges for when an object leaves the class earlier.
MIN_DAYS = {
    "standard": 0,
    "standard_ia": 30,
    "one_zone_ia": 30,
    "glacier_ir": 90,
    "glacier_flexible": 90,
    "deep_archive": 180,
}
_ORDER = list(CLASS_RATE_KEY)


class Transition(StrictModel):
    after_days: PositiveFloat
    storage_class: StorageClass


class S3DataSpec(StrictModel):
    """A growing S3 prefix (datasets, checkpoints, model artifacts, logs) and its lifecycle."""

    kind: Literal["s3"] = "s3"
    name: ResourceName
    initial_gb: NonNegFloat = 0.0
    growth_gb_per_day: NonNegFloat = 0.0
    object_size_mb: PositiveFloat = Field(64.0, description="mean object size, for PUT counts")
    transitions: list[Transition] = Field(default_factory=list)
    expiration_days: PositiveFloat | None = None
    get_requests_per_day: NonNegFloat = 0.0
    glacier_retrieval_gb_per_day: NonNegFloat = Field(
        0.0, description="GB restored per day from Glacier Flexible Retrieval (while it holds data)"
    )
    storage_class: StorageClass = Field("standard", description="the class recorded GB (gb_steps) are held in")
    gb_steps: list[Step] | None = Field(
        None, description="recorded GB held ([offset_s, gb] steps), instead of initial_gb, growth and lifecycle"
    )
    steps_file: str | None = Field(
        None, description="CSV (offset_s, gb) of recorded GB held, relative to the scenario file; "
        "replaces gb_steps for long recordings"
    )
    put_requests_per_day: NonNegFloat = Field(0.0, description="PUT requests per day (recorded; growth adds its own)")
    component: str | None = Field(
        None, description="bill component of every line (default S3:<class> for storage, S3:Requests for requests)"
    )
    tags: Tags = Field(default_factory=dict)

    @property
    def recorded(self) -> bool:
        return self.gb_steps is not None or self.steps_file is not None

    def rate_keys(self) -> list[tuple[str, str]]:
        """``(field, rate_key)`` of every rate this prefix is billed at."""
        if self.recorded:
            keys = [("storage_class", CLASS_RATE_KEY[self.storage_class])]
            if self.put_requests_per_day:
                keys.append(("put_requests_per_day", "s3_put_requests_per_1000"))
            if self.get_requests_per_day:
                keys.append(("get_requests_per_day", "s3_get_requests_per_1000"))
            return keys
        keys = [("initial_gb", CLASS_RATE_KEY["standard"]), ("object_size_mb", "s3_put_requests_per_1000")]
        if self.put_requests_per_day:
            keys.append(("put_requests_per_day", "s3_put_requests_per_1000"))
        keys += [(f"transitions.{i}.storage_class", CLASS_RATE_KEY[t.storage_class])
                 for i, t in enumerate(self.transitions)]
        if self.get_requests_per_day:
            keys.append(("get_requests_per_day", "s3_get_requests_per_1000"))
        if self.glacier_retrieval_gb_per_day:
            keys.append(("glacier_retrieval_gb_per_day", "s3_glacier_flexible_retrieval_gb"))
        return keys

    @model_validator(mode="after")
    def _lifecycle(self):
        check_steps(self.gb_steps, "gb_steps")
        if self.gb_steps is not None and self.steps_file is not None:
            raise ValueError("give the recorded GB once: gb_steps or steps_file, not both")
        if self.recorded:
            mixed = [f for f in ("initial_gb", "growth_gb_per_day", "transitions", "expiration_days",
                                 "glacier_retrieval_gb_per_day") if getattr(self, f)]
            if mixed:
                raise ValueError(f"recorded GB (gb_steps or steps_file) replaces {', '.join(mixed)}; give one form")
        prev_days, prev_class = 0.0, "standard"
        for t in self.transitions:
            if t.after_days <= prev_days or _ORDER.index(t.storage_class) <= _ORDER.index(
                prev_class
            ):
                raise ValueError(
                    f"transition to {t.storage_class!r} after {t.after_days:g} days must come later "
                    f"and to a colder class than {prev_class!r} after {prev_days:g} days"
                )
            if t.storage_class in ("standard_ia", "one_zone_ia") and t.after_days < 30:
                raise ValueError(
                    f"S3 requires 30 days in Standard before {t.storage_class!r}; found {t.after_days:g}"
                )
            prev_days, prev_class = t.after_days, t.storage_class
        if self.expiration_days is not None and self.expiration_days <= prev_days:
            raise ValueError(
                f"expiration_days {self.expiration_days:g} must be after the last transition ({prev_days:g})"
            )
        return self


TransferKey = Literal[
    "endpoint_data_in_gb",
    "endpoint_data_out_gb",
    "data_transfer_out_internet_gb",
    "data_transfer_inter_region_gb",
    "data_transfer_cross_az_gb",
]


class TransferSpec(StrictModel):
    """A steady data transfer, ``gb_per_day`` under ``rate_key`` (billed under ``component``)."""

    kind: Literal["transfer"] = "transfer"
    name: ResourceName
    rate_key: TransferKey
    gb_per_day: NonNegFloat
    component: str = Field("DataTransfer", description="bill component of its lines (an endpoint's data: "
                           "RealTimeInference)")
    tags: Tags = Field(default_factory=dict)


Storage = Annotated[S3DataSpec | TransferSpec, Field(discriminator="kind")]
