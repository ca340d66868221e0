"""Benchmark: a year of a 50-team platform (benchmarks/platform.yaml) - wall time and peak memory.

Also prints the figures of two README answers: managed spot with a 30-minute checkpoint vs
on-demand (scenarios/training_spot.yaml, plus the closed form) and idle shutdown after 60 minutes
vs always-on for a team of notebook users. Prices come from the builtin catalog.

    python benchmarks/bench_platform.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic import Field  # noqa: E402

from smsim.scenario import schema  # noqa: E402
from smsim.scenario.batch import BatchJob, ProcessingJob  # noqa: E402
from smsim.scenario.notebooks import NotebookSpec  # noqa: E402
from smsim.scenario.storage import Storage  # noqa: E402
from smsim.scenario.training import TrainingJobSpec  # noqa: E402
from smsim.sim import batch, notebooks, storage, training  # noqa: E402, F401  (register builders)
from smsim.sim.engine import simulate  # noqa: E402

MY_SECTIONS = ["training_jobs", "batch_jobs", "processing_jobs", "notebooks", "storage"]


def scenario_class():
    """The Scenario with the training/batch/notebook/storage sections (until schema.py has them)."""
    if "training_jobs" in schema.Scenario.model_fields:
        return schema.Scenario

    class PlatformScenario(schema.Scenario):
        training_jobs: list[TrainingJobSpec] = Field(default_factory=list)
        batch_jobs: list[BatchJob] = Field(default_factory=list)
        processing_jobs: list[ProcessingJob] = Field(default_factory=list)
        notebooks: list[NotebookSpec] = Field(default_factory=list)
        storage: list[Storage] = Field(default_factory=list)

        def resources(self):
            for section in list(schema.SECTIONS) + MY_SECTIONS:
                for spec in getattr(self, section, None) or []:
                    yield section, spec

    PlatformScenario.model_rebuild(_types_namespace=dict(globals()))
    return PlatformScenario


def load(path: Path):
    return scenario_class().model_validate(yaml.safe_load(path.read_text()))


def price(usage, region: str = "us-east-1"):
    """USD of a usage frame at builtin-catalog list prices (on-demand, spot, storage, amounts)."""
    from smsim.pricing.catalog import load_catalog

    cat = load_catalog()
    total = 0.0
    for r in usage.itertuples(index=False):
        if r.usage_kind == "instance":
            hours = (r.end_s - r.start_s) / 3600 * r.quantity
            comp = "Training" if r.component == "TrainingWarmPool" else r.component
            rate = (
                cat.spot_usd_per_hour(r.instance_type, comp, region)
                if r.market == "Spot"
                else cat.ondemand_usd_per_hour(r.instance_type, comp, region)
            )
            total += hours * rate
        elif r.usage_kind == "storage":
            total += (
                r.quantity * (r.end_s - r.start_s) / (730 * 3600) * cat.rate(r.rate_key, region).usd
            )
        else:
            total += r.quantity * cat.rate(r.rate_key, region).usd
    return total


def platform() -> None:
    scenario = load(REPO / "benchmarks" / "platform.yaml")
    t0 = time.perf_counter()
    result = simulate(scenario)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    jobs = sum(r.metrics.get("jobs", 0) for r in result.resources if r.kind == "training")
    print(
        f"platform.yaml: {len(list(scenario.resources()))} resources, {jobs} training jobs, "
        f"{len(result.usage)} usage records; simulate {wall:.1f} s, peak RSS {peak:.0f} MiB"
    )


def spot_vs_on_demand() -> None:
    from smsim.sim.spot import JobParams, expected_job

    scenario = load(REPO / "scenarios" / "training_spot.yaml")
    result = simulate(scenario)
    for r in result.resources:
        m = r.metrics
        usage = result.usage[result.usage.resource_id == r.resource_id]
        inst = usage[usage.usage_kind == "instance"]
        print(
            f"{r.resource_id}: {m['jobs']} jobs, completed {m['completed']}, interruptions "
            f"{m['interruptions']}, fallback {m['fallback_runs']}, billable {m['billable_instance_hours']:.1f} "
            f"instance-h, mean elapsed {m['mean_job_elapsed_hours']:.2f} h, SageMaker savings "
            f"(time) {m['sagemaker_savings_pct']:.1f}%, compute USD {price(inst):,.0f}, "
            f"all-in USD {price(usage):,.0f}"
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
    base = {
        "name": "ds-team",
        "users": 10,
        "instance_type": "ml.g5.xlarge",
        "user_instance_types": ["ml.t3.medium"] * 6 + ["ml.m5.xlarge"] * 2 + ["ml.g5.xlarge"] * 2,
        "working_hours": {"start": "09:00", "end": "18:00", "timezone": "Europe/Berlin"},
        "storage_gb_per_user": 20,
    }
    cls = scenario_class()
    for policy in ("always-on", "idle-shutdown"):
        sc = cls.model_validate(
            {
                "name": "nb",
                "horizon": {"duration_s": "365d"},
                "notebooks": [{**base, "policy": policy, "idle_timeout_s": "60m"}],
            }
        )
        result = simulate(sc)
        m = result.resources[0].metrics
        inst = result.usage[result.usage.usage_kind == "instance"]
        print(
            f"{policy}: {m['instance_hours']:,.0f} instance-h ({m['active_hours']:,.0f} active), "
            f"instances USD {price(inst):,.0f}, all-in USD {price(result.usage):,.0f}"
        )


if __name__ == "__main__":
    platform()
    spot_vs_on_demand()
    notebooks_idle_vs_always_on()
