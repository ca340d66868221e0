"""The built-in catalog says only what its sources say.

Every on-demand price, instance spec and spot figure must equal a row of the research facts it was
built from (``../shared/pricing``; skipped when that folder is absent). Independently of those
files, the decisions the catalog documents are pinned: which side of each price conflict won, the
assumed savings-plan discounts staying under the published ceiling with GPU families below CPU
families, and the rate keys other modules price with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smsim.pricing import builtin_catalog_dir, load_catalog

SHARED_PRICING = Path(__file__).resolve().parents[1].parent / "shared" / "pricing"
REGION = "us-east-1"

#: Rate keys the engine's resources meter with (see smsim.core.meter ``rate_key``).
RATE_KEYS = [
    "serverless_compute_gb_second", "serverless_data_gb", "endpoint_data_in_gb", "endpoint_data_out_gb",
    "ml_storage_gb_month", "ml_storage_notebook_gb_month", "studio_storage_gb_month", "s3_standard_gb_month",
    "s3_standard_ia_gb_month", "s3_one_zone_ia_gb_month", "s3_glacier_ir_gb_month",
    "s3_glacier_flexible_gb_month", "s3_deep_archive_gb_month", "s3_put_requests_per_1000",
    "s3_get_requests_per_1000", "s3_glacier_flexible_retrieval_gb", "data_transfer_out_internet_gb",
    "data_transfer_inter_region_gb", "data_transfer_cross_az_gb",
]


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(builtin_catalog_dir() / name, dtype={"as_of": str})


@pytest.fixture
def facts() -> Path:
    if not SHARED_PRICING.is_dir():
        pytest.skip(f"research facts not available: {SHARED_PRICING} does not exist")
    return SHARED_PRICING


def test_every_ondemand_price_is_a_sourced_fact(facts):
    ours = _table("ondemand.csv")
    found = pd.concat(
        [pd.read_csv(facts / f) for f in ("ondemand_us-east-1.csv", "ondemand_other_regions.csv")],
        ignore_index=True,
    )[["region", "instance_type", "component", "usd_per_hour"]]
    merged = ours.merge(found, on=["region", "instance_type", "component"], how="left", suffixes=("", "_fact"))
    unsourced = merged[merged["usd_per_hour_fact"].isna()]
    assert unsourced.empty, unsourced[["region", "instance_type", "component"]].to_string()
    differs = merged[merged["usd_per_hour"] != merged["usd_per_hour_fact"]]
    assert differs.empty, differs.to_string()


def test_instance_specs_and_spot_figures_match_their_sources(facts):
    ours = _table("instances.csv").merge(pd.read_csv(facts / "instances.csv"), on="instance_type", suffixes=("", "_f"))
    for col in ("vcpu", "memory_gib", "accelerator_count", "accelerator_memory_gib"):
        both_empty = ours[col].isna() & ours[f"{col}_f"].isna()
        assert ((ours[col] == ours[f"{col}_f"]) | both_empty).all(), col
    spot = _table("spot.csv").merge(
        pd.read_csv(facts / "spot_advisor_snapshot.csv"),
        left_on=["region", "instance_type"], right_on=["region", "sagemaker_equivalent"],
    )
    assert len(spot) == len(_table("spot.csv"))
    assert (spot["ec2_savings_pct"] == spot["savings_vs_ec2_ondemand_pct"]).all()
    assert (spot["interruption_bucket"] == spot["interruption_frequency_bucket"]).all()


def test_bucket_upper_bounds_are_the_feeds_own():
    """Spot Advisor ``ranges``: <5% max 5, 5-10% max 11, 10-15% max 16, 15-20% max 22, >20% max 100."""
    spot = _table("spot.csv")
    feed_max = {"<5%": 5, "5-10%": 11, "10-15%": 16, "15-20%": 22, ">20%": 100}
    assert (spot["interruption_bucket"].map(feed_max) == spot["interruption_max_pct"]).all()


def test_every_row_has_a_source_and_an_as_of():
    for name in ("instances.csv", "ondemand.csv", "unavailable.csv", "rates.csv", "spot.csv", "savings_plan_rates.csv"):
        table = _table(name)
        for col in ("source", "as_of"):
            assert table[col].astype(str).str.strip().ne("").all() and table[col].notna().all(), (name, col)


def test_conflicts_resolved_as_documented():
    c = load_catalog("builtin")
    # ml.m5.xlarge: 0.23 (three price-list-derived sources) over 0.269 (one blog)
    assert c.ondemand_usd_per_hour("ml.m5.xlarge", "RealTimeInference", REGION) == 0.23
    # 2026 price list over older FMBench values (37.688 / 113.068)
    assert c.ondemand_usd_per_hour("ml.p5.48xlarge", "Training", REGION) == 63.296
    assert c.ondemand_usd_per_hour("ml.p4d.24xlarge", "Training", REGION) == pytest.approx(25.2513)
    # a component row beats the rounded 'Any' row: g5.xlarge Training 1.408, hosting 1.41
    assert c.ondemand_usd_per_hour("ml.g5.xlarge", "Training", REGION) == 1.408
    assert c.ondemand_usd_per_hour("ml.g5.xlarge", "RealTimeInference", REGION) == 1.41
    # the EU bill (Dec 2023) prices eu-west-1 itself, never us-east-1's figure
    assert c.ondemand_usd_per_hour("ml.m5.xlarge", "Training", "eu-west-1") == 0.257


def test_spot_is_on_demand_times_one_minus_advisor_savings():
    """g5.xlarge us-east-1: Training 1.408, EC2 advisor saves 59 % -> 1.408 x 0.41 = 0.57728 $/h."""
    c = load_catalog("builtin")
    assert c.spot_usd_per_hour("ml.g5.xlarge", "Training", REGION) == pytest.approx(0.57728, abs=1e-12)
    assert c.spot_usd_per_hour("ml.g5.xlarge", "Training", REGION, discount_pct=70) == pytest.approx(0.4224)


def test_assumed_sp_discounts_stay_under_the_ceiling_and_gpu_below_cpu():
    sp = _table("savings_plan_rates.csv")
    assumed = sp[sp["assumed"].astype(str).str.lower() == "true"]
    assert assumed["discount_pct"].max() <= 64
    assert assumed["reasoning"].astype(str).str.contains("ASSUMED").all()
    c = load_catalog("builtin")
    for term in ("1y", "3y"):
        for payment in ("no-upfront", "partial-upfront", "all-upfront"):
            cpu = 1 - c.sp_rate_usd_per_hour("ml.m5.xlarge", "Training", REGION, term, payment) / 0.23
            gpu = 1 - c.sp_rate_usd_per_hour("ml.g5.xlarge", "Training", REGION, term, payment) / 1.408
            assert gpu < cpu, (term, payment)
    # more upfront and a longer term never discount less
    d = {(t, p): 1 - c.sp_rate_usd_per_hour("ml.c5.2xlarge", "Processing", REGION, t, p) / 0.408
         for t in ("1y", "3y") for p in ("no-upfront", "partial-upfront", "all-upfront")}
    for t in ("1y", "3y"):
        assert d[(t, "no-upfront")] <= d[(t, "partial-upfront")] <= d[(t, "all-upfront")]
    for p in ("no-upfront", "partial-upfront", "all-upfront"):
        assert d[("1y", p)] < d[("3y", p)]


@pytest.mark.parametrize("rate_key", RATE_KEYS)
def test_every_metered_rate_key_is_priced_in_us_east_1(rate_key):
    rate = load_catalog("builtin").rate(rate_key, REGION)
    assert rate.usd >= 0 and rate.unit and rate.source and rate.as_of


def test_serverless_compute_is_two_hundred_thousandths_per_gb_second():
    """0.0000200 $/s at 1024 MB ... 0.0001200 $/s at 6144 MB: a constant 0.00002 $ per GB-second."""
    assert load_catalog("builtin").rate("serverless_compute_gb_second", REGION).usd == pytest.approx(0.00002)
