"""Benchmark: what recording a run in the results store costs, and how fast ``runs query`` answers.

The platform year (benchmarks/platform.yaml) is simulated once, written with ``smsim run
--out`` (``api.write_run``) the previous way (``DataFrame.to_parquet``, snappy) and the current
way (Arrow built from the ledger's numpy columns, zstd), then recorded five ways, each timed
and measured in bytes the store adds (files it shares with ``--out`` by hard link add none):

- the store as it was first (the baseline): the ledger copied, a ``run_id`` column added,
  written again beside the series (each with ``run_id`` and ``resource_id`` added);
- the previous store, with ``--out`` (ledger linked) and without (ledger written by the store,
  snappy, no daily aggregate);
- the store now, with and without ``--out`` (the ledger written once, zstd, plus its daily
  aggregate ``ledger.daily.parquet``).

Then 100 runs are recorded in one store each way (the same ledger linked under 100 run ids)
and queried: the index, one run's ledger, and cost by run, by component and day, and by team
over all 100 runs, from the full ledgers (the previous store) and from the daily aggregates
(``Store.costs``). Targets: recording adds under 2 s and under 10 % of the ledger's size;
queries over 100 runs in under 1 s.

    python benchmarks/bench_store.py [--days 365] [--runs 100]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PLATFORM = REPO / "benchmarks" / "platform.yaml"


def new_bytes(folder: Path) -> tuple[int, int]:
    """(bytes only this folder holds, bytes it shares with another name by hard link)."""
    own = shared = 0
    for p in folder.rglob("*"):
        if p.is_file():
            st = p.stat()
            if st.st_nlink > 1:
                shared += st.st_size
            else:
                own += st.st_size
    return own, shared


def legacy_record(result, folder: Path) -> None:
    """What recording wrote before (the baseline): copies with id columns, a fresh YAML dump."""
    import pandas as pd
    import yaml

    from smsim.store.records import index_frame, json_default, record_from_result, resources_frame

    folder.mkdir(parents=True)
    rec = record_from_result(result)
    rec.scenario_yaml = yaml.safe_dump(json.loads(result.scenario.model_dump_json()), sort_keys=False,
                                       allow_unicode=True)  # as it was: dumped again for the store
    row = rec.index_row("legacy", pd.Timestamp.now(tz="UTC"))
    (folder / "summary.json").write_text(json.dumps(rec.summary, indent=2, default=json_default) + "\n")
    index_frame([row]).to_parquet(folder / "run.parquet", index=False)
    (folder / "scenario.resolved.yaml").write_text(rec.scenario_yaml)
    ledger = rec.ledger.copy()
    ledger.insert(0, "run_id", "legacy")
    ledger.to_parquet(folder / "ledger.parquet", index=False)
    resources_frame("legacy", rec.summary).to_parquet(folder / "resources.parquet", index=False)
    (folder / "series").mkdir()
    for name, frame in rec.series.items():
        out = frame.copy()
        out.insert(0, "resource_id", name)
        out.insert(0, "run_id", "legacy")
        out.to_parquet(folder / "series" / f"{name}.parquet", index=isinstance(out.index, pd.DatetimeIndex))


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def previous_write_parquet(ledger, path) -> None:
    """How a ledger was written before (the baseline): through pandas, snappy."""
    import pandas as pd

    text = [c for c, t in ledger.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    other = [c for c in ledger.columns if c not in text]
    ledger.to_parquet(path, index=False, use_dictionary=text, write_statistics=other)


@contextlib.contextmanager
def previous_store():
    """Within it, the store and ``write_run`` behave as before: pandas + snappy ledgers and no
    daily aggregate."""
    from smsim.billing import export
    from smsim.store import store as store_mod

    saved = export.write_parquet, store_mod.write_daily
    export.write_parquet, store_mod.write_daily = previous_write_parquet, lambda ledger, folder: False
    try:
        yield
    finally:
        export.write_parquet, store_mod.write_daily = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()

    from smsim import api
    from smsim.store import Store

    scenario = api.load_scenario(PLATFORM)
    if args.days * 86400.0 < scenario.horizon.duration_s:
        scenario = scenario.model_copy(
            update={"horizon": scenario.horizon.model_copy(update={"duration_s": args.days * 86400.0})})
    run_s, result = timed(api.run_scenario, scenario)
    with tempfile.TemporaryDirectory(prefix="smsim-bench-store-") as tmp:
        tmp = Path(tmp)
        out, prev_out = tmp / "out", tmp / "prev-out"
        with previous_store():
            prev_write_s, _ = timed(api.write_run, result, prev_out)
        write_s, _ = timed(api.write_run, result, out)
        prev_bytes = (prev_out / "ledger.parquet").stat().st_size
        ledger_bytes = (out / "ledger.parquet").stat().st_size
        legacy_s, _ = timed(legacy_record, result, tmp / "legacy" / "run")
        stores = {name: Store(tmp / name) for name in ("prev-linked", "prev-alone", "linked", "alone")}
        with previous_store():
            prev_linked_s, prev_linked_id = timed(stores["prev-linked"].record, result, written=prev_out)
            prev_alone_s, prev_alone_id = timed(stores["prev-alone"].record, result)
        linked_s, linked_id = timed(stores["linked"].record, result, written=out)
        alone_s, alone_id = timed(stores["alone"].record, result)
        daily_bytes = (stores["linked"].run_dir(linked_id) / "ledger.daily.parquet").stat().st_size
        rows = [("first store (copy, id columns)", legacy_s, new_bytes(tmp / "legacy" / "run")[0], prev_bytes),
                ("previous, --out (linked)", prev_linked_s,
                 new_bytes(stores["prev-linked"].run_dir(prev_linked_id))[0], prev_bytes),
                ("previous, no --out", prev_alone_s, new_bytes(stores["prev-alone"].run_dir(prev_alone_id))[0],
                 prev_bytes),
                ("now, --out (linked)", linked_s, new_bytes(stores["linked"].run_dir(linked_id))[0], ledger_bytes),
                ("now, no --out", alone_s, new_bytes(stores["alone"].run_dir(alone_id))[0], ledger_bytes)]
        print(f"platform, {args.days:g} days: {len(result.ledger):,} ledger lines, {len(result.series)} series; "
              f"simulated in {run_s:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"{'--out write (the ledger)':<32}{'s':>8}{'ledger MiB':>12}")
        print(f"{'previous (pandas, snappy)':<32}{prev_write_s:>8.2f}{prev_bytes / 2**20:>12.1f}")
        print(f"{'now (arrow, zstd)':<32}{write_s:>8.2f}{ledger_bytes / 2**20:>12.1f}")
        print(f"\n{'recording':<32}{'s':>8}{'MiB added':>12}{'of ledger':>11}")
        for name, secs, added, of in rows:
            print(f"{name:<32}{secs:>8.2f}{added / 2**20:>12.1f}{added / of:>11.1%}")
        print(f"(now: ledger.daily.parquet {daily_bytes / 2**20:.1f} MiB of that; recording without --out vs "
              f"writing --out: previous {prev_alone_s - prev_write_s:+.2f} s, now {alone_s - write_s:+.2f} s)")

        many = {"previous": Store(tmp / "many-prev"), "now": Store(tmp / "many")}
        spent = {}
        with previous_store():
            t0 = time.perf_counter()
            [many["previous"].record(result, written=prev_out) for _ in range(args.runs)]
            spent["previous"] = (time.perf_counter() - t0) / args.runs
        t0 = time.perf_counter()
        ids = [many["now"].record(result, written=out) for _ in range(args.runs)]
        spent["now"] = (time.perf_counter() - t0) / args.runs
        ledger_sql = {
            "cost per run": 'select run_id, sum("smsim/net_cost_usd") from ledger group by 1',
            "cost by component and day": 'select "smsim/component", cast(left(cast("lineItem/UsageStartDate" as '
                                         'varchar), 10) as date) as day, sum("smsim/net_cost_usd") from ledger '
                                         "group by 1, 2",
            "cost by team": 'select "resourceTags/user:team", sum("smsim/net_cost_usd") from ledger group by 1',
        }
        by = {"cost per run": ["run_id"], "cost by component and day": ["smsim/component", "day"],
              "cost by team": ["resourceTags/user:team"]}
        print(f"\n{args.runs} runs in one store (recorded in {spent['previous']:.2f} s each before, "
              f"{spent['now']:.2f} s now); load average {os.getloadavg()[0]:.1f}:")
        print(f"{'query':<40}{'previous s':>11}{'now s':>9}  rows  (now answered from)")
        simple = [
            ("index: kinds and total cost", "select kind, count(*) as runs, sum(total_cost_usd) as usd "
             "from runs group by 1"),
            ("index: 5 most expensive runs", "select run_id, total_cost_usd from runs order by 2 desc limit 5"),
            ("one run's ledger by team", 'select "resourceTags/user:team" as team, sum("lineItem/UnblendedCost") '
             f"from ledger where run_id = '{ids[-1]}' group by 1"),
            (f"series rows of all {args.runs} runs", "select count(*) from series"),
        ]
        for name, sql in simple:
            before, _ = timed(many["previous"].query, sql.replace(ids[-1], many["previous"].list()["run_id"].iloc[-1]))
            now, frame = timed(many["now"].query, sql)
            print(f"{name:<40}{before:>11.2f}{now:>9.2f}  {len(frame):>4}  (the same views)")
        for name, sql in ledger_sql.items():
            before, _ = timed(many["previous"].query, sql)
            now, frame = timed(many["now"].costs, by[name])
            print(f"{name + f', all {args.runs} runs':<40}{before:>11.2f}{now:>9.2f}  {len(frame):>4}  "
                  f"({frame.attrs['source']})")
        full, _ = timed(many["now"].query, ledger_sql["cost per run"])
        print(f"(now, cost per run from the full zstd ledgers instead: {full:.2f} s)")


if __name__ == "__main__":
    main()
