"""Import a bill: its files streamed through DuckDB into the ledger schema of a simulated run.

Nothing is held in Python per line. Each file is parsed once (CSV strictly, every column as
text) into a table of an on-disk DuckDB database in a temporary folder, with its usage start and
end parsed; DuckDB keeps at most ``memory_limit`` in memory and the rest on disk, so memory stays
bounded whatever the size of the bill. A pass per file then counts what is wrong (numbers and
times that do not parse, end before start) and gathers the time span, currencies and billing
periods; the distinct (product, usage type, line type) keys are decoded once in Python
(:mod:`smsim.bill.usage_types`) and joined back; the ledger is written by one
``COPY ... TO parquet``.

Refused, with the file, row (1-based line of the file; the header is line 1) and column: an
unknown format, a missing column, a value that does not parse, mixed or non-USD currencies,
the same billing period delivered in two folders, a line id seen twice, a truncated or binary
file. Nothing is written until every check has passed.

The ledger has the simulated ledger's columns (:data:`smsim.billing.columns.CUR_COLUMNS`, the
tags as ``resourceTags/...`` columns, :data:`~smsim.billing.columns.SMSIM_COLUMNS`) plus
``smsim/usage`` (what was used, see :func:`smsim.bill.usage_types.decode`), ``smsim/region``,
``smsim/service`` (the product code) and ``smsim/source_file``. ``smsim/hour`` counts hours from
the first hour of the bill; ``smsim/net_cost_usd`` is the amortized cost (covered usage at its
savings-plan effective cost, negations and upfront fees 0, the recurring fee only its unused
part; FOCUS's ``EffectiveCost`` where the file has it).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from smsim.bill.files import BillFile, bill_files, read_header
from smsim.bill.usage_types import DECODED, decode
from smsim.billing.columns import CUR_COLUMNS, SMSIM_COLUMNS
from smsim.billing.formats import NUMBERS, Format, detect
from smsim.errors import InputError

#: DuckDB's memory limit for an import (it spills to a temporary folder beyond it).
MEMORY_LIMIT = os.environ.get("SMSIM_IMPORT_MEMORY", "1GB")
CURRENCY = "USD"
EXTRA_COLUMNS = ["smsim/usage", "smsim/region", "smsim/service", "smsim/source_file"]
_TS = "%Y-%m-%dT%H:%M:%SZ"
#: Times parsed once, when a file is loaded (field -> column of the loaded table).
_PARSED = {"start": "__smsim_start", "end": "__smsim_end"}


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _connect(spill: str):
    import duckdb

    # a database file in the spill folder: the bill's rows live on disk, not in memory
    con = duckdb.connect(str(Path(spill) / "import.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {lit(MEMORY_LIMIT)}")
    con.execute(f"SET temp_directory = {lit(spill)}")
    con.execute("SET preserve_insertion_order = true")
    return con


@dataclass
class _Source:
    file: BillFile
    fmt: Format
    cols: dict[str, str]  # field -> column
    tags: dict[str, str] = field(default_factory=dict)  # ledger tag column -> SQL expression
    tag_kind: str = ""  # "", "map" or "json" for a single tag column
    table: str = ""  # the DuckDB table the rows were loaded into

    def relation(self) -> str:
        return self.table or self.read()

    def read(self) -> str:
        """The file's rows as a DuckDB table function (CSV: every column text, strict)."""
        path = lit(self.file.path)
        if self.file.kind == "parquet":
            return f"read_parquet({path})"
        spec = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in self.file.header) + "}"
        return (f"read_csv({path}, header = true, auto_detect = false, columns = {spec}, delim = ',', "
                f"quote = '\"', escape = '\"', strict_mode = true, nullstr = ['', 'NULL'], "
                f"compression = {lit('gzip' if self.file.kind == 'csv.gz' else 'none')})")

    def raw(self, f: str) -> str:
        """The text of field ``f`` (NULL when the file lacks it)."""
        col = self.cols.get(f)
        return f"nullif(trim(cast({q(col)} as varchar)), '')" if col else "cast(null as varchar)"

    def number(self, f: str) -> str:
        return f"try_cast({self.raw(f)} as double)"

    def time(self, f: str) -> str:
        if self.table and f in _PARSED:
            return q(_PARSED[f])
        return f"try_cast({self.raw(f)} as timestamptz)::timestamp"

    def line_type(self) -> str:
        if self.fmt.name != "focus":
            return f"coalesce({self.raw('line_type')}, '')"
        # FOCUS: AWS's x_LineItemType where given, else the CUR type its charge category implies
        cat, status, freq = self.raw("charge_category"), self.raw("commitment_status"), self.raw("charge_frequency")
        return (f"case when {self.raw('line_type')} is not null then {self.raw('line_type')} "
                f"when {cat} = 'Usage' and {status} = 'Used' then 'SavingsPlanCoveredUsage' "
                f"when {cat} = 'Usage' then 'Usage' "
                f"when {cat} = 'Purchase' and {freq} = 'One-Time' then 'SavingsPlanUpfrontFee' "
                f"when {cat} = 'Purchase' then 'SavingsPlanRecurringFee' else coalesce({cat}, '') end")


def _tag_name(key: str) -> str:
    for prefix in ("user:", "user_"):
        if key.startswith(prefix):
            return "resourceTags/user:" + key[len(prefix):]
    for prefix in ("aws:", "aws_"):
        if key.startswith(prefix):
            return "resourceTags/aws:" + key[len(prefix):]
    return "resourceTags/user:" + key


def _error_line(exc: Exception) -> int | None:
    m = re.search(r"Line: (\d+)", str(exc))
    return int(m.group(1)) if m else None


def _duck(exc: Exception, file: str) -> InputError:
    lines = [s for s in str(exc).strip().splitlines() if s.strip()]
    detail = lines[0].split("Error:", 1)[-1].strip() if lines else str(exc)
    found = next((s for s in lines if s.startswith("Expected Number of Columns")), "")
    if found:
        detail = f"{detail.rstrip('.')}: {found.lower()} (a truncated or malformed file?)"
    return InputError(detail, file=file, line=_error_line(exc))


class ImportedBill:
    """A bill read and checked, ready to be written as a ledger (see the module doc)."""

    def __init__(self, source: str | Path, fmt: str = "auto") -> None:
        self.source = Path(source)
        self._spill = tempfile.TemporaryDirectory(prefix="smsim-import-")
        self.con = _connect(self._spill.name)
        try:
            self._read(fmt)
        except BaseException:
            self.close()
            raise

    def _read(self, fmt: str) -> None:
        import duckdb

        paths = bill_files(self.source)
        self.sources: list[_Source] = []
        for path in paths:
            bf = read_header(path, self.con)
            f = detect(list(bf.header), bf.name, fmt)
            if self.sources and f.name != self.sources[0].fmt.name:
                raise InputError(f"a {f.title} file among {self.sources[0].fmt.title} files: a bill is "
                                 "imported from files of one format", file=bf.name, line=1)
            dupes = sorted({c for c in bf.header if list(bf.header).count(c) > 1})
            if dupes:
                raise InputError(f"column {dupes[0]!r} appears twice in the header", file=bf.name, line=1,
                                 path=dupes[0])
            self.sources.append(_Source(bf, f, f.resolve(list(bf.header))))
        self.format = self.sources[0].fmt
        try:
            for i, s in enumerate(self.sources):
                # parsed once; the checks and the ledger then scan the table (rowid = row order)
                self._reading = s.file.name
                parsed = ", ".join(f"{s.time(f)} as {q(name)}" for f, name in _PARSED.items())
                self.con.execute(f"create table src_{i} as select *, {parsed} from {s.read()}")
                s.table = f"src_{i}"
            self._find_tags()
            self.stats = [self._check(s) for s in self.sources]
        except duckdb.Error as exc:  # the file itself is unreadable (truncated, not CSV)
            raise _duck(exc, getattr(self, "_reading", str(self.source))) from None
        self._check_bill()
        self._decode()

    # -- reading -------------------------------------------------------------------------------

    def _find_tags(self) -> None:
        for s in self.sources:
            self._reading = s.file.name
            if s.fmt.tag_style == "columns":
                for col in s.file.header:
                    if col.startswith(s.fmt.tag_column):
                        s.tags[col] = f"nullif(cast({q(col)} as varchar), '')"
                continue
            col = s.fmt.tag_column
            if col not in s.file.header:
                continue
            kind = dict(s.file.types).get(col, "VARCHAR")
            if kind.startswith("MAP"):
                s.tag_kind = "map"
                keys = self.con.execute(f"select distinct unnest(map_keys({q(col)})) from {s.relation()}").fetchall()
                for (key,) in keys:
                    s.tags[_tag_name(key)] = f"nullif(cast({q(col)}[{lit(key)}] as varchar), '')"
            else:
                s.tag_kind = "json"
                bad = self.con.execute(
                    f"select count(*) filter (where {q(col)} is not null and try_cast({q(col)} as json) is null) "
                    f"from {s.relation()}").fetchone()[0]
                if bad:
                    self._first_bad(s, f"try_cast({q(col)} as json) is null and {q(col)} is not null", col,
                                    "is not a JSON object of tags")
                keys = self.con.execute(
                    f"select distinct unnest(json_keys(try_cast({q(col)} as json))) from {s.relation()} "
                    f"where {q(col)} is not null").fetchall()
                for (key,) in keys:
                    path = lit('$."' + key.replace('"', '\\"') + '"')
                    s.tags[_tag_name(key)] = f"nullif(json_extract_string(try_cast({q(col)} as json), {path}), '')"

    def _check(self, s: _Source) -> dict[str, Any]:
        """One pass over a file: counts of unparseable values, span, currencies, periods."""
        self._reading = s.file.name
        checks = {}
        for f in NUMBERS + ("net",):
            if f in s.cols:
                checks[f] = f"{s.raw(f)} is not null and {s.number(f)} is null"
        for f in ("start", "end", "period"):
            if f in s.cols:
                checks[f] = f"{s.raw(f)} is not null and {s.time(f)} is null" + (
                    f" or {s.raw(f)} is null" if f in ("start", "end") else "")
        checks["order"] = f"{s.time('end')} < {s.time('start')}"
        counts = ", ".join(f"count(*) filter (where {cond}) as {q(name)}" for name, cond in checks.items())
        period = f"coalesce({s.time('period')}, date_trunc('month', {s.time('start')}))"
        row = self.con.execute(
            f"select count(*), {counts}, min({s.time('start')}), max({s.time('end')}), "
            f"list(distinct {s.raw('currency')}) filter (where {s.raw('currency')} is not null), "
            f"list(distinct strftime({period}, '%Y-%m')) from {s.relation()}").fetchone()
        n, bad = row[0], dict(zip(checks, row[1:1 + len(checks)], strict=True))
        for name, count in bad.items():
            if count:
                col = s.cols.get(name, s.cols.get("end"))
                what = {"order": f"ends before it starts ({s.cols['start']})"}.get(
                    name, "is not a date and time" if name in ("start", "end", "period") else "is not a number")
                self._first_bad(s, checks[name], col, what)
        start, end, currencies, periods = row[1 + len(checks):]
        if n == 0:
            raise InputError("the file has a header but no lines", file=s.file.name, line=2)
        return {"lines": n, "start": start, "end": end, "currencies": sorted(currencies or []),
                "periods": sorted(periods or [])}

    def _first_bad(self, s: _Source, condition: str, column: str, what: str) -> None:
        """Raise for the first row of ``s`` where ``condition`` holds, naming row and column."""
        row = self.con.execute(
            f"select rowid + 1 as n, cast({q(column)} as varchar) from {s.relation()} where {condition} "
            "order by n limit 1").fetchone()
        line, value = (None, None) if row is None else (int(row[0]) + (1 if s.file.kind != "parquet" else 0), row[1])
        shown = "empty" if value is None else repr(value)
        raise InputError(f"{shown} {what}", file=s.file.name, line=line, path=column)

    def _row_of(self, s: _Source, condition: str) -> int | None:
        row = self.con.execute(f"select min(rowid) + 1 from {s.relation()} where {condition}").fetchone()
        row = None if row is None or row[0] is None else row
        return None if row is None else int(row[0]) + (1 if s.file.kind != "parquet" else 0)

    def _check_bill(self) -> None:
        # currencies
        seen: dict[str, _Source] = {}
        for s, st in zip(self.sources, self.stats, strict=True):
            for c in st["currencies"]:
                seen.setdefault(c, s)
        if len(seen) > 1 or (seen and CURRENCY not in seen):
            first = next(iter(seen))
            other = next((c for c in seen if c != CURRENCY), first)
            s = seen[other]
            col = s.cols["currency"]
            line = self._row_of(s, f"{s.raw('currency')} = {lit(other)}")
            what = (f"mixed currencies: {', '.join(sorted(seen))}; a bill is imported in one currency"
                    if len(seen) > 1 else f"currency {other!r}: smsim works in USD")
            raise InputError(what, file=s.file.name, line=line, path=col)
        # the same billing period delivered in two folders (a month exported twice)
        owner: dict[str, _Source] = {}
        for s, st in zip(self.sources, self.stats, strict=True):
            for month in st["periods"]:
                other = owner.setdefault(month, s)
                if other.file.path.parent != s.file.path.parent:
                    col = s.cols.get("period", s.cols["start"])
                    raise InputError(
                        f"overlapping periods: billing period {month} is also in {other.file.name} (another "
                        "delivery); import one delivery per month", file=s.file.name,
                        line=self._row_of(s, f"strftime(coalesce({s.time('period')}, date_trunc('month', "
                                             f"{s.time('start')})), '%Y-%m') = {lit(month)}"), path=col)
        # line ids seen twice in the same hour
        with_ids = [s for s in self.sources if "line_id" in s.cols]
        if with_ids:
            union = " union all ".join(f"select {s.raw('line_id')} as id, {s.time('start')} as t from {s.relation()}"
                                       for s in with_ids)
            dup = self.con.execute(f"select id, t from ({union}) where id is not null group by id, t "
                                   "having count(*) > 1 limit 1").fetchone()
            if dup is not None:
                hits = []
                for s in with_ids:
                    cond = f"{s.raw('line_id')} = {lit(dup[0])}"
                    n = self.con.execute(f"select count(*) from {s.relation()} where {cond}").fetchone()[0]
                    if n:
                        hits.append((s, n))
                s = hits[-1][0]
                elsewhere = f" (also in {hits[0][0].file.name})" if len(hits) > 1 else ""
                raise InputError(f"line id {dup[0]!r} appears twice for the hour {dup[1]:%Y-%m-%d %H:%M}{elsewhere}",
                                 file=s.file.name, line=self._last_row_of(s, f"{s.raw('line_id')} = {lit(dup[0])}"),
                                 path=s.cols["line_id"])
        self.start = min(st["start"] for st in self.stats)
        self.end = max(st["end"] for st in self.stats)
        self.h0 = int(self.start.replace(tzinfo=UTC).timestamp() // 3600)

    def _last_row_of(self, s: _Source, condition: str) -> int | None:
        row = self.con.execute(f"select max(rowid) + 1 from {s.relation()} where {condition}").fetchone()
        return None if row is None or row[0] is None else int(row[0]) + (1 if s.file.kind != "parquet" else 0)

    def _keys(self, s: _Source) -> str:
        return (f"coalesce({s.raw('product')}, '') as k_product, coalesce({s.raw('usage_type')}, '') as k_usage_type, "
                f"{s.line_type()} as k_line_type, coalesce({s.raw('pricing_category')}, '') as k_pricing_category")

    def _decode(self) -> None:
        import pandas as pd

        union = " union ".join(f"select distinct {self._keys(s)} from {s.relation()}" for s in self.sources)
        keys = self.con.execute(f"select distinct * from ({union})").df()
        decoded = [decode(p, u, t, c) for p, u, t, c in keys.itertuples(index=False)]
        table = pd.concat([keys, pd.DataFrame(decoded, columns=[f"d_{d}" for d in DECODED])], axis=1)
        self.con.register("decoded_keys", table)
        self.tag_columns = sorted({t for s in self.sources for t in s.tags})

    # -- writing -------------------------------------------------------------------------------

    def _select(self, s: _Source, run_id: str | None) -> str:
        t0 = f"to_timestamp({self.h0 * 3600})::timestamp"
        start, end = s.time("start"), s.time("end")
        line_type = s.line_type()
        period = f"coalesce({s.time('period')}, date_trunc('month', {start}))"

        def text(f: str) -> str:
            return f"coalesce({s.raw(f)}, '')"

        def num(f: str) -> str:
            return f"coalesce({s.number(f)}, 0.0)"

        def label(f: str) -> str:
            return f"coalesce({s.raw(f)}, d_{f})" if f in s.cols else f"d_{f}"

        plan = (f"coalesce({s.raw('plan')}, regexp_extract({text('sp_arn')}, '([^/]+)$', 1))"
                if "plan" in s.cols else f"regexp_extract({text('sp_arn')}, '([^/]+)$', 1)")
        cost = num("cost")
        if "net" in s.cols:
            net = s.number("net")
        elif "effective" in s.cols:
            net = num("effective")
        else:
            net = (f"case {line_type} when 'SavingsPlanCoveredUsage' then {num('sp_effective')} "
                   f"when 'SavingsPlanNegation' then 0.0 when 'SavingsPlanUpfrontFee' then 0.0 "
                   f"when 'SavingsPlanRecurringFee' then {num('total_commitment')} - {num('used')} else {cost} end")
        out = {
            "identity/TimeInterval": f"strftime({start}, '{_TS}') || '/' || strftime({end}, '{_TS}')",
            "bill/BillingPeriodStartDate": f"strftime({period}, '{_TS}')",
            "lineItem/UsageStartDate": f"strftime({start}, '{_TS}')",
            "lineItem/UsageEndDate": f"strftime({end}, '{_TS}')",
            "lineItem/ProductCode": "k_product", "lineItem/UsageType": "k_usage_type",
            "lineItem/Operation": text("operation"), "lineItem/LineItemType": "k_line_type",
            "lineItem/ResourceId": text("resource_id"), "lineItem/UsageAmount": num("amount"),
            "lineItem/UnblendedRate": num("rate"), "lineItem/UnblendedCost": cost,
            "lineItem/LineItemDescription": text("description"),
            "pricing/term": text("term") if "term" in s.cols else (
                "case k_pricing_category when 'Standard' then 'OnDemand' when 'Dynamic' then 'Spot' "
                "when 'Committed' then 'SavingsPlan' else '' end"),
            "pricing/unit": text("unit"), "pricing/publicOnDemandCost": num("public_od"),
            "savingsPlan/SavingsPlanARN": text("sp_arn"), "savingsPlan/SavingsPlanRate": num("sp_rate"),
            "savingsPlan/SavingsPlanEffectiveCost": num("sp_effective"),
            "savingsPlan/UsedCommitment": num("used"), "savingsPlan/TotalCommitmentToDate": num("total_commitment"),
        }
        for tag in self.tag_columns:
            out[tag] = s.tags.get(tag, "cast(null as varchar)")
        out |= {
            "smsim/hour": f"cast(floor(epoch({start}) / 3600) as bigint) - {self.h0}",
            "smsim/usage_start_s": s.number("start_s") if "start_s" in s.cols else f"epoch({start}) - epoch({t0})",
            "smsim/usage_end_s": s.number("end_s") if "end_s" in s.cols else f"epoch({end}) - epoch({t0})",
            "smsim/component": label("component"), "smsim/resource_kind": label("resource_kind"),
            "smsim/instance_type": label("instance_type"), "smsim/market": label("market"),
            "smsim/pricing_class": label("pricing_class"), "smsim/savings_plan": plan,
            "smsim/net_cost_usd": net,
            "smsim/usage": "d_usage", "smsim/region": f"coalesce({s.raw('region')}, d_region)",
            "smsim/service": "k_product", "smsim/source_file": lit(os.path.relpath(s.file.path, self._root())),
        }
        assert set(CUR_COLUMNS) <= set(out) and set(SMSIM_COLUMNS) <= set(out)
        cols = ", ".join(f"{expr} as {q(name)}" for name, expr in out.items())
        head = f"{lit(run_id)} as run_id, " if run_id else ""
        return (f"select {head}{cols} from (select *, {self._keys(s)} from {s.relation()}) "
                "join decoded_keys using (k_product, k_usage_type, k_line_type, k_pricing_category)")

    def _root(self) -> Path:
        return self.source if self.source.is_dir() else self.source.parent

    def sql(self, run_id: str | None = None) -> str:
        """One query yielding the ledger's lines, file after file."""
        return " union all ".join(f"({self._select(s, run_id)})" for s in self.sources)

    def write_ledger(self, target: Path, run_id: str | None = None) -> None:
        """Write the ledger as Parquet at ``target`` (with a ``run_id`` column when given)."""
        self.con.execute(f"copy ({self.sql(run_id)}) to {lit(target)} (format parquet, compression zstd)")
        self._written = Path(target)

    def summary(self, ledger: Path, name: str) -> dict[str, Any]:
        """The run summary of a written ledger: totals by component, class, service, month, resource, tag."""
        from smsim.bill.summary import bill_summary

        return bill_summary(self.con, ledger, name=name, source=str(self.source), fmt=self.format.name,
                            files=[str(s.file.path) for s in self.sources], start=self.start, end=self.end,
                            tag_columns=self.tag_columns)

    def close(self) -> None:
        """Close DuckDB and remove its spill folder (the on-disk copy of the bill's rows)."""
        self.con.close()
        self._spill.cleanup()


def import_bill(source: str | Path, *, fmt: str = "auto", name: str | None = None,
                store: str | Path | None = None, out: str | Path | None = None, force: bool = False,
                record: bool = True) -> dict[str, Any]:
    """Import the bill at ``source`` (a file or a folder of parts) as a run of kind ``actual``.

    Returns the summary, with ``run_id`` when recorded in the results store (``store``, default
    ``$SMSIM_STORE`` or ``./.smsim/runs``); ``out`` also writes ``ledger.parquet`` and
    ``summary.json`` into that folder (replacing one smsim did not write only with ``force``, see
    :func:`smsim.atomic.check_output`). Everything is checked before anything is written.
    """
    import json

    from smsim import atomic
    from smsim.store.records import Record, json_default
    from smsim.store.store import Store

    if out is not None:
        atomic.check_output(out, "dir", force=force, option="--out", inputs=[source])
    bill = ImportedBill(source, fmt)
    try:
        name = name or Path(source).name
        summary: dict[str, Any] = {}

        def write(path: Path, run_id: str | None = None) -> None:
            bill.write_ledger(path, run_id)
            summary.update(bill.summary(path, name))

        if record:
            rec = Record(kind="actual", summary=summary, description=f"{bill.format.title} bill {name}",
                         source=str(source), label=name, ledger_writer=write)
            run_id = Store(store).record_record(rec)
        if out is not None:
            with atomic.atomic_dir(out, force=force, option="--out") as folder:
                if record:
                    stored = Store(store).run_dir(run_id) / "ledger.parquet"
                    bill.con.execute(f"copy (select * exclude (run_id) from read_parquet({lit(stored)})) to "
                                     f"{lit(folder / 'ledger.parquet')} (format parquet, compression zstd)")
                else:
                    write(folder / "ledger.parquet")
                (folder / "summary.json").write_text(
                    json.dumps(summary, indent=2, default=json_default) + "\n", encoding="utf-8")
        if not record and out is None:
            with tempfile.TemporaryDirectory(prefix="smsim-import-") as tmp:
                write(Path(tmp) / "ledger.parquet")
        if record:
            summary["run_id"] = run_id
        return summary
    finally:
        bill.close()

