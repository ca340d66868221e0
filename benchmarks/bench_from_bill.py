"""``smsim scenario from-bill`` on a generated account, beside the plain run that made its bill.

Generates an account of ``--resources`` fleets over ``--days`` days whose instance counts change
every hour (seeded), with a savings plan and a discount; runs it and exports its bill as CUR 2.0
(the baseline case: simulate and bill the account), then times ``scenario_from_bill`` on that bill
(import, baseline, validation, simulation of the baseline and reconciliation) and prints the
largest per-resource difference.

    python benchmarks/bench_from_bill.py --resources 50 --days 60
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's smsim

import numpy as np  # noqa: E402
import yaml  # noqa: E402

TYPES = [("ml.m5.xlarge", "RealTimeInference"), ("ml.g5.xlarge", "RealTimeInference"),
         ("ml.c5.2xlarge", "BatchTransform"), ("ml.g5.2xlarge", "Training"), ("ml.t3.medium", "Notebook")]


def account(folder: Path, resources: int, days: int, seed: int = 7) -> dict:
    """The account's scenario data; each fleet's hourly counts in ``folder/steps/rNNN.csv``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    (folder / "steps").mkdir()
    fleets = []
    for i in range(resources):
        itype, comp = TYPES[i % len(TYPES)]
        counts = rng.integers(0, 4, size=days * 24)
        rows = "\n".join(f"{h * 3600},{c}" for h, c in enumerate(counts))
        (folder / "steps" / f"r{i:03d}.csv").write_text(f"offset_s,count\n{rows}\n")
        fleets.append({"name": f"r{i:03d}", "instance_type": itype, "component": comp,
                       "steps_file": f"steps/r{i:03d}.csv", "tags": {"team": f"t{i % 7}"}})
    return {"name": "bench-account", "horizon": {"start": "2026-01-01T00:00:00Z", "duration_s": days * 86400.0},
            "pricing": {"enterprise_discount_pct": 3,
                        "savings_plans": [{"commitment_usd_per_hour": 5.0, "term": "1y", "payment": "no-upfront"}]},
            "fleets": fleets}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    from smsim import api
    from smsim.assess.frombill import scenario_from_bill

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "account.yaml").write_text(yaml.safe_dump(account(tmp, args.resources, args.days)))
        t0 = time.perf_counter()
        run = api.run_scenario(api.load_scenario(tmp / "account.yaml"))
        api.write_run(run, tmp / "run", ledger_format="cur2")
        t_run = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = scenario_from_bill(tmp / "run" / "ledger.cur2.parquet", out=tmp / "baseline.yaml")
        t_base = time.perf_counter() - t0
    rec = result.reconciliation
    worst = float(rec.resources["difference_usd"].abs().max())
    print(f"account: {args.resources} resources x {args.days} days, {len(run.ledger):,} bill lines, "
          f"{run.summary['total_cost_usd']:,.2f} USD")
    print(f"run + CUR 2.0 export (baseline case): {t_run:.1f} s")
    print(f"from-bill (import, baseline, validate, simulate, reconcile): {t_base:.1f} s "
          f"({t_base / t_run:.2f} x the run)")
    print(f"total difference {rec.total['difference_usd']:+.6f} USD, largest per resource {worst:.6f} USD, "
          f"within tolerance: {rec.within_tolerance()}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
