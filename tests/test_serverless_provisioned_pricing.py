"""Serverless provisioned concurrency is priced only from a catalog that has its two rates.

No sourced price exists for provisioned concurrency, so the built-in catalog has none: a
scenario that uses it must fail validation (exit 2, naming resource, rate, file and line), not
fail after simulating. With both rates imported, the run bills them exactly.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.errors import InputError
from smsim.pricing import load_catalog

SCENARIO = """name: provisioned
region: us-east-1
horizon: {{start: 2026-01-05T00:00:00Z, duration_s: 2h}}
{catalog}models:
  - name: m
    latency: {{"*": {{kind: lognormal, median_s: 0.1, p99_s: 0.3}}}}
endpoints:
  - kind: serverless
    name: scorer
    model: m
    memory_size_mb: 2048
    max_concurrency: 4
    provisioned_concurrency: 2
    workload: {{kind: poisson, rate_per_s: 0.01}}
"""
PROVISIONED_LINE = 13

RATES = """rate_key,region,unit,usd,as_of,source
serverless_provisioned_gb_second,us-east-1,USD per GB-second,0.000005,2026-11-20,test price sheet
serverless_provisioned_inference_gb_second,us-east-1,USD per GB-second,0.00001,2026-11-20,test price sheet
"""


def test_builtin_catalog_has_no_provisioned_concurrency_price():
    catalog = load_catalog("builtin")
    for key in ("serverless_provisioned_gb_second", "serverless_provisioned_inference_gb_second"):
        with pytest.raises(InputError, match="unknown rate"):
            catalog.rate(key, "us-east-1")


def test_validate_names_the_missing_rate_the_resource_and_the_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(catalog=""), encoding="utf-8")
    for command in (["validate", str(path)], ["run", str(path), "--no-store", "-q"]):
        out = CliRunner().invoke(app, command)
        assert out.exit_code == 2, out.output
        text = " ".join(out.output.split())
        assert "serverless 'scorer'" in text and "'serverless_provisioned_gb_second'" in text
        assert "'serverless_provisioned_inference_gb_second'" in text
        assert f"s.yaml:{PROVISIONED_LINE}" in text and "endpoints[0].provisioned_concurrency" in text
        assert "smsim pricing import" in text and "Traceback" not in out.output


def test_with_imported_rates_provisioned_concurrency_is_billed(tmp_path):
    from smsim.api import run_scenario

    rates = tmp_path / "rates.csv"
    rates.write_text(RATES, encoding="utf-8")
    imported = CliRunner().invoke(app, ["pricing", "import", str(rates), "--out", str(tmp_path / "prices")])
    assert imported.exit_code == 0, imported.output
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(catalog="pricing: {catalog: prices}\n"), encoding="utf-8")
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0
    result = run_scenario(path)
    lines = result.ledger[result.ledger["lineItem/UsageType"].astype(str).str.contains("rovisioned", case=False)]
    by_key = lines.groupby(lines["lineItem/UnblendedRate"])["lineItem/UsageAmount"].sum()
    # 2 containers x 2 GB x 7200 s = 28,800 GB-s at $0.000005 = $0.144 (one line per clock hour)
    assert by_key[0.000005] == pytest.approx(28_800)
    prov = lines[lines["lineItem/UnblendedRate"] == 0.000005]["lineItem/UnblendedCost"].sum()
    assert prov == pytest.approx(0.144)


def test_declared_rates_cover_every_rate_the_quickstart_is_billed_at():
    """Contract: validate's list of needed rates (``needed_rates``) holds every rate key the run
    meters, over the scenario that touches every kind of resource."""
    from pathlib import Path

    from smsim.api import load_scenario, run_scenario
    from smsim.scenario.checks import needed_rates

    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "quickstart.yaml")
    declared = {key for _, _, key in needed_rates(scenario)}
    metered = set(run_scenario(scenario).usage["rate_key"].dropna().astype(str)) - {""}
    assert metered, "the quickstart meters non-instance usage"
    assert metered <= declared, f"metered but not declared: {sorted(metered - declared)}"


def test_a_catalog_without_storage_rates_is_refused_at_validation(tmp_path):
    import json
    import shutil

    catalog = tmp_path / "bare"
    shutil.copytree(load_catalog("builtin").directory, catalog, ignore=shutil.ignore_patterns("rates.csv", "*.md"))
    (catalog / "catalog.json").write_text(json.dumps({"name": "bare", "as_of": "2026-09-27", "extends": None}))
    (catalog / "rates.csv").write_text("rate_key,region,unit,usd,as_of,source\n", encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: nb\nregion: us-east-1\nhorizon: {start: 2026-01-05T00:00:00Z, duration_s: 1d}\n"
        "pricing: {catalog: bare}\n"
        "notebooks:\n  - {name: ds, users: 2, storage_gb_per_user: 20}\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert "notebook-instance 'ds' is billed at rate 'ml_storage_notebook_gb_month'" in text
    assert "s.yaml:6:" in text and "notebooks[0].storage_gb_per_user" in text
