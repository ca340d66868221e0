"""Schedule expressions: when scheduled scaling actions (and later training schedules) fire.

Accepted forms (the ones Application Auto Scaling's ``PutScheduledAction`` accepts, plus Unix):

``cron(m h dom mon dow [year])``
    AWS form. Day-of-week is ``1-7`` = ``SUN-SAT`` (AWS numbering); ``?`` means "any";
    ``L`` in day-of-month is the last day of the month.
``m h dom mon dow``
    Unix crontab. Day-of-week is ``0-7`` with both 0 and 7 = Sunday.
``rate(N minute[s]|hour[s]|day[s])``
    Every N units from the start of the period asked about.
``at(YYYY-MM-DDThh:mm:ss)``
    Once.

Fields accept ``*``, ``?``, lists ``a,b``, ranges ``a-b``, steps ``*/n`` and ``a-b/n``, and
three-letter names (``JAN``, ``MON``). When both day-of-month and day-of-week are restricted,
a day matches if either does (Unix semantics).

Times are wall-clock times in the schedule's time zone. Across daylight-saving changes a
local time that occurs twice fires once, at its first occurrence; a local time that does not
exist (the spring-forward gap) fires at the same offset past the gap's start in the new offset
(02:30 in a 02:00->03:00 gap fires at 03:30), which is what ``zoneinfo`` gives for ``fold=0``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_AWS_DOW = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_UNIX_DOW = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_RATE_UNITS = {"minute": 60.0, "minutes": 60.0, "hour": 3600.0, "hours": 3600.0, "day": 86400.0, "days": 86400.0}


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None, what: str) -> frozenset[int] | None:
    """The allowed values of one cron field, or None for "any" (``*`` or ``?``)."""
    text = text.strip().upper()
    if text in ("*", "?"):
        return None
    out: set[int] = set()

    def value(tok: str) -> int:
        if names and tok in names:
            return names[tok]
        if not tok.isdigit():
            raise ValueError(f"{what}: {tok!r} is not a number or a known name")
        v = int(tok)
        if not lo <= v <= hi:
            raise ValueError(f"{what}: {v} is outside {lo}-{hi}")
        return v

    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{what}: bad step {step_text!r}")
            step = int(step_text)
        if part in ("*", "?"):
            a, b = lo, hi
        elif "-" in part:
            a_text, b_text = part.split("-", 1)
            a, b = value(a_text), value(b_text)
            if a > b:
                raise ValueError(f"{what}: range {a}-{b} is backwards")
        else:
            a = value(part)
            b = hi if step > 1 else a
        out.update(range(a, b + 1, step))
    return frozenset(out)


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression; ``dow`` holds Python weekdays (Mon=0 ... Sun=6)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    dom: frozenset[int] | None
    dom_last: bool
    months: frozenset[int] | None
    dow: frozenset[int] | None
    years: frozenset[int] | None

    def day_matches(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        dom_any = self.dom is None and not self.dom_last
        dom_ok = (self.dom is not None and day.day in self.dom) or (
            self.dom_last and day.day == calendar.monthrange(day.year, day.month)[1]
        )
        dow_ok = self.dow is not None and day.weekday() in self.dow
        if dom_any and self.dow is None:
            return True
        if dom_any:
            return dow_ok
        if self.dow is None:
            return dom_ok
        return dom_ok or dow_ok

    def local_times(self, day: date) -> list[tuple[int, int]]:
        return [(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]


@dataclass(frozen=True)
class Rate:
    period_s: float


@dataclass(frozen=True)
class At:
    when: datetime  # naive local time


Schedule = Cron | Rate | At


def _parse_cron(fields: list[str], aws: bool) -> Cron:
    minutes = _field(fields[0], 0, 59, None, "minutes") or frozenset(range(60))
    hours = _field(fields[1], 0, 23, None, "hours") or frozenset(range(24))
    dom_text = fields[2].strip().upper()
    dom_last = dom_text == "L"
    dom = None if dom_last else _field(dom_text, 1, 31, None, "day-of-month")
    months = _field(fields[3], 1, 12, _MONTHS, "month")
    if aws:
        raw = _field(fields[4], 1, 7, _AWS_DOW, "day-of-week")
        dow = None if raw is None else frozenset((d - 2) % 7 for d in raw)  # 1=SUN -> 6, 2=MON -> 0
    else:
        raw = _field(fields[4], 0, 7, _UNIX_DOW, "day-of-week")
        dow = None if raw is None else frozenset((d - 1) % 7 for d in raw)  # 0/7=SUN -> 6, 1=MON -> 0
    years = _field(fields[5], 1970, 2199, None, "year") if len(fields) > 5 else None
    return Cron(minutes, hours, dom, dom_last, months, dow, years)


def parse_schedule(expr: str) -> Schedule:
    """Parse a schedule expression; ValueError quoting the expression when it is malformed."""
    text = expr.strip()
    try:
        if m := re.fullmatch(r"cron\((.*)\)", text, flags=re.IGNORECASE):
            fields = m.group(1).split()
            if len(fields) not in (5, 6):
                raise ValueError(f"AWS cron needs 6 fields (m h dom mon dow year), found {len(fields)}")
            return _parse_cron(fields, aws=True)
        if m := re.fullmatch(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)", text, flags=re.IGNORECASE):
            unit = m.group(2).lower()
            if unit not in _RATE_UNITS or int(m.group(1)) == 0:
                raise ValueError("rate needs a positive number of minutes, hours or days")
            return Rate(int(m.group(1)) * _RATE_UNITS[unit])
        if m := re.fullmatch(r"at\((.*)\)", text, flags=re.IGNORECASE):
            return At(datetime.fromisoformat(m.group(1).strip()).replace(tzinfo=None))
        fields = text.split()
        if len(fields) == 5:
            return _parse_cron(fields, aws=False)
        raise ValueError("expected cron(...), rate(...), at(...) or a five-field crontab")
    except ValueError as exc:
        raise ValueError(f"bad schedule {expr!r}: {exc}") from None


def fire_times_s(expr: str | Schedule, tz: str, start: datetime, horizon_s: float) -> list[float]:
    """Seconds after ``start`` (aware) at which the schedule fires, within ``[0, horizon_s)``, sorted."""
    sched = parse_schedule(expr) if isinstance(expr, str) else expr
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    zone = ZoneInfo(tz)
    if isinstance(sched, Rate):
        n = int(horizon_s // sched.period_s) + 1
        return [k * sched.period_s for k in range(n) if k * sched.period_s < horizon_s]
    if isinstance(sched, At):
        t = (sched.when.replace(tzinfo=zone) - start).total_seconds()
        return [t] if 0 <= t < horizon_s else []
    out: set[float] = set()
    local0 = start.astimezone(zone).date() - timedelta(days=1)
    for i in range(int(horizon_s // 86400) + 3):
        day = local0 + timedelta(days=i)
        if not sched.day_matches(day):
            continue
        for h, m in sched.local_times(day):
            local = datetime(day.year, day.month, day.day, h, m, tzinfo=zone)
            t = (local.astimezone(UTC) - start).total_seconds()
            if 0 <= t < horizon_s:
                out.add(t)
    return sorted(out)
