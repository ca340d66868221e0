"""Report sections, one builder each: a builder takes the :class:`~smsim.report.content.ReportData`
and returns a :class:`~smsim.report.content.Section`, or ``None`` when its data is absent, so a
report shows only what the runs hold. A new section is one builder appended to
``SECTION_BUILDERS`` (and, for new data, one key in ``RunView.extras``): the renderers need no change.

Budgets (from a run folder's ``scenario.resolved.yaml``) and cost anomalies have their
sections in :mod:`smsim.report.monitoring`, model quality in :mod:`smsim.report.lifecycle`.

Extras understood today: ``forecast:<name>`` (a frame with ``mean`` and ``lo-L``/``hi-L``
columns, optionally a ``history`` column), ``commitment_curve`` (``commitment_usd_per_hour``,
``expected_savings_usd``, ``p10_savings_usd``, ``p90_savings_usd``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from smsim.report import plots
from smsim.report.content import Block, Figure, ReportData, Section, Table, Text, num, pct, usd
from smsim.report.lifecycle import quality_section
from smsim.report.monitoring import anomalies_section, budgets_section
from smsim.units import NEGLIGIBLE_USD


def overview(data: ReportData) -> Section | None:
    rows = []
    for run in data.runs:
        s = run.summary
        horizon = s.get("horizon") or {}
        catalog = s.get("catalog") or {}
        days = float(horizon.get("duration_s") or 0) / 86400
        rows.append([run.label, str(s.get("scenario", "")), run.description,
                     f"{horizon.get('start', '')} + {days:.2f} d", str(s.get("seed", "")),
                     f"{catalog.get('name', '')} as of {catalog.get('as_of', '')}",
                     usd(s.get("total_cost_usd"))])
    return Section("overview", "Overview", [Table(
        ["run", "scenario", "description", "horizon", "seed", "prices", "total cost"], rows)])


def ranking_section(data: ReportData) -> Section | None:
    if not data.ranking:
        return None
    rows = [[str(r["rank"]), r["label"], usd(r["total_cost_usd"]), num(r.get("instance_hours"), "{:,.1f}"),
             num(r.get("latency_p99_s"), "{:.3f}s"), pct(r.get("sla_attainment")),
             num(r.get("timed_out"), "{:,.0f}"), "resumed" if r.get("resumed") else ""]
            for r in data.ranking]
    fig = plots.ranking([r["label"] for r in data.ranking], [r["total_cost_usd"] for r in data.ranking])
    return Section("ranking", "Ranking", [
        Text("Scenarios from the cheapest; SLA figures are the worst endpoint of each scenario."),
        Table(["rank", "scenario", "total cost", "instance-h", "worst p99", "lowest SLA met",
               "timeouts", ""], rows),
        Figure(fig, "total cost per scenario")])


def comparison_section(data: ReportData) -> Section | None:
    doc = data.comparison
    if not doc:
        return None
    from smsim.compare.tables import DIFF_HEADER, GROUP_TITLES, comparison_notes, diff_rows

    level = f"{doc['confidence']:.0%} CI"
    blocks: list[Block] = [Text(line) for line in comparison_notes(doc)]
    for group, title in GROUP_TITLES.items():
        rows = diff_rows(doc, group)
        if rows:
            blocks.append(Table([*DIFF_HEADER, level], rows, title))
    return Section("comparison", "Comparison against the base", blocks)


def cost_section(data: ReportData) -> Section | None:
    costs = {run.label: {k: float(v) for k, v in (run.summary.get("cost_by_component") or {}).items()}
             for run in data.runs}
    if not any(costs.values()):
        return None
    blocks: list[Block] = [Figure(plots.cost_breakdown(costs), "cost by component")]
    for key, title in (("cost_by_component", "component"), ("cost_by_pricing", "pricing")):
        table = _breakdown_table(data, lambda s, key=key: s.get(key) or {}, title)
        if table:
            blocks.append(table)
    tag_keys = sorted({k for run in data.runs for k in (run.summary.get("cost_by_tag") or {})
                       if not str(k).startswith("smsim:")})
    for tag in tag_keys:
        table = _breakdown_table(data, lambda s, tag=tag: (s.get("cost_by_tag") or {}).get(tag) or {},
                                 f"tag {tag}")
        if table:
            blocks.append(table)
    return Section("cost", "Cost breakdown", blocks)


def _breakdown_table(data: ReportData, get: Callable[[dict], dict], title: str) -> Table | None:
    keys: list[str] = []
    for run in data.runs:
        for k, v in get(run.summary).items():
            if k not in keys and abs(float(v)) >= NEGLIGIBLE_USD:
                keys.append(k)
    if not keys:
        return None
    rows = [[str(k), *[usd(get(run.summary).get(k, 0.0)) for run in data.runs]] for k in keys]
    return Table([title, *[run.label for run in data.runs]], rows, f"cost by {title}")


RESOURCE_COLUMNS = [
    ("kind", "kind", str), ("instance_type", "instance type", str),
    ("instance_hours", "instance-h", lambda v: f"{float(v):,.1f}"),
    ("requests", "requests", lambda v: f"{float(v):,.0f}"),
    ("latency_p99_s", "p99", lambda v: num(v, "{:.3f}s")),
    ("sla_attainment", "SLA met", pct),
    ("timed_out", "timeouts", lambda v: f"{float(v):,.0f}"),
    ("cold_starts", "cold starts", lambda v: f"{float(v):,.0f}"),
    ("cost_usd", "cost", usd),
]


def resources_section(data: ReportData) -> Section | None:
    resources = [(run.label, r) for run in data.runs for r in run.summary.get("resources") or []]
    if not resources:
        return None
    present = [c for c in RESOURCE_COLUMNS if any(r.get(c[0]) is not None for _, r in resources)]
    rows = [[label, str(r.get("resource_id", "")),
             *[("-" if r.get(key) is None else fmt(r[key])) for key, _, fmt in present]]
            for label, r in resources]
    return Section("resources", "Resources", [Table(["run", "resource", *[c[1] for c in present]], rows)])


def _series_lines(data: ReportData, column: str) -> dict[str, pd.DataFrame]:
    out = {}
    for run in data.runs:
        for rid, frame in run.series.items():
            if column in frame.columns and "time_s" in frame.columns and len(frame):
                out[f"{run.label} / {rid}" if len(data.runs) > 1 else rid] = frame
    return out


def instances_section(data: ReportData) -> Section | None:
    lines = _series_lines(data, "instances")
    if not lines:
        return None
    return Section("instances", "Instances over time", [
        Figure(plots.lines_over_time(lines, "instances", "instances", "Instances in service", step=True))])


def latency_section(data: ReportData) -> Section | None:
    columns = sorted({c for run in data.runs for f in run.series.values() for c in f.columns
                      if c.startswith("latency_") and c.endswith("_s")})
    blocks: list[Block] = []
    for column in columns:
        lines = _series_lines(data, column)
        if lines:
            name = column[len("latency_"):-2]
            blocks.append(Figure(plots.lines_over_time(lines, column, "seconds", f"Latency {name} per minute")))
    return Section("latency", "Latency over time", blocks) if blocks else None


def sla_section(data: ReportData) -> Section | None:
    values = {}
    for run in data.runs:
        for r in run.summary.get("resources") or []:
            if r.get("sla_attainment") is not None:
                key = f"{run.label} / {r['resource_id']}" if len(data.runs) > 1 else str(r["resource_id"])
                values[key] = float(r["sla_attainment"])
    if not values:
        return None
    return Section("sla", "SLA attainment", [
        Figure(plots.bars(values, "share of requests within the SLA", "SLA attainment", reference=None)),
        Table(["endpoint", "SLA met"], [[k, pct(v)] for k, v in values.items()])])


LLM_COLUMNS = [
    ("ttft_p50_s", "TTFT p50"), ("ttft_p99_s", "TTFT p99"), ("tpot_p50_s", "TPOT p50"), ("tpot_p99_s", "TPOT p99"),
    ("itl_p99_s", "ITL p99"), ("e2e_p99_s", "E2E p99"),
]


def llm_section(data: ReportData) -> Section | None:
    """Token-level figures of LLM endpoints, and their model copies in service over time."""
    rows = []
    for run in data.runs:
        for r in run.summary.get("resources") or []:
            if r.get("ttft_p99_s") is None:
                continue
            name = f"{run.label} / {r['resource_id']}" if len(data.runs) > 1 else str(r["resource_id"])
            rows.append([name, *[num(r.get(k), "{:.3f}s") for k, _ in LLM_COLUMNS],
                         num(r.get("input_tokens_per_s"), "{:,.0f}"), num(r.get("output_tokens_per_s"), "{:,.0f}"),
                         pct(r.get("goodput_share")) if r.get("goodput_share") is not None else "-",
                         num(r.get("cost_per_1m_input_tokens_usd"), "${:.3f}"),
                         num(r.get("cost_per_1m_output_tokens_usd"), "${:.3f}")])
    if not rows:
        return None
    blocks: list[Block] = [Table(["endpoint", *[label for _, label in LLM_COLUMNS], "in tok/s", "out tok/s",
                                  "goodput", "$ / 1M in", "$ / 1M out"], rows, "LLM serving: token latencies, "
                                 "throughput, goodput and cost per million tokens")]
    lines = _series_lines(data, "copies_in_service")
    if lines:
        blocks.append(Figure(plots.lines_over_time(lines, "copies_in_service", "copies", "Model copies in service",
                                                   step=True)))
    return Section("llm", "LLM serving", blocks)


def forecast_section(data: ReportData) -> Section | None:
    blocks: list[Block] = []
    for run in data.runs:
        for key, frame in run.extras.items():
            if key.startswith("forecast:") and "mean" in frame.columns:
                name = key.split(":", 1)[1]
                history = frame["history"].dropna() if "history" in frame.columns else None
                body = frame[frame["mean"].notna()]
                blocks.append(Figure(plots.fan_chart(body, f"{run.label}: {name}", history=history),
                                     f"forecast {name}"))
    return Section("forecast", "Forecasts", blocks) if blocks else None


def hourly_savings_plan(ledger: pd.DataFrame) -> pd.DataFrame | None:
    """Per-hour utilization and coverage of held savings plans, from the ledger."""
    type_col = "lineItem/LineItemType"
    if ledger is None or type_col not in ledger.columns:
        return None
    fees = ledger[ledger[type_col] == "SavingsPlanRecurringFee"]
    if fees.empty:
        return None
    hour = "smsim/hour"
    commitment = fees.groupby(hour, observed=True)["lineItem/UnblendedCost"].sum()
    used = fees.groupby(hour, observed=True)["savingsPlan/UsedCommitment"].sum()
    usage = ledger[ledger[type_col].isin(["Usage", "SavingsPlanCoveredUsage"])
                   & ledger["smsim/pricing_class"].isin(["on_demand", "savings_plan_covered"])]
    eligible = usage.groupby(hour, observed=True)["pricing/publicOnDemandCost"].sum()
    covered = ledger[ledger[type_col] == "SavingsPlanCoveredUsage"].groupby(hour, observed=True)[
        "lineItem/UnblendedCost"].sum()
    out = pd.DataFrame({"commitment": commitment, "used": used}).fillna(0.0)
    out["utilization"] = (out["used"] / out["commitment"]).where(out["commitment"] > 0)
    cov = (covered.reindex(out.index).fillna(0.0) / eligible.reindex(out.index)).where(
        eligible.reindex(out.index) > 0)
    out["coverage"] = cov
    return out.reset_index().rename(columns={hour: "hour"})


def savings_plan_section(data: ReportData) -> Section | None:
    blocks: list[Block] = []
    rows = []
    for run in data.runs:
        overall = (run.summary.get("savings_plans") or {}).get("overall") or {}
        if float(overall.get("commitment_usd") or 0.0) <= 0:
            continue
        rows.append([run.label, usd(overall.get("commitment_usd")), usd(overall.get("used_usd")),
                     pct(overall.get("utilization")), pct(overall.get("coverage")), usd(overall.get("savings_usd"))])
        hourly = hourly_savings_plan(run.ledger) if run.ledger is not None else None
        if hourly is not None and len(hourly):
            blocks.append(Figure(plots.savings_plan_hours(hourly, f"{run.label}: savings-plan utilization and coverage")))
    if not rows:
        return None
    return Section("savings-plans", "Savings plans", [
        Table(["run", "commitment", "used", "utilization", "coverage", "savings"], rows), *blocks])


def commitment_section(data: ReportData) -> Section | None:
    blocks: list[Block] = []
    for run in data.runs:
        curve = run.extras.get("commitment_curve")
        if curve is not None and "expected_savings_usd" in curve.columns:
            rec = run.summary.get("recommended_usd_per_hour")
            blocks.append(Figure(plots.commitment_curve(curve, rec, f"{run.label}: savings versus commitment")))
    return Section("commitment", "Commitment curve", blocks) if blocks else None


def provenance(data: ReportData) -> Section | None:
    rows = [[run.label, run.run_id or "-", (run.scenario_hash or "-")[:16],
             str(run.summary.get("smsim_version", "")), str((run.summary.get("catalog") or {}).get("as_of", ""))]
            for run in data.runs]
    return Section("provenance", "Provenance", [Table(
        ["run", "run id", "scenario sha256", "smsim", "prices as of"], rows)])


#: Sections in report order. Append a builder to add a section; it returns None when its data is absent.
SECTION_BUILDERS: list[Callable[[ReportData], Section | None]] = [
    overview, ranking_section, comparison_section, cost_section, resources_section,
    instances_section, latency_section, sla_section, quality_section, llm_section, forecast_section, budgets_section, anomalies_section,
    savings_plan_section, commitment_section, provenance,
]


def build_sections(data: ReportData) -> list[Section]:
    return [s for s in (build(data) for build in SECTION_BUILDERS) if s is not None]
