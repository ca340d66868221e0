"""An assessment as a self-contained HTML page: the ranked findings, the hotspots, savings plans,
tags and the reconciliation of the baseline. Every value from the bill is escaped."""

from __future__ import annotations

import html
import math

import pandas as pd


def _num(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.{digits}f}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def assessment_html(a) -> str:
    """The page for an :class:`~smsim.assess.api.Assessment`."""
    b = a.bill
    parts = [f"<h1>Assessment of {html.escape(str(b['name']))}</h1>",
             f"<p>{html.escape(str(b['format']))} bill from {html.escape(str(b['start']))}, {b['days']:.1f} days, "
             f"{_num(b['total_cost_usd'])} USD. Findings save about {_num(a.saving_usd_per_month)} USD per month "
             "(730 h, public rates, not strictly additive).</p>", "<h2>Findings</h2>",
             _table(["#", "saving USD/month", "confidence", "finding", "resource", "evidence", "what-if"],
                    [[str(i), _num(f.saving_usd_per_month), f.confidence, f.title, f.resource, f.evidence,
                      f.what_if["name"] if f.what_if else ""] for i, f in enumerate(a.findings, 1)])]
    spots: pd.DataFrame = a.hotspots
    parts.append("<h2>Hotspots</h2>")
    parts.append(_table(["dimension", "key", "USD", "share %", "last month USD", "previous month USD", "change %"],
                        [[r.dimension, r.key, _num(r.cost_usd), _num(r.share_pct, 1), _num(r.last_month_usd),
                          _num(r.previous_month_usd), _num(r.change_pct, 1)] for r in spots.itertuples(index=False)]))
    sp = a.savings_plans
    parts.append("<h2>Savings plans</h2>")
    parts.append(_table(["held USD/h", "coverage %", "utilization %", "recommended more USD/h"],
                        [[_num(sp.get("held_usd_per_hour"), 4), _num(sp.get("coverage_pct"), 1),
                          _num(sp.get("utilization_pct"), 1), _num(sp.get("recommended_commitment_usd_per_hour"), 4)]]))
    t = a.tags
    parts.append(f"<h2>Tags</h2><p>{_num(t['explained_pct'], 1)} % of the cost carries a cost-allocation tag; "
                 f"{_num(t['untagged_usd'])} USD does not.</p>")
    if a.reconciliation:
        rec = a.reconciliation
        parts.append("<h2>Baseline reconciliation</h2>")
        parts.append(_table(["component", "imported USD", "simulated USD", "difference USD", "why"],
                            [[r["component"], _num(r["imported_usd"]), _num(r["simulated_usd"]),
                              _num(r["difference_usd"]), r["why"]] for r in rec["components"]]))
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>smsim assessment</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
