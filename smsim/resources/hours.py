"""Weekly working-hours windows (time zone aware), used by fleets, notebooks and schedules."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from smsim.spec import StrictModel, TimeZoneName

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class WorkingHours(StrictModel):
    """On from ``start`` to ``end`` local time on ``weekdays`` (``end`` may be past midnight)."""

    weekdays: list[Weekday] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: time = Field(time(8, 0), description="local start time, HH:MM")
    end: time = Field(time(18, 0), description="local end time, HH:MM")
    timezone: TimeZoneName = "UTC"


    @model_validator(mode="after")
    def _non_empty(self):
        if self.start == self.end:
            raise ValueError(f"start and end are both {self.start}; the window would be empty")
        if not self.weekdays:
            raise ValueError("weekdays is empty; the window would never be on")
        return self

    def windows(self, start: datetime, horizon_s: float) -> list[tuple[float, float]]:
        """On-windows as ``(start_s, end_s)`` seconds from ``start`` clipped to the horizon."""
        zone = ZoneInfo(self.timezone)
        local0 = start.astimezone(zone)
        day = local0.date() - timedelta(days=1)
        out: list[tuple[float, float]] = []
        days = int(horizon_s // 86400) + 3
        for _ in range(days):
            if _WEEKDAYS[day.weekday()] in self.weekdays:
                on = datetime.combine(day, self.start, tzinfo=zone)
                off_day = day if self.end > self.start else day + timedelta(days=1)
                off = datetime.combine(off_day, self.end, tzinfo=zone)
                a = max(0.0, (on - start).total_seconds())
                b = min(horizon_s, (off - start).total_seconds())
                if b > a:
                    out.append((a, b))
            day += timedelta(days=1)
        out.sort()
        merged: list[tuple[float, float]] = []
        for a, b in out:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        return merged
