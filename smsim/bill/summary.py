"""The run summary of an imported bill, computed from its written ledger by DuckDB.

It has the keys of a simulated run's summary that reports read (``scenario``, ``horizon``,
``total_cost_usd``, ``resources``, ``cost_by_tag``) and the bill's own: ``kind`` ``actual``,
``format``, ``files``, ``lines``, ``net_cost_usd`` and costs by component, pricing class,
service, month and line type. Resources are SageMaker resources one by one, and every other
service as one entry labelled with its product code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import smsim

TOP_TAG_VALUES = 50


def _lit(text) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def bill_summary(con, ledger: Path, *, name: str, source: str, fmt: str, files: list[str],
                 start: datetime, end: datetime, tag_columns: list[str]) -> dict[str, Any]:
    rel = f"read_parquet({_lit(ledger)})"

    def by(column: str) -> dict[str, float]:
        rows = con.execute(f'select "{column}", sum("lineItem/UnblendedCost") c from {rel} group by 1 '
                           "order by c desc, 1").fetchall()
        return {str(k): float(v) for k, v in rows}

    lines, total, net = con.execute(
        f'select count(*), sum("lineItem/UnblendedCost"), sum("smsim/net_cost_usd") from {rel}').fetchone()
    resources = []
    rows = con.execute(
        f"""select case when "smsim/resource_kind" = 'other_service' then "lineItem/ProductCode" || ' (other service)'
                        else "lineItem/ResourceId" end as rid,
                   case when "smsim/resource_kind" = 'other_service' then 'other_service'
                        else any_value("smsim/resource_kind") end as kind,
                   string_agg(distinct "smsim/component", ',' order by "smsim/component") as components,
                   sum("lineItem/UnblendedCost"), sum("smsim/net_cost_usd"), count(*)
            from {rel} group by rid, "smsim/resource_kind" = 'other_service' order by 4 desc, 1""").fetchall()
    for rid, kind, components, cost, net_cost, n in rows:
        resources.append({"resource_id": rid or "(no resource id)", "kind": kind, "component": components,
                          "cost_usd": float(cost), "net_cost_usd": float(net_cost), "lines": int(n)})
    by_tag = {}
    for col in tag_columns:
        rows = con.execute(f'select "{col}", sum("lineItem/UnblendedCost") c from {rel} where "{col}" is not null '
                           f"group by 1 order by c desc, 1 limit {TOP_TAG_VALUES}").fetchall()
        by_tag[col.split("/", 1)[1].removeprefix("user:")] = {str(k): float(v) for k, v in rows}
    region = con.execute(f"""select "smsim/region" from {rel} where "smsim/region" <> ''
                             and "lineItem/ProductCode" = 'AmazonSageMaker' group by 1 order by count(*) desc
                             limit 1""").fetchone()
    t0 = start.replace(tzinfo=UTC).replace(minute=0, second=0, microsecond=0)
    return {
        "kind": "actual",
        "scenario": name,
        "source": source,
        "format": fmt,
        "files": files,
        "smsim_version": getattr(smsim, "__version__", ""),
        "currency": "USD",
        "region": region[0] if region else None,
        "horizon": {"start": t0.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "duration_s": (end.replace(tzinfo=UTC) - t0).total_seconds()},
        "lines": int(lines),
        "total_cost_usd": float(total or 0.0),
        "net_cost_usd": float(net or 0.0),
        "cost_by_component": by("smsim/component"),
        "cost_by_pricing_class": by("smsim/pricing_class"),
        "cost_by_service": by("lineItem/ProductCode"),
        "cost_by_month": by("bill/BillingPeriodStartDate"),
        "cost_by_line_type": by("lineItem/LineItemType"),
        "cost_by_tag": by_tag,
        "resources": resources,
    }
