"""The results store keeps a run's ledger once and its daily cost aggregate beside it.

A stored run's ledger is the run's ledger (every line, every cent); a write cut short leaves
nothing that reads as a run; and cost by day, component, resource or tag from the daily
aggregates equals the same sums over the full ledgers."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smsim.store import Store
from smsim.store import daily as daily_mod

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result():
    from smsim.api import run_scenario

    return run_scenario(REPO / "scenarios" / "quickstart.yaml")


def test_a_stored_ledger_is_the_runs_ledger(tmp_path, result):
    store = Store(tmp_path)
    run_id = store.record(result)
    stored = pd.read_parquet(tmp_path / run_id / "ledger.parquet")
    assert len(stored) == len(result.ledger) > 1000
    assert list(stored.columns) == list(result.ledger.columns)
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), result.ledger.reset_index(drop=True),
                                  check_categorical=False)
    for col in ("lineItem/UnblendedCost", "smsim/net_cost_usd"):
        assert round(stored[col].sum(), 2) == round(result.ledger[col].sum(), 2)
    assert round(stored["lineItem/UnblendedCost"].sum(), 2) == round(result.summary["total_cost_usd"], 2)
    by_component = store.query('select "smsim/component" as c, sum("smsim/net_cost_usd") as usd from ledger '
                               "group by 1").set_index("c")["usd"]
    for component, usd in result.summary["cost_by_component"].items():
        assert by_component.get(component, 0.0) == pytest.approx(usd, abs=0.005)


def _interrupted(path: str) -> None:
    """Record a run and die (no clean-up, as a killed process) once its ledger is written."""
    from smsim.api import run_scenario
    from smsim.store import store as store_mod

    def die(ledger, folder):
        assert (Path(folder) / "ledger.parquet").stat().st_size > 0
        os._exit(9)

    store_mod.write_daily = die
    Store(path).record(run_scenario(REPO / "scenarios" / "fleet_minimal.yaml"))


def test_an_interrupted_write_leaves_no_run_that_looks_complete(tmp_path, result):
    store = Store(tmp_path)
    kept = store.record(result)
    child = multiprocessing.get_context("spawn").Process(target=_interrupted, args=(str(tmp_path),))
    child.start()
    child.join(120)
    assert child.exitcode == 9
    leftovers = [p for p in tmp_path.iterdir() if p.is_dir() and p.name != kept]
    assert leftovers, "the killed write left its partial folder (as a kill does)"
    assert all(not (p / "_SUCCESS").exists() for p in leftovers)
    assert list(store.list()["run_id"]) == [kept]
    seen = store.query("select distinct run_id from ledger")["run_id"].tolist()
    assert seen == [kept]
    assert store.costs(["run_id"])["run_id"].tolist() == [kept]
    # its writer is gone: the next recording (or smsim runs gc) removes the hidden temporary
    hidden = [p.name for p in leftovers if p.name.startswith(".")]
    reserved = [p.name for p in leftovers if not p.name.startswith(".")]
    assert len(hidden) == 1 and len(reserved) == 1 and store.gc() == hidden + reserved
    # and an exception or Ctrl-C inside the write leaves no folder at all
    from smsim.store import store as store_mod

    def boom(ledger, folder):
        raise KeyboardInterrupt

    before = sorted(p.name for p in tmp_path.iterdir())
    original = store_mod.write_daily
    store_mod.write_daily = boom
    try:
        with pytest.raises(KeyboardInterrupt):
            store.record(result)
    finally:
        store_mod.write_daily = original
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(store.list()["run_id"]) == [kept]


BYS = [("run_id",), ("day",), ("smsim/component",), ("day", "smsim/component"), ("lineItem/ResourceId",),
       ("resourceTags/user:team",), ("run_id", "day", "lineItem/ResourceId", "resourceTags/user:team"), ()]


@pytest.mark.parametrize("cost", ["amortized", "unblended"])
def test_daily_aggregates_answer_as_the_full_ledgers_do(tmp_path, result, cost):
    from smsim.api import run_scenario

    other = run_scenario(REPO / "scenarios" / "quickstart.yaml", seed=7)
    store = Store(tmp_path)
    ids = [store.record(result), store.record(other)]
    assert all((tmp_path / i / name).exists() for i in ids for name in (daily_mod.FILE, daily_mod.TOTALS_FILE,
                                                                               daily_mod.COARSE_FILE))
    amount = "smsim/net_cost_usd" if cost == "amortized" else "lineItem/UnblendedCost"
    ledgers = pd.concat([r.ledger.assign(run_id=i) for r, i in zip((result, other), ids, strict=True)],
                        ignore_index=True)
    ledgers["day"] = pd.to_datetime(ledgers["lineItem/UsageStartDate"].astype(str).str[:10])
    fast = {}
    for by in BYS:
        got = store.costs(by, cost=cost)
        coarse = "day" in by and not {"lineItem/ResourceId", "resourceTags/user:team"} & set(by)
        assert got.attrs["source"] == ("ledger_daily_coarse" if coarse else "ledger_daily" if "day" in by
                                       else "ledger_totals")
        fast[by] = got
        if by:
            want = ledgers.groupby([ledgers[c].astype(object).fillna("∅") for c in by], observed=True,
                                   dropna=False)[amount].sum()
            keyed = got.assign(**{c: got[c].astype(object).fillna("∅") for c in by if c != "day"})
            if "day" in by:
                keyed["day"] = pd.to_datetime(keyed["day"])
            got_s = keyed.set_index(list(by))["cost_usd"]
            assert len(got_s) == len(want)
            np.testing.assert_allclose(got_s.reindex(want.index).to_numpy(), want.to_numpy(), atol=0.005)
        else:
            assert got["cost_usd"].iloc[0] == pytest.approx(ledgers[amount].sum(), abs=0.005)
    # the same questions answered from the full ledgers: the aggregates are removed
    for i in ids:
        (tmp_path / i / daily_mod.FILE).unlink()
        (tmp_path / i / daily_mod.TOTALS_FILE).unlink()
        (tmp_path / i / daily_mod.COARSE_FILE).unlink()
    for by in BYS:
        slow = store.costs(by, cost=cost)
        assert slow.attrs["source"] == "ledger"
        pd.testing.assert_frame_equal(slow.reset_index(drop=True), fast[by].reset_index(drop=True),
                                      check_exact=False, atol=0.005, check_dtype=False)


def test_a_question_needing_line_detail_reads_the_ledger(tmp_path, result):
    store = Store(tmp_path)
    store.record(result)
    got = store.costs(["lineItem/UsageType"])
    assert got.attrs["source"] == "ledger"
    want = result.ledger.groupby("lineItem/UsageType", observed=True)["smsim/net_cost_usd"].sum()
    np.testing.assert_allclose(got.set_index("lineItem/UsageType")["cost_usd"].reindex(want.index.astype(str)),
                               want.to_numpy(), atol=0.005)


def test_the_daily_file_equals_the_daily_query_over_the_ledger(tmp_path, result):
    store = Store(tmp_path)
    run_id = store.record(result)
    written = pd.read_parquet(tmp_path / run_id / daily_mod.FILE)
    cols = list(result.ledger.columns)
    again = store.query(daily_mod.daily_sql("ledger", cols)).drop(columns=["run_id"])
    keys = [c for c in written.columns if c not in (daily_mod.LINES, *daily_mod.MEASURES)]
    assert set(again.columns) == set(written.columns)
    norm = [w.assign(**{k: w[k].astype(str) for k in keys}).sort_values(keys).reset_index(drop=True)[list(written.columns)]
            for w in (written, again)]
    assert len(norm[0]) == len(norm[1]) < len(result.ledger)
    assert norm[0]["lines"].sum() == len(result.ledger)
    pd.testing.assert_frame_equal(norm[0], norm[1], check_dtype=False, check_exact=False, atol=1e-9)


def test_costs_refuses_an_unknown_cost_basis(tmp_path):
    from smsim.errors import InputError

    with pytest.raises(InputError, match="amortized or unblended"):
        Store(tmp_path).costs(["run_id"], cost="blended")


def test_runs_costs_cli(tmp_path, result):
    from typer.testing import CliRunner

    from smsim.cli import app

    runner = CliRunner()
    Store(tmp_path).record(result)
    ok = runner.invoke(app, ["runs", "costs", "--by", "smsim/component", "--store", str(tmp_path), "--json"])
    assert ok.exit_code == 0, ok.output
    got = {row["smsim/component"]: row["cost_usd"] for row in __import__("json").loads(ok.output)}
    for component, usd in result.summary["cost_by_component"].items():
        assert got.get(component, 0.0) == pytest.approx(usd, abs=0.005)
    table = runner.invoke(app, ["runs", "costs", "--by", "day", "--by", "resourceTags/user:team",
                                "--store", str(tmp_path)])
    assert table.exit_code == 0 and "from ledger_daily" in table.output, table.output
    for bad in (["--cost", "blended"], ["--by", "no/such_column"]):
        out = runner.invoke(app, ["runs", "costs", *bad, "--store", str(tmp_path)])
        assert out.exit_code == 2, out.output
        assert "Traceback" not in out.output
