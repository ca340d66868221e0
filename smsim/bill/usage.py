"""What an imported bill says was used, hour by hour: the small frames that a baseline scenario and
an assessment are built from, aggregated by DuckDB from the ledger (so a bill of millions of
lines becomes one row per resource and hour).

* ``instances``: instance-hours per (resource, component, instance type, market, hour), from usage
  lines at on-demand, spot or savings-plan covered prices (negations left out, so each hour's
  usage is counted once), with their cost at the bill's own rate (``public_cost_usd``);
* ``volumes``: ML storage GB-months per (resource, component, hour);
* ``amounts``: every other metered SageMaker or data line, summed per (resource, component, usage);
* ``hourly``: the S3 storage and serverless lines of ``amounts`` per hour as well (a baseline
  replays them hour by hour);
* ``plans``: savings-plan recurring fees per (plan, hour), with the plan's term and payment;
* ``tags``: the most common value of each cost-allocation tag per resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from smsim.pricing.vocabulary import COMPONENTS


def _lit(text) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@dataclass(frozen=True)
class BillUsage:
    """An imported bill in the shapes a baseline needs (see the module docstring)."""

    summary: dict[str, Any]
    instances: pd.DataFrame
    volumes: pd.DataFrame
    amounts: pd.DataFrame
    plans: pd.DataFrame
    tags: dict[str, dict[str, str]]
    #: sum of the enterprise-discount lines and of the net cost they discount (both USD)
    discount_usd: float
    discounted_base_usd: float
    #: the ledger Parquet it was read from (for queries the frames above do not answer)
    ledger: Path | None = None
    #: S3 storage and serverless usage per (resource, component, usage type, hour): ``amount``, ``cost_usd``
    hourly: pd.DataFrame | None = None

    @property
    def hours(self) -> int:
        return max(1, round(self.summary["horizon"]["duration_s"] / 3600.0))

    @property
    def per_month(self) -> float:
        """Factor from a cost over the bill's span to a cost per month (730 hours)."""
        return 730.0 / self.hours


def read_bill_usage(ledger: str | Path, summary: dict[str, Any]) -> BillUsage:
    """Aggregate the ledger Parquet of an imported bill (or of a simulated run)."""
    import duckdb

    con = duckdb.connect()
    try:
        rel = f"read_parquet({_lit(ledger)})"
        cols = [r[0] for r in con.execute(f"describe select * from {rel}").fetchall()]
        comps = ", ".join(_lit(c) for c in COMPONENTS)
        instances = con.execute(f"""
            select "lineItem/ResourceId" as resource, "smsim/component" as component,
                   "smsim/instance_type" as instance_type, "smsim/market" as market, "smsim/hour" as hour,
                   sum("lineItem/UsageAmount") as instance_hours,
                   sum(case when "smsim/pricing_class" = 'savings_plan_covered' then "lineItem/UsageAmount"
                       else 0 end) as covered_hours,
                   sum(case when "smsim/pricing_class" = 'savings_plan_covered'
                            then "lineItem/UsageAmount" * "lineItem/UnblendedRate"
                            else "lineItem/UnblendedCost" end) as public_cost_usd,
                   sum("smsim/net_cost_usd") as net_cost_usd
            from {rel}
            where "smsim/usage" = 'instance' and "smsim/component" in ({comps})
              and "smsim/pricing_class" in ('on_demand', 'spot', 'savings_plan_covered')
            group by all order by all""").df()
        volumes = con.execute(f"""
            select "lineItem/ResourceId" as resource, "smsim/component" as component, "smsim/hour" as hour,
                   sum("lineItem/UsageAmount") as gb_months, sum("lineItem/UnblendedCost") as cost_usd
            from {rel} where "smsim/usage" = 'storage' and "smsim/component" in ({comps})
            group by all order by all""").df()
        amounts = con.execute(f"""
            select "lineItem/ResourceId" as resource, "smsim/component" as component, "smsim/usage" as usage,
                   "lineItem/ProductCode" as product, "smsim/resource_kind" as resource_kind,
                   regexp_replace("lineItem/UsageType", '^[A-Z]{{2,4}}[0-9]?-', '') as usage_type,
                   sum("lineItem/UsageAmount") as amount, sum("lineItem/UnblendedCost") as cost_usd
            from {rel}
            where not ("smsim/usage" in ('instance', 'fee'))
              and not ("smsim/usage" = 'storage' and "smsim/component" in ({comps}))
              and "smsim/pricing_class" not in ('enterprise_discount')
            group by all order by all""").df()
        hourly = con.execute(f"""
            select "lineItem/ResourceId" as resource, "smsim/component" as component,
                   "lineItem/ProductCode" as product, "smsim/resource_kind" as resource_kind,
                   regexp_replace("lineItem/UsageType", '^[A-Z]{{2,4}}[0-9]?-', '') as usage_type,
                   "smsim/hour" as hour,
                   sum("lineItem/UsageAmount") as amount, sum("lineItem/UnblendedCost") as cost_usd
            from {rel}
            where (("smsim/usage" = 'storage' and "lineItem/ProductCode" = 'AmazonS3')
                   or "smsim/usage" like 'serverless%')
              and "smsim/pricing_class" not in ('enterprise_discount')
            group by all order by all""").df()
        commitment = ('"savingsPlan/TotalCommitmentToDate"' if "savingsPlan/TotalCommitmentToDate" in cols
                      else '"lineItem/UnblendedCost"')
        plans = con.execute(f"""
            select "smsim/savings_plan" as plan, "lineItem/UsageType" as usage_type,
                   any_value("lineItem/ProductCode") as product,
                   any_value("lineItem/LineItemDescription") as description, "smsim/hour" as hour,
                   sum(case when {commitment} > 0 then {commitment} else "lineItem/UnblendedCost" end)
                       as commitment_usd
            from {rel} where "smsim/pricing_class" = 'savings_plan_commitment'
            group by all order by all""").df()
        discount, base = con.execute(f"""
            with d as (select distinct "lineItem/ResourceId" as r from {rel}
                       where "smsim/pricing_class" = 'enterprise_discount')
            select sum(case when "smsim/pricing_class" = 'enterprise_discount' then "lineItem/UnblendedCost" end),
                   sum(case when "smsim/pricing_class" <> 'enterprise_discount' then "smsim/net_cost_usd" end)
            from {rel} where "lineItem/ResourceId" in (select r from d)""").fetchone()
        tags: dict[str, dict[str, str]] = {}
        for col in (c for c in cols if c.startswith("resourceTags/")):
            key = col.split("/", 1)[1].removeprefix("user:")
            rows = con.execute(f"""select "lineItem/ResourceId", mode("{col}") from {rel}
                                   where "{col}" is not null and "{col}" <> '' group by 1""").fetchall()
            for resource, value in rows:
                tags.setdefault(str(resource), {})[key] = str(value)
    finally:
        con.close()
    return BillUsage(summary, instances, volumes, amounts, plans, tags, float(discount or 0.0), float(base or 0.0),
                     Path(ledger), hourly)


def load_bill(source: str | Path, *, workdir: Path) -> BillUsage:
    """A bill's usage from an import folder or stored run (``ledger.parquet`` + ``summary.json``),
    or from a bill file or folder of parts, imported into ``workdir`` first."""
    import json

    source = Path(source)
    if source.is_dir() and (source / "ledger.parquet").exists() and (source / "summary.json").exists():
        summary = json.loads((source / "summary.json").read_text(encoding="utf-8"))
        return read_bill_usage(source / "ledger.parquet", summary)
    from smsim.bill.reader import import_bill

    out = workdir / "bill"
    summary = import_bill(source, record=False, out=out)
    return read_bill_usage(out / "ledger.parquet", summary)
