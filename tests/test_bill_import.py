"""``smsim bill import``: legacy CUR, CUR 2.0 and FOCUS fixtures with hand-computed totals, the
shared FOCUS sample, the CLI, and refused input.

The fixture bill (the same eleven lines in every format, in three parts over two months):

====  ================================  ========================  ========  ============
line  usage type                        line-item type            cost      amortized
====  ================================  ========================  ========  ============
1     USE1-Host:ml.m5.xlarge            Usage                       0.23      0.23
2     USE1-Host:ml.m5.xlarge            SavingsPlanCoveredUsage     0.23      0.15
3     USE1-Host:ml.m5.xlarge            SavingsPlanNegation        -0.23      0
4     SageMakerSP:1yrNoUpfront          SavingsPlanRecurringFee     0.20      0.05 (0.20 - 0.15 used)
5     USE1-TrSpt:ml.g5.xlarge           Usage (managed spot)        0.60      0.60
6     USE1-Train:VolumeUsage.gp2        Usage (ML storage)          0.01      0.01
7     USE1-Host:Data-Bytes-Out          Usage (data out)            0.02      0.02
8     USE1-ServerlessInf:GB-Seconds     Usage (serverless)          0.02      0.02
9     USE1-BoxUsage:m5.large (EC2)      Usage (other service)       0.096     0.096
10    Host:ml.m5.xlarge (no prefix)     Usage                       0.23      0.23
11    SageMakerSP:1yrAllUpfront         SavingsPlanUpfrontFee     100.00      0
====  ================================  ========================  ========  ============

Total 101.406 USD billed, 1.406 USD amortized. Lines 1-5 are part 1 and 6-9 part 2 of January
2026 (one folder), 10-11 February 2026 (its own folder). Team tags: ml on lines 1-3 (0.23 USD),
research on line 5 (0.60 USD).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.bill import import_bill
from smsim.bill.usage_types import decode, split_usage_type
from smsim.cli import app
from smsim.errors import InputError

ARN = "arn:aws:savingsplans::123456789012:savingsplan/sp-abc"
EP = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat"
JOB = "arn:aws:sagemaker:us-east-1:123456789012:training-job/ft"
# (hour start, product, usage type, line type, resource, amount, rate, cost, public od, sp effective,
#  used, total commitment, team tag)
LINES = [
    ("2026-01-01T00:00:00Z", "AmazonSageMaker", "USE1-Host:ml.m5.xlarge", "Usage", EP, 1, 0.23, 0.23, 0.23, 0, 0, 0, "ml"),
    ("2026-01-01T01:00:00Z", "AmazonSageMaker", "USE1-Host:ml.m5.xlarge", "SavingsPlanCoveredUsage", EP, 1, 0.23, 0.23, 0.23, 0.15, 0, 0, "ml"),
    ("2026-01-01T01:00:00Z", "AmazonSageMaker", "USE1-Host:ml.m5.xlarge", "SavingsPlanNegation", EP, 1, -0.23, -0.23, 0, 0, 0, 0, "ml"),
    ("2026-01-01T01:00:00Z", "MachineLearningSavingsPlans", "SageMakerSP:1yrNoUpfront", "SavingsPlanRecurringFee", ARN, 1, 0.2, 0.20, 0, 0, 0.15, 0.20, ""),
    ("2026-01-01T02:00:00Z", "AmazonSageMaker", "USE1-TrSpt:ml.g5.xlarge", "Usage", JOB, 2, 0.3, 0.60, 1.0, 0, 0, 0, "research"),
    ("2026-01-01T02:00:00Z", "AmazonSageMaker", "USE1-Train:VolumeUsage.gp2", "Usage", JOB, 0.1, 0.1, 0.01, 0.01, 0, 0, 0, ""),
    ("2026-01-01T02:00:00Z", "AmazonSageMaker", "USE1-Host:Data-Bytes-Out", "Usage", EP, 1, 0.02, 0.02, 0.02, 0, 0, 0, ""),
    ("2026-01-01T02:00:00Z", "AmazonSageMaker", "USE1-ServerlessInf:GB-Seconds", "Usage", "risk", 1000, 0.00002, 0.02, 0.02, 0, 0, 0, ""),
    ("2026-01-01T02:00:00Z", "AmazonEC2", "USE1-BoxUsage:m5.large", "Usage", "i-0abc", 1, 0.096, 0.096, 0.096, 0, 0, 0, ""),
    ("2026-02-01T00:00:00Z", "AmazonSageMaker", "Host:ml.m5.xlarge", "Usage", EP, 1, 0.23, 0.23, 0.23, 0, 0, 0, ""),
    ("2026-02-01T00:00:00Z", "MachineLearningSavingsPlans", "SageMakerSP:1yrAllUpfront", "SavingsPlanUpfrontFee", ARN, 1, 100, 100.0, 0, 0, 0, 0, ""),
]
PARTS = [("2026-01/part-1", LINES[:5]), ("2026-01/part-2", LINES[5:9]), ("2026-02/part-1", LINES[9:])]
TOTAL, NET = 101.406, 1.406
BY_COMPONENT = {"RealTimeInference": 0.48, "SavingsPlan": 100.2, "Training": 0.61, "ServerlessInference": 0.02,
                "AmazonEC2": 0.096}
BY_CLASS = {"on_demand": 0.46, "savings_plan_covered": 0.23, "savings_plan_negation": -0.23,
            "savings_plan_commitment": 0.20, "savings_plan_upfront": 100.0, "spot": 0.60, "storage": 0.01,
            "metered": 0.136}


def _end(start: str) -> str:
    t = pd.Timestamp(start) + pd.Timedelta(hours=1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(start: str) -> str:
    return start[:8] + "01T00:00:00Z"


def cur_rows(lines, first_id=0):
    return [{
        "identity/LineItemId": f"id{first_id + i}", "bill/BillingPeriodStartDate": _month(s),
        "lineItem/UsageStartDate": s, "lineItem/UsageEndDate": _end(s), "lineItem/ProductCode": p,
        "lineItem/UsageType": u, "lineItem/LineItemType": t, "lineItem/ResourceId": r, "lineItem/UsageAmount": a,
        "lineItem/UnblendedRate": rate, "lineItem/UnblendedCost": c, "lineItem/CurrencyCode": "USD",
        "pricing/publicOnDemandCost": od, "savingsPlan/SavingsPlanARN": ARN if "SavingsPlan" in t else "",
        "savingsPlan/SavingsPlanEffectiveCost": eff, "savingsPlan/UsedCommitment": used,
        "savingsPlan/TotalCommitmentToDate": total, "resourceTags/user:team": team,
    } for i, (s, p, u, t, r, a, rate, c, od, eff, used, total, team) in enumerate(lines)]


def cur2_rows(lines, first_id=0, json_tags=False):
    out = []
    for i, (s, p, u, t, r, a, rate, c, od, eff, used, total, team) in enumerate(lines):
        tags = {"user_team": team} if team else {}
        out.append({
            "identity_line_item_id": f"id{first_id + i}", "bill_billing_period_start_date": pd.Timestamp(_month(s)),
            "line_item_usage_start_date": pd.Timestamp(s), "line_item_usage_end_date": pd.Timestamp(_end(s)),
            "line_item_product_code": p, "line_item_usage_type": u, "line_item_line_item_type": t,
            "line_item_resource_id": r, "line_item_usage_amount": float(a), "line_item_unblended_rate": float(rate),
            "line_item_unblended_cost": float(c), "line_item_currency_code": "USD",
            "pricing_public_on_demand_cost": float(od),
            "savings_plan_savings_plan_a_r_n": ARN if "SavingsPlan" in t else None,
            "savings_plan_savings_plan_effective_cost": float(eff), "savings_plan_used_commitment": float(used),
            "savings_plan_total_commitment_to_date": float(total),
            "resource_tags": json.dumps(tags) if json_tags else list(tags.items()),
        })
    return out


def focus_rows(lines, first_id=0):
    out = []
    for i, (s, p, u, t, r, a, rate, c, od, eff, used, total, team) in enumerate(lines):
        category = "Purchase" if t.endswith("Fee") else "Usage"
        effective = {"SavingsPlanCoveredUsage": eff, "SavingsPlanNegation": 0.0, "SavingsPlanUpfrontFee": 0.0,
                     "SavingsPlanRecurringFee": total - used}.get(t, c)
        out.append({
            "Id": f"id{first_id + i}", "BillingPeriodStart": _month(s).replace("T", " ").rstrip("Z"),
            "ChargePeriodStart": s.replace("T", " ").rstrip("Z"), "ChargePeriodEnd": _end(s).replace("T", " ").rstrip("Z"),
            "ServiceName": {"AmazonSageMaker": "Amazon SageMaker", "AmazonEC2": "Amazon Elastic Compute Cloud"}.get(p, p),
            "x_ServiceCode": p, "x_UsageType": u, "ChargeCategory": category,
            "ChargeFrequency": {"SavingsPlanUpfrontFee": "One-Time", "SavingsPlanRecurringFee": "Recurring"}.get(t, "Usage-Based"),
            "CommitmentDiscountId": ARN if "SavingsPlan" in t else "NULL",
            "CommitmentDiscountStatus": "Used" if t == "SavingsPlanCoveredUsage" else "NULL",
            "PricingCategory": "Dynamic" if "TrSpt" in u else "Committed" if "Covered" in t else "Standard",
            "x_LineItemType": t if t == "SavingsPlanNegation" else "NULL",
            "ResourceId": r, "ConsumedQuantity": a, "ListUnitPrice": rate, "BilledCost": c, "EffectiveCost": effective,
            "ListCost": od, "BillingCurrency": "USD", "RegionId": "us-east-1",
            "Tags": json.dumps({"user:team": team}) if team else "NULL",
        })
    return out


def write_bill(root: Path, fmt: str) -> Path:
    """The fixture bill in ``fmt``, in three parts: CSV, gzipped CSV and Parquet."""
    ids = 0
    for (name, lines), kind in zip(PARTS, ("csv", "csv.gz", "parquet"), strict=True):
        rows = {"cur": cur_rows, "cur2": cur2_rows, "focus": focus_rows}[fmt](lines, ids) if fmt != "cur2" or kind == "parquet" \
            else cur2_rows(lines, ids, json_tags=True)
        ids += len(lines)
        frame = pd.DataFrame(rows)
        path = root / f"{name}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "parquet":
            if fmt == "cur2":
                import pyarrow as pa
                import pyarrow.parquet as pq

                tags = pa.array(frame.pop("resource_tags").tolist(), type=pa.map_(pa.string(), pa.string()))
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).append_column("resource_tags", tags), path)
            else:  # Parquet has real nulls where FOCUS CSV writes NULL
                frame.replace("NULL", None).to_parquet(path, index=False)
        elif kind == "csv.gz":
            with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
                frame.to_csv(fh, index=False)
        else:
            frame.to_csv(path, index=False)
    return root


def ledger_of(summary: dict) -> pd.DataFrame:
    from smsim.store import Store

    return pd.read_parquet(Store().run_dir(summary["run_id"]) / "ledger.parquet")


def _cents(d: dict) -> dict:
    return {k: round(v, 6) for k, v in d.items() if round(v, 6) != 0 or k in ("BatchTransform",)}


@pytest.mark.parametrize("fmt", ["cur", "cur2", "focus"])
def test_fixture_bill_totals_by_hand(tmp_path, fmt):
    summary = import_bill(write_bill(tmp_path / "bill", fmt))
    assert summary["format"] == fmt and summary["lines"] == 11 and len(summary["files"]) == 3
    assert summary["total_cost_usd"] == pytest.approx(TOTAL, abs=1e-9)
    assert summary["net_cost_usd"] == pytest.approx(NET, abs=1e-9)
    assert _cents(summary["cost_by_component"]) == pytest.approx(BY_COMPONENT, abs=1e-9)
    assert _cents(summary["cost_by_pricing_class"]) == pytest.approx(BY_CLASS, abs=1e-9)
    assert summary["cost_by_tag"]["team"] == pytest.approx({"research": 0.60, "ml": 0.23}, abs=1e-9)
    assert summary["cost_by_month"] == pytest.approx({"2026-01-01T00:00:00Z": 1.176, "2026-02-01T00:00:00Z": 100.23})
    ledger = ledger_of(summary)
    assert len(ledger) == 11 and ledger["run_id"].nunique() == 1
    spot = ledger[ledger["lineItem/UsageType"] == "USE1-TrSpt:ml.g5.xlarge"].iloc[0]
    assert (spot["smsim/market"], spot["smsim/instance_type"], spot["smsim/component"]) == ("Spot", "ml.g5.xlarge", "Training")
    bare = ledger[ledger["lineItem/UsageType"] == "Host:ml.m5.xlarge"].iloc[0]
    assert (bare["smsim/component"], bare["smsim/instance_type"], bare["smsim/pricing_class"]) == (
        "RealTimeInference", "ml.m5.xlarge", "on_demand")
    usage = dict(zip(ledger["lineItem/UsageType"], ledger["smsim/usage"], strict=True))
    assert usage["USE1-Train:VolumeUsage.gp2"] == "storage" and usage["USE1-Host:Data-Bytes-Out"] == "data_out"
    assert usage["USE1-ServerlessInf:GB-Seconds"] == "serverless_gb_seconds"
    ec2 = ledger[ledger["lineItem/ProductCode"] == "AmazonEC2"].iloc[0]
    assert ec2["smsim/resource_kind"] == "other_service" and ec2["smsim/component"] == "AmazonEC2"
    assert set(ledger.loc[ledger["smsim/savings_plan"] != "", "smsim/savings_plan"]) == {"sp-abc"}
    assert ledger["smsim/hour"].max() == 31 * 24  # February 1st 00:00 is hour 744 of the bill


def test_decode_usage_types_table():
    assert split_usage_type("USE1-Host:ml.m5.xlarge") == ("us-east-1", "Host", "ml.m5.xlarge")
    assert split_usage_type("Host:ml.m5.xlarge") == ("", "Host", "ml.m5.xlarge")
    assert split_usage_type("EU-Train:VolumeUsage.gp2") == ("eu-west-1", "Train", "VolumeUsage.gp2")
    assert decode("AmazonSageMaker", "USE1-Studio:JupyterLab-ml.t3.medium", "Usage")[:3] == (
        "Studio", "studio", "ml.t3.medium")
    assert decode("AmazonSageMaker", "APN1-Notebk:ml.t3.medium", "SavingsPlanCoveredUsage")[3:6] == (
        "ap-northeast-1", "OnDemand", "savings_plan_covered")
    assert decode("AmazonSageMaker", "USE1-Host:Data-Bytes-In", "Usage")[-1] == "data_in"
    assert decode("AmazonEC2", "USE1-BoxUsage:m5.large", "Credit")[5] == "credit"


def test_shared_focus_sample(shared_data, tmp_path):
    path = shared_data / "focus-billing-sample" / "focus_sample.csv"
    if not path.exists():
        pytest.skip(f"FOCUS sample not available: {path} does not exist")
    summary = import_bill(path)
    raw = pd.read_csv(path, keep_default_na=False, na_values=["NULL"])
    assert summary["format"] == "focus" and summary["lines"] == len(raw) == 1000
    assert summary["total_cost_usd"] == pytest.approx(raw["BilledCost"].sum(), abs=1e-9)
    assert summary["net_cost_usd"] == pytest.approx(raw["EffectiveCost"].sum(), abs=1e-9)
    ledger = ledger_of(summary)
    # no SageMaker rows: every line is kept and labelled as another service
    assert set(ledger["smsim/resource_kind"]) == {"other_service"}
    by_service = raw.groupby("ServiceName")["BilledCost"].sum()
    assert summary["cost_by_component"] == pytest.approx(by_service.to_dict(), abs=1e-9)


def test_cli_import_then_runs_query(tmp_path):
    bill = write_bill(tmp_path / "bill", "cur")
    runner = CliRunner()
    res = runner.invoke(app, ["bill", "import", str(bill), "--name", "jan-feb"])
    assert res.exit_code == 0, res.output
    assert "101.41 USD" in res.output and "recorded as run" in res.output
    res = runner.invoke(app, ["runs", "query", "--json",
                              "select r.kind, count(*) n, round(sum(\"lineItem/UnblendedCost\"), 3) usd from ledger l "
                              "join runs r using (run_id) where r.label = 'jan-feb' group by r.kind"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [{"kind": "actual", "n": 11, "usd": 101.406}]
    run_id = json.loads(runner.invoke(app, ["runs", "list", "--json", "--kind", "actual"]).output)[0]["run_id"]
    report = tmp_path / "report.md"
    res = runner.invoke(app, ["report", run_id, "--md", str(report)])
    assert res.exit_code == 0, res.output
    text = report.read_text()
    assert "$101.41" in text and "RealTimeInference" in text


def test_focus_1_2_columns(tmp_path):
    """FOCUS 1.2 adds columns (InvoiceId, PricingCurrency, ServiceSubcategory ...); they are read past."""
    frame = pd.DataFrame(focus_rows(LINES))
    frame["InvoiceId"] = "inv-1"
    frame["PricingCurrency"] = "USD"
    frame["ServiceSubcategory"] = "Machine Learning"
    frame["CapacityReservationId"] = "NULL"
    path = tmp_path / "focus12.csv"
    frame.to_csv(path, index=False)
    summary = import_bill(path)
    assert summary["format"] == "focus" and summary["total_cost_usd"] == pytest.approx(TOTAL)
    assert summary["net_cost_usd"] == pytest.approx(NET)


def _bad(tmp_path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _cur_csv(tmp_path, name="bill.csv", rows=None, edit=None) -> Path:
    frame = pd.DataFrame(rows if rows is not None else cur_rows(LINES[:5]))
    if edit:
        edit(frame)
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _refused(source, *args) -> str:
    from smsim.store import Store

    before = len(Store().list())
    res = CliRunner().invoke(app, ["bill", "import", str(source), *args])
    assert res.exit_code == 2, res.output
    assert len(Store().list()) == before  # nothing imported
    return " ".join(res.output.split())


def test_refuses_misspelt_column_with_did_you_mean(tmp_path):
    def misspell(frame):
        frame.columns = [c.replace("UsageAmount", "UsageAmont") for c in frame.columns]
    path = _cur_csv(tmp_path, edit=misspell)
    out = _refused(path)
    assert f"{path}:1" in out and "missing column 'lineItem/UsageAmount'" in out
    assert "did you mean 'lineItem/UsageAmont'" in out


def test_refuses_unknown_format(tmp_path):
    out = _refused(_bad(tmp_path, "x.csv", "a,b,c\n1,2,3\n"))
    assert "unknown bill format" in out
    assert "unknown format 'cur3'" in _refused(_cur_csv(tmp_path), "--format", "cur3")


def test_refuses_mixed_currencies_naming_row(tmp_path):
    def eur(frame):
        frame.loc[3, "lineItem/CurrencyCode"] = "EUR"
    out = _refused(_cur_csv(tmp_path, edit=eur))
    assert "bill.csv:5: lineItem/CurrencyCode: mixed currencies: EUR, USD" in out


def test_refuses_bad_number_naming_row_and_column(tmp_path):
    def bad(frame):
        frame["lineItem/UnblendedCost"] = frame["lineItem/UnblendedCost"].astype(object)
        frame.loc[2, "lineItem/UnblendedCost"] = "0.2x"
    assert "bill.csv:4: lineItem/UnblendedCost: '0.2x' is not a number" in _refused(_cur_csv(tmp_path, edit=bad))


def test_refuses_duplicate_line_ids(tmp_path):
    rows = cur_rows(LINES[:5])
    rows[4]["identity/LineItemId"] = rows[3]["identity/LineItemId"]
    rows[4]["lineItem/UsageStartDate"] = rows[3]["lineItem/UsageStartDate"]
    out = _refused(_cur_csv(tmp_path, rows=rows))
    assert "bill.csv:6: identity/LineItemId: line id 'id3' appears twice" in out


def test_refuses_overlapping_periods(tmp_path):
    root = tmp_path / "bill"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    pd.DataFrame(cur_rows(LINES[:5])).to_csv(root / "a" / "part-1.csv", index=False)
    pd.DataFrame(cur_rows(LINES[5:9], 5)).to_csv(root / "b" / "part-1.csv", index=False)
    out = _refused(root)
    assert "b/part-1.csv:2: bill/BillingPeriodStartDate: overlapping periods: billing period 2026-01" in out


def test_refuses_truncated_and_binary_files(tmp_path):
    path = _cur_csv(tmp_path)
    text = path.read_text()
    cut = _bad(tmp_path, "cut.csv", text[: text.rindex(",") - 5])
    out = _refused(cut)
    assert "cut.csv:6" in out and "truncated" in out
    assert "binary content" in _refused(_bad(tmp_path, "bin.csv", bytes(range(256)) * 4))
    gz = tmp_path / "cut.csv.gz"
    gz.write_bytes(gzip.compress(text.encode())[:-20])
    assert "cut.csv.gz" in _refused(gz)
    pq = tmp_path / "cut.parquet"
    pd.DataFrame(cur_rows(LINES)).to_parquet(pq)
    pq.write_bytes(pq.read_bytes()[:-30])
    assert "not a readable Parquet file" in _refused(pq)


def test_refuses_nothing_written_when_a_later_part_is_bad(tmp_path):
    root = write_bill(tmp_path / "bill", "cur")
    (root / "2026-02" / "part-2.csv").write_text("lineItem/UsageStartDate,oops\nx,y\n")
    out = _refused(root)
    assert "part-2.csv:1" in out


def test_library_error_names_file(tmp_path):
    with pytest.raises(InputError) as err:
        import_bill(tmp_path / "nothing.csv")
    assert "nothing.csv" in str(err.value)


def test_cli_out_folder_follows_the_output_rule(tmp_path):
    bill = write_bill(tmp_path / "bill", "cur2")
    out = tmp_path / "imported"
    res = CliRunner().invoke(app, ["bill", "import", str(bill), "--out", str(out), "--no-store"])
    assert res.exit_code == 0, res.output
    assert pd.read_parquet(out / "ledger.parquet")["lineItem/UnblendedCost"].sum() == pytest.approx(TOTAL)
    assert json.loads((out / "summary.json").read_text())["lines"] == 11
    again = CliRunner().invoke(app, ["bill", "import", str(bill), "--out", str(out), "--no-store"])
    assert again.exit_code == 0, again.output  # a folder smsim wrote is replaced
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    assert "smsim did not write" in _refused(bill, "--out", str(foreign))
    assert (foreign / "notes.txt").read_text() == "keep"
    assert "input" in _refused(bill, "--out", str(bill))


def test_refused_import_leaves_no_temporary_files(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(InputError):
        import_bill(_bad(tmp_path, "x.csv", "a,b,c\n1,2,3\n"))
    import_bill(write_bill(tmp_path / "bill", "cur"))
    assert list((tmp_path / "tmp").iterdir()) == []


def test_refuses_a_folder_of_mixed_formats_and_end_before_start(tmp_path):
    root = tmp_path / "bill"
    root.mkdir()
    pd.DataFrame(cur_rows(LINES[:2])).to_csv(root / "a.csv", index=False)
    pd.DataFrame(focus_rows(LINES[2:4])).to_csv(root / "b.csv", index=False)
    assert "b.csv:1: a FOCUS 1.0 / 1.2 file among AWS Cost and Usage Report (legacy) files" in _refused(root)

    def backwards(frame):
        frame.loc[1, "lineItem/UsageEndDate"] = "2025-12-31T00:00:00Z"
    out = _refused(_cur_csv(tmp_path, edit=backwards))
    assert "bill.csv:3: lineItem/UsageEndDate: '2025-12-31T00:00:00Z' ends before it starts" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no bill files" in _refused(empty)


def test_failure_while_writing_records_nothing(tmp_path, monkeypatch):
    from smsim.bill import reader
    from smsim.store import Store

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reader.ImportedBill, "summary", boom)
    with pytest.raises(KeyboardInterrupt):
        import_bill(write_bill(tmp_path / "bill", "cur"), store=tmp_path / "store")
    assert len(Store(tmp_path / "store").list()) == 0
    assert [p.name for p in (tmp_path / "store").iterdir() if not p.name.startswith(".lock")] == []
