"""Unit constants and parsing. Internally time is seconds and money is USD."""

from __future__ import annotations

import math
import re

SECOND = 1.0
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
YEAR = 365 * DAY
#: AWS prorates GB-month storage prices over the hours of a month; 730 h is its convention.
HOURS_PER_MONTH = 730.0
MONTH = HOURS_PER_MONTH * HOUR
#: Money under half a cent prints as $0.00: a float residue of summing line items, not a cost.
#: Report tables and charts leave out rows of every run below it.
NEGLIGIBLE_USD = 0.005


def format_usd(value: float) -> str:
    """``$1,234.50``, ``-$3.20``; a residue under :data:`NEGLIGIBLE_USD` is ``$0.00``, never ``$-0.00``."""
    value = float(value)
    if abs(value) < NEGLIGIBLE_USD:
        value = 0.0
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"

_DURATION_UNITS = {
    "ms": 0.001,
    "s": SECOND,
    "sec": SECOND,
    "m": MINUTE,
    "min": MINUTE,
    "h": HOUR,
    "hr": HOUR,
    "d": DAY,
    "w": WEEK,
    "mo": MONTH,
    "y": YEAR,
}
_DURATION_RE = re.compile(r"(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ms|sec|min|mo|hr|s|m|h|d|w|y)")


def parse_duration_s(value: str | float) -> float:
    """Seconds from a number (seconds) or a string like ``"90s"``, ``"5m"``, ``"1h30m"``, ``"7d"``, ``"1y"``.

    Raises ValueError with the offending text on anything else (including NaN, inf, negatives).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, found boolean {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if not text:
            raise ValueError("expected a duration such as '30s', '5m', '2h', '7d', found an empty string")
        try:
            seconds = float(text)
        except ValueError:
            pos = 0
            seconds = 0.0
            for match in _DURATION_RE.finditer(text):
                if text[pos : match.start()].strip():
                    break
                seconds += float(match.group("num")) * _DURATION_UNITS[match.group("unit")]
                pos = match.end()
            if pos == 0 or text[pos:].strip():
                raise ValueError(
                    f"expected a duration such as '30s', '5m', '2h', '7d' or a number of seconds, "
                    f"found {value!r}"
                ) from None
    else:
        raise ValueError(f"expected a duration, found {type(value).__name__} {value!r}")
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"expected a finite duration, found {value!r}")
    if seconds < 0:
        raise ValueError(f"expected a non-negative duration, found {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """A short human form of a number of seconds (``"2h 5m"``)."""
    seconds = float(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    parts = []
    for name, size in (("d", DAY), ("h", HOUR), ("m", MINUTE)):
        if seconds >= size:
            n = int(seconds // size)
            parts.append(f"{n}{name}")
            seconds -= n * size
    if seconds >= 1 or not parts:
        parts.append(f"{seconds:.0f}s")
    return " ".join(parts[:2])
