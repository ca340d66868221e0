"""The results store: record, list, show, remove, SQL over the views, and recovery of the index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from smsim.errors import InputError
from smsim.store import Record, Store, default_store_path, scenario_hash

REPO = Path(__file__).resolve().parents[1]


def _ledger(team_costs: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({
        "lineItem/ResourceId": [f"r-{t}" for t in team_costs],
        "resourceTags/user:team": list(team_costs),
        "lineItem/UnblendedCost": list(team_costs.values()),
    })


def _record(total: float, teams: dict[str, float], *, seed: int = 1, yaml: str = "name: a\n", kind: str = "run") -> Record:
    summary = {
        "scenario": "a", "seed": seed, "smsim_version": "0.1.0", "region": "us-east-1",
        "horizon": {"start": "2026-01-05T00:00:00+00:00", "duration_s": 3600.0},
        "total_cost_usd": total, "catalog": {"name": "builtin", "as_of": "2026-09-27"},
        "resources": [{"resource_id": f"r-{t}", "kind": "fleet", "section": "fleets", "cost_usd": c}
                      for t, c in teams.items()],
    }
    return Record(kind=kind, summary=summary, scenario_yaml=yaml, ledger=_ledger(teams))


def test_record_list_show_query_remove(tmp_path):
    store = Store(tmp_path / "st")
    a = store.record(_record(10.0, {"search": 7.0, "ads": 3.0}))
    b = store.record(_record(5.0, {"search": 1.5, "ml": 3.5}, seed=2))
    listed = store.list()
    assert list(listed["run_id"]) == sorted([a, b]) or set(listed["run_id"]) == {a, b}
    assert set(listed["seed"]) == {1, 2}
    assert (listed["scenario_hash"] == scenario_hash("name: a\n")).all()
    assert listed["catalog_as_of"].iloc[0] == "2026-09-27"

    shown = store.show(b[-6:])  # the random suffix is enough
    assert shown["run_id"] == b and shown["summary"]["total_cost_usd"] == 5.0

    by_team = store.query(
        'select "resourceTags/user:team" as team, sum("lineItem/UnblendedCost") as usd '
        "from ledger join runs using (run_id) group by 1 order by 1")
    expected = pd.concat([_ledger({"search": 7.0, "ads": 3.0}), _ledger({"search": 1.5, "ml": 3.5})]) \
        .groupby("resourceTags/user:team")["lineItem/UnblendedCost"].sum()
    assert dict(zip(by_team["team"], by_team["usd"])) == pytest.approx(expected.to_dict())
    assert dict(zip(by_team["team"], by_team["usd"])) == pytest.approx({"ads": 3.0, "ml": 3.5, "search": 8.5})

    res = store.query("select run_id, sum(cost_usd) as c from resources group by 1 order by c")
    assert list(res["c"]) == pytest.approx([5.0, 10.0])

    store.remove(a)
    assert list(store.list()["run_id"]) == [b]
    assert store.query("select count(*) as n from ledger")["n"].iloc[0] == 2
    with pytest.raises(InputError, match="no run"):
        store.show(a)


def test_index_is_rebuilt_when_stale_or_damaged(tmp_path):
    store = Store(tmp_path)
    a = store.record(_record(1.0, {"x": 1.0}))
    b = store.record(_record(2.0, {"x": 2.0}))
    shutil.rmtree(tmp_path / a)  # removed by hand
    assert list(store.list()["run_id"]) == [b]
    (tmp_path / "index.parquet").write_bytes(b"not parquet")
    assert list(store.list()["run_id"]) == [b]
    # a half-written run folder (no _SUCCESS) is never listed
    (tmp_path / "20990101-000000-abcdef").mkdir()
    assert list(store.list()["run_id"]) == [b]


def test_empty_store_queries_and_store_location(tmp_path, monkeypatch):
    store = Store(tmp_path / "none")
    assert len(store.list()) == 0
    assert store.query("select count(*) as n from ledger")["n"].iloc[0] == 0
    assert store.query("select count(*) as n from runs")["n"].iloc[0] == 0
    monkeypatch.setenv("SMSIM_STORE", str(tmp_path / "env"))
    assert default_store_path() == tmp_path / "env"
    assert default_store_path(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv("SMSIM_STORE")
    assert default_store_path() == Path(".smsim/runs")


def test_bad_sql_and_kind_are_input_errors(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(InputError, match="query failed"):
        store.query("select nope from runs")
    with pytest.raises(InputError, match="unknown record kind"):
        store.record(_record(1.0, {"x": 1.0}, kind="nonsense"))


def test_records_a_real_run_with_ledger_equal_to_the_summary(tmp_path):
    from smsim.api import run_scenario
    from smsim.store import record_run

    result = run_scenario(REPO / "scenarios" / "fleet_minimal.yaml")
    run_id = record_run(result, store=tmp_path)
    store = Store(tmp_path)
    total = store.query(f"select sum(\"lineItem/UnblendedCost\") as t from ledger where run_id = '{run_id}'")["t"][0]
    assert total == pytest.approx(result.summary["total_cost_usd"])
    row = store.list().iloc[0]
    assert row["kind"] == "run" and row["seed"] == result.seed and row["smsim_version"] == "0.1.0"
    stored = json.loads((tmp_path / run_id / "summary.json").read_text())
    assert stored["cost_by_component"] == pytest.approx(result.summary["cost_by_component"])
    assert (tmp_path / run_id / "scenario.resolved.yaml").exists()


def test_concurrent_records_keep_every_run(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(3) as pool:
        ids = list(pool.map(_record_in_child, [str(tmp_path)] * 6, range(6)))
    assert sorted(Store(tmp_path).list()["run_id"]) == sorted(ids)
    index = pd.read_parquet(tmp_path / "index.parquet")
    assert sorted(index["run_id"]) == sorted(ids)


def _record_in_child(path: str, i: int) -> str:
    return Store(path).record(_record(float(i), {"x": float(i)}, seed=i))


# -- a lean store: a run's ledger is kept once --------------------------------------------------

def test_a_run_written_with_out_is_linked_not_copied(tmp_path):
    import os

    from typer.testing import CliRunner

    from smsim import api
    from smsim.cli import app

    out, st = tmp_path / "out", tmp_path / "st"
    res = CliRunner().invoke(app, ["run", str(REPO / "scenarios" / "endpoint_autoscaling.yaml"), "--out", str(out),
                                   "--store", str(st), "--quiet"])
    assert res.exit_code == 0, res.output
    store = Store(st)
    (run_id,) = store.list()["run_id"]
    folder = store.run_dir(run_id)
    for name in ("ledger.parquet", "ledger.daily.parquet", "ledger.totals.parquet", "ledger.daily.coarse.parquet",
                 "scenario.resolved.yaml"):
        assert os.path.samefile(folder / name, out / name), name  # one file, two names
    from smsim.store.series import read_series

    stored, written = read_series(folder), read_series(out)
    assert stored.keys() == written.keys() and len(stored) >= 2
    for name, frame in written.items():
        pd.testing.assert_frame_equal(stored[name], frame)
    ledger = pd.read_parquet(out / "ledger.parquet")
    q = store.query('select run_id, count(*) as n, sum("lineItem/UnblendedCost") as usd from ledger group by 1')
    assert list(q["run_id"]) == [run_id] and int(q["n"].iloc[0]) == len(ledger)
    assert float(q["usd"].iloc[0]) == pytest.approx(float(ledger["lineItem/UnblendedCost"].sum()), rel=1e-12)
    series = store.query("select resource_id, count(*) as n from series where run_id = ? group by 1 order by 1"
                         .replace("?", f"'{run_id}'"))
    assert list(series["resource_id"]) == sorted(p.stem for p in (out / "series").iterdir())
    # writing --out again (smsim replaces the folder) leaves the stored run as it was
    result = api.run_scenario(REPO / "scenarios" / "fleet_minimal.yaml")
    api.write_run(result, out, force=True)
    q2 = store.query('select count(*) as n, sum("lineItem/UnblendedCost") as usd from ledger')
    assert int(q2["n"].iloc[0]) == len(ledger) and float(q2["usd"].iloc[0]) == pytest.approx(float(q["usd"].iloc[0]))


def test_a_changed_out_folder_is_not_linked(tmp_path):
    import os

    from smsim import api

    result = api.run_scenario(REPO / "scenarios" / "fleet_minimal.yaml")
    out = tmp_path / "out"
    api.write_run(result, out)
    pd.read_parquet(out / "ledger.parquet").head(3).to_parquet(out / "ledger.parquet")  # edited by hand
    store = Store(tmp_path / "st")
    run_id = store.record(result, written=out)
    stored = store.run_dir(run_id) / "ledger.parquet"
    assert not os.path.samefile(stored, out / "ledger.parquet")
    # the aggregates were computed from the ledger as written, so they are not linked either
    assert not os.path.samefile(stored.with_name("ledger.daily.parquet"), out / "ledger.daily.parquet")
    assert len(pd.read_parquet(stored)) == len(result.ledger)
    daily = pd.read_parquet(stored.with_name("ledger.daily.parquet"))
    assert float(daily["lineItem/UnblendedCost"].sum()) == pytest.approx(
        float(result.ledger["lineItem/UnblendedCost"].sum()), rel=1e-12)
    n = store.query("select count(*) as n from ledger")["n"].iloc[0]
    assert int(n) == len(result.ledger)


def test_views_read_older_runs_with_id_columns_beside_new_ones(tmp_path):
    store = Store(tmp_path / "st")
    old = store.record(_record(10.0, {"search": 7.0, "ads": 3.0}))
    new = store.record(_record(5.0, {"ml": 5.0}, seed=2))
    # an older store's files carry run_id / resource_id columns of their own
    path = store.run_dir(old) / "ledger.parquet"
    frame = pd.read_parquet(path)
    frame.insert(0, "run_id", old)
    frame.to_parquet(path, index=False)
    (store.run_dir(old) / "series").mkdir()
    pd.DataFrame({"run_id": [old] * 2, "resource_id": ["r-search"] * 2, "minute": [0, 1], "busy": [1.0, 2.0]}) \
        .to_parquet(store.run_dir(old) / "series" / "r-search.parquet", index=False)
    (store.run_dir(new) / "series").mkdir()
    pd.DataFrame({"minute": [0], "busy": [4.0]}).to_parquet(store.run_dir(new) / "series" / "r-ml.parquet", index=False)
    by_run = store.query('select run_id, sum("lineItem/UnblendedCost") as usd from ledger group by 1 order by 1')
    assert dict(zip(by_run["run_id"], by_run["usd"])) == pytest.approx({old: 10.0, new: 5.0})
    cols = list(store.query("select * from ledger limit 1").columns)
    assert cols[0] == "run_id" and cols.count("run_id") == 1 and "filename" not in cols
    series = store.query("select run_id, resource_id, sum(busy) as b from series group by 1, 2")
    assert {tuple(r) for r in series.itertuples(index=False)} == {(old, "r-search", 3.0), (new, "r-ml", 4.0)}


def test_the_index_holds_each_run_once(tmp_path, monkeypatch):
    store = Store(tmp_path / "st")
    ids = [store.record(_record(float(i), {"a": float(i)}, seed=i)) for i in range(3)]
    index = pd.read_parquet(tmp_path / "st" / "index.parquet")
    assert sorted(index["run_id"]) == sorted(ids)  # the first run once, not twice
    rebuilt = []
    monkeypatch.setattr(Store, "reindex", lambda self: rebuilt.append(1))
    assert float(store.query("select sum(total_cost_usd) as t from runs")["t"].iloc[0]) == 3.0
    assert not rebuilt  # a fresh index is read as it is, not rebuilt by every query


def test_a_query_on_a_store_not_yet_created_creates_nothing(tmp_path):
    store = Store(tmp_path / "none")
    assert int(store.query("select count(*) as n from runs")["n"].iloc[0]) == 0
    assert not (tmp_path / "none").exists()


def test_series_of_every_shape_come_back_as_written(tmp_path):
    from smsim.store.series import read_series, write_series

    frames = {
        "jobs": pd.DataFrame({"submit_s": [1.5, 2.0], "status": ["done", "failed"], "retries": [0, 3],
                              "spot": [True, False]}),
        "empty": pd.DataFrame({"submit_s": pd.Series([], dtype=object), "status": pd.Series([], dtype=object)}),
        "minutes": pd.DataFrame({"instances": [1, 2, 2], "busy": [0.5, 1.0, 1.5]},
                                index=pd.date_range("2026-01-05", periods=3, freq="min", tz="UTC", name="time")),
        "users": pd.DataFrame({"user": ["a", "b"], "on_hours": [8.0, 6.5]}),
    }
    write_series(frames, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series.parquet"]  # one file, not one per resource
    back = read_series(tmp_path)
    assert list(back) == list(frames)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(back[name], frame, check_freq=False)
    clash = tmp_path / "clash"
    clash.mkdir()
    mixed = {"a": pd.DataFrame({"x": [1.0, 2.0]}), "b": pd.DataFrame({"x": [{"k": 1}, {"k": 2}]})}
    write_series(mixed, clash)  # one column name, types that cannot share a table: one file each
    assert sorted(p.name for p in (clash / "series").iterdir()) == ["a.parquet", "b.parquet"]
    pd.testing.assert_frame_equal(read_series(clash)["a"], mixed["a"])
