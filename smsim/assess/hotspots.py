"""Where the money goes: cost by component, instance type, resource and tag, with the change from
the month before, and how much of the cost the tags explain.

Hotspots are amortized cost (``smsim/net_cost_usd``: savings-plan covered usage at the commitment it
used), so covered usage stays with its resource. The month-over-month change compares cost per
billed day of the last month with the month before, so a partial month compares fairly.
"""

from __future__ import annotations

import pandas as pd

from smsim.bill.usage import BillUsage

TOP = 10


def _lit(text) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _query(usage: BillUsage, sql: str) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect()
    try:
        return con.execute(sql.replace("LEDGER", f"read_parquet({_lit(usage.ledger)})")).df()
    finally:
        con.close()


def _columns(usage: BillUsage) -> list[str]:
    import duckdb

    con = duckdb.connect()
    try:
        return [r[0] for r in con.execute(f"describe select * from read_parquet({_lit(usage.ledger)})").fetchall()]
    finally:
        con.close()


def tag_columns(usage: BillUsage) -> list[str]:
    """The user cost-allocation tag columns (smsim's own ``smsim:`` labels left out)."""
    return [c for c in _columns(usage) if c.startswith("resourceTags/") and ":smsim:" not in c
            and not c.split("/", 1)[1].removeprefix("user:").startswith("smsim:")]


def _by(usage: BillUsage, expr: str, label: str) -> pd.DataFrame:
    f = _query(usage, f"""select {expr} as key, "bill/BillingPeriodStartDate" as month,
                                 sum("smsim/net_cost_usd") as cost_usd
                          from LEDGER group by all""")
    days = _query(usage, """select "bill/BillingPeriodStartDate" as month,
                                   count(distinct substr("lineItem/UsageStartDate", 1, 10)) as days
                            from LEDGER group by all""").set_index("month")["days"]
    if f.empty:
        return pd.DataFrame(columns=["dimension", "key", "cost_usd", "share_pct", "last_month_usd",
                                     "previous_month_usd", "change_pct"])
    f["key"] = f["key"].fillna("(none)").replace("", "(none)")
    months = sorted(f["month"].unique())
    wide = f.pivot_table(index="key", columns="month", values="cost_usd", aggfunc="sum", fill_value=0.0)
    total = wide.sum(axis=1)
    last = wide[months[-1]]
    prev = wide[months[-2]] if len(months) > 1 else pd.Series(float("nan"), index=wide.index)
    # per day billed in each month, so a partial month compares with a full one
    per_day_last = last / max(int(days.get(months[-1], 1)), 1)
    per_day_prev = prev / max(int(days.get(months[-2], 1)), 1) if len(months) > 1 else prev
    change = (per_day_last - per_day_prev) / per_day_prev.abs().where(per_day_prev.abs() > 1e-9) * 100.0
    grand = float(total.sum())
    out = pd.DataFrame({"dimension": label, "key": wide.index.astype(str), "cost_usd": total.to_numpy(),
                        "share_pct": (total / grand * 100.0 if grand else total * 0.0).to_numpy(),
                        "last_month_usd": last.to_numpy(), "previous_month_usd": prev.to_numpy(),
                        "change_pct": change.to_numpy()})
    return out.sort_values(["cost_usd", "key"], ascending=[False, True]).head(TOP).reset_index(drop=True)


def hotspots(usage: BillUsage) -> pd.DataFrame:
    """The top cost keys of each dimension with their month-over-month change."""
    parts = [_by(usage, '"smsim/component"', "component"),
             _by(usage, "nullif(\"smsim/instance_type\", '')", "instance type"),
             _by(usage, '"lineItem/ResourceId"', "resource")]
    for col in tag_columns(usage):
        parts.append(_by(usage, f'"{col}"', "tag " + col.split("/", 1)[1].removeprefix("user:")))
    return pd.concat(parts, ignore_index=True)


def tag_coverage(usage: BillUsage) -> dict[str, float]:
    """Amortized cost with at least one user tag, cost with none, and the share tags explain (percent)."""
    cols = tag_columns(usage)
    any_tag = " or ".join(f"coalesce(\"{c}\", '') <> ''" for c in cols) or "false"
    row = _query(usage, f"""select sum("smsim/net_cost_usd") filter (where {any_tag}),
                                   sum("smsim/net_cost_usd") from LEDGER""").iloc[0]
    tagged, total = float(row.iloc[0] or 0.0), float(row.iloc[1] or 0.0)
    return {"tagged_usd": tagged, "untagged_usd": total - tagged, "total_usd": total,
            "explained_pct": 100.0 * tagged / total if total else 0.0, "tag_keys": len(cols)}
