"""The LLM hardware and model facts: three sourced CSV files, read and validated once.

They live beside the price catalog (``data/pricing``, shipped in the wheel as ``smsim/_catalog``):

* ``accelerators.csv``: one row per accelerator model (memory, bandwidth, dense peak FLOP/s);
* ``accelerator_instances.csv``: which accelerator an instance type carries, how many, and the
  link between them (``interconnect_gb_per_s`` is per accelerator, one direction; 0 = none);
* ``llm_models.csv``: open models' shapes from their ``config.json`` (layers, heads, sizes).

Every row has a ``source`` and an ``as_of``. A bad file is an :class:`InputError` naming the
file, the line and the column, like the price catalog's (``pricing/catalog_files.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from smsim.errors import InputError, did_you_mean
from smsim.pricing.catalog import builtin_catalog_dir


@dataclass(frozen=True)
class Col:
    name: str
    kind: str = "text"  # text | number | integer | bool
    required: bool = True


FACT_FILES: dict[str, tuple[tuple[Col, ...], str]] = {
    "accelerators.csv": (
        (Col("accelerator"), Col("memory_gb", "number"), Col("memory_bandwidth_gb_per_s", "number"),
         Col("bf16_dense_tflops", "number"), Col("fp8_dense_tflops", "number", False),
         Col("int8_dense_tops", "number", False), Col("source"), Col("as_of")),
        "accelerator",
    ),
    "accelerator_instances.csv": (
        (Col("instance_type"), Col("accelerator"), Col("accelerator_count", "integer"),
         Col("interconnect"), Col("interconnect_gb_per_s", "number"), Col("source"), Col("as_of")),
        "instance_type",
    ),
    "llm_models.csv": (
        (Col("model"), Col("params_b", "number"), Col("active_params_b", "number"), Col("layers", "integer"),
         Col("hidden_size", "integer"), Col("attention_heads", "integer"), Col("kv_heads", "integer"),
         Col("head_dim", "integer"), Col("intermediate_size", "integer"), Col("vocab_size", "integer"),
         Col("experts", "integer"), Col("experts_per_token", "integer"), Col("qkv_bias", "bool"),
         Col("tied_embeddings", "bool"), Col("max_context_tokens", "integer"), Col("source"), Col("as_of")),
        "model",
    ),
}


def facts_dir() -> Path:
    """The folder holding the fact files (the built-in catalog's folder)."""
    return builtin_catalog_dir()


def read_fact_table(path: Path, name: str) -> pd.DataFrame:
    """One fact CSV, validated: required values present, numbers finite and >= 0, keys unique."""
    columns, key = FACT_FILES[name]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable CSV file: {exc}", file=str(path)) from None
    header = list(frame.columns)
    missing = [c.name for c in columns if c.name not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}" + did_you_mean(missing[0], header), file=str(path), line=1
        )
    out = {}
    for col in columns:
        values = frame[col.name].astype(str).str.strip()
        where = {"file": str(path), "column": header.index(col.name) + 1, "path": col.name}
        empty = values == ""
        if col.required and empty.any():
            raise InputError(f"{col.name} is empty", line=_first(empty) + 2, **where)
        if col.kind == "bool":
            bad = ~values.isin(["true", "false"])
            if bad.any():
                row = _first(bad)
                raise InputError(f"{col.name} must be true or false, found {values.iloc[row]!r}", line=row + 2, **where)
            out[col.name] = values == "true"
        elif col.kind in ("number", "integer"):
            numbers = pd.to_numeric(values.where(~empty), errors="coerce").astype(float)
            ok = empty | (numbers.notna() & numbers.between(0, 1e18))
            if col.kind == "integer":
                ok &= empty | (numbers == numbers.round())
            if not ok.all():
                row = _first(~ok)
                what = "a whole number >= 0" if col.kind == "integer" else "a finite number >= 0"
                raise InputError(f"{col.name} must be {what}, found {values.iloc[row]!r}", line=row + 2, **where)
            out[col.name] = numbers
        else:
            out[col.name] = values
    table = pd.DataFrame(out)
    dup = table[key].duplicated()
    if dup.any():
        raise InputError(f"duplicate row for {key}={table[key].iloc[_first(dup)]}", file=str(path), line=_first(dup) + 2)
    return table


def _first(mask: pd.Series) -> int:
    return int(mask.to_numpy().nonzero()[0][0])


@functools.cache
def fact_table(name: str) -> pd.DataFrame:
    """The built-in fact table ``name`` (read once per process)."""
    return read_fact_table(facts_dir() / name, name)


def lookup_row(name: str, value: str, what: str) -> dict:
    """The row of ``name`` whose key equals ``value`` (case-insensitive), else an InputError with did-you-mean."""
    keys, rows = _rows(name)
    row = rows.get(str(value).strip().lower())
    if row is None:
        raise InputError(f"unknown {what} {value!r}" + did_you_mean(value, keys) + f"; known: {', '.join(keys)}", path=what)
    return dict(row)


@functools.cache
def _rows(name: str) -> tuple[list[str], dict[str, dict]]:
    """The keys of table ``name`` in file order and its rows by case-folded key."""
    table = fact_table(name)
    key = FACT_FILES[name][1]
    return table[key].tolist(), {r[key].lower(): r for r in table.to_dict("records")}
