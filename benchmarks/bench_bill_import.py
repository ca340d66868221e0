"""Import a generated legacy CUR through ``smsim bill import`` beside plain ``pandas.read_csv``.

Writes ``--lines`` (default 10^7) lines of a CUR CSV (hourly SageMaker endpoint, training, spot,
savings-plan and EC2 lines with two tag columns) with DuckDB, then runs each case in its own
process, so each peak RSS is that case's alone:

* ``smsim``: :func:`smsim.bill.import_bill` into a temporary results store (every check, the
  decoding and the Parquet ledger written);
* ``pandas``: ``pandas.read_csv`` of the same file (no checks, nothing written).

    python benchmarks/bench_bill_import.py --lines 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's smsim

USAGE_TYPES = ["USE1-Host:ml.m5.xlarge", "USE1-Host:ml.g5.xlarge", "USE1-TrSpt:ml.g5.12xlarge",
               "USE1-Train:VolumeUsage.gp2", "USE1-Host:Data-Bytes-Out", "USE1-ServerlessInf:GB-Seconds",
               "USE1-BoxUsage:m5.large", "Host:ml.c5.large"]


def generate(path: Path, n: int) -> None:
    import duckdb

    types = "[" + ", ".join(f"'{u}'" for u in USAGE_TYPES) + "]"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""copy (
        select 'li-' || i as "identity/LineItemId",
               '2026-01-01T00:00:00Z' as "bill/BillingPeriodStartDate",
               strftime(timestamp '2026-01-01' + to_hours(cast(i % 744 as integer)), '%Y-%m-%dT%H:%M:%SZ') as "lineItem/UsageStartDate",
               strftime(timestamp '2026-01-01' + to_hours(cast(i % 744 as integer) + 1), '%Y-%m-%dT%H:%M:%SZ') as "lineItem/UsageEndDate",
               case when i % 8 = 6 then 'AmazonEC2' else 'AmazonSageMaker' end as "lineItem/ProductCode",
               {types}[cast(i % 8 as integer) + 1] as "lineItem/UsageType",
               'RunInstance' as "lineItem/Operation",
               case when i % 13 = 0 then 'SavingsPlanCoveredUsage' else 'Usage' end as "lineItem/LineItemType",
               'arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep-' || (i % 997) as "lineItem/ResourceId",
               1.0 as "lineItem/UsageAmount", 0.23 as "lineItem/UnblendedRate",
               round(0.23 + (i % 100) / 1000.0, 6) as "lineItem/UnblendedCost",
               '$0.23 per Hosting ml.m5.xlarge hour in US East (N. Virginia)' as "lineItem/LineItemDescription",
               'USD' as "lineItem/CurrencyCode", 'OnDemand' as "pricing/term", 'Hrs' as "pricing/unit",
               0.23 as "pricing/publicOnDemandCost",
               case when i % 13 = 0 then 'arn:aws:savingsplans::123456789012:savingsplan/sp-1' else '' end as "savingsPlan/SavingsPlanARN",
               case when i % 13 = 0 then 0.15 else 0 end as "savingsPlan/SavingsPlanEffectiveCost",
               'team-' || (i % 7) as "resourceTags/user:team",
               'proj-' || (i % 31) as "resourceTags/user:project"
        from range({n}) t(i)) to '{path}' (header, delimiter ',')""")
    con.close()


def case(name: str, path: Path) -> dict:
    t0 = time.perf_counter()
    if name == "smsim":
        from smsim.bill import import_bill

        with tempfile.TemporaryDirectory() as store:
            summary = import_bill(path, store=store)
        lines = summary["lines"]
    else:
        import pandas as pd

        lines = len(pd.read_csv(path))
    elapsed = time.perf_counter() - t0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": name, "lines": lines, "seconds": elapsed, "lines_per_s": lines / elapsed, "peak_rss_mib": rss_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--case", choices=["smsim", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help="an existing CUR CSV instead of generating one")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(case(args.case, args.file)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-bill-") as tmp:
        path = args.file or Path(tmp) / "cur.csv"
        if args.file is None:
            t0 = time.perf_counter()
            generate(path, args.lines)
            print(f"generated {args.lines:,} lines, {path.stat().st_size / 2**20:,.0f} MiB in "
                  f"{time.perf_counter() - t0:.1f} s")
        rows = []
        for name in ("smsim", "pandas"):
            out = subprocess.run([sys.executable, __file__, "--case", name, "--file", str(path)],
                                 capture_output=True, text=True, env=os.environ)
            if out.returncode != 0:
                print(f"{name}: failed\n{out.stderr[-2000:]}")
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{'case':<8} {'lines':>12} {'seconds':>9} {'lines/s':>12} {'peak RSS MiB':>13}")
        for r in rows:
            print(f"{r['case']:<8} {r['lines']:>12,} {r['seconds']:>9.1f} {r['lines_per_s']:>12,.0f} {r['peak_rss_mib']:>13,.0f}")


if __name__ == "__main__":
    main()
