"""``smsim runs query`` reads the results store and nothing else: statements that write or reach
the filesystem are refused with exit code 2, unless the user asks for ``--allow-files``."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.errors import InputError
from smsim.store import Record, Store

runner = CliRunner()


@pytest.fixture
def store(tmp_path):
    st = Store(tmp_path / "store")
    for total, teams in ((10.0, {"search": 7.0, "ads": 3.0}), (5.0, {"search": 1.5, "ml": 3.5})):
        summary = {"scenario": "a", "seed": 1, "total_cost_usd": total,
                   "resources": [{"resource_id": f"r-{t}", "kind": "fleet", "cost_usd": c} for t, c in teams.items()]}
        ledger = pd.DataFrame({"resourceTags/user:team": list(teams), "lineItem/UnblendedCost": list(teams.values())})
        st.record(Record(kind="run", summary=summary, scenario_yaml="name: a\n", ledger=ledger))
    return st


def _query(store, sql, *extra):
    return runner.invoke(app, ["runs", "query", sql, "--store", str(store.path), "--json", *extra])


def test_copy_to_a_file_is_refused(store, tmp_path):
    target = tmp_path / "x.csv"
    result = _query(store, f"COPY (SELECT 1) TO '{target}'")
    assert result.exit_code == 2
    assert "COPY" in result.stderr and "--allow-files" in result.stderr
    assert not target.exists()


def test_copy_into_the_store_folder_is_refused_too(store):
    # the store's own folder is readable (the views read it), but nothing may be written there
    for sql in (f"COPY (SELECT 1) TO '{store.path.resolve() / 'x.csv'}'",
                f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{store.path.resolve() / 'y.csv'}'"):
        assert _query(store, sql).exit_code == 2
    assert not list(store.path.glob("*.csv"))


def test_reading_a_file_outside_the_store_is_refused(store):
    result = _query(store, "SELECT * FROM read_csv('/etc/passwd')")
    assert result.exit_code == 2
    assert "/etc/passwd" in result.stderr and "--allow-files" in result.stderr
    assert "root:" not in result.stdout


def test_attach_is_refused(store, tmp_path):
    target = tmp_path / "x.db"
    result = _query(store, f"ATTACH '{target}'")
    assert result.exit_code == 2
    assert "ATTACH" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize("sql", [
    "CREATE TABLE t AS SELECT 1", "INSTALL httpfs", "SET enable_external_access = true",
    "SELECT 1; ATTACH ':memory:' AS m", "PRAGMA version",
])
def test_other_writes_and_settings_are_refused(store, sql):
    assert _query(store, sql).exit_code == 2


def test_normal_queries_still_work(store):
    result = _query(store, 'select "resourceTags/user:team" as team, sum("lineItem/UnblendedCost") as usd '
                           "from ledger join runs using (run_id) group by 1 order by 1")
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.stdout)
    assert {r["team"]: r["usd"] for r in rows} == pytest.approx({"ads": 3.0, "ml": 3.5, "search": 8.5})
    assert store.query("with c as (select sum(cost_usd) as c from resources) select * from c")["c"][0] == 15.0
    assert store.query("from runs select count(*) as n")["n"][0] == 2
    assert "run_id" in set(store.query("describe ledger")["column_name"])
    assert len(store.query("explain select * from runs")) >= 1
    assert store.query("select count(*) as n from series")["n"][0] == 0


def test_empty_store_is_queryable_and_locked(tmp_path):
    st = Store(tmp_path / "none")
    assert st.query("select count(*) as n from runs")["n"][0] == 0
    with pytest.raises(InputError, match="allow-files"):
        st.query("SELECT * FROM read_csv('/etc/passwd')")


def test_allow_files_gives_full_access(store, tmp_path):
    target = tmp_path / "x.csv"
    result = _query(store, f"COPY (SELECT count(*) AS n FROM runs) TO '{target}'", "--allow-files")
    assert result.exit_code == 0, result.output
    assert target.read_text().split() == ["n", "2"]
    assert store.query(f"select * from read_csv('{target}')", allow_files=True)["n"][0] == 2
