"""The files of a bill: one file, or a folder of parts (a Data Exports delivery of many files and
months), each with its kind (CSV, gzipped CSV, Parquet) and its header.

Only the header is read here (to tell the format and the columns); the rows are DuckDB's.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from smsim.errors import InputError

#: Names of bill files inside a folder; manifests, hidden and other files are skipped.
SUFFIXES = (".csv", ".csv.gz", ".parquet", ".snappy.parquet", ".gz.parquet")


@dataclass(frozen=True)
class BillFile:
    path: Path
    kind: str  # "csv", "csv.gz" or "parquet"
    header: tuple[str, ...]
    #: parquet column types (name -> DuckDB type), empty for CSV
    types: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return str(self.path)


def bill_files(source: str | Path) -> list[Path]:
    """The bill files of ``source``: itself, or every bill file under the folder, sorted."""
    source = Path(source)
    if not source.exists():
        raise InputError("file not found", file=str(source))
    if source.is_file():
        return [source]
    found = sorted(p for p in source.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(source).parts) and p.name.lower().endswith(SUFFIXES))
    if not found:
        raise InputError("the folder holds no bill files (*.csv, *.csv.gz, *.parquet)", file=str(source))
    return found


def _kind(path: Path) -> str:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        return "parquet"
    if magic[:2] == b"\x1f\x8b":
        return "csv.gz"
    return "csv"


def read_header(path: Path, con) -> BillFile:
    """``path`` with its kind and column names; a binary, empty or truncated file is refused."""
    kind = _kind(path)
    if kind == "parquet":
        import duckdb

        try:
            described = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        except duckdb.Error as exc:
            raise InputError(f"not a readable Parquet file ({_first_line(exc)})", file=str(path)) from None
        return BillFile(path, kind, tuple(r[0] for r in described), tuple((r[0], r[1]) for r in described))
    opener = gzip.open if kind == "csv.gz" else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"not a readable gzip file ({exc})", file=str(path)) from None
    if not head.strip():
        raise InputError("the file is empty", file=str(path), line=1)
    if b"\x00" in head:
        raise InputError("binary content, not a CSV or Parquet bill file", file=str(path), line=1 + head[:head.index(b"\x00")].count(b"\n"))
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"the header is not UTF-8 text (byte {exc.start + 1})", file=str(path), line=1,
                         column=exc.start + 1) from None
    header = next(csv.reader(io.StringIO(text)))
    if len(header) < 2:
        raise InputError("not a CSV bill file: the first line has fewer than two comma-separated columns",
                         file=str(path), line=1)
    return BillFile(path, kind, tuple(h.strip() for h in header))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
