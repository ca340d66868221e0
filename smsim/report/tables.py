"""Terminal tables of a run summary (rich). Pure formatting: no computation of figures here."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from smsim.units import NEGLIGIBLE_USD, format_usd

#: Per-resource metrics shown in the resources table when present, in this order.
RESOURCE_COLUMNS = [
    ("requests", "requests", "{:,.0f}"),
    ("served", "served", "{:,.0f}"),
    ("timed_out", "timed out", "{:,.0f}"),
    ("dropped", "dropped", "{:,.0f}"),
    ("no_capacity_failures", "no capacity", "{:,.0f}"),
    ("throttled", "throttled", "{:,.0f}"),
    ("latency_p50_s", "p50", "{:.3f}s"),
    ("latency_p99_s", "p99", "{:.3f}s"),
    ("sla_attainment", "SLA met", "{:.2%}"),
    ("cold_starts", "cold starts", "{:,.0f}"),
    ("jobs", "jobs", "{:,.0f}"),
    ("trials", "trials", "{:,.0f}"),
    ("runs", "runs", "{:,.0f}"),
    ("deployments", "deployments", "{:,.0f}"),
    ("instance_hours", "instance-h", "{:,.1f}"),
]


#: Token-level figures of LLM endpoints (their own table).
LLM_COLUMNS = [
    ("ttft_p50_s", "TTFT p50", "{:.3f}s"),
    ("ttft_p99_s", "TTFT p99", "{:.3f}s"),
    ("tpot_p50_s", "TPOT p50", "{:.4f}s"),
    ("tpot_p99_s", "TPOT p99", "{:.4f}s"),
    ("itl_p99_s", "ITL p99", "{:.4f}s"),
    ("e2e_p99_s", "E2E p99", "{:.2f}s"),
    ("input_tokens_per_s", "in tok/s", "{:,.0f}"),
    ("output_tokens_per_s", "out tok/s", "{:,.0f}"),
    ("goodput_share", "goodput", "{:.2%}"),
    ("sla_met", "SLA met", "{}"),
    ("cost_per_1m_input_tokens_usd", "$/1M in", "{:.3f}"),
    ("cost_per_1m_output_tokens_usd", "$/1M out", "{:.3f}"),
]

#: Columns shown only when some resource has a nonzero value (most runs have none).
SHOWN_WHEN_NONZERO = {"no_capacity_failures"}

#: What a latency (or other figure) without any data shows, e.g. p50 when no request was served.
NOT_AVAILABLE = "n/a"


def cell(value, fmt: str) -> str:
    """``value`` formatted, ``-`` when absent, :data:`NOT_AVAILABLE` when NaN."""
    if value is None:
        return "-"
    if isinstance(value, float) and value != value:
        return NOT_AVAILABLE
    return fmt.format(value)


def usd(value: float) -> str:
    return format_usd(value)


def _breakdown(title: str, mapping: dict[str, float], total: float | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column(title.split(" by ")[-1] if " by " in title else "item")
    table.add_column("cost (USD)", justify="right")
    table.add_column("share", justify="right")
    total = sum(mapping.values()) if total is None else total
    rows = [(k, v) for k, v in mapping.items() if abs(v) >= NEGLIGIBLE_USD] or list(mapping.items())
    for key, value in sorted(rows, key=lambda kv: -abs(kv[1])):
        share = f"{value / total:.1%}" if total else "-"
        table.add_row(str(key), usd(value), share)
    return table


def summary_tables(summary: dict[str, Any]) -> list[Table]:
    """Tables for ``smsim run``: headline, resources, cost by component / pricing / tag, savings plans."""
    tables: list[Table] = []
    total = float(summary.get("total_cost_usd", 0.0))
    head = Table(show_header=False, show_edge=False, box=None)
    head.add_column(style="bold")
    head.add_column()
    head.add_row("scenario", str(summary.get("scenario", "")))
    horizon = summary.get("horizon", {})
    head.add_row("horizon", f"{horizon.get('start', '')} + {float(horizon.get('duration_s', 0)) / 86400:.2f} days")
    head.add_row("seed", str(summary.get("seed", "")))
    catalog = summary.get("catalog", {})
    if catalog:
        head.add_row("prices", f"catalog {catalog.get('name')} as of {catalog.get('as_of')}")
    head.add_row("total cost", usd(total))
    tables.append(head)

    resources = summary.get("resources", [])
    if resources:
        table = Table(title="Resources", title_justify="left", show_edge=False)
        table.add_column("resource")
        table.add_column("kind")
        present = [c for c in RESOURCE_COLUMNS
                   if any((r.get(c[0]) if c[0] in SHOWN_WHEN_NONZERO else r.get(c[0]) is not None)
                          for r in resources)]
        for _, label, _ in present:
            table.add_column(label, justify="right")
        table.add_column("cost (USD)", justify="right")
        for r in resources:
            cells = []
            for key, _, fmt in present:
                cells.append(cell(r.get(key), fmt))
            table.add_row(str(r["resource_id"]), str(r["kind"]), *cells, usd(float(r.get("cost_usd", 0.0))))
        tables.append(table)

    llm = [r for r in resources if r.get("ttft_p99_s") is not None]
    if llm:
        table = Table(title="LLM serving", title_justify="left", show_edge=False)
        table.add_column("resource")
        for _, label, _ in LLM_COLUMNS:
            table.add_column(label, justify="right")
        for r in llm:
            table.add_row(str(r["resource_id"]), *(cell(r.get(k), fmt) for k, _, fmt in LLM_COLUMNS))
        tables.append(table)

    for key, title in (("cost_by_component", "Cost by component"), ("cost_by_pricing", "Cost by pricing")):
        mapping = summary.get(key) or {}
        if mapping:
            tables.append(_breakdown(title, {k: float(v) for k, v in mapping.items()}, total))
    for tag_key, mapping in (summary.get("cost_by_tag") or {}).items():
        if tag_key.startswith("smsim:"):
            continue
        tables.append(_breakdown(f"Cost by tag {tag_key}", {k: float(v) for k, v in mapping.items()}, total))

    plans = summary.get("savings_plans") or {}
    overall = plans.get("overall") if isinstance(plans, dict) else None
    if overall and float(overall.get("commitment_usd") or 0.0) > 0:
        table = Table(title="Savings plans", title_justify="left", show_edge=False)
        for col in ("commitment", "used", "utilization", "coverage", "savings"):
            table.add_column(col, justify="right")
        table.add_row(
            usd(float(overall.get("commitment_usd") or 0.0)),
            usd(float(overall.get("used_usd") or 0.0)),
            f"{float(overall.get('utilization') or 0.0):.1%}",
            f"{float(overall.get('coverage') or 0.0):.1%}",
            usd(float(overall.get("savings_usd") or 0.0)),
        )
        tables.append(table)
    return tables
