"""The built-in catalog's facts and rules, and validation of malformed user catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smsim.errors import InputError
from smsim.pricing import builtin_catalog_dir, load_catalog
from smsim.pricing import rates as cost

MINI = Path(__file__).parent / "fixtures" / "pricing" / "mini"


@pytest.fixture(scope="module")
def builtin():
    return load_catalog("builtin")


def test_builtin_is_found_dated_and_sourced(builtin):
    assert builtin.name == "builtin"
    assert builtin.as_of == "2026-09-27"
    assert (builtin_catalog_dir() / "SOURCES.md").is_file()
    for name, table in builtin.tables.items():
        assert (table["as_of"].str.len() > 0).all(), name
        assert (table["source"].str.len() > 10).all(), name
    assert load_catalog("builtin") is builtin  # cached


def test_builtin_on_demand_facts(builtin):
    assert builtin.ondemand_usd_per_hour("ml.m5.xlarge", "RealTimeInference", "us-east-1") == 0.23  # not 0.269
    # a component row overrides the type's Any row: g5.xlarge Training 1.408 vs 1.41 elsewhere
    assert builtin.ondemand_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1") == 1.408
    assert builtin.ondemand_usd_per_hour("ml.g5.xlarge", "RealTimeInference", "us-east-1") == 1.41
    assert builtin.ondemand_usd_per_hour("ml.m5.xlarge", "BatchTransform", "eu-west-1") == 0.257
    spec = builtin.instance("ml.p4d.24xlarge")
    assert (spec.accelerator_count, spec.accelerator_memory_gib) == (8, 320)


def test_types_a_component_does_not_offer_are_refused_with_suggestions(builtin):
    with pytest.raises(InputError, match=r"ml.r6i.4xlarge is not offered for Training \(did you mean 'ml.r7i.4xlarge'"):
        builtin.check_offered("ml.r6i.4xlarge", "Training", "us-east-1")
    with pytest.raises(InputError, match="not offered for Training"):
        builtin.ondemand_usd_per_hour("ml.t3.medium", "Training", "us-east-1")
    assert builtin.ondemand_usd_per_hour("ml.r6i.4xlarge", "Notebook", "us-east-1") == 1.21
    assert "ml.r6i.4xlarge" not in builtin.instance_types("Training", "us-east-1")
    assert "ml.r6i.4xlarge" in builtin.instance_types("Studio", "us-east-1")


def test_unknown_type_component_and_region(builtin):
    with pytest.raises(InputError, match="did you mean 'ml.g5.xlarge'"):
        builtin.check_offered("ml.g5.xlarg", "Training", "us-east-1")
    with pytest.raises(InputError, match="did you mean 'Training'"):
        builtin.check_offered("ml.g5.xlarge", "Trainin", "us-east-1")
    with pytest.raises(InputError, match="no on-demand price for ml.g5.xlarge in us-west-2"):
        builtin.ondemand_usd_per_hour("ml.g5.xlarge", "Training", "us-west-2")


def test_spot_price_and_interruption(builtin):
    # Spot Advisor us-east-1 g5.xlarge: >20% bucket, 59% savings -> 1.408 x 0.41
    assert builtin.spot_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1") == pytest.approx(1.408 * 0.41)
    assert builtin.spot_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1", discount_pct=70) == pytest.approx(1.408 * 0.3)
    assert builtin.spot_interruption("ml.g5.xlarge", "us-east-1") == (">20%", 1.0)
    assert builtin.spot_interruption("ml.c5.xlarge", "us-east-1") == ("<5%", 0.05)
    with pytest.raises(InputError, match="only for Training"):
        builtin.spot_usd_per_hour("ml.g5.xlarge", "RealTimeInference", "us-east-1")


def test_assumed_savings_plan_discounts_differ_by_family_and_respect_the_ceiling(builtin):
    sp = builtin.tables["savings_plan_rates.csv"]
    assumed = sp[sp["assumed"] == "true"]
    assert assumed["discount_pct"].max() <= 64
    m5 = builtin.sp_rate_usd_per_hour("ml.m5.xlarge", "Training", "us-east-1", "3y", "all-upfront")
    g5 = builtin.sp_rate_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1", "3y", "all-upfront")
    assert m5 == pytest.approx(0.23 * (1 - 0.64))
    assert g5 == pytest.approx(1.408 * (1 - 0.52))
    assert builtin.sp_rate_is_assumed("ml.g5.xlarge", "Training", "us-east-1", "1y", "no-upfront")


def test_listed_savings_plan_rate_beats_a_family_discount():
    mini = load_catalog(str(MINI))
    assert mini.sp_rate_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1", "1y", "no-upfront") == 0.55
    assert mini.sp_rate_usd_per_hour("ml.g5.xlarge", "RealTimeInference", "us-east-1", "1y", "no-upfront") == 0.80
    with pytest.raises(InputError, match="no savings-plan rate"):
        mini.sp_rate_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1", "3y", "no-upfront")


def test_rate_region_fallback(builtin):
    assert builtin.rate("ml_storage_gb_month", "us-east-1").usd == 0.14
    serverless = builtin.rate("serverless_compute_gb_second", "us-east-1")
    assert (serverless.usd, serverless.region) == (0.00002, "unspecified")
    assert "unspecified" in serverless.note
    data_in = builtin.rate("endpoint_data_in_gb", "us-east-1")
    assert data_in.region == "eu-west-1" and "eu-west-1 price is used" in data_in.note
    s3 = builtin.rate("s3_standard_gb_month", "eu-west-1")
    assert s3.region == "us-east-1" and s3.note
    with pytest.raises(InputError, match="did you mean 's3_standard_gb_month'"):
        builtin.rate("s3_standard_gb_mnth", "us-east-1")


def test_cost_arithmetic():
    assert cost.instance_cost_usd(1.41, 5400) == pytest.approx(2.115)
    assert cost.instance_cost_usd(1.0, 1, count=3) == pytest.approx(3 / 3600)
    assert cost.storage_cost_usd(0.14, 100, 730 * 3600) == pytest.approx(14.0)
    assert cost.spot_usd_per_hour(1.0, 60) == pytest.approx(0.4)
    assert cost.savings_pct(0.20, 0.12) == pytest.approx(40.0)


def _copy_mini(tmp_path: Path) -> Path:
    target = tmp_path / "cat"
    shutil.copytree(MINI, target)
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "column", "message"),
    [
        ("ondemand.csv", "ml.m5.2xlarge,Any,0.40", "ml.m5.2xlarge,Any,-0.40", 3, 4, "finite number >= 0"),
        ("ondemand.csv", "ml.m5.2xlarge,Any,0.40", "ml.m5.2xlarge,Any,nan", 3, 4, "finite number >= 0"),
        ("ondemand.csv", "ml.c5.xlarge,Any,0.20,2026-01-01", "ml.c5.xlarge,Any,0.20,", 4, 5, "as_of is empty"),
        ("ondemand.csv", "ml.g5.xlarge,Training", "ml.g5.xlarge,Trainng", 6, 3, "did you mean 'Training'"),
        ("spot.csv", ">20%,100,60", ">20%,100,160", 2, 5, "percentage"),
    ],
)
def test_malformed_catalog_names_file_line_and_column(tmp_path, file, old, new, line, column, message):
    root = _copy_mini(tmp_path)
    path = root / file
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(InputError, match=message) as info:
        load_catalog(str(root))
    assert (Path(info.value.file).name, info.value.line, info.value.column) == (file, line, column)


def test_missing_column_and_missing_directory(tmp_path):
    root = _copy_mini(tmp_path)
    (root / "rates.csv").write_text("rate_key,region,unit,usd,source\n")
    with pytest.raises(InputError, match="missing column.*as_of") as info:
        load_catalog(str(root))
    assert info.value.line == 1
    with pytest.raises(InputError, match="neither 'builtin' nor a catalog directory"):
        load_catalog(str(tmp_path / "nope"))
