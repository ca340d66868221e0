"""A run's per-resource series in one Parquet file: one row group of files instead of hundreds.

A platform run has a series per resource (job tables, per-user hours, per-minute fleets): 300
files per run made a query over 100 stored runs open 30,000 files. ``series.parquet`` holds them
all in long form (a ``resource_id`` column, the union of the frames' columns); its metadata keeps
each frame's own columns, dtypes and time index, so :func:`read_series` gives back exactly the
frames that were written. Frames that cannot share one table (the same column name with
incompatible types) are written one file per resource under ``series/``, as older stores did;
:func:`read_series` reads either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

FILE = "series.parquet"
FOLDER = "series"
_META = b"smsim.series"


def write_series(frames: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write ``frames`` (by resource name) into the run folder ``folder``."""
    if not frames:
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    layout, parts = {}, []
    for name, frame in frames.items():
        time_index = isinstance(frame.index, pd.DatetimeIndex)
        part = frame.reset_index() if time_index else frame.reset_index(drop=True)
        layout[name] = {"columns": [str(c) for c in part.columns],
                        "dtypes": [str(t) for t in part.dtypes],
                        "time_index": time_index, "index_name": frame.index.name}
        parts.append(part.assign(resource_id=name))
    try:
        if any("resource_id" in f.columns or not f.columns.map(type).isin([str]).all() for f in frames.values()):
            raise ValueError("a frame's own columns clash with the long form")
        long = pd.concat(parts, ignore_index=True, sort=False)
        long = long[["resource_id", *[c for c in long.columns if c != "resource_id"]]]
        table = pa.Table.from_pandas(long, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: json.dumps(layout).encode()})
        pq.write_table(table, folder / FILE)
    except (ValueError, TypeError, pa.ArrowException):
        (folder / FOLDER).mkdir(exist_ok=True)
        for name, frame in frames.items():
            frame.to_parquet(folder / FOLDER / f"{name}.parquet", index=isinstance(frame.index, pd.DatetimeIndex))


def read_series(folder: Path) -> dict[str, pd.DataFrame]:
    """The frames :func:`write_series` wrote into ``folder`` (either layout), by resource name."""
    folder = Path(folder)
    out: dict[str, pd.DataFrame] = {}
    if (folder / FILE).exists():
        import pyarrow.parquet as pq

        table = pq.read_table(folder / FILE)
        layout = json.loads(table.schema.metadata[_META])
        long = table.to_pandas()
        for name, spec in layout.items():
            part = long.loc[long["resource_id"] == name, spec["columns"]].reset_index(drop=True)
            part = part.astype(dict(zip(spec["columns"], spec["dtypes"], strict=True)))
            if spec["time_index"]:
                part = part.set_index(spec["columns"][0])
                part.index.name = spec["index_name"]
            out[name] = part
    if (folder / FOLDER).is_dir():
        for path in sorted((folder / FOLDER).glob("*.parquet")):
            out[path.stem] = pd.read_parquet(path).drop(columns=["run_id", "resource_id"], errors="ignore")
    return out


__all__ = ["FILE", "FOLDER", "read_series", "write_series"]
