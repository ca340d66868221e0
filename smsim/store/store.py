"""The local results store: one folder per run, a Parquet index, DuckDB views to query them.

Layout under the store root (``.smsim/runs`` by default)::

    index.parquet              one row per run (see ``records.INDEX_COLUMNS``)
    <run_id>/summary.json      the run summary
    <run_id>/run.parquet       the run's index row (the index can always be rebuilt from these)
    <run_id>/ledger.parquet    CUR-shaped ledger, as ``smsim run --out`` writes it
    <run_id>/ledger.daily.parquet  its cost by day, resource, component and tag (``store.daily``)
    <run_id>/ledger.totals.parquet the same over the whole horizon
    <run_id>/ledger.daily.coarse.parquet  cost by day without resource or tag detail
    <run_id>/resources.parquet per-resource cost and metrics
    <run_id>/series.parquet    per-resource series, all in one file (``store.series``; older
                               runs: ``series/<resource>.parquet``)
    <run_id>/extras/*.parquet  other frames a result carries (forecast bands, commitment curves)
    <run_id>/scenario.resolved.yaml
    <run_id>/_SUCCESS

A run's ledger is stored once. When the run was also written with ``--out`` its ledger and
resolved scenario are hard links to those files (no bytes copied; a copy where the filesystem
cannot link); otherwise the store writes them itself. The files carry no ``run_id`` column: the
``ledger`` and ``series`` views take it from the file's path (older stores' files that hold it
read the same).

Safety for one user running several commands at once: a run folder is built aside and renamed
into place (``smsim.atomic.atomic_dir``) so a half-written run is never visible; the index is
rewritten atomically under an exclusive ``flock``; and the index is a cache: whenever its run
ids differ from the complete folders on disk (a command killed between the two steps, a folder
removed by hand) it is rebuilt from the per-run ``run.parquet`` files.

A recording killed midway leaves its hidden temporary folder (and its empty reserved run
folder) behind. Every recording first removes those whose writer is gone (:meth:`Store.gc`,
also ``smsim runs gc``); a recording still in progress in another process is never touched,
nor is a folder not named as a run id.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from smsim import atomic
from smsim.errors import InputError, did_you_mean
from smsim.store import daily
from smsim.store.daily import write_daily
from smsim.store.records import (
    KINDS,
    RUN_ID,
    Record,
    index_frame,
    json_default,
    new_run_id,
    record_from_result,
    resources_frame,
)
from smsim.store.series import write_series

#: Environment variable naming the store folder (``--store`` wins over it).
STORE_ENV = "SMSIM_STORE"
#: Store folder relative to the current directory when nothing else is given.
DEFAULT_STORE = Path(".smsim") / "runs"
#: A reserved run folder with no temporary beside it and still empty after this long lost its
#: writer (a live one creates its hidden temporary within milliseconds of reserving the id).
_RESERVED_GRACE_S = 60.0


def default_store_path(explicit: str | Path | None = None) -> Path:
    """``explicit`` (``--store``), else ``$SMSIM_STORE``, else ``./.smsim/runs``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(STORE_ENV)
    return Path(env) if env else DEFAULT_STORE


class Store:
    """A folder of recorded runs. Cheap to construct; nothing is created until the first write."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = default_store_path(path)

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def record(self, result, kind: str = "run", *, label: str | None = None,
               group_id: str | None = None, written: str | Path | None = None) -> str:
        """Store a ``RunResult`` (or a prepared :class:`Record`); returns the new run id.

        ``written`` is the folder :func:`smsim.api.write_run` just wrote the result to: its
        ledger and series are linked instead of written again."""
        rec = result if isinstance(result, Record) else record_from_result(
            result, kind, label=label, group_id=group_id, written=written)
        return self.record_record(rec)

    def record_summary(self, summary: dict[str, Any], kind: str, **fields: Any) -> str:
        """Store a result that is only a summary dict (commit, optimize, project...)."""
        return self.record_record(Record(kind=kind, summary=summary, **fields))

    def record_record(self, rec: Record) -> str:
        if rec.kind not in KINDS:
            raise InputError(f"unknown record kind {rec.kind!r}; expected one of {', '.join(KINDS)}")
        self.gc()
        created = datetime.now(UTC)
        run_id = self._claim_id(created)
        try:
            row = self._write_run(rec, run_id, created)
        except BaseException:
            with contextlib.suppress(OSError):
                (self.path / run_id).rmdir()  # the empty reserved folder, if it is still that
            raise
        with self._locked():
            index = self._read_index()  # rebuilt from the folders when absent: this run is in it then
            index = index[index["run_id"] != run_id]
            index = pd.concat([index, index_frame([row])], ignore_index=True) if len(index) else index_frame([row])
            self._write_index(index)
        return run_id

    def _write_run(self, rec: Record, run_id: str, created: datetime) -> dict[str, Any]:
        """Write the run's folder atomically; returns its index row."""
        with atomic.atomic_dir(self.path / run_id, check=False) as tmp:
            linked = _link_written(rec, tmp)
            if rec.ledger_writer is not None:  # first: it may complete the summary
                rec.ledger_writer(tmp / "ledger.parquet", run_id)
            row = rec.index_row(run_id, created)
            (tmp / "summary.json").write_text(
                json.dumps(rec.summary, indent=2, default=json_default) + "\n", encoding="utf-8")
            index_frame([row]).to_parquet(tmp / "run.parquet", index=False)
            if rec.scenario_yaml and "scenario.resolved.yaml" not in linked:
                (tmp / "scenario.resolved.yaml").write_text(rec.scenario_yaml, encoding="utf-8")
            if rec.ledger is not None and "ledger.parquet" not in linked:
                from smsim.billing.export import write_parquet

                write_parquet(rec.ledger, tmp / "ledger.parquet")
            if rec.ledger is not None and daily.FILE not in linked:
                write_daily(rec.ledger, tmp)
            resources_frame(run_id, rec.summary).to_parquet(tmp / "resources.parquet", index=False)
            write_series(rec.series, tmp)
            if rec.extras:
                (tmp / "extras").mkdir()
            for name, frame in rec.extras.items():
                out = frame.copy()
                out.insert(0, "run_id", run_id)
                out.to_parquet(tmp / "extras" / f"{name}.parquet", index=isinstance(out.index, pd.DatetimeIndex))
        return row

    def _claim_id(self, created: datetime) -> str:
        """A fresh run id, reserved by creating its (still incomplete) folder: ``mkdir`` is
        atomic, so two writers (two commands, two clients) can never pick the same id and
        replace each other's run. The folder counts as a run only once ``_SUCCESS`` is in it."""
        self.path.mkdir(parents=True, exist_ok=True)
        while True:
            run_id = new_run_id(created)
            try:
                (self.path / run_id).mkdir()
                return run_id
            except FileExistsError:
                continue

    def remove(self, run_id: str) -> str:
        """Delete one run (folder and index row); returns the full id removed."""
        run_id = self.resolve(run_id)
        with self._locked():
            folder = self.path / run_id
            index = self._read_index()
            self._write_index(index[index["run_id"] != run_id])
            atomic.discard_dir(folder)
        return run_id

    def gc(self, *, older_than_s: float = atomic.ABANDONED_AFTER_S,
           restored: list[str] | None = None) -> list[str]:
        """Remove what killed recordings left: hidden temporaries whose writer is gone
        (:func:`smsim.atomic.abandoned`; ``older_than_s`` applies to those of other hosts) and
        reserved run folders left empty. Returns the names removed.

        A reservation is a bare ``mkdir`` of a fresh run id, so its name is what tells a reserved
        folder from one a user made: only an empty folder named as :data:`RUN_ID` is removed
        (``store/notes`` never is). An old result that a swap without atomic exchange moved aside
        (``.<id>.<writer>.<random>.old``) and whose writer is gone is renamed back when nothing
        is at its name (the names are appended to ``restored``) and removed when a complete run
        is there. Complete runs are never touched."""
        if not self.path.is_dir():
            return []
        put_back = atomic.put_back_moved_aside(self.path, older_than_s=older_than_s)
        if restored is not None:
            restored.extend(put_back)
        removed = atomic.sweep_abandoned(self.path, older_than_s=older_than_s)
        orphaned = {atomic.temp_target(name) for name in removed}  # their writers reserved these
        hidden = [p.name for p in self.path.iterdir() if p.name.startswith(".")]
        now = datetime.now(UTC).timestamp()
        for folder in sorted(self.path.iterdir()):
            if (not RUN_ID.match(folder.name) or not folder.is_dir() or (folder / "_SUCCESS").exists()
                    or any(h.startswith(f".{folder.name}.") for h in hidden)):
                continue
            with contextlib.suppress(OSError):  # not empty (not ours), or gone meanwhile
                if folder.name in orphaned or now - folder.stat().st_mtime > _RESERVED_GRACE_S:
                    folder.rmdir()
                    removed.append(folder.name)
        return removed

    # -- reading ---------------------------------------------------------------------------

    def _run_dirs(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and (p / "_SUCCESS").exists())

    def _read_index(self) -> pd.DataFrame:
        path = self.path / "index.parquet"
        if path.exists():
            with contextlib.suppress(Exception):  # a damaged cache is rebuilt, never fatal
                return index_frame(pd.read_parquet(path).to_dict("records"))
        return self._rebuild_frame()

    def _rebuild_frame(self) -> pd.DataFrame:
        rows = []
        for name in self._run_dirs():
            with contextlib.suppress(Exception):
                rows.extend(pd.read_parquet(self.path / name / "run.parquet").to_dict("records"))
        return index_frame(rows)

    def _write_index(self, index: pd.DataFrame) -> None:
        atomic.write_frame(self.path / "index.parquet", index_frame(index.to_dict("records")), check=False)

    def _index_ids(self) -> list[str] | None:
        """The run ids in ``index.parquet`` (None when it is missing or unreadable)."""
        with contextlib.suppress(Exception):
            return [str(i) for i in pd.read_parquet(self.path / "index.parquet", columns=["run_id"])["run_id"]]
        return None

    def reindex(self) -> pd.DataFrame:
        """Rebuild ``index.parquet`` from the run folders."""
        with self._locked():
            index = self._rebuild_frame()
            self._write_index(index)
        return index

    def index(self) -> pd.DataFrame:
        """The index, rebuilt first if it disagrees with the run folders on disk."""
        if not self.path.is_dir():
            return index_frame([])
        index = self._read_index()
        if sorted(index["run_id"].astype(str)) != self._run_dirs():
            index = self.reindex()
        return index

    def list(self, kind: str | None = None) -> pd.DataFrame:
        """Runs oldest first, without the summary column (``show`` has it)."""
        index = self.index()
        if kind is not None:
            index = index[index["kind"] == kind]
        return index.drop(columns=["summary"]).reset_index(drop=True)

    def resolve(self, run_id: str) -> str:
        """The full id of ``run_id``, or of the one run whose id starts or ends with it (the
        random suffix alone is usually enough)."""
        ids = self._run_dirs()
        if run_id in ids:
            return run_id
        matches = [i for i in ids if i.startswith(run_id) or i.endswith(run_id)] if run_id else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(f"run id {run_id!r} is ambiguous: {', '.join(matches[:5])}...")
        raise InputError(f"no run {run_id!r} in store {self.path}{did_you_mean(run_id, ids)}")

    def run_dir(self, run_id: str) -> Path:
        return self.path / self.resolve(run_id)

    def show(self, run_id: str) -> dict[str, Any]:
        """The index row of a run with its summary parsed (JSON-able)."""
        run_id = self.resolve(run_id)
        row = pd.read_parquet(self.path / run_id / "run.parquet").iloc[0].to_dict()
        out: dict[str, Any] = {}
        for key, value in row.items():
            if key == "summary":
                continue
            if pd.api.types.is_scalar(value) and pd.isna(value):
                value = None
            elif isinstance(value, pd.Timestamp):
                value = value.isoformat()
            elif hasattr(value, "item"):
                value = value.item()
            out[key] = value
        out["summary"] = json.loads((self.path / run_id / "summary.json").read_text(encoding="utf-8"))
        return out

    def find(self, *, kind: str | None = None, scenario_hash: str | None = None,
             seed: int | None = None, label: str | None = None) -> pd.DataFrame:
        """Index rows matching every given field (used by ``bench --resume``)."""
        index = self.index()
        mask = pd.Series(True, index=index.index)
        if kind is not None:
            mask &= index["kind"] == kind
        if scenario_hash is not None:
            mask &= index["scenario_hash"] == scenario_hash
        if seed is not None:
            mask &= index["seed"] == seed
        if label is not None:
            mask &= index["label"] == label
        return index[mask.fillna(False)].reset_index(drop=True)

    def connect(self):
        """A DuckDB connection with views ``runs``, ``ledger``, ``resources`` and ``series``
        and DuckDB's full access to files (what ``query(..., allow_files=True)`` uses)."""
        import duckdb

        con = duckdb.connect()
        self._create_views(con)
        return con

    def _create_views(self, con, sql: str | None = None) -> None:
        """Create the views; with ``sql``, only those it names (all when it names none): a
        query of the index then reads no ledger or series file at all."""
        named = {m.lower() for m in _VIEW_NAMES.findall(sql or "")} or set(VIEWS)
        index = self._index_ids()  # only the ids: the summaries stay on disk until queried
        if not self.path.is_dir():
            index = []
        elif index is None or sorted(index) != self._run_dirs():
            index = self.reindex()  # a stale or damaged index is rebuilt first
        root = self.path.resolve()
        complete = self._run_dirs()  # equal to the index's ids, checked above
        if (root / "index.parquet").exists() and len(index):
            con.execute(f"create view runs as select * from read_parquet('{_sql_str(root / 'index.parquet')}')")
        else:  # a table, not a registered frame: it must survive reopening the database
            con.register("_empty_runs", index_frame([]))
            con.execute("create table runs as select * from _empty_runs")
            con.unregister("_empty_runs")
        # run_id (and a series' resource_id) come from the file's path, so files linked from a
        # run's --out folder need no column of their own (older stores' files have one: dropped)
        run = r"regexp_extract(filename, '([^/\\]+)[/\\]{tail}$', 1)"
        sources = {
            "ledger": [("*/ledger.parquet", {"run_id": run.format(tail=r"ledger\.parquet")})],
            "ledger_daily": [(f"*/{daily.FILE}", {"run_id": run.format(tail=re.escape(daily.FILE))})],
            "ledger_totals": [(f"*/{daily.TOTALS_FILE}", {"run_id": run.format(tail=re.escape(daily.TOTALS_FILE))})],
            "ledger_daily_coarse": [(f"*/{daily.COARSE_FILE}",
                                     {"run_id": run.format(tail=re.escape(daily.COARSE_FILE))})],
            "resources": [("*/resources.parquet", {})],
            "series": [("*/series.parquet", {"run_id": run.format(tail=r"series\.parquet")}),
                       ("*/series/*.parquet", {"run_id": run.format(tail=r"series[/\\][^/\\]+"),  # older runs
                                               "resource_id": r"regexp_extract(filename, '([^/\\]+)\.parquet$', 1)"})],
        }
        for view, parts in sources.items():
            if view not in named:
                continue
            selects = []
            for pattern, derived in parts:
                # the files of complete runs only: a write cut short by a kill leaves a hidden
                # folder behind, which a glob over the store would read as a run
                tail = pattern.split("/", 1)[1]
                files = [f for run_id in complete for f in sorted((root / run_id).glob(tail))]
                if not files:
                    continue
                listed = ", ".join(f"'{_sql_str(f)}'" for f in files)
                source = f"read_parquet([{listed}], union_by_name = true, filename = true)"
                present = {row[0] for row in con.execute(f"describe select * from {source}").fetchall()}
                hidden = ", ".join(f'"{c}"' for c in ("filename", *derived) if c in present)
                columns = "".join(f"{expr} as {name}, " for name, expr in derived.items())
                selects.append(f"select {columns}* exclude ({hidden}) from {source}")
            body = " union all by name ".join(selects) or "select cast(null as varchar) as run_id where false"
            con.execute(f"create view {view} as {body}")

    def costs(self, by: Sequence[str] = ("run_id",), *, cost: str = "amortized",
              runs: Sequence[str] | None = None) -> pd.DataFrame:
        """Cost (``cost_usd``) summed by ``by`` over the stored ledgers: ``run_id``, ``day`` (UTC)
        and ledger columns such as ``smsim/component``, ``lineItem/ResourceId`` or a
        ``resourceTags/...`` column. ``cost`` is ``amortized`` (net of savings plans) or
        ``unblended``; ``runs`` limits it to those run ids.

        Answered from each run's aggregates when every column of ``by`` is one of their keys
        (``ledger_daily`` when ``by`` names ``day``, ``ledger_daily_coarse`` when it names no
        resource or tag as well, else ``ledger_totals``), so a hundred runs'
        ledgers are not read; from the full ledger when a column needs line detail, and for runs
        stored without the aggregates. ``attrs["source"]`` says which (the view's name, or two
        joined by "+")."""
        if cost not in ("amortized", "unblended"):
            raise InputError(f"cost must be amortized or unblended, not {cost!r}")
        amount = "smsim/net_cost_usd" if cost == "amortized" else "lineItem/UnblendedCost"
        by = list(by)
        ids = None if runs is None else [self.resolve(r) for r in runs]
        keyed = all(c in ("run_id", daily.DAY) or c in daily.DIMENSIONS or c.startswith("resourceTags/")
                    for c in by)
        folders = [self.path / r for r in (ids if ids is not None else self._run_dirs())]
        ledgers = {f.name for f in folders if (f / "ledger.parquet").exists()}
        coarse = daily.DAY in by and all(c in ("run_id", daily.DAY) or c in daily.COARSE_DIMENSIONS for c in by)
        summary = daily.FILE if daily.DAY in by else daily.TOTALS_FILE
        aggregated = {f.name for f in folders if (f / summary).exists()} & ledgers if keyed else set()
        if coarse and aggregated and not all((self.path / r / daily.COARSE_FILE).exists() for r in aggregated):
            coarse = False  # runs stored before the coarse file: one view answers for all of them
        detail = sorted(ledgers - aggregated)
        if ledgers:
            import pyarrow.parquet as pq

            known = {"run_id", daily.DAY}
            for run_id in sorted(ledgers):  # the footers only
                known.update(pq.read_schema(self.path / run_id / "ledger.parquet").names)
            for c in by:
                if c not in known:
                    raise InputError(f"no column {c!r} in the stored ledgers (group by run_id, day or a ledger "
                                     f"column){did_you_mean(c, sorted(known))}")
        q = daily._q
        day = f"cast(left(cast({q('lineItem/UsageStartDate')} as varchar), 10) as date)"
        parts, sources = [], []
        summary_view = "ledger_daily_coarse" if coarse else "ledger_daily" if daily.DAY in by else "ledger_totals"
        for view, chosen, day_expr in ((summary_view, sorted(aggregated), q(daily.DAY)), ("ledger", detail, day)):
            if not chosen:
                continue
            cols = "".join(f"{day_expr if c == daily.DAY else q(c)} as {q(c)}, " for c in by)
            narrowed = ids is not None or (view == "ledger" and aggregated)
            where = " where run_id in (" + ", ".join(f"'{r}'" for r in chosen) + ")" if narrowed else ""
            parts.append(f"select {cols}{q(amount)} as cost_usd from {view}{where}")
            sources.append(view)
        if not parts:
            frame = pd.DataFrame({**{c: pd.Series([], dtype=object) for c in by}, "cost_usd": pd.Series([], dtype=float)})
        else:
            keys = ", ".join(q(c) for c in by)
            body = " union all ".join(parts)
            frame = self.query(f"select {keys + ', ' if keys else ''}sum(cost_usd) as cost_usd from ({body})"
                               + (f" group by {keys} order by {keys}" if keys else ""))
        if daily.DAY in frame.columns and len(frame):  # calendar days, not midnights
            frame[daily.DAY] = pd.to_datetime(frame[daily.DAY]).dt.date
        frame.attrs["source"] = "+".join(sources)
        return frame

    @contextlib.contextmanager
    def _reader(self, sql: str | None = None) -> Iterator[Any]:
        """A read-only DuckDB database holding the views, whose only reachable files are the
        store's: external access off except for the store folder, extensions neither installed
        nor loaded, configuration locked. The views are built in a scratch database file first,
        which is then reopened read-only."""
        import tempfile

        import duckdb

        with tempfile.TemporaryDirectory(prefix="smsim-query-") as scratch:
            db = str(Path(scratch) / "views.duckdb")
            con = duckdb.connect(db)
            try:
                self._create_views(con, sql)
            finally:
                con.close()
            con = duckdb.connect(db, read_only=True, config={
                "autoinstall_known_extensions": False, "autoload_known_extensions": False})
            try:
                # in this order: the allowed folder can only be set while access is still on
                con.execute("set allowed_directories = [?]", [str(self.path.resolve())])
                con.execute("set enable_external_access = false")
                con.execute("set lock_configuration = true")
                yield con
            finally:
                con.close()

    def query(self, sql: str, *, allow_files: bool = False) -> pd.DataFrame:
        """Run SQL over the views (``runs``, ``ledger``, ``resources``, ``series``).

        Only reading statements are accepted (``SELECT`` in any of its forms: ``WITH``, ``FROM``,
        ``VALUES``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``; and ``EXPLAIN`` of those), in a
        read-only database that reaches no file outside the store. ``allow_files=True`` runs
        anything with DuckDB's full access to files instead.
        """
        import duckdb

        try:
            if allow_files:
                con = self.connect()
                try:
                    return con.execute(sql).df()
                finally:
                    con.close()
            check_read_only_sql(sql)
            with self._reader(sql) as con:
                return con.execute(sql).df()
        except duckdb.PermissionException as exc:
            raise InputError(
                f"query refused: it reaches files outside the results store {self.path} "
                f"({_first_line(exc)}); pass --allow-files (allow_files=True) to give the query "
                "DuckDB's full access to files") from None
        except duckdb.Error as exc:
            raise InputError(f"query failed: {str(exc).strip()}") from None


def _link_written(rec: Record, tmp: Path) -> set[str]:
    """Link into ``tmp`` the files of ``rec.written`` that hold exactly what the store would
    write (checked against the folder's marker, the ledger's row count and the scenario text):
    the ledger and the resolved scenario. Returns their names."""
    folder = rec.written
    if folder is None:
        return set()
    sizes = atomic.written_files(folder) or {}

    def unchanged(name: str) -> bool:  # written by smsim and not replaced since
        try:
            return sizes.get(name) == (folder / name).stat().st_size
        except OSError:
            return False

    wanted = []
    if rec.ledger is not None and rec.ledger_writer is None and unchanged("ledger.parquet"):
        import pyarrow.parquet as pq

        if pq.ParquetFile(folder / "ledger.parquet").metadata.num_rows == len(rec.ledger):
            wanted.append("ledger.parquet")
            aggregates = [daily.FILE, daily.TOTALS_FILE, daily.COARSE_FILE]
            if all(unchanged(name) for name in aggregates):  # written from that ledger
                wanted += aggregates
    if rec.scenario_yaml and unchanged("scenario.resolved.yaml") and \
            (folder / "scenario.resolved.yaml").read_text(encoding="utf-8") == rec.scenario_yaml:
        wanted.append("scenario.resolved.yaml")
    for name in wanted:
        atomic.link_or_copy(folder / name, tmp / name)
    return set(wanted)


#: The views a query can read.
VIEWS = ("runs", "ledger", "ledger_daily", "ledger_daily_coarse", "ledger_totals", "resources", "series")
_VIEW_NAMES = re.compile(r"\b(" + "|".join(VIEWS) + r")\b", re.IGNORECASE)

#: Statement types ``Store.query`` runs without ``allow_files``: the ones that only read.
READ_STATEMENTS = ("SELECT", "EXPLAIN")
_EXPLAIN = re.compile(r"^\s*explain(\s+analy[sz]e)?\s+", re.IGNORECASE)


def check_read_only_sql(sql: str) -> None:
    """Raise :class:`InputError` unless every statement in ``sql`` only reads (``EXPLAIN`` is
    checked on the statement it explains: ``EXPLAIN ANALYZE COPY ...`` would write)."""
    import duckdb

    parser = duckdb.connect()
    try:
        statements = parser.extract_statements(sql)
        for statement in statements:
            kind = statement.type.name
            if kind == "EXPLAIN":
                inner = parser.extract_statements(_EXPLAIN.sub("", statement.query.strip(), count=1))
                kind = inner[0].type.name if len(inner) == 1 else "EXPLAIN"
                kind = "EXPLAIN" if kind == "SELECT" else f"EXPLAIN {kind}"
            if kind not in READ_STATEMENTS:
                raise InputError(
                    f"query refused: {kind} statements are not run by smsim runs query, which only "
                    "reads the results store (SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); "
                    "pass --allow-files (allow_files=True) to run it with DuckDB's full access to files")
    except duckdb.Error as exc:
        raise InputError(f"query failed: {str(exc).strip()}") from None
    finally:
        parser.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def record_run(result, kind: str = "run", *, store: str | Path | None = None, **fields: Any) -> str:
    """Record ``result`` in the default (or given) store; what ``smsim run`` calls (with
    ``written=`` its ``--out`` folder, whose ledger is then linked, not copied)."""
    return Store(store).record(result, kind, **fields)
