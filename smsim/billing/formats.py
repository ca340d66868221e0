"""The bill formats smsim reads and writes, and how each one's columns map to the ledger.

Three formats, told apart by their column names:

* ``cur``: the legacy AWS Cost and Usage Report (``lineItem/UsageStartDate``,
  ``resourceTags/user:team`` ...), CSV (often gzipped) or Parquet;
* ``cur2``: CUR 2.0 from AWS Data Exports (``line_item_usage_start_date`` ..., tags in one
  ``resource_tags`` column, a map in Parquet or JSON text in CSV);
* ``focus``: the FinOps Open Cost and Usage Specification 1.0 / 1.2 (``ChargePeriodStart``,
  ``BilledCost``, tags as JSON in ``Tags``); AWS's FOCUS export adds ``x_UsageType`` and
  ``x_Operation``, which smsim reads when present.

Each format maps *fields* (smsim's names, as in :mod:`smsim.billing.columns`) to the first of
its candidate columns the file has. A bill smsim wrote also carries its own labels
(``smsim/component`` ..., ``smsim_component`` in CUR 2.0, ``x_smsim_component`` in FOCUS);
they win over decoding, so a simulated bill re-imports as itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsim.errors import InputError, did_you_mean

#: Fields read as text.
TEXT = (
    "start", "end", "period", "product", "usage_type", "operation", "line_type", "resource_id",
    "description", "term", "unit", "sp_arn", "currency", "line_id", "region", "charge_category",
    "charge_frequency", "commitment_status", "pricing_category",
)
#: Fields read as numbers (USD, or the usage unit for ``amount``).
NUMBERS = ("amount", "rate", "cost", "public_od", "sp_rate", "sp_effective", "used", "total_commitment",
           "effective")
#: smsim's own labels, present in bills smsim wrote.
LABELS = ("component", "resource_kind", "instance_type", "market", "pricing_class", "plan")
LABEL_NUMBERS = ("net",)


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    #: field -> candidate column names, first present wins
    columns: dict[str, tuple[str, ...]]
    #: fields a file of this format must have
    required: tuple[str, ...]
    #: how tags are written: "columns" (one column per key), "map" (one map/JSON column)
    tag_style: str
    tag_column: str = ""

    def resolve(self, header: list[str]) -> dict[str, str]:
        """field -> the column of ``header`` that holds it (fields the file lacks are absent)."""
        present = set(header)
        out = {}
        for field, candidates in self.columns.items():
            for name in candidates:
                if name in present:
                    out[field] = name
                    break
        return out

    def missing(self, header: list[str]) -> list[str]:
        """Required columns ``header`` lacks (each under its first candidate name)."""
        found = self.resolve(header)
        return [self.columns[f][0] for f in self.required if f not in found]


def _labels(style: str) -> dict[str, tuple[str, ...]]:
    names = {"cur": "smsim/{}", "cur2": "smsim_{}", "focus": "x_smsim_{}"}[style]
    out = {f: (names.format(f),) for f in LABELS}
    out["net"] = (names.format("net_cost_usd"),)
    out["start_s"] = (names.format("usage_start_s"),)
    out["end_s"] = (names.format("usage_end_s"),)
    return out


CUR = Format(
    name="cur", title="AWS Cost and Usage Report (legacy)", tag_style="columns", tag_column="resourceTags/",
    columns={
        "start": ("lineItem/UsageStartDate",), "end": ("lineItem/UsageEndDate",),
        "period": ("bill/BillingPeriodStartDate",), "product": ("lineItem/ProductCode",),
        "usage_type": ("lineItem/UsageType",), "operation": ("lineItem/Operation",),
        "line_type": ("lineItem/LineItemType",), "resource_id": ("lineItem/ResourceId",),
        "description": ("lineItem/LineItemDescription",), "term": ("pricing/term",),
        "unit": ("pricing/unit",), "sp_arn": ("savingsPlan/SavingsPlanARN",),
        "currency": ("lineItem/CurrencyCode",), "line_id": ("identity/LineItemId",),
        "region": ("product/region", "product/regionCode"),
        "amount": ("lineItem/UsageAmount",), "rate": ("lineItem/UnblendedRate",),
        "cost": ("lineItem/UnblendedCost",), "public_od": ("pricing/publicOnDemandCost",),
        "sp_rate": ("savingsPlan/SavingsPlanRate",), "sp_effective": ("savingsPlan/SavingsPlanEffectiveCost",),
        "used": ("savingsPlan/UsedCommitment",), "total_commitment": ("savingsPlan/TotalCommitmentToDate",),
    } | _labels("cur"),
    required=("start", "end", "product", "usage_type", "line_type", "amount", "cost"),
)

CUR2 = Format(
    name="cur2", title="AWS CUR 2.0 (Data Exports)", tag_style="map", tag_column="resource_tags",
    columns={
        "start": ("line_item_usage_start_date",), "end": ("line_item_usage_end_date",),
        "period": ("bill_billing_period_start_date",), "product": ("line_item_product_code",),
        "usage_type": ("line_item_usage_type",), "operation": ("line_item_operation",),
        "line_type": ("line_item_line_item_type",), "resource_id": ("line_item_resource_id",),
        "description": ("line_item_line_item_description",), "term": ("pricing_term",),
        "unit": ("pricing_unit",), "sp_arn": ("savings_plan_savings_plan_a_r_n",),
        "currency": ("line_item_currency_code",), "line_id": ("identity_line_item_id",),
        "region": ("product_region_code", "product_region"),
        "amount": ("line_item_usage_amount",), "rate": ("line_item_unblended_rate",),
        "cost": ("line_item_unblended_cost",), "public_od": ("pricing_public_on_demand_cost",),
        "sp_rate": ("savings_plan_savings_plan_rate",),
        "sp_effective": ("savings_plan_savings_plan_effective_cost",),
        "used": ("savings_plan_used_commitment",),
        "total_commitment": ("savings_plan_total_commitment_to_date",),
    } | _labels("cur2"),
    required=("start", "end", "product", "usage_type", "line_type", "amount", "cost"),
)

FOCUS = Format(
    name="focus", title="FOCUS 1.0 / 1.2", tag_style="map", tag_column="Tags",
    columns={
        "start": ("ChargePeriodStart",), "end": ("ChargePeriodEnd",), "period": ("BillingPeriodStart",),
        "product": ("x_ServiceCode", "ServiceName"), "usage_type": ("x_UsageType",),
        "operation": ("x_Operation",), "line_type": ("x_LineItemType",), "resource_id": ("ResourceId",),
        "description": ("ChargeDescription",), "unit": ("PricingUnit", "ConsumedUnit"),
        "sp_arn": ("CommitmentDiscountId",), "currency": ("BillingCurrency",),
        "line_id": ("x_LineItemId", "Id"), "region": ("RegionId", "Region"),
        "charge_category": ("ChargeCategory",), "charge_frequency": ("ChargeFrequency",),
        "commitment_status": ("CommitmentDiscountStatus",), "pricing_category": ("PricingCategory",),
        "amount": ("ConsumedQuantity", "PricingQuantity"), "rate": ("ContractedUnitPrice", "ListUnitPrice"),
        "cost": ("BilledCost",), "public_od": ("ListCost",), "effective": ("EffectiveCost",),
        "used": ("x_UsedCommitment",), "total_commitment": ("x_TotalCommitmentToDate",),
    } | _labels("focus"),
    required=("start", "end", "product", "cost", "charge_category", "currency"),
)

FORMATS: dict[str, Format] = {f.name: f for f in (CUR, CUR2, FOCUS)}


def detect(header: list[str], file: str, wanted: str = "auto") -> Format:
    """The format of a file with columns ``header`` (``wanted`` names one, or ``"auto"``).

    Refuses (:class:`InputError` naming the column, with a did-you-mean) a file that lacks a
    required column of its format, and one that looks like none of them.
    """
    if wanted != "auto" and wanted not in FORMATS:
        raise InputError(f"unknown format {wanted!r}; expected auto, {', '.join(FORMATS)}"
                         f"{did_you_mean(wanted, FORMATS)}", path="--format")
    if wanted != "auto":
        fmt = FORMATS[wanted]
    else:
        # the format with the most of its required columns present (ties: most columns known)
        fmt = max(FORMATS.values(), key=lambda f: (len(f.required) - len(f.missing(header)), len(f.resolve(header))))
        if len(fmt.missing(header)) > len(fmt.required) // 2:
            shown = ", ".join(repr(c) for c in header[:6]) + (", ..." if len(header) > 6 else "")
            raise InputError(
                "unknown bill format: expected a legacy CUR (lineItem/UsageStartDate ...), CUR 2.0 "
                f"(line_item_usage_start_date ...) or FOCUS (ChargePeriodStart ...) file; its columns are {shown}",
                file=file, line=1)
    missing = fmt.missing(header)
    if missing:
        column = missing[0]
        others = f" (and {', '.join(repr(c) for c in missing[1:])})" if len(missing) > 1 else ""
        raise InputError(f"missing column {column!r}{did_you_mean(column, header)}{others}: every "
                         f"{fmt.title} file has it", file=file, line=1, path=column)
    return fmt
