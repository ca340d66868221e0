"""Billing speed: a year of hourly CUR lines for 40 always-busy endpoints, with a savings plan
and an enterprise discount, priced and summarised.

Baseline printed beside it: the same usage billed for one month, to show the cost is linear
in the number of line items. A third case meters the same year as 30-minute records (24x the
records): records of one resource in one hour are one line item, so the lines stay the same and
the cost grows with records only through the hourly split. Peak RSS is the process's after each
case.

    python benchmarks/bench_billing.py [--resources 40] [--days 365]
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime

from smsim.billing import build_ledger
from smsim.billing.summary import summarize
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.pricing.options import HeldSavingsPlan, PricingOptions


def bill(resources: int, days: int, piece_s: float | None = None) -> tuple[int, int, float, float, float]:
    meter = Meter()
    for r in range(resources):
        itype = "ml.m5.xlarge" if r % 2 else "ml.g5.xlarge"
        tags = {"team": f"t{r % 4}"}
        for day in range(days):
            start, end = day * 86400 + 600, day * 86400 + 80000
            step = piece_s or (end - start)
            t = start
            while t < end:
                meter.instance(f"r{r}", "endpoint", "RealTimeInference", itype, t, min(t + step, end), tags=tags)
                t += step
    usage = meter.frame()
    catalog = load_catalog("builtin")
    pricing = PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=5)], enterprise_discount_pct=3)
    t0 = time.perf_counter()
    ledger = build_ledger(usage, catalog=catalog, region="us-east-1",
                          horizon_start=datetime(2026, 1, 1, tzinfo=UTC), horizon_s=days * 86400.0, pricing=pricing)
    t1 = time.perf_counter()
    summary = summarize(ledger, catalog)
    t2 = time.perf_counter()
    return len(usage), len(ledger), t1 - t0, t2 - t1, summary["total_cost_usd"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=40)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(f"{'case':<30}{'records':>11}{'lines':>11}{'build_ledger s':>16}{'summarize s':>13}{'lines/s':>11}"
          f"{'total USD':>14}{'peak MiB':>10}")
    cases = (("one month (baseline)", 30, None), (f"{args.days} days", args.days, None),
             (f"{args.days} days, 30-min records", args.days, 1800.0))
    for label, days, piece_s in cases:
        records, lines, t_build, t_sum, total = bill(args.resources, days, piece_s)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{label:<30}{records:>11,}{lines:>11,}{t_build:>16.2f}{t_sum:>13.2f}{lines / (t_build + t_sum):>11,.0f}"
              f"{total:>14,.2f}{peak:>10.0f}")


if __name__ == "__main__":
    main()
