"""The report: what it contains (sections built from runs) and its self-contained HTML form.

Input is a :class:`ReportData`: one :class:`RunView` per run (summary, optional per-resource
series, ledger and extra frames) plus an optional bench ranking and comparison document. The
content is a list of :class:`Section` objects, each made by one builder in ``SECTION_BUILDERS``
that returns ``None`` when its data is absent, so a report shows only what the runs hold. A new
capability adds a report section by appending one builder (and, for new data, one key in
``RunView.extras``): the HTML and Markdown renderers need no change.

Budgets (from a run folder's ``scenario.resolved.yaml``) get a chart per budget and period
(cumulative actual vs budget vs forecast, alert markers); runs longer than the anomaly
detector's warm-up get their daily spend with anomalies shaded.

Extras understood today: ``forecast:<name>`` (a frame with ``mean`` and ``lo-L``/``hi-L``
columns, optionally a ``history`` column), ``commitment_curve`` (``commitment_usd_per_hour``,
``expected_savings_usd``, ``p10_savings_usd``, ``p90_savings_usd``).

The HTML is one file with inline CSS and inline SVG charts: no script, no network, no fonts.
Every string that comes from a scenario or a summary goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from smsim import atomic
from smsim.report import plots


@dataclass
class RunView:
    """One run as the report sees it."""

    label: str
    summary: dict[str, Any]
    description: str = ""
    run_id: str | None = None
    scenario_hash: str | None = None
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    ledger: pd.DataFrame | None = None
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    budgets: list = field(default_factory=list)  # the scenario's budgets (smsim.budgets.spec.Budget)


@dataclass
class ReportData:
    title: str
    runs: list[RunView]
    ranking: list[dict[str, Any]] | None = None
    comparison: dict[str, Any] | None = None


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Figure:
    svg: str
    caption: str = ""


@dataclass
class Text:
    text: str


Block = Table | Figure | Text


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block]


# -- formatting -----------------------------------------------------------------------------


def usd(value: Any) -> str:
    return "-" if value is None else f"${float(value):,.2f}"


def pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2%}"


def _num(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(float(value))


# -- section builders -----------------------------------------------------------------------


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
    rows = [[str(r["rank"]), r["label"], usd(r["total_cost_usd"]), _num(r.get("instance_hours"), "{:,.1f}"),
             _num(r.get("latency_p99_s"), "{:.3f}s"), pct(r.get("sla_attainment")),
             _num(r.get("timed_out"), "{:,.0f}"), "resumed" if r.get("resumed") else ""]
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
            if k not in keys and float(v) != 0.0:
                keys.append(k)
    if not keys:
        return None
    rows = [[str(k), *[usd(get(run.summary).get(k, 0.0)) for run in data.runs]] for k in keys]
    return Table([title, *[run.label for run in data.runs]], rows, f"cost by {title}")


RESOURCE_COLUMNS = [
    ("kind", "kind", str), ("instance_type", "instance type", str),
    ("instance_hours", "instance-h", lambda v: f"{float(v):,.1f}"),
    ("requests", "requests", lambda v: f"{float(v):,.0f}"),
    ("latency_p99_s", "p99", lambda v: f"{float(v):.3f}s"),
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


def _run_span(run: RunView):
    horizon = run.summary.get("horizon") or {}
    if "start" not in horizon:
        return None, None
    start = pd.Timestamp(horizon["start"])
    return start, start + pd.Timedelta(seconds=float(horizon.get("duration_s", 0.0)))


def budgets_section(data: ReportData) -> Section | None:
    """Per budget and period: cumulative actual vs budget vs forecast, with alert markers."""
    from smsim.budgets.alerts import evaluate_timeline
    from smsim.budgets.spend import hourly_spend

    blocks: list[Block] = []
    rows = []
    for run in data.runs:
        if run.ledger is None or not run.budgets:
            continue
        start, end = _run_span(run)
        for budget in run.budgets:
            spend = hourly_spend(run.ledger, budget.filters, budget.cost, start=start, end=end)
            alerts, periods = evaluate_timeline(budget, spend)
            for p in periods:
                sel = spend[(spend.index >= pd.Timestamp(p["period_start"])) & (spend.index < pd.Timestamp(p["period_end"]))]
                cum = sel.cumsum()
                cum.index = cum.index + pd.Timedelta(hours=1)
                probe = budget.model_copy(update={"thresholds": []})
                forecast = _forecast_path(probe, spend, sel.index)
                marks = [(pd.Timestamp(a.fired_at), a.spend_usd, a.threshold) for a in alerts
                         if a.period_start == p["period_start"]]
                blocks.append(Figure(plots.budget_chart(cum, p["amount_usd"], forecast, marks,
                                                        f"{run.label}: {budget.name}, {p['period_start'][:10]}"),
                                     f"budget {budget.name}: {budget.filters.describe()}, {budget.cost}"))
                rows.append([run.label, budget.name, p["period_start"][:10], usd(p["amount_usd"]), usd(p["actual_usd"]),
                             "-" if p["forecast_usd"] is None else usd(p["forecast_usd"]),
                             f"{p['covered_hours']}/{p['period_hours']} h", ", ".join(p["alerts"]) or "-"])
    if not rows:
        return None
    table = Table(["run", "budget", "period", "budget", "actual", "forecast", "covered", "alerts"], rows)
    return Section("budgets", "Budgets", [table, *blocks])


def _forecast_path(budget, spend: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """The forecast of the period's spend at each hour end (as alerts see it)."""
    import numpy as np

    from smsim.budgets.alerts import MIN_HISTORY_H, run_rate

    values = spend.to_numpy(float)
    rate = run_rate(values)
    pos = spend.index.get_indexer(index)
    pend = index[0] + {"month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
                       "year": pd.DateOffset(years=1)}[budget.period]
    ends = index + pd.Timedelta(hours=1)
    left = ((pend - ends) / pd.Timedelta(hours=1)).to_numpy(float)
    cum = np.cumsum(values[pos])
    out = pd.Series(cum + rate[pos] * left, index=ends)
    return out.where(pos + 1 >= MIN_HISTORY_H)


def anomalies_section(data: ReportData) -> Section | None:
    """Daily spend with anomalies (per service and resource) shaded, and their table."""
    from smsim.anomalies.api import anomalies_in_cube
    from smsim.anomalies.detector import WINDOW
    from smsim.anomalies.monitors import Monitor
    from smsim.anomalies.spend import series_by, spend_cube

    blocks: list[Block] = []
    rows = []
    for run in data.runs:
        if run.ledger is None:
            continue
        start, end = _run_span(run)
        cube = spend_cube(run.ledger, start=start, end=end)
        if len(cube.attrs["steps"]) <= WINDOW["D"]:
            continue
        daily = series_by(cube, "total")["total"]
        dims = ["service"] + (["tag:smsim:resource"] if "tag:smsim:resource" in cube.columns else [])
        found = anomalies_in_cube(cube, [Monitor(dimension=d, min_impact_pct=10.0) for d in dims])
        spans = [(pd.Timestamp(a["start"]), pd.Timestamp(a["end"])) for a in found]
        blocks.append(Figure(plots.spend_with_anomalies(daily, spans, f"{run.label}: daily spend"),
                             "anomalies of at least 10 % of expected spend, per service and resource"))
        for a in found:
            cause = "; ".join(f"{c['resource']} {c['usage_type']}" for c in a["root_causes"]) or "-"
            rows.append([run.label, f"{a['monitor']}={a['key']}", a["start"][:10], a["end"][:10],
                         usd(a["expected_usd"]), usd(a["actual_usd"]), usd(a["impact_usd"]), cause])
    if not blocks:
        return None
    if rows:
        blocks.insert(0, Table(["run", "monitor", "start", "end", "expected", "actual", "impact", "root cause"], rows))
    else:
        blocks.insert(0, Text("no anomaly of at least 10 % of expected spend"))
    return Section("anomalies", "Cost anomalies", blocks)


def provenance(data: ReportData) -> Section | None:
    rows = [[run.label, run.run_id or "-", (run.scenario_hash or "-")[:16],
             str(run.summary.get("smsim_version", "")), str((run.summary.get("catalog") or {}).get("as_of", ""))]
            for run in data.runs]
    return Section("provenance", "Provenance", [Table(
        ["run", "run id", "scenario sha256", "smsim", "prices as of"], rows)])


#: Sections in report order. Append a builder to add a section; it returns None when its data is absent.
SECTION_BUILDERS: list[Callable[[ReportData], Section | None]] = [
    overview, ranking_section, comparison_section, cost_section, resources_section,
    instances_section, latency_section, sla_section, forecast_section, budgets_section, anomalies_section,
    savings_plan_section, commitment_section, provenance,
]


def build_sections(data: ReportData) -> list[Section]:
    return [s for s in (build(data) for build in SECTION_BUILDERS) if s is not None]


# -- HTML ------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d232a;background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:32px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:4px}
nav{font-size:.85rem;margin:8px 0 16px}nav a{margin-right:12px;color:#0b5cad;text-decoration:none}
.meta{color:#57606a;font-size:.85rem}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.85rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:4px 0;color:#57606a}
th,td{padding:4px 10px;border-bottom:1px solid #eaeef2;text-align:right;vertical-align:top}
th{background:#f6f8fa}th:first-child,td:first-child,td:nth-child(2),th:nth-child(2){text-align:left}
td.t{text-align:left}.scroll{overflow-x:auto}
figure{margin:8px 0 20px}figure svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#57606a}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _render_block(block: Block) -> str:
    if isinstance(block, Text):
        return f"<p>{_e(block.text)}</p>"
    if isinstance(block, Figure):
        cap = f"<figcaption>{_e(block.caption)}</figcaption>" if block.caption else ""
        return f"<figure>{block.svg}{cap}</figure>"
    head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in block.rows)
    cap = f"<caption>{_e(block.caption)}</caption>" if block.caption else ""
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(text: str) -> str:
    """Figures align right, words left."""
    numeric = bool(text) and (text[0].isdigit() or text[0] in "$+-[(" or text.endswith("%"))
    return f"<td>{_e(text)}</td>" if numeric else f'<td class="t">{_e(text)}</td>'



def render_html(data: ReportData) -> str:
    """The whole report as one HTML document (inline CSS and SVG; no script, no external URL)."""
    sections = build_sections(data)
    nav = "".join(f'<a href="#{_e(s.id)}">{_e(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{_e(s.id)}"><h2>{_e(s.title)}</h2>' + "".join(_render_block(b) for b in s.blocks) + "</section>"
        for s in sections)
    versions = sorted({str(r.summary.get("smsim_version", "")) for r in data.runs})
    meta = f"{len(data.runs)} run(s); smsim {', '.join(versions)}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            f"<title>{_e(data.title)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>{_e(data.title)}</h1><div class=\"meta\">{_e(meta)}</div><nav>{nav}</nav>{body}"
            "</main></body></html>\n")


def write_html(data: ReportData, path: str | Path) -> Path:
    """Write the HTML report atomically."""
    return _shareable(atomic.write_text(path, render_html(data)))


# -- reading runs ------------------------------------------------------------------------------


def load_run_view(ref: str | Path, *, store=None, label: str | None = None) -> RunView:
    """A run folder (``smsim run --out`` or a store folder) or a run id in ``store``."""
    from smsim.errors import InputError

    folder = Path(ref)
    if not (folder.is_dir() and (folder / "summary.json").exists()):
        if store is None:
            from smsim.store import Store

            store = Store()
        folder = store.run_dir(str(ref))
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the run summary: {exc}", file=str(folder / "summary.json")) from None
    view = RunView(label=label or str(summary.get("scenario") or folder.name), summary=summary)
    if (folder / "run.parquet").exists():
        row = pd.read_parquet(folder / "run.parquet").iloc[0]
        view.run_id = str(row["run_id"])
        view.scenario_hash = None if pd.isna(row["scenario_hash"]) else str(row["scenario_hash"])
        view.description = "" if pd.isna(row["description"]) else str(row["description"])
        if label is None and not pd.isna(row["label"]):
            view.label = f"{view.label} [{row['label']}]"
    elif (folder / "scenario.resolved.yaml").exists():
        import yaml

        from smsim.store.records import scenario_hash

        text = (folder / "scenario.resolved.yaml").read_text(encoding="utf-8")
        view.scenario_hash = scenario_hash(text)
        view.description = str((yaml.safe_load(text) or {}).get("description") or "")
    view.budgets = _budgets_of(folder)
    for name in ("ledger.parquet", "ledger.csv"):
        if (folder / name).exists():
            view.ledger = pd.read_parquet(folder / name) if name.endswith("parquet") else pd.read_csv(folder / name)
            break
    for sub, target in (("series", view.series), ("extras", view.extras)):
        for path in sorted((folder / sub).glob("*.parquet")) if (folder / sub).is_dir() else []:
            frame = pd.read_parquet(path).drop(columns=["run_id", "resource_id"], errors="ignore")
            target[path.stem] = frame
    return view


def _budgets_of(folder: Path) -> list:
    """The budgets in a run folder's ``scenario.resolved.yaml`` (none when absent)."""
    import yaml

    from smsim.budgets.spec import BudgetsFile

    path = folder / "scenario.resolved.yaml"
    if not path.exists():
        return []
    listed = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("budgets") or []
    return list(BudgetsFile.model_validate({"budgets": listed}).budgets) if listed else []


def _shareable(path: Path) -> Path:
    """Reports are meant to be shared: give them the permissions of a normal file (umask)."""
    import os

    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
    return Path(path)
