"""Billing speed: a year of hourly CUR lines for 40 always-busy endpoints, with a savings plan
and an enterprise discount, priced and summarised.

Baseline printed beside it: the same usage billed for one month, to show the cost is linear
in the number of line items.

    python benchmarks/bench_billing.py [--resources 40] [--days 365]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from smsim.billing import build_ledger
from smsim.billing.summary import summarize
from smsim.pricing import load_catalog
from smsim.scenario.schema import HeldSavingsPlan, PricingOptions
from smsim.sim.meter import Meter


def bill(resources: int, days: int) -> tuple[int, float, float, float]:
    meter = Meter()
    for r in range(resources):
        for day in range(days):
            meter.instance(f"r{r}", "endpoint", "RealTimeInference", "ml.m5.xlarge" if r % 2 else "ml.g5.xlarge",
                           day * 86400 + 600, day * 86400 + 80000, tags={"team": f"t{r % 4}"})
    catalog = load_catalog("builtin")
    pricing = PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=5)], enterprise_discount_pct=3)
    t0 = time.perf_counter()
    ledger = build_ledger(meter.frame(), catalog=catalog, region="us-east-1",
                          horizon_start=datetime(2026, 1, 1, tzinfo=UTC), horizon_s=days * 86400.0, pricing=pricing)
    t1 = time.perf_counter()
    summary = summarize(ledger, catalog)
    t2 = time.perf_counter()
    return len(ledger), t1 - t0, t2 - t1, summary["total_cost_usd"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=40)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(f"{'case':<22}{'lines':>12}{'build_ledger s':>16}{'summarize s':>13}{'lines/s':>12}{'total USD':>14}")
    for label, days in (("one month (baseline)", 30), (f"{args.days} days", args.days)):
        lines, t_build, t_sum, total = bill(args.resources, days)
        print(f"{label:<22}{lines:>12,}{t_build:>16.2f}{t_sum:>13.2f}{lines / (t_build + t_sum):>12,.0f}{total:>14,.2f}")


if __name__ == "__main__":
    main()
