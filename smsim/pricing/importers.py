"""Importing real AWS prices into a user catalog directory.

Two inputs are understood:

* the AWS Price List **bulk offer CSV** for ``AmazonSageMaker`` (a few ``"Key","Value"`` metadata
  lines, then a header starting with ``SKU``). On-demand hourly rows are kept; the instance and
  component come from ``usageType`` (``USE1-Host:ml.g5.xlarge``; the unprefixed form is read as
  us-east-1), the region from ``Region Code`` when present, else from the prefix.
* a **rates CSV** in the catalog's own ``rates.csv`` columns (``rate_key,region,unit,usd,as_of,
  source``): non-instance prices the Price List files above do not carry in a form smsim reads,
  such as serverless provisioned concurrency (``serverless_provisioned_gb_second`` and
  ``serverless_provisioned_inference_gb_second``). Every row keeps its own source and as-of date.
* the JSON printed by ``aws savingsplans describe-savings-plans-offering-rates`` (one page or a
  list of pages): ``searchResults[]`` with ``savingsPlanOffering.{paymentOption, durationSeconds,
  planType}``, ``rate``, ``usageType``, ``operation``, ``properties[]``. SageMaker plan rows become
  listed rates (``usd_per_hour``) in ``savings_plan_rates.csv``.

The output directory gets ``catalog.json`` with ``"extends": "builtin"``: rows the import does not
cover (other types, non-instance rates, spot data) come from the built-in catalog, and imported
rows replace built-in rows with the same key. Importing into an existing user catalog adds to it.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from smsim.atomic import atomic_dir
from smsim.errors import InputError
from smsim.pricing import catalog_files
from smsim.pricing.vocabulary import PREFIX_REGION, TOKEN_COMPONENT

_INSTANCE = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9-]+")
_TERMS = {31_536_000: "1y", 94_608_000: "3y"}
_PAYMENTS = {"no upfront": "no-upfront", "partial upfront": "partial-upfront", "all upfront": "all-upfront"}


def parse_usage_type(usage_type: str) -> tuple[str, str, str] | None:
    """``(region, component, instance_type)`` of an instance usage type, or None (spot, fees, storage...)."""
    head, sep, tail = usage_type.partition(":")
    if not sep:
        return None
    prefix, dash, token = head.partition("-")
    if not dash:
        prefix, token = "", head
    region = PREFIX_REGION.get(prefix) if prefix else "us-east-1"
    component = TOKEN_COMPONENT.get(token)
    match = _INSTANCE.search(tail)
    if region is None or component is None or match is None or match.start() not in (0, len("JupyterLab-")):
        return None
    return region, component, match.group(0)


def _norm(name: str) -> str:
    return re.sub(r"[\s_]", "", name).lower()


def read_price_list_csv(path: str | Path) -> pd.DataFrame:
    """On-demand instance rows of an AmazonSageMaker bulk CSV, in ``ondemand.csv`` columns."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); is this an AWS Price List bulk CSV?",
                         file=str(path)) from None
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file: {exc}", file=str(path)) from None
    header_at = next((i for i, r in enumerate(rows) if r and r[0].strip() == "SKU"), None)
    if header_at is None:
        raise InputError("no header row starting with 'SKU' found; is this an AWS Price List bulk CSV?", file=str(path))
    meta = {r[0]: r[1] for r in rows[:header_at] if len(r) >= 2}
    header = [_norm(h) for h in rows[header_at]]
    need = ["sku", "termtype", "unit", "priceperunit", "currency", "usagetype"]
    for col in need:
        if col not in header:
            raise InputError(f"column {col!r} is missing from the price-list header", file=str(path), line=header_at + 1)
    at = {name: header.index(name) for name in header}
    published = meta.get("Publication Date", "")[:10]
    out = []
    for offset, row in enumerate(rows[header_at + 1:]):
        line = header_at + 2 + offset
        if len(row) < len(header):
            continue
        cell = lambda name, row=row: row[at[name]].strip() if name in at else ""  # noqa: E731
        if cell("termtype") != "OnDemand" or cell("unit") not in ("Hrs", "Hours", "Hour") or cell("currency") != "USD":
            continue
        parsed = parse_usage_type(cell("usagetype"))
        if parsed is None:
            continue
        try:
            price = float(cell("priceperunit"))
        except ValueError:
            raise InputError(f"PricePerUnit {cell('priceperunit')!r} is not a number", file=str(path), line=line,
                             column=at["priceperunit"] + 1, path="PricePerUnit") from None
        if not price > 0:  # free-tier and zero rows would hide the real price
            continue
        region, component, instance_type = parsed
        region = cell("regioncode") or region
        as_of = (cell("effectivedate") or published or "unknown")[:10]
        out.append({
            "region": region, "instance_type": instance_type, "component": component, "usd_per_hour": price,
            "as_of": as_of,
            "source": f"AWS Price List bulk CSV {path.name} (offer {meta.get('OfferCode', 'AmazonSageMaker')}, "
                      f"published {published or 'unknown'}), SKU {cell('sku')}, usageType {cell('usagetype')}",
        })
    frame = pd.DataFrame(out, columns=["region", "instance_type", "component", "usd_per_hour", "as_of", "source"])
    return frame.sort_values("as_of").drop_duplicates(["region", "instance_type", "component"], keep="last")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: Keys that may date a row (an item or its offering) or a whole page, first found wins.
_DATE_KEYS = ("effectiveDate", "effectiveTimestamp", "publicationDate", "asOf")


def _date_in(obj) -> str | None:
    if not isinstance(obj, dict):
        return None
    for key in _DATE_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and _DATE.match(value.strip()):
            return value.strip()[:10]
    return None


def check_as_of(as_of: str | None) -> str | None:
    """``as_of`` as given on the command line: None, or a YYYY-MM-DD date."""
    if as_of is None:
        return None
    try:
        return datetime.strptime(as_of.strip(), "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        raise InputError(f"--as-of must be a date YYYY-MM-DD, found {as_of!r}", path="--as-of") from None


def read_savings_plan_rates_json(path: str | Path, as_of: str | None = None) -> pd.DataFrame:
    """SageMaker rows of ``describe-savings-plans-offering-rates`` output, in ``savings_plan_rates.csv`` columns.

    Each row's ``as_of`` comes from the data (an ``effectiveDate``-like field of the item, its
    offering or its page); ``as_of`` (the day the rates were read) is used where the data has
    none, which is the case for the API's output. Without either it is an InputError: a file's
    modification time says when it was copied, not when AWS quoted the price.
    """
    path = Path(path)
    as_of = check_as_of(as_of)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); expected JSON", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno, column=exc.colno) from None
    pages = document if isinstance(document, list) else [document]
    out = []
    for page_no, page in enumerate(pages):
        results = page.get("searchResults") if isinstance(page, dict) else None
        if not isinstance(results, list):
            raise InputError("expected an object with a 'searchResults' list", file=str(path), path=f"[{page_no}]")
        page_date = _date_in(page)
        for i, item in enumerate(results):
            where = f"searchResults[{i}]" if len(pages) == 1 else f"[{page_no}].searchResults[{i}]"
            if not isinstance(item, dict):
                raise InputError("expected an object", file=str(path), path=where)
            offering = item.get("savingsPlanOffering") or {}
            if not isinstance(offering, dict):
                raise InputError("expected an object", file=str(path), path=f"{where}.savingsPlanOffering")
            if str(offering.get("planType", "")).lower() != "sagemaker":
                continue
            parsed = parse_usage_type(str(item.get("usageType", "")))
            if parsed is None:  # spot (TrSpt) and non-instance usage are not covered by plans
                continue
            try:
                term = _TERMS.get(int(offering.get("durationSeconds", 0) or 0))
            except (TypeError, ValueError, OverflowError):
                term = None
            payment = _PAYMENTS.get(str(offering.get("paymentOption", "")).lower())
            if term is None or payment is None:
                raise InputError(
                    f"unknown term or payment option ({offering.get('durationSeconds')!r}, {offering.get('paymentOption')!r})",
                    file=str(path), path=f"{where}.savingsPlanOffering",
                )
            try:
                rate = float(item["rate"])
            except (KeyError, TypeError, ValueError):
                raise InputError(f"rate {item.get('rate')!r} is not a number", file=str(path), path=f"{where}.rate") from None
            if not rate >= 0:
                raise InputError(f"rate {rate} is negative", file=str(path), path=f"{where}.rate")
            listed = item.get("properties")
            props = {str(p.get("name")): p.get("value") for p in (listed if isinstance(listed, list) else [])
                     if isinstance(p, dict)}
            region, component, instance_type = parsed
            dated = _date_in(item) or _date_in(offering) or page_date or as_of
            if dated is None:
                raise InputError(
                    "the rates carry no date (describe-savings-plans-offering-rates prints none); "
                    "give the day they were read with --as-of YYYY-MM-DD",
                    file=str(path), path=f"{where}",
                )
            out.append({
                "instance_pattern": props.get("instanceType") or instance_type, "component": component,
                "region": props.get("region") or region, "term": term, "payment": payment, "discount_pct": None,
                "usd_per_hour": rate, "assumed": "false", "reasoning": "listed SageMaker Savings Plans rate",
                "source": f"aws savingsplans describe-savings-plans-offering-rates output {path.name}, "
                          f"offering {offering.get('offeringId', '?')}, usageType {item.get('usageType')}",
                "as_of": dated,
            })
    columns = [c.name for c in catalog_files.SCHEMAS["savings_plan_rates.csv"]]
    return pd.DataFrame(out, columns=columns).drop_duplicates(catalog_files.KEYS["savings_plan_rates.csv"], keep="last")


def _is_rates_csv(path: Path) -> bool:
    """Whether ``path`` is a CSV whose header is the catalog's ``rates.csv`` header."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), [])
    return "rate_key" in [h.strip() for h in header]


def import_prices(source: str | Path, out_dir: str | Path, name: str | None = None, *, as_of: str | None = None,
                  force: bool = False) -> dict:
    """Import ``source`` (bulk CSV, rates CSV or offering-rates JSON) into the user catalog ``out_dir``.

    ``as_of`` dates savings-plan rates whose data carries no date (see :func:`read_savings_plan_rates_json`).
    """
    source, out_dir = Path(source), Path(out_dir)
    if not source.is_file():
        raise FileNotFoundError(2, "file not found", str(source))
    try:
        first = source.read_text(encoding="utf-8-sig")[:1]
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); expected an AWS Price List bulk CSV, "
                         "a rates CSV or offering-rates JSON", file=str(source)) from None
    is_json = source.suffix.lower() == ".json" or first in "{["
    if is_json:
        table, frame = "savings_plan_rates.csv", read_savings_plan_rates_json(source, as_of)
    elif _is_rates_csv(source):
        table, frame = "rates.csv", catalog_files.read_table(source, "rates.csv")
    else:
        table, frame = "ondemand.csv", read_price_list_csv(source)
    if not len(frame):
        what = "rates" if table == "rates.csv" else "SageMaker instance prices"
        raise InputError(f"no {what} found in the file", file=str(source))
    existing = catalog_files.read_directory(out_dir) if out_dir.is_dir() else {}
    tables = catalog_files.overlay(existing, {table: frame})
    meta = catalog_files.read_metadata(out_dir) if out_dir.is_dir() else {}
    meta = {
        "name": name or meta.get("name") or out_dir.name,
        "as_of": catalog_files.newest_as_of(tables),
        "extends": "builtin",
        "description": meta.get("description") or "imported AWS prices over the built-in catalog",
    }
    with atomic_dir(out_dir, force=force) as tmp:
        for file_name, data in tables.items():
            data.to_csv(tmp / file_name, index=False)
        (tmp / catalog_files.METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return {"file": table, "rows": len(frame), "catalog": str(out_dir), "name": meta["name"], "as_of": meta["as_of"]}
