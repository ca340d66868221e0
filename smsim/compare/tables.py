"""Terminal tables of a comparison document (rich), and the value formatting shared with reports."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from smsim.units import NEGLIGIBLE_USD

GROUP_TITLES = {
    "total": "Total cost",
    "component": "Cost by component",
    "pricing": "Cost by pricing",
    "tag": "Cost by tag",
    "sla": "SLA and quality figures",
}


def fmt_value(value: float | None, unit: str, signed: bool = False) -> str:
    """A figure in its unit (``$1,234.56``, ``0.123s``, ``99.50%``); ``-`` when missing, ``n/a``
    when NaN (a latency when no request was served)."""
    if value is None:
        return "-"
    if value != value:
        return "n/a"
    decimals = {"usd": 2, "s": 3, "fraction": 4, "score": 4, "usd/1M tokens": 3}.get(unit, 0)
    value = round(value, decimals) + 0.0  # float noise and -0.0 print as 0
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    mag = abs(value)
    if unit == "usd":
        return f"{sign}${mag:,.2f}"
    if unit == "s":
        return f"{sign}{mag:.3f}s"
    if unit == "score":
        return f"{sign}{mag:.4f}"
    if unit == "usd/1M tokens":
        return f"{sign}${mag:,.3f}/1M"
    if unit == "fraction":
        return f"{sign}{mag * 100:.2f}" + ("pp" if signed else "%")
    return f"{sign}{mag:,.0f}"


def fmt_ci(ci: list[float] | None, unit: str) -> str:
    if ci is None:
        return "n/a"
    return f"[{fmt_value(ci[0], unit, True)}, {fmt_value(ci[1], unit, True)}]"


def fmt_pct(pct: float | None) -> str:
    return "-" if pct is None else f"{pct:+.1%}"


def diff_rows(document: dict[str, Any], group: str) -> list[list[str]]:
    """Rows ``[metric, arm, base, arm value, difference, change, CI]`` of one group (text cells)."""
    base = document["base"]
    by_metric: dict[str, dict[str, dict]] = {}
    for row in document["rows"]:
        if row["group"] == group:
            by_metric.setdefault(row["metric"], {})[row["arm"]] = row
    out = []
    for arms in by_metric.values():
        b = arms.get(base)
        for name in document["arms"]:
            if name == base or name not in arms:
                continue
            row = arms[name]
            unit = row["unit"]
            if unit == "usd" and all(abs(v or 0.0) < NEGLIGIBLE_USD for v in (b and b["value"], row["value"])):
                continue  # nothing spent in either arm (a residue under half a cent): not worth a line
            out.append([row["label"], name, fmt_value(b["value"] if b else None, unit),
                        fmt_value(row["value"], unit), fmt_value(row.get("diff"), unit, True),
                        fmt_pct(row.get("diff_pct")), fmt_ci(row.get("diff_ci"), unit)])
    return out


DIFF_HEADER = ["metric", "variant", "base", "variant value", "difference", "change"]


def comparison_tables(document: dict[str, Any]) -> list[Table]:
    """One table per group of figures: each variant against the base, with the CI of the difference."""
    level = f"{document['confidence']:.0%} CI"
    tables = []
    for group, title in GROUP_TITLES.items():
        rows = diff_rows(document, group)
        if not rows:
            continue
        table = Table(title=title, title_justify="left", show_edge=False)
        for name in [*DIFF_HEADER, level]:
            table.add_column(name, justify="left" if name in ("metric", "variant") else "right")
        for row in rows:
            table.add_row(*row)
        tables.append(table)
    return tables


def comparison_notes(document: dict[str, Any]) -> list[str]:
    """Lines printed under the tables: replications, seeds, and why a CI may be missing."""
    r = document["replications"]
    notes = [(f"{len(document['arms'])} arms x {r} replication(s) on common random numbers; "
              f"base = {document['base']!r}")]
    if document.get("ci_note"):
        notes.append(document["ci_note"])
    return notes
