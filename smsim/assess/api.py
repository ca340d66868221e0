"""``smsim assess``: where the money goes and what to change, from a bill and its metrics.

One call reads the bill (and the CloudWatch metrics when given), rebuilds the baseline scenario
and reconciles it, then runs every finding family and ranks the findings by saving per month.
With ``what_ifs`` it writes the baseline with one variant per finding, so ``smsim compare`` on
that file prices every finding's what-if on the same footing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from smsim.assess.findings import Finding, rank
from smsim.assess.idle import ENDPOINT_COMPONENTS
from smsim.bill.baseline import resource_name

#: Finding kinds that each propose a different fate for the same endpoint; only the largest is kept.
_EXCLUSIVE = ("idle_endpoint", "batch_on_realtime", "right_size")


@dataclass
class Assessment:
    bill: dict[str, Any]
    findings: list[Finding]
    hotspots: pd.DataFrame
    savings_plans: dict[str, Any]
    tags: dict[str, float]
    reconciliation: dict[str, Any] | None
    baseline_yaml: str = ""
    what_ifs: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def saving_usd_per_month(self) -> float:
        return float(sum(f.saving_usd_per_month for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        return {"bill": self.bill, "findings": [f.to_dict() for f in self.findings],
                "saving_usd_per_month": self.saving_usd_per_month,
                "hotspots": self.hotspots.astype(object).where(self.hotspots.notna(), None).to_dict("records"), "savings_plans": self.savings_plans,
                "tags": self.tags, "reconciliation": self.reconciliation,
                "what_ifs": str(self.what_ifs) if self.what_ifs else None, "notes": self.notes}


def _exclusive(findings: list[Finding]) -> list[Finding]:
    best: dict[str, Finding] = {}
    rest = []
    for f in findings:
        if f.kind in _EXCLUSIVE:
            if f.resource not in best or f.saving_usd_per_month > best[f.resource].saving_usd_per_month:
                best[f.resource] = f
        else:
            rest.append(f)
    return rest + list(best.values())


def what_ifs_yaml(baseline_yaml: str, findings: list[Finding]) -> str:
    """The baseline with one ``variants:`` entry per finding that has a what-if."""
    variants = [f.what_if for f in findings if f.what_if]
    if not variants:
        return baseline_yaml
    seen: dict[str, int] = {}
    for v in variants:
        n = seen.get(v["name"], 0)
        seen[v["name"]] = n + 1
        if n:
            v["name"] = f"{v['name'][:58]}-{n + 1}"
    text = yaml.safe_dump({"variants": variants}, sort_keys=False, width=120, default_flow_style=None)
    return baseline_yaml + "\n# One variant per finding of `smsim assess`; price them with `smsim compare`.\n" + text


def assess(bill: str | Path, *, metrics: str | Path | None = None, idle_days: float = 7.0,
           what_ifs: str | Path | None = None, html: str | Path | None = None, force: bool = False,
           commit: bool = True,
           commit_model: str = "auto") -> Assessment:
    """Assess the account of ``bill`` (see the module docstring)."""
    from smsim import atomic
    from smsim.assess.batchwork import batch_on_realtime
    from smsim.assess.frombill import scenario_from_bill
    from smsim.assess.hotspots import hotspots, tag_coverage
    from smsim.assess.idle import idle_endpoints, notebooks_left_on, unused_warm_pools
    from smsim.assess.plans import plan_status, savings_plan, untagged
    from smsim.assess.rightsize import right_size
    from smsim.assess.training import spot_training
    from smsim.bill.metrics import read_metrics
    from smsim.bill.usage import load_bill
    from smsim.errors import InputError, did_you_mean
    from smsim.forecast.api import MODEL_CHOICES
    from smsim.pricing.catalog import load_catalog

    if commit_model not in MODEL_CHOICES:
        raise InputError(f"unknown model {commit_model!r}{did_you_mean(commit_model, MODEL_CHOICES)}; choose from "
                         f"{', '.join(MODEL_CHOICES)}", path="--commit-model")
    for path, option in ((what_ifs, "--what-ifs"), (html, "--html")):
        if path is not None:
            atomic.check_output(path, "file", force=force, option=option, inputs=[bill])
    if what_ifs is not None:
        atomic.check_output(Path(what_ifs).parent / f"{Path(what_ifs).stem}.traces", "dir", force=force,
                            option="--what-ifs", inputs=[bill])
    observed = read_metrics(metrics) if metrics is not None else None
    catalog = load_catalog("builtin")
    with tempfile.TemporaryDirectory(prefix="smsim-assess-") as tmp:
        usage = load_bill(bill, workdir=Path(tmp))
        traces = f"{Path(what_ifs).stem if what_ifs is not None else 'what-ifs'}.traces"
        built = scenario_from_bill(bill, usage=usage, traces_dir=traces)
        base = built.baseline
        status = plan_status(usage)
        findings = (idle_endpoints(usage, base, observed, idle_days) + notebooks_left_on(usage, base)
                    + unused_warm_pools(usage, base) + right_size(usage, base, observed, catalog)
                    + spot_training(usage, base, catalog) + batch_on_realtime(usage, base, observed, idle_days))
        plan_findings, plan_doc = savings_plan(usage, status, base.data, commit_model) if commit else ([], {})
        coverage = tag_coverage(usage)
        findings = rank(_exclusive(findings) + plan_findings + untagged(usage, coverage))
        spots = hotspots(usage)
        s = usage.summary
    text = what_ifs_yaml(built.yaml_text, findings)
    if what_ifs is not None:
        from smsim.assess.frombill import write_traces

        write_traces(Path(what_ifs).parent, built.baseline.traces, force=force, option="--what-ifs")
        atomic.write_text(what_ifs, text, force=force, option="--what-ifs")
    bill_doc = {"name": s.get("scenario"), "format": s.get("format"), "start": s["horizon"]["start"],
                "days": s["horizon"]["duration_s"] / 86400.0, "total_cost_usd": s["total_cost_usd"],
                "net_cost_usd": s.get("net_cost_usd")}
    notes = [] if observed is not None else ["no --metrics: idle endpoints, right-sizing and batch work need "
                                             "CloudWatch metrics and were not assessed"]
    if observed is not None:
        known = {r.lower() for r in observed.resources()}
        missing = sorted({resource_name(r) for r in usage.instances.loc[
            usage.instances["component"].isin(ENDPOINT_COMPONENTS), "resource"]} - {k for k in known}
            - {r for r in {resource_name(x) for x in usage.instances["resource"]} if r.lower() in known})
        if missing:
            notes.append(f"no metrics for endpoint(s) {', '.join(missing)}: not assessed for idleness, "
                         "right-sizing or batch work")
    result = Assessment(bill_doc, findings, spots, status | plan_doc, coverage,
                        built.reconciliation.to_dict() if built.reconciliation else None, text,
                        Path(what_ifs) if what_ifs is not None else None, notes)
    if html is not None:
        from smsim.assess.report import assessment_html

        atomic.write_text(html, assessment_html(result), force=force, option="--html")
    return result
