"""Recorded usage as ``[offset_s, value]`` steps, inline or in a CSV beside the scenario
(``steps_file``) for recordings too long to write inline: a baseline rebuilt from months of a
bill has thousands of hourly steps per resource. Shared by the kinds that replay a recording
(fleets: instances and ML storage volumes; S3 data: GB held).

Columns: ``offset_s`` (seconds from the horizon start, increasing), the value (a fleet's
``count``: instances from that offset until the next row, fractional counts being instance-hours
per hour; S3 data's ``gb``: GB held) and, optionally, ``volume_gb`` (a fleet's ML storage volumes
held from that offset). Problems are :class:`~smsim.errors.InputError` naming the
file, line and column.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from smsim.errors import InputError, did_you_mean
from smsim.spec import NonNegFloat

#: ``[offset_s, value]``: the value holds from ``offset_s`` (seconds from the horizon start) until
#: the next step's offset, the last one until the horizon ends.
Step = tuple[NonNegFloat, NonNegFloat]


def check_steps(steps: list[Step] | None, name: str) -> None:
    """Raise ``ValueError`` unless ``steps`` is absent or non-empty with increasing offsets."""
    if steps is None:
        return
    if not steps:
        raise ValueError(f"{name} is empty; give at least one [offset_s, value] step")
    offsets = [s[0] for s in steps]
    for i in range(1, len(offsets)):
        if offsets[i] <= offsets[i - 1]:
            raise ValueError(f"{name}[{i}] starts at {offsets[i]:g} s, not after the step before it "
                             f"({offsets[i - 1]:g} s); offsets must increase")


def step_windows(steps, horizon_s: float) -> list[tuple[float, float, float]]:
    """``[offset_s, value]`` steps as ``(start_s, end_s, value)`` windows clipped to the horizon."""
    out = []
    for i, (a, value) in enumerate(steps):
        b = steps[i + 1][0] if i + 1 < len(steps) else horizon_s
        a, b = min(a, horizon_s), min(b, horizon_s)
        if b > a and value > 0:
            out.append((a, b, value))
    return out


def read_steps_file(path: str | Path, value: str = "count"
                    ) -> tuple[list[tuple[float, float]], list[tuple[float, float]] | None]:
    """The ``[offset_s, value]`` steps of the file (``value`` names the column), and its
    ``[offset_s, volume_gb]`` steps (None without that column)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("steps file not found", file=str(path))
    return _read(str(path), path.stat().st_mtime_ns, path.stat().st_size, value)


@functools.lru_cache(maxsize=64)
def _read(file: str, _mtime: int, _size: int, value: str = "count"):
    import pandas as pd

    columns = ("offset_s", value)

    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file ({str(exc).strip().splitlines()[0]})", file=file) from None
    header = [c.strip() for c in frame.columns]
    frame.columns = header
    for col in columns:
        if col not in header:
            extra = " and optionally volume_gb" if value == "count" else ""
            raise InputError(f"missing column {col!r}{did_you_mean(col, header)}; a steps file has the columns "
                             f"offset_s, {value}{extra}", file=file, line=1, path=col)
    if frame.empty:
        raise InputError("the file has a header but no steps", file=file, line=2)
    values = {}
    for col in (*columns, "volume_gb"):
        if col not in frame:
            continue
        numbers = pd.to_numeric(frame[col].str.strip(), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers) | (numbers < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{frame[col].iloc[i]!r} is not a number >= 0", file=file, line=i + 2, path=col)
        values[col] = numbers
    offsets = values["offset_s"]
    back = np.flatnonzero(np.diff(offsets) <= 0)
    if len(back):
        i = int(back[0]) + 1
        raise InputError(f"offset {offsets[i]:g} s is not after the row before it ({offsets[i - 1]:g} s)",
                         file=file, line=i + 2, path="offset_s")
    counts = list(zip(offsets.tolist(), values[value].tolist(), strict=True))
    volumes = list(zip(offsets.tolist(), values["volume_gb"].tolist(), strict=True)) if "volume_gb" in values else None
    return counts, volumes
