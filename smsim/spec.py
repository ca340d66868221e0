"""Shared building blocks for scenario models: strict base model, durations, tags, schedules.

Conventions: every model forbids unknown keys and is frozen; field names carry units
(``*_s`` seconds, ``*_usd_per_hour``, ``*_gb``, ``*_pct``); durations accept a number of
seconds or a string such as ``"5m"``, ``"2h"``, ``"7d"``.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from smsim.units import YEAR, parse_duration_s

#: Longest horizon or duration a scenario may ask for (simulating more is never what users mean).
MAX_DURATION_S = 10 * YEAR


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are immutable, NaN refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, str_strip_whitespace=True)


def _duration(value):
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        seconds = parse_duration_s(value)
    else:
        raise ValueError(f"expected a duration such as '30s', '5m', '2h', '7d', found {value!r}")
    if seconds > MAX_DURATION_S:
        raise ValueError(
            f"duration {value!r} is {seconds / YEAR:.4g} years; at most {MAX_DURATION_S / YEAR:.0f} years is allowed"
        )
    return seconds


_DURATION_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": r"^\s*(\d+(\.\d*)?\s*(ms|s|sec|m|min|h|hr|d|w|mo|y)\s*)+$"},
        ],
        "description": "seconds, or a duration string such as '30s', '5m', '2h', '7d'",
    }
)

#: Seconds (>= 0), from a number or a duration string; at most ``MAX_DURATION_S``.
Duration = Annotated[float, BeforeValidator(_duration), _DURATION_SCHEMA]


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be > 0, found {value}")
    return value


PositiveDuration = Annotated[float, BeforeValidator(_duration), AfterValidator(_positive), _DURATION_SCHEMA]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be finite, found {value}")
    return value


NonNegFloat = Annotated[float, Field(ge=0), AfterValidator(_finite)]
PositiveFloat = Annotated[float, Field(gt=0), AfterValidator(_finite)]
Percent = Annotated[float, Field(ge=0, le=100)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0, le=100_000)]
PositiveCount = Annotated[int, Field(ge=1, le=100_000)]

TagKey = Annotated[str, Field(min_length=1, max_length=128)]
TagValue = Annotated[str, Field(max_length=256)]
Tags = dict[TagKey, TagValue]

#: A resource identifier: letters, digits, ``-``, ``_`` and ``.``.
ResourceName = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]

def _known_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')") from None
    return value


#: An IANA time-zone name such as ``Europe/Berlin``, checked on load.
TimeZoneName = Annotated[str, AfterValidator(_known_zone), Field(examples=["UTC", "Europe/Berlin"])]

#: A SageMaker ML instance type such as ``ml.g5.xlarge`` (checked against the catalog on load).
InstanceType = Annotated[str, Field(pattern=r"^ml\.[a-z0-9-]+\.[a-z0-9-]+$", examples=["ml.g5.xlarge"])]
