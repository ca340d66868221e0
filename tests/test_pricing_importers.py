"""Importing AWS price lists and savings-plan offering rates into user catalogs; the pricing CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsim.billing import build_ledger
from smsim.cli import app
from smsim.core.meter import Meter
from smsim.errors import InputError
from smsim.pricing import load_catalog
from smsim.pricing.importers import import_prices, parse_usage_type, read_price_list_csv
from smsim.pricing.options import HeldSavingsPlan, PricingOptions

FIXTURES = Path(__file__).parent / "fixtures" / "pricing"
CSV = FIXTURES / "AmazonSageMaker_sample.csv"
SP_JSON = FIXTURES / "sp_offering_rates.json"


@pytest.mark.parametrize(
    ("usage_type", "expected"),
    [
        ("USE1-Host:ml.g5.xlarge", ("us-east-1", "RealTimeInference", "ml.g5.xlarge")),
        ("Host:ml.m5.xlarge", ("us-east-1", "RealTimeInference", "ml.m5.xlarge")),
        ("Hosting:ml.m5.xlarge", ("us-east-1", "RealTimeInference", "ml.m5.xlarge")),
        ("APS3-Train:ml.r5.4xlarge", ("ap-south-1", "Training", "ml.r5.4xlarge")),
        ("EU-Studio:JupyterLab-ml.t3.medium", ("eu-west-1", "Studio", "ml.t3.medium")),
        ("USE1-TrSpt:ml.g5.xlarge", None),
        ("USE1-TrainingPlanUpfrontFee:ml.p4d.24xlarge", None),
        ("USE1-Notebk:VolumeUsage.gp2", None),
    ],
)
def test_parse_usage_type(usage_type, expected):
    assert parse_usage_type(usage_type) == expected


def test_bulk_csv_keeps_hourly_on_demand_instance_rows_only():
    rows = read_price_list_csv(CSV)
    got = {(r.region, r.instance_type, r.component): r.usd_per_hour for r in rows.itertuples()}
    assert got == {
        ("us-east-1", "ml.g5.2xlarge", "Training"): 1.515,
        ("us-west-2", "ml.g5.2xlarge", "RealTimeInference"): 1.212,
        ("us-east-1", "ml.m5.xlarge", "RealTimeInference"): 0.23,  # unprefixed usage type
        ("eu-west-1", "ml.t3.medium", "Studio"): 0.055,
    }
    assert set(rows["as_of"]) == {"2026-09-01"}
    assert rows["source"].str.contains("SKU").all()


def test_imported_catalog_extends_builtin_and_prices_a_new_region(tmp_path):
    out = tmp_path / "aws"
    result = import_prices(CSV, out, name="aws-2026-09")
    assert result["rows"] == 4
    catalog = load_catalog(str(out))
    assert catalog.name == "aws-2026-09"
    assert catalog.ondemand_usd_per_hour("ml.g5.2xlarge", "RealTimeInference", "us-west-2") == 1.212
    # rows the import does not cover come from the built-in catalog
    assert catalog.ondemand_usd_per_hour("ml.p5.48xlarge", "Training", "us-east-1") == 63.296
    assert catalog.rate("ml_storage_gb_month", "us-east-1").usd == 0.14
    # savings-plan rates: add the listed ones to the same catalog
    import_prices(SP_JSON, out, as_of="2026-11-20")
    catalog = load_catalog(str(out))
    assert catalog.name == "aws-2026-09"
    assert catalog.sp_rate_usd_per_hour("ml.m5.xlarge", "RealTimeInference", "us-east-1", "1y", "no-upfront") == 0.161
    assert catalog.sp_rate_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1", "3y", "all-upfront") == 0.75
    assert not catalog.sp_rate_is_assumed("ml.m5.xlarge", "RealTimeInference", "us-east-1", "1y", "no-upfront")
    # the listed rate drives billing: 1 h of m5.xlarge hosting under a $0.161/h plan costs exactly $0.161
    m = Meter()
    m.instance("ep", "endpoint", "RealTimeInference", "ml.m5.xlarge", 0, 3600)
    ledger = build_ledger(m.frame(), catalog=catalog, region="us-east-1", horizon_start=datetime(2026, 1, 1, tzinfo=UTC),
                          horizon_s=3600, pricing=PricingOptions(savings_plans=[HeldSavingsPlan(commitment_usd_per_hour=0.161)]))
    assert ledger["lineItem/UnblendedCost"].sum() == pytest.approx(0.161)
    assert ledger.attrs["catalog"]["name"] == "aws-2026-09"


def test_sp_json_skips_spot_and_other_plan_types(tmp_path):
    import_prices(SP_JSON, tmp_path / "sp", as_of="2026-11-20")
    rows = load_catalog(str(tmp_path / "sp")).tables["savings_plan_rates.csv"]
    listed = rows[rows["assumed"] == "false"]
    assert set(listed["instance_pattern"]) == {"ml.m5.xlarge", "ml.g5.xlarge", "ml.m4.16xlarge"}


def test_bad_inputs_are_input_errors(tmp_path):
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text('"FormatVersion","v1.0"\n"Name","Value"\n')
    with pytest.raises(InputError, match="SKU"):
        import_prices(bad_csv, tmp_path / "x")
    bad_price = tmp_path / "price.csv"
    bad_price.write_text(CSV.read_text().replace('"1.5150000000"', '"abc"'))
    with pytest.raises(InputError, match="PricePerUnit") as info:
        import_prices(bad_price, tmp_path / "y")
    assert info.value.line == 7
    bad_json = tmp_path / "rates.json"
    bad_json.write_text(json.dumps({"searchResults": [{"savingsPlanOffering": {"planType": "SageMaker",
                        "durationSeconds": 12, "paymentOption": "No Upfront"}, "rate": "1", "usageType": "USE1-Host:ml.m5.xlarge"}]}))
    with pytest.raises(InputError, match="unknown term") as info:
        import_prices(bad_json, tmp_path / "z")
    assert info.value.path == "searchResults[0].savingsPlanOffering"


def test_cli_show_and_import(tmp_path):
    runner = CliRunner()
    shown = runner.invoke(app, ["pricing", "show", "-t", "ml.g5.xlarge", "-c", "Training", "--json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["catalog"]["as_of"] == "2026-09-27"
    assert document["prices"][0]["usd_per_hour"] == 1.408
    table = runner.invoke(app, ["pricing", "show", "--component", "Notebook"])
    assert table.exit_code == 0 and "catalog builtin (as of 2026-09-27)" in table.stdout
    refused = runner.invoke(app, ["pricing", "show", "-t", "ml.r6i.4xlarge", "-c", "Training"])
    assert refused.exit_code == 2 and "not offered for Training" in refused.output
    imported = runner.invoke(app, ["pricing", "import", str(CSV), "--out", str(tmp_path / "c"), "--name", "mine"])
    assert imported.exit_code == 0, imported.output
    assert "imported 4 rows" in imported.stdout
    shown = runner.invoke(app, ["pricing", "show", "-t", "ml.g5.2xlarge", "-r", "us-west-2", "--catalog", str(tmp_path / "c"), "--json"])
    assert json.loads(shown.stdout)["prices"][0]["usd_per_hour"] == 1.212
    missing = runner.invoke(app, ["pricing", "import", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "d")])
    assert missing.exit_code == 2


def test_sp_rates_take_their_date_from_the_data_or_from_as_of_never_the_file_time(tmp_path):
    import os

    copy = tmp_path / "sp.json"
    copy.write_text(SP_JSON.read_text(encoding="utf-8"), encoding="utf-8")
    os.utime(copy, (1_700_000_000, 1_700_000_000))  # 2023-11-14: a copy's time, not a price date
    with pytest.raises(InputError, match="--as-of") as info:
        import_prices(copy, tmp_path / "a")
    assert info.value.path == "searchResults[0]"
    result = import_prices(copy, tmp_path / "b", as_of="2026-11-20")
    rows = load_catalog(str(tmp_path / "b")).tables["savings_plan_rates.csv"]
    listed = rows[rows["assumed"] == "false"]
    assert set(listed.loc[listed["source"].str.contains("offering"), "as_of"]) == {"2026-11-20"}
    assert result["as_of"] == "2026-11-20"
    # a date in the data wins over --as-of
    document = json.loads(copy.read_text(encoding="utf-8"))
    document["searchResults"][0]["effectiveDate"] = "2026-10-01T00:00:00Z"
    copy.write_text(json.dumps(document), encoding="utf-8")
    import_prices(copy, tmp_path / "c", as_of="2026-11-20")
    rows = load_catalog(str(tmp_path / "c")).tables["savings_plan_rates.csv"]
    imported = rows[rows["source"].str.contains("offering")].set_index("instance_pattern")["as_of"]
    assert imported["ml.m5.xlarge"] == "2026-10-01" and imported["ml.g5.xlarge"] == "2026-11-20"
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        import_prices(copy, tmp_path / "d", as_of="last tuesday")


def test_a_rates_csv_imports_non_instance_rates_with_their_source(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "rate_key,region,unit,usd,as_of,source\n"
        "serverless_provisioned_gb_second,us-east-1,USD per GB-second,0.000004,2026-11-20,my price sheet\n"
        "serverless_provisioned_inference_gb_second,us-east-1,USD per GB-second,0.000011,2026-11-20,my price sheet\n",
        encoding="utf-8",
    )
    result = import_prices(rates, tmp_path / "prices")
    assert result["file"] == "rates.csv" and result["rows"] == 2
    catalog = load_catalog(str(tmp_path / "prices"))
    rate = catalog.rate("serverless_provisioned_gb_second", "us-east-1")
    assert (rate.usd, rate.as_of, rate.source) == (0.000004, "2026-11-20", "my price sheet")
    assert catalog.rate("serverless_compute_gb_second", "us-east-1").usd == 2e-05  # the rest is built in
    bad = tmp_path / "bad.csv"
    bad.write_text("rate_key,region,unit,usd,as_of,source\nx,us-east-1,USD,-1,2026-01-01,me\n", encoding="utf-8")
    with pytest.raises(InputError, match="usd must be a finite number") as info:
        import_prices(bad, tmp_path / "nope")
    assert (info.value.line, info.value.column) == (2, 4)


def test_pricing_show_says_which_catalog_it_shows(tmp_path):
    runner = CliRunner()
    builtin = runner.invoke(app, ["pricing", "show", "-t", "ml.g5.xlarge", "-c", "Training"])
    assert builtin.exit_code == 0 and "--catalog DIR" in builtin.stdout
    imported = runner.invoke(app, ["pricing", "import", str(CSV), "--out", str(tmp_path / "c"), "--name", "mine"])
    assert f"smsim pricing show --catalog {tmp_path / 'c'}" in imported.stdout.replace("\n", "")
    shown = runner.invoke(app, ["pricing", "show", "-t", "ml.g5.2xlarge", "-r", "us-west-2", "--catalog", str(tmp_path / "c")])
    assert shown.exit_code == 0 and "catalog mine" in shown.stdout
