"""Benchmark: a year of a 50-team platform (benchmarks/platform.yaml) billed end to end.

Runs ``smsim.api.run_scenario`` (simulate -> build_ledger -> summarize) on the loaded scenario and
prints, per stage, wall time, plus the ledger's line items, the total USD and the process's peak
RSS, next to the same for the first 30 days (the baseline). Each case runs in a fresh process,
so peaks do not mix, under an address-space limit (``--limit-gb``) so a regression fails instead
of exhausting the machine. Target: the year in under 60 s and 4 GiB.

Also prints the figures of two README answers, billed by the same ledger: managed spot with a
30-minute checkpoint vs on-demand (scenarios/training_spot.yaml, plus the closed form) and idle
shutdown after 60 minutes vs always-on for a team of notebook users. Prices come from the
builtin catalog.

    python benchmarks/bench_platform.py [--days 365] [--baseline-days 30] [--limit-gb 8]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from smsim import api  # noqa: E402
from smsim.api import catalog_for, load_scenario  # noqa: E402
from smsim.billing.ledger import build_ledger  # noqa: E402

PLATFORM = REPO / "benchmarks" / "platform.yaml"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_case(days: float) -> dict:
    """``run_scenario`` on the platform cut to ``days``, each stage timed where run_scenario calls it."""
    import smsim.billing.ledger as ledger_module
    import smsim.billing.summary as summary_module
    import smsim.core.engine as engine_module

    scenario = load_scenario(PLATFORM)
    if days * 86400.0 < scenario.horizon.duration_s:
        scenario = scenario.model_copy(
            update={"horizon": scenario.horizon.model_copy(update={"duration_s": days * 86400.0})}
        )
    stages: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[name] = time.perf_counter() - t0

        return wrapper

    # run_scenario imports these when called, so it runs the timed versions
    engine_module.simulate = timed("simulate", engine_module.simulate)
    ledger_module.build_ledger = timed("build_ledger", ledger_module.build_ledger)
    summary_module.summarize = timed("summarize", summary_module.summarize)
    t0 = time.perf_counter()
    result = api.run_scenario(scenario)
    total_s = time.perf_counter() - t0
    jobs = sum(r.get("jobs", 0) for r in result.summary["resources"] if r["kind"] == "training")
    return {
        "days": days,
        "resources": len(result.summary["resources"]),
        "training_jobs": int(jobs),
        "usage_records": len(result.usage),
        "line_items": len(result.ledger),
        "ledger_mib": result.ledger.memory_usage(deep=True).sum() / 2**20,
        "total_usd": result.summary["total_cost_usd"],
        "run_s": total_s,
        **{f"{k}_s": v for k, v in stages.items()},
        "peak_rss_mib": peak_mib(),
    }


def in_subprocess(days: float, limit_gb: float) -> dict | None:
    limit = int(limit_gb * 2**30)

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [sys.executable, __file__, "--case", str(days)], capture_output=True, text=True, preexec_fn=cap
    )
    if proc.returncode != 0:
        print(f"  {days:g} days failed (limit {limit_gb:g} GiB): {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def platform(days: float, baseline_days: float, limit_gb: float) -> None:
    rows = [(f"first {baseline_days:g} days (baseline)", in_subprocess(baseline_days, limit_gb)),
            (f"{days:g} days", in_subprocess(days, limit_gb))]
    head = (f"{'platform.yaml':<28}{'records':>9}{'lines':>11}{'simulate s':>11}{'billing s':>10}"
            f"{'summarize s':>12}{'run s':>7}{'ledger MiB':>11}{'peak RSS MiB':>13}{'total USD':>15}")
    print(head)
    for label, r in rows:
        if r is None:
            continue
        print(f"{label:<28}{r['usage_records']:>9,}{r['line_items']:>11,}{r['simulate_s']:>11.1f}"
              f"{r['build_ledger_s']:>10.1f}{r['summarize_s']:>12.1f}{r['run_s']:>7.1f}{r['ledger_mib']:>11.0f}"
              f"{r['peak_rss_mib']:>13.0f}{r['total_usd']:>15,.2f}")
    year = rows[-1][1]
    if year is not None:
        print(f"  {year['resources']} resources, {year['training_jobs']:,} training jobs; "
              f"target < 60 s and < 4096 MiB: {'met' if year['run_s'] < 60 and year['peak_rss_mib'] < 4096 else 'MISSED'}")


def bill(usage, scenario) -> float:
    """USD of ``usage`` through the real ledger (list prices, no plans: the scenario's pricing)."""
    ledger = build_ledger(usage, catalog=catalog_for(scenario), region=scenario.region,
                          horizon_start=scenario.horizon.start, horizon_s=scenario.horizon.duration_s,
                          pricing=scenario.pricing)
    return float(ledger["lineItem/UnblendedCost"].sum())


def spot_vs_on_demand() -> None:
    from smsim.resources.managed_spot import JobParams, expected_job

    scenario = load_scenario(REPO / "scenarios" / "training_spot.yaml")
    result = api.run_scenario(scenario)
    usage = result.usage
    for r in result.summary["resources"]:
        mine = usage[usage.resource_id == r["resource_id"]]
        inst = mine[mine.usage_kind == "instance"]
        print(
            f"{r['resource_id']}: {r['jobs']} jobs, completed {r['completed']}, interruptions "
            f"{r['interruptions']}, fallback {r['fallback_runs']}, billable {r['billable_instance_hours']:.1f} "
            f"instance-h, mean elapsed {r['mean_job_elapsed_hours']:.2f} h, SageMaker savings "
            f"(time) {r['sagemaker_savings_pct']:.1f}%, compute USD {bill(inst, scenario):,.0f}, "
            f"all-in USD {r['cost_usd']:,.0f}"
        )
    lam = 8 / 730 / 3600
    p = JobParams(
        work_s=5 * 3600,
        rate_per_s=lam,
        checkpoint_interval_s=1800,
        checkpoint_write_s=60,
        provisioning_s=180,
        download_s=60,
        upload_s=30,
        wait_mean_s=600,
    )
    e = expected_job(p)
    print(
        f"closed form per spot job: elapsed {e['elapsed_s'] / 3600:.3f} h, billable "
        f"{e['billable_s'] / 3600:.3f} h x 8, interruptions {e['interruptions']:.3f}"
    )


def notebooks_idle_vs_always_on() -> None:
    from smsim.scenario.schema import Scenario

    base = {
        "name": "ds-team",
        "users": 10,
        "instance_type": "ml.g5.xlarge",
        "user_instance_types": ["ml.t3.medium"] * 6 + ["ml.m5.xlarge"] * 2 + ["ml.g5.xlarge"] * 2,
        "working_hours": {"start": "09:00", "end": "18:00", "timezone": "Europe/Berlin"},
        "storage_gb_per_user": 20,
    }
    for policy in ("always-on", "idle-shutdown"):
        scenario = Scenario.model_validate(
            {
                "name": "nb",
                "horizon": {"duration_s": "365d"},
                "notebooks": [{**base, "policy": policy, "idle_timeout_s": "60m"}],
            }
        )
        result = api.run_scenario(scenario)
        m = result.summary["resources"][0]
        inst = result.usage[result.usage.usage_kind == "instance"]
        print(
            f"{policy}: {m['instance_hours']:,.0f} instance-h ({m['active_hours']:,.0f} active), "
            f"instances USD {bill(inst, scenario):,.0f}, all-in USD {result.summary['total_cost_usd']:,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--baseline-days", type=float, default=30)
    parser.add_argument("--limit-gb", type=float, default=8, help="address-space limit of each case's process")
    parser.add_argument("--platform-only", action="store_true")
    parser.add_argument("--case", type=float, help=argparse.SUPPRESS)  # internal: one case, JSON out
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(run_case(args.case)))
        return
    platform(args.days, args.baseline_days, args.limit_gb)
    if not args.platform_only:
        spot_vs_on_demand()
        notebooks_idle_vs_always_on()


if __name__ == "__main__":
    main()
