"""Warnings in smsim's own words: library warnings are recorded and summarised, never dumped.

statsmodels, numpy and pandas warn freely (a likelihood optimiser that stopped early, an
overflow in an exponential, a frequency they could not infer). Raw, those lines name library
files and mean little to a planner. :func:`record` collects them; :func:`summarise` turns them
into one short line per kind, saying what happened and what smsim did about it.
:class:`SmsimWarning` is a warning smsim raises itself (a result to read with care).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class SmsimWarning(UserWarning):
    """A result smsim produced but wants read with care; the message says why."""


#: What a library warning means, by category name (first match on the message wins).
_MEANING: tuple[tuple[str, str, str], ...] = (
    ("ConvergenceWarning", "", "a model's likelihood optimiser stopped before converging"),
    ("HessianInversionWarning", "", "a model's parameter uncertainty could not be estimated"),
    ("ValueWarning", "", "statsmodels could not use the series' dates as given"),
    ("ModelWarning", "", "statsmodels flagged a poorly specified model"),
    ("RuntimeWarning", "overflow", "a floating-point overflow"),
    ("RuntimeWarning", "divide", "a division by zero"),
    ("RuntimeWarning", "invalid", "an undefined floating-point operation (0/0, inf-inf)"),
)


def describe(category: str, message: str) -> str:
    """The plain-words meaning of one warning (its category name when unknown)."""
    for name, needle, meaning in _MEANING:
        if category == name and needle in message.lower():
            return meaning
    return f"a {category}"


@contextmanager
def record() -> Iterator[list[warnings.WarningMessage]]:
    """Collect every warning raised inside the block (none is printed).

    Recording everything ("always") also holds when a library installs its own filters on
    first import inside the block (statsmodels adds "always" filters for its warnings).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


#: Warnings addressed to programmers (an API going away), not to the user of a result.
_FOR_DEVELOPERS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning,
                   ResourceWarning)


def count(caught: Iterable[warnings.WarningMessage]) -> Counter:
    """``{(category name, meaning): n}`` of library warnings about results.

    smsim's own warnings and those addressed to programmers (deprecations) are left out.
    """
    out: Counter = Counter()
    for w in caught:
        if issubclass(w.category, (SmsimWarning, *_FOR_DEVELOPERS)):
            continue
        name = w.category.__name__
        out[(name, describe(name, str(w.message)))] += 1
    return out


def summarise(caught: Iterable[warnings.WarningMessage], context: str = "") -> list[str]:
    """One line per distinct smsim warning, then one per kind of library warning, with counts."""
    caught = list(caught)
    lines: list[str] = []
    for w in caught:
        if issubclass(w.category, SmsimWarning) and str(w.message) not in lines:
            lines.append(str(w.message))
    prefix = f"{context}: " if context else ""
    for (name, meaning), n in sorted(count(caught).items()):
        times = "once" if n == 1 else f"{n} times"
        lines.append(f"{prefix}{meaning} ({name}, {times})")
    return lines


__all__ = ["SmsimWarning", "count", "describe", "record", "summarise"]
