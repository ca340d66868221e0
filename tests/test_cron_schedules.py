"""Schedule expressions as tables: fire times in hours after a start, across time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smsim.cron import fire_times_s, parse_schedule


def hours(expr, tz, start, days):
    return [t / 3600 for t in fire_times_s(expr, tz, start, days * 86400)]


MAR1 = datetime(2026, 3, 1, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    "expr,tz,start,days,expected",
    [
        # AWS day-of-week: 2-6 = MON-FRI; 08:00 New York (UTC-5) on Mon 2 Mar = 13:00 UTC
        ("cron(0 8 ? * 2-6 *)", "America/New_York", MAR1, 7, [37, 61, 85, 109, 133]),
        ("cron(0 8 ? * MON-FRI *)", "America/New_York", MAR1, 7, [37, 61, 85, 109, 133]),
        # Unix day-of-week: 1-5 = Mon-Fri, same times
        ("0 8 * * 1-5", "America/New_York", MAR1, 7, [37, 61, 85, 109, 133]),
        # Unix 0 and 7 are both Sunday; AWS 1 is Sunday
        ("0 0 * * 0", "UTC", MAR1, 8, [0, 168]),
        ("0 0 * * 7", "UTC", MAR1, 8, [0, 168]),
        ("cron(0 0 ? * 1 *)", "UTC", MAR1, 8, [0, 168]),
        # spring forward (8 Mar 2026 in New York): 02:30 does not exist and fires at 03:30 EDT
        ("30 2 * * *", "America/New_York", datetime(2026, 3, 7, tzinfo=UTC), 3, [7.5, 31.5, 54.5]),
        # fall back (1 Nov 2026): 01:30 happens twice and fires once, at the first (EDT)
        ("30 1 * * *", "America/New_York", datetime(2026, 10, 31, tzinfo=UTC), 3, [5.5, 29.5, 54.5]),
        # last day of the month, steps and lists
        ("cron(0 12 L * ? *)", "UTC", datetime(2026, 1, 1, tzinfo=UTC), 60, [30 * 24 + 12, 58 * 24 + 12]),
        ("*/20 0 1 1 *", "UTC", datetime(2026, 1, 1, tzinfo=UTC), 1, [0, 1 / 3, 2 / 3]),
        ("cron(0 6,18 1 JAN ? 2027)", "UTC", datetime(2026, 1, 1, tzinfo=UTC), 400, [8766, 8778]),
        ("rate(6 hours)", "UTC", MAR1, 1, [0, 6, 12, 18]),
        ("at(2026-03-01T09:00:00)", "Europe/Berlin", MAR1, 1, [8]),
        ("at(2026-02-28T09:00:00)", "UTC", MAR1, 1, []),
    ],
)
def test_fire_times(expr, tz, start, days, expected):
    assert hours(expr, tz, start, days) == pytest.approx(expected)


@pytest.mark.parametrize(
    "expr,fragment",
    [
        ("cron(0 8 * *)", "6 fields"),
        ("cron(61 8 ? * * *)", "61 is outside 0-59"),
        ("0 8 * * 9", "9 is outside 0-7"),
        ("0 8 * FOO *", "'FOO' is not a number"),
        ("rate(0 minutes)", "positive"),
        ("rate(5 weeks)", "minutes, hours or days"),
        ("at(tomorrow)", "at(tomorrow)"),
        ("every day", "expected cron"),
    ],
)
def test_bad_expressions_are_quoted(expr, fragment):
    with pytest.raises(ValueError) as err:
        parse_schedule(expr)
    assert fragment in str(err.value) and repr(expr) in str(err.value)
