"""Benchmark: what recording a run in the results store costs, and how fast ``runs query`` answers.

The platform year (benchmarks/platform.yaml) is simulated once, written with ``smsim run
--out`` (``api.write_run``), then recorded three ways, each timed and measured in bytes the
store adds (files it shares with ``--out`` by hard link add none):

- the store as it was (the baseline): the ledger copied, a ``run_id`` column added, written again
  beside the series (each with ``run_id`` and ``resource_id`` added) and a fresh YAML dump;
- the store now, the run written with ``--out``: its ledger and resolved scenario linked, the
  series in one file;
- the store now, no ``--out``: the ledger written once, by the store.

Then 100 runs are recorded in one store (the same ledger linked under 100 run ids) and
``Store.query`` is timed on the index, on one run's ledger, on all 100 runs' ledgers and on
their series (one file per run).
Targets: recording adds under 2 s and under 10 % of the ledger's size; index queries over 100
runs in under 1 s.

    python benchmarks/bench_store.py [--days 365] [--runs 100]
"""

from __future__ import annotations

import argparse
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
        out = tmp / "out"
        write_s, _ = timed(api.write_run, result, out)
        ledger_bytes = (out / "ledger.parquet").stat().st_size
        legacy_s, _ = timed(legacy_record, result, tmp / "legacy" / "run")
        store = Store(tmp / "store")
        linked_s, linked_id = timed(store.record, result, written=out)
        alone = Store(tmp / "alone")
        alone_s, alone_id = timed(alone.record, result)
        rows = [("the store as it was (copy)", legacy_s, new_bytes(tmp / "legacy" / "run")[0]),
                ("now, run written with --out", linked_s, new_bytes(store.run_dir(linked_id))[0]),
                ("now, no --out (written once)", alone_s, new_bytes(alone.run_dir(alone_id))[0])]
        print(f"platform, {args.days:g} days: {len(result.ledger):,} ledger lines, ledger.parquet "
              f"{ledger_bytes / 2**20:,.1f} MiB, {len(result.series)} series; simulated in {run_s:.1f} s, "
              f"written with --out in {write_s:.1f} s; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} CPUs")
        print(f"{'recording':<32}{'s':>8}{'MiB added':>12}{'of ledger':>11}")
        for name, secs, added in rows:
            print(f"{name:<32}{secs:>8.2f}{added / 2**20:>12.1f}{added / ledger_bytes:>11.1%}")

        many = Store(tmp / "many")
        t0 = time.perf_counter()
        ids = [many.record(result, written=out) for _ in range(args.runs)]
        record_many = (time.perf_counter() - t0) / args.runs
        queries = [
            ("index: kinds and total cost", "select kind, count(*) as runs, sum(total_cost_usd) as usd "
             "from runs group by 1"),
            ("index: 5 most expensive runs", "select run_id, total_cost_usd from runs order by 2 desc limit 5"),
            ("one run's ledger by team", 'select "resourceTags/user:team" as team, sum("lineItem/UnblendedCost") '
             f"from ledger where run_id = '{ids[-1]}' group by 1"),
            (f"all {args.runs} ledgers, cost per run", 'select run_id, sum("lineItem/UnblendedCost") '
             "from ledger group by 1"),
            (f"series rows of all {args.runs} runs", "select count(*) from series"),
        ]
        print(f"\n{args.runs} runs in one store (recorded in {record_many:.2f} s each); Store.query, "
              f"load average {os.getloadavg()[0]:.1f}:")
        for name, sql in queries:
            secs, frame = timed(many.query, sql)
            print(f"{name:<36}{secs:>8.2f} s  ({len(frame)} rows)")


if __name__ == "__main__":
    main()
