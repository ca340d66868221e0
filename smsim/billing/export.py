"""A ledger written as CUR 2.0 or FOCUS, so a simulated bill loads into the FinOps tools that
read AWS Data Exports.

Both carry smsim's own labels (``smsim_*`` columns in CUR 2.0, ``x_smsim_*`` in FOCUS, which
allows ``x_`` columns) and the line-item type (``x_LineItemType`` in FOCUS), so an exported bill
imports back as the same ledger: :func:`smsim.bill.import_bill` of an export has the same lines
and the same totals by component, resource, pricing class and tag.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from smsim.billing.columns import TAG_PREFIX
from smsim.billing.formats import CUR, CUR2

#: Ledger column -> CUR 2.0 column (via the fields both formats name).
CUR2_NAMES = {CUR.columns[f][0]: CUR2.columns[f][0] for f in CUR.columns if f in CUR2.columns}
_LABELS = ("component", "resource_kind", "instance_type", "market", "pricing_class", "savings_plan",
           "usage_start_s", "usage_end_s", "net_cost_usd")
_TIMES = ("lineItem/UsageStartDate", "lineItem/UsageEndDate", "bill/BillingPeriodStartDate")
_SERVICE = {"AmazonSageMaker": ("Amazon SageMaker", "AI and Machine Learning"),
            "AmazonS3": ("Amazon Simple Storage Service", "Storage"),
            "AWSDataTransfer": ("AWS Data Transfer", "Networking"),
            "MachineLearningSavingsPlans": ("Savings Plans for AWS Machine Learning", "AI and Machine Learning")}


def _tags(ledger: pd.DataFrame, prefix: str) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Per line, the index of its tag set; the tag sets as dicts keyed ``prefix + key``."""
    cols = [c for c in ledger.columns if str(c).startswith("resourceTags/")]
    if not cols:
        return np.zeros(len(ledger), dtype=np.int64), [{}]
    frame = ledger[cols].astype(object).where(ledger[cols].notna(), None)
    codes, uniques = pd.MultiIndex.from_frame(frame.fillna("\x00")).factorize()
    sets = []
    for combo in uniques:
        sets.append({prefix + c[len(TAG_PREFIX):] if c.startswith(TAG_PREFIX) else c[len("resourceTags/"):]: v
                     for c, v in zip(cols, combo, strict=True) if v != "\x00"})
    return codes, sets


def _utc(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col.astype(str), utc=True)


def to_cur2(ledger: pd.DataFrame, *, csv: bool = False) -> pd.DataFrame:
    """The ledger in CUR 2.0 columns; ``resource_tags`` a map (Parquet) or JSON text (``csv``)."""
    out = {}
    for col, name in CUR2_NAMES.items():
        if col in ledger.columns:
            values = ledger[col]
            out[name] = _utc(values) if col in _TIMES else values.astype(str) if isinstance(
                values.dtype, pd.CategoricalDtype) else values
    out["line_item_currency_code"] = "USD"
    out["product_region_code"] = ledger.attrs.get("region", "")
    codes, sets = _tags(ledger, "user_")
    if csv:
        text = np.array([json.dumps(s, sort_keys=True) for s in sets], dtype=object)
        out["resource_tags"] = text[codes]
    else:
        out["resource_tags"] = pd.Series([list(s.items()) for s in sets], dtype=object).to_numpy()[codes]
    for label in _LABELS:
        col = f"smsim/{label}"
        if col in ledger.columns:
            values = ledger[col]
            out[f"smsim_{label}"] = values.astype(str) if isinstance(values.dtype, pd.CategoricalDtype) else values
    return pd.DataFrame(out)


def to_focus(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger in FOCUS 1.0 columns (AWS's ``x_`` columns and smsim's ``x_smsim_*`` labels)."""
    text = {c: ledger[c].astype(str) for c in ledger.columns
            if isinstance(ledger[c].dtype, pd.CategoricalDtype) and not str(c).startswith("resourceTags/")}
    line_type = text["lineItem/LineItemType"]
    product = text["lineItem/ProductCode"]
    period = _utc(ledger["bill/BillingPeriodStartDate"])
    fee = line_type.isin(["SavingsPlanRecurringFee", "SavingsPlanUpfrontFee"])
    category = np.select([fee, line_type.isin(["Discount", "Credit"])], ["Purchase", "Credit"], "Usage")
    frequency = np.select([line_type == "SavingsPlanUpfrontFee", fee], ["One-Time", "Recurring"], "Usage-Based")
    covered = line_type == "SavingsPlanCoveredUsage"
    spot = text["smsim/market"] == "Spot" if "smsim/market" in text else pd.Series(False, index=ledger.index)
    codes, sets = _tags(ledger, "user:")
    tags = np.array([json.dumps(s, sort_keys=True) if s else None for s in sets], dtype=object)[codes]
    out = {
        "BilledCost": ledger["lineItem/UnblendedCost"],
        "BillingAccountId": "000000000000",
        "BillingCurrency": "USD",
        "BillingPeriodStart": period,
        "BillingPeriodEnd": period + pd.offsets.MonthBegin(1),
        "ChargeCategory": category,
        "ChargeClass": None,
        "ChargeDescription": text["lineItem/LineItemDescription"],
        "ChargeFrequency": frequency,
        "ChargePeriodStart": _utc(ledger["lineItem/UsageStartDate"]),
        "ChargePeriodEnd": _utc(ledger["lineItem/UsageEndDate"]),
        "CommitmentDiscountCategory": np.where(text["savingsPlan/SavingsPlanARN"] != "", "Spend", None),
        "CommitmentDiscountId": text["savingsPlan/SavingsPlanARN"].replace("", None),
        "CommitmentDiscountStatus": np.where(covered, "Used", None),
        "CommitmentDiscountType": np.where(text["savingsPlan/SavingsPlanARN"] != "", "Savings Plan", None),
        "ConsumedQuantity": ledger["lineItem/UsageAmount"],
        "ConsumedUnit": text["pricing/unit"],
        "ContractedUnitPrice": ledger["lineItem/UnblendedRate"],
        "EffectiveCost": ledger["smsim/net_cost_usd"] if "smsim/net_cost_usd" in ledger else ledger["lineItem/UnblendedCost"],
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "ListCost": ledger["pricing/publicOnDemandCost"],
        "ListUnitPrice": ledger["lineItem/UnblendedRate"],
        "PricingCategory": np.select([covered, spot], ["Committed", "Dynamic"], "Standard"),
        "PricingQuantity": ledger["lineItem/UsageAmount"],
        "PricingUnit": text["pricing/unit"],
        "ProviderName": "AWS",
        "PublisherName": "Amazon Web Services, Inc.",
        "RegionId": ledger.attrs.get("region", ""),
        "ResourceId": text["lineItem/ResourceId"],
        "ServiceCategory": product.map(lambda p: _SERVICE.get(p, (p, "Other"))[1]),
        "ServiceName": product.map(lambda p: _SERVICE.get(p, (p, "Other"))[0]),
        "Tags": tags,
        "x_LineItemType": line_type,
        "x_Operation": text["lineItem/Operation"],
        "x_ServiceCode": product,
        "x_UsageType": text["lineItem/UsageType"],
    }
    for label in _LABELS:
        col = f"smsim/{label}"
        if col in ledger.columns:
            out[f"x_smsim_{label}"] = text[col] if col in text else ledger[col]
    return pd.DataFrame(out)


#: Lines per Parquet row group of a ledger: DuckDB reads row groups in parallel, and a million
#: lines keeps a year's ledger in a few groups per core without tiny pages.
LEDGER_ROW_GROUP = 1 << 20


def ledger_table(ledger: pd.DataFrame):
    """The ledger as a ``pyarrow.Table`` built from its numpy columns: a categorical column
    becomes a dictionary array of its codes and categories (no string is touched per line), the
    rest are passed as they are. Quicker than ``Table.from_pandas``, and read back by pandas
    as the same frame (dictionary columns come back categorical)."""
    import pyarrow as pa

    arrays = {}
    for name, col in ledger.items():
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            missing = codes < 0
            arrays[str(name)] = pa.DictionaryArray.from_arrays(
                pa.array(codes, mask=missing if missing.any() else None),
                pa.array(np.asarray(col.cat.categories, dtype=object)))
        else:
            arrays[str(name)] = pa.array(col, from_pandas=True)
    return pa.table(arrays)


def write_parquet(ledger: pd.DataFrame, path) -> None:
    """smsim's own ledger as Parquet (``ledger.parquet`` of a run folder and of the results store).

    Categorical columns are dictionary-encoded already; min/max statistics of their strings
    would cost as much as the rest of the write, so only the other columns get them. zstd: on
    a year's ledger it writes as fast as snappy and makes a much smaller file (measured by
    ``benchmarks/bench_store.py``).
    """
    import pyarrow.parquet as pq

    text = [c for c, t in ledger.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    other = [c for c in ledger.columns if c not in text]
    pq.write_table(ledger_table(ledger), path, compression="zstd", use_dictionary=text,
                   write_statistics=other, row_group_size=LEDGER_ROW_GROUP)


def write_ledger(ledger: pd.DataFrame, path, fmt: str) -> None:
    """Write ``ledger`` at ``path`` as ``cur2`` (Parquet) or ``focus`` (CSV when ``path`` ends in .csv)."""
    from pathlib import Path

    path = Path(path)
    csv = path.suffix == ".csv"
    frame = to_cur2(ledger, csv=csv) if fmt == "cur2" else to_focus(ledger)
    if csv:
        frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    elif fmt == "cur2":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame.drop(columns=["resource_tags"]), preserve_index=False)
        tags = pa.array(frame["resource_tags"].tolist(), type=pa.map_(pa.string(), pa.string()))
        pq.write_table(table.append_column("resource_tags", tags), path, compression="zstd")
    else:
        frame.to_parquet(path, index=False)
