"""A fleet's recorded usage in a CSV beside the scenario (``steps_file``), for recordings too long
to write inline: a baseline rebuilt from months of a bill has thousands of hourly steps per
resource.

Columns: ``offset_s`` (seconds from the horizon start, increasing), ``count`` (instances from
that offset until the next row; fractional counts are instance-hours per hour) and, optionally,
``volume_gb`` (the ML storage volumes held from that offset). Problems are :class:`~smsim.errors.InputError` naming the
file, line and column.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from smsim.errors import InputError, did_you_mean

COLUMNS = ("offset_s", "count")


def read_steps_file(path: str | Path) -> tuple[list[tuple[float, float]], list[tuple[float, float]] | None]:
    """The ``[offset_s, count]`` steps of the file, and its ``[offset_s, volume_gb]`` steps (None
    without that column)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("fleet steps file not found", file=str(path))
    return _read(str(path), path.stat().st_mtime_ns, path.stat().st_size)


@functools.lru_cache(maxsize=64)
def _read(file: str, _mtime: int, _size: int):
    import pandas as pd

    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file ({str(exc).strip().splitlines()[0]})", file=file) from None
    header = [c.strip() for c in frame.columns]
    frame.columns = header
    for col in COLUMNS:
        if col not in header:
            raise InputError(f"missing column {col!r}{did_you_mean(col, header)}; a steps file has the columns "
                             "offset_s, count and optionally volume_gb", file=file, line=1, path=col)
    if frame.empty:
        raise InputError("the file has a header but no steps", file=file, line=2)
    values = {}
    for col in (*COLUMNS, "volume_gb"):
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
    counts = list(zip(offsets.tolist(), values["count"].tolist(), strict=True))
    volumes = list(zip(offsets.tolist(), values["volume_gb"].tolist(), strict=True)) if "volume_gb" in values else None
    return counts, volumes
