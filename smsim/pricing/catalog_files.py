"""Reading and validating catalog directories: fixed columns, checked once, errors with row and column.

A catalog directory holds ``instances.csv``, ``ondemand.csv``, ``unavailable.csv``, ``rates.csv``,
``spot.csv``, ``savings_plan_rates.csv`` and ``catalog.json`` (name, as_of, description,
``extends``). A user catalog may hold only some of the files; with ``"extends": "builtin"`` (what
``smsim pricing import`` writes) its rows are laid over the built-in catalog's, a user row
replacing a built-in row with the same key, and missing files are taken from the built-in catalog.
Every row must carry a non-empty ``as_of``; prices must be finite and non-negative.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from smsim.errors import InputError, did_you_mean
from smsim.pricing.vocabulary import ANY_COMPONENT, COMPONENTS, PAYMENTS, TERMS


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text | number | percent
    required: bool = True  # a value must be present on every row
    choices: tuple[str, ...] = ()


def _cols(*specs: Column) -> tuple[Column, ...]:
    return specs


SCHEMAS: dict[str, tuple[Column, ...]] = {
    "instances.csv": _cols(
        Column("instance_type"), Column("family"), Column("vcpu", "number"), Column("memory_gib", "number"),
        Column("accelerator_count", "number", False), Column("accelerator_type", required=False),
        Column("accelerator_memory_gib", "number", False), Column("source"), Column("as_of"),
    ),
    "ondemand.csv": _cols(
        Column("region"), Column("instance_type"),
        Column("component", choices=(*COMPONENTS, ANY_COMPONENT)),
        Column("usd_per_hour", "number"), Column("as_of"), Column("source"),
    ),
    "unavailable.csv": _cols(
        Column("region"), Column("instance_type"), Column("component", choices=COMPONENTS),
        Column("source"), Column("as_of"),
    ),
    "rates.csv": _cols(
        Column("rate_key"), Column("region"), Column("unit"), Column("usd", "number"), Column("as_of"),
        Column("source"),
    ),
    "spot.csv": _cols(
        Column("region"), Column("instance_type"), Column("interruption_bucket"),
        Column("interruption_max_pct", "percent"), Column("ec2_savings_pct", "percent"), Column("source"),
        Column("as_of"),
    ),
    "savings_plan_rates.csv": _cols(
        Column("instance_pattern"), Column("component", choices=(*COMPONENTS, ANY_COMPONENT)),
        Column("region"), Column("term", choices=TERMS), Column("payment", choices=PAYMENTS),
        Column("discount_pct", "percent", False), Column("usd_per_hour", "number", False),
        Column("assumed", choices=("true", "false")), Column("reasoning", required=False), Column("source"),
        Column("as_of"),
    ),
}

#: The columns that identify a row; a user row with the same key replaces the built-in one.
KEYS: dict[str, list[str]] = {
    "instances.csv": ["instance_type"],
    "ondemand.csv": ["region", "instance_type", "component"],
    "unavailable.csv": ["region", "instance_type", "component"],
    "rates.csv": ["rate_key", "region"],
    "spot.csv": ["region", "instance_type"],
    "savings_plan_rates.csv": ["instance_pattern", "component", "region", "term", "payment"],
}

METADATA_FILE = "catalog.json"


def read_table(path: Path, name: str) -> pd.DataFrame:
    """One catalog CSV as strings plus float columns; InputError naming file, line and column."""
    schema = SCHEMAS[name]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable CSV file: {exc}", file=str(path)) from None
    header = list(frame.columns)
    missing = [c.name for c in schema if c.name not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(c.name for c in schema)}"
            + did_you_mean(missing[0], header),
            file=str(path), line=1,
        )
    for col in schema:
        values = frame[col.name].astype(str).str.strip()
        column_no = header.index(col.name) + 1
        empty = values == ""
        if col.required and empty.any():
            row = int(empty.to_numpy().nonzero()[0][0])
            raise InputError(f"{col.name} is empty", file=str(path), line=row + 2, column=column_no, path=col.name)
        if col.choices:
            bad = ~empty & ~values.isin(col.choices)
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise InputError(
                    f"{col.name} {values.iloc[row]!r} is not one of {', '.join(col.choices)}"
                    + did_you_mean(values.iloc[row], col.choices),
                    file=str(path), line=row + 2, column=column_no, path=col.name,
                )
        if col.kind in ("number", "percent"):
            numbers = pd.to_numeric(values.where(~empty), errors="coerce").astype(float)
            upper = 100.0 if col.kind == "percent" else math.inf
            ok = empty | (numbers.notna() & numbers.between(0, upper) & numbers.abs().lt(math.inf))
            if not ok.all():
                row = int((~ok).to_numpy().nonzero()[0][0])
                what = "a percentage in [0, 100]" if col.kind == "percent" else "a finite number >= 0"
                raise InputError(
                    f"{col.name} must be {what}, found {values.iloc[row]!r}",
                    file=str(path), line=row + 2, column=column_no, path=col.name,
                )
            frame[col.name] = numbers
        else:
            frame[col.name] = values
    if name == "savings_plan_rates.csv":
        neither = frame["discount_pct"].isna() & frame["usd_per_hour"].isna()
        if neither.any():
            row = int(neither.to_numpy().nonzero()[0][0])
            raise InputError(
                "a savings-plan rate row needs discount_pct or usd_per_hour",
                file=str(path), line=row + 2, column=header.index("discount_pct") + 1, path="discount_pct",
            )
    dup = frame.duplicated(KEYS[name], keep=False)
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][-1])
        key = ", ".join(f"{k}={frame[k].iloc[row]}" for k in KEYS[name])
        raise InputError(f"duplicate row for {key}", file=str(path), line=row + 2)
    return frame[[c.name for c in schema]]


def read_metadata(directory: Path) -> dict:
    path = directory / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno, column=exc.colno) from None
    if not isinstance(meta, dict):
        raise InputError("expected a JSON object with name, as_of, description", file=str(path))
    return meta


def read_directory(directory: Path) -> dict[str, pd.DataFrame]:
    """The tables present in ``directory`` (missing files are simply absent)."""
    return {name: read_table(directory / name, name) for name in SCHEMAS if (directory / name).is_file()}


def overlay(base: dict[str, pd.DataFrame], top: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``top`` rows over ``base`` rows: same key -> the ``top`` row wins."""
    merged = dict(base)
    for name, frame in top.items():
        if name in base:
            both = pd.concat([base[name], frame], ignore_index=True)
            merged[name] = both.drop_duplicates(KEYS[name], keep="last").reset_index(drop=True)
        else:
            merged[name] = frame
    return merged


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=float if c.kind != "text" else str) for c in SCHEMAS[name]})


def newest_as_of(tables: dict[str, pd.DataFrame]) -> str:
    """The newest parseable ``as_of`` (YYYY, YYYY-MM or YYYY-MM-DD) over all rows."""
    dates = pd.concat([t["as_of"] for t in tables.values() if len(t)], ignore_index=True)
    parsed = pd.to_datetime(dates.str.extract(r"^(\d{4}(?:-\d{2}(?:-\d{2})?)?)")[0], errors="coerce", format="mixed")
    if parsed.notna().any():
        return parsed.max().strftime("%Y-%m-%d")
    return "unknown"
