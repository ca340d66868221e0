"""Training that could run on managed spot, priced with smsim's spot closed form.

Each on-demand training resource of the bill is one job of ``n`` instances (its busiest hour's
instance-hours, rounded) and ``W = instance-hours / n`` hours of work. On spot it is interrupted
at the Spot Advisor rate of its type (``lambda`` per instance-hour, so ``n lambda`` per job-hour),
checkpoints every ``tau`` (the optimal interval for a ``CHECKPOINT_WRITE_S`` write, smsim's
``optimal_interval_s``) and restarts after a mean capacity
wait of ``CAPACITY_WAIT_S``. The expected billable time ``B`` is
smsim's ``expected_job`` closed form's; the saving is

    on-demand cost - spot rate x n x B,

and the expected interruption cost is ``spot rate x n x (B - W)``. The what-if runs the same
hours on spot with ``B / W`` times the instance-hours (``count_scale``).
"""

from __future__ import annotations

from smsim.assess.findings import Finding, variant
from smsim.assess.idle import fleets_of
from smsim.bill.baseline import Baseline, resource_name
from smsim.bill.usage import BillUsage
from smsim.resources import managed_spot as spot

CHECKPOINT_WRITE_S = 60.0
CAPACITY_WAIT_S = 600.0


def spot_estimate(instance_type: str, instances: int, work_h: float, region: str, catalog) -> dict[str, float]:
    """Expected billable hours and interruptions of one job on spot (closed form)."""
    bucket, _ = spot.advisor_bucket(instance_type, region, catalog)
    lam = spot.bucket_rate_per_instance_hour(bucket) * instances / 3600.0
    tau = spot.optimal_interval_s(CHECKPOINT_WRITE_S, lam, CAPACITY_WAIT_S)
    e = spot.expected_job(spot.JobParams(work_s=work_h * 3600.0, rate_per_s=lam, checkpoint_interval_s=tau,
                                         checkpoint_write_s=CHECKPOINT_WRITE_S, wait_mean_s=CAPACITY_WAIT_S))
    return {"billable_h": e["billable_s"] / 3600.0, "interruptions": e["interruptions"],
            "checkpoint_interval_s": tau, "bucket": bucket}


def spot_training(usage: BillUsage, baseline: Baseline, catalog) -> list[Finding]:
    region = usage.summary.get("region") or "us-east-1"
    inst = usage.instances
    jobs = inst[(inst["component"] == "Training") & (inst["market"] == "OnDemand")]
    out = []
    for (rid, itype), g in jobs.groupby(["resource", "instance_type"], sort=True):
        hours = float(g["instance_hours"].sum())
        n = max(1, round(float(g["instance_hours"].max())))
        work_h = hours / n
        try:
            spot_rate = catalog.spot_usd_per_hour(itype, "Training", region)
        except Exception:  # noqa: BLE001 - no spot price for this type: nothing to say
            continue
        est = spot_estimate(itype, n, work_h, region, catalog)
        now = float(g["public_cost_usd"].sum())
        spot = spot_rate * n * est["billable_h"]
        interruption = spot_rate * n * (est["billable_h"] - work_h)
        if now - spot <= 0:
            continue
        stretch = est["billable_h"] / work_h
        fleets = [f for f in fleets_of(baseline, rid, "Training") if f["instance_type"] == itype]
        patch = {"fleets": {f["name"]: {"market": "Spot", "count_scale": stretch} for f in fleets}}
        out.append(Finding(
            "spot_training", rid, f"run training {resource_name(rid)} on managed spot",
            f"{hours:.1f} on-demand instance-hours of {itype} ({n} instance(s), {work_h:.2f} h of work) cost "
            f"{now:.2f} USD; on spot at {spot_rate:.4f} USD/h with checkpoints every "
            f"{est['checkpoint_interval_s'] / 60:.0f} min ({CHECKPOINT_WRITE_S:.0f} s writes), Spot Advisor "
            f"bucket {est['bucket']}: {est['interruptions']:.3f} expected interruptions, {est['billable_h']:.3f} "
            f"billable hours, {spot:.2f} USD including {interruption:.2f} USD of expected interruption cost",
            (now - spot) * usage.per_month, "medium",
            variant(f"spot-{fleets[0]['name']}", "managed spot, hours stretched by the expected interruptions",
                    patch) if fleets else None))
    return out
