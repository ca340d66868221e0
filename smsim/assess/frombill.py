"""``smsim scenario from-bill``: a baseline scenario from a bill, checked by pricing it back.

The baseline (:mod:`smsim.bill.baseline`) is written as YAML, loaded back through the scenario
loader (so it validates against the schema and the catalog exactly as ``smsim run`` would),
simulated and billed, and the simulated bill is reconciled with the imported one
(:mod:`smsim.assess.reconcile`). The YAML is written atomically, and only once it has loaded.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from smsim.assess.reconcile import Reconciliation, reconcile
from smsim.bill.baseline import Baseline, build_baseline
from smsim.bill.usage import BillUsage, load_bill

HEADER = ("# Baseline rebuilt by `smsim scenario from-bill` from {source}.\n"
          "# Each fleet replays one bill resource's instance-hours hour by hour (count_steps, [offset_s, count]).\n")


class _Flow(list):
    """A list YAML writes on one line ([offset_s, value] steps)."""


def _flow(dumper, data):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, _flow)


def baseline_yaml(baseline: Baseline, source: str) -> str:
    """The baseline as YAML text; steps are one ``[offset_s, value]`` pair per line."""
    data = baseline.data
    for fleet in data.get("fleets", []):
        for key in ("count_steps", "volume_gb_steps"):
            if key in fleet:
                fleet[key] = [_Flow(s) for s in fleet[key]]
    for entry in data.get("storage", []) + data.get("endpoints", []):
        for key in ("gb_steps", "compute_gb_second_per_hour_steps"):
            if key in entry:
                entry[key] = [_Flow(s) for s in entry[key]]
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return HEADER.format(source=Path(source).name) + text


def price_baseline(scenario) -> pd.DataFrame:
    """The simulated ledger of a baseline scenario (simulate, then bill)."""
    from smsim.billing.ledger import build_ledger
    from smsim.pricing.catalog import load_catalog
    from smsim.resources.registry import simulate
    from smsim.scenario.checks import check_input_files

    check_input_files(scenario)
    catalog = load_catalog(scenario.pricing.catalog)
    sim = simulate(scenario, catalog=catalog)
    return build_ledger(sim.usage, catalog=catalog, region=scenario.region, horizon_start=scenario.horizon.start,
                        horizon_s=scenario.horizon.duration_s, pricing=scenario.pricing)


@dataclass
class FromBill:
    usage: BillUsage
    baseline: Baseline
    yaml_text: str
    reconciliation: Reconciliation | None
    out: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.baseline.data["name"], "out": str(self.out) if self.out else None,
                "enterprise_discount_pct": self.baseline.enterprise_discount_pct,
                "notes": [{"resource": r, "component": c, "cost_usd": u, "reason": why}
                          for r, c, u, why in self.baseline.notes],
                "reconciliation": self.reconciliation.to_dict() if self.reconciliation else None}


def write_traces(folder: Path, traces: dict, **how) -> None:
    """The baseline's trace and steps files, in their one subfolder of ``folder`` (atomically)."""
    from smsim import atomic

    if not traces:
        return
    (sub,) = {Path(p).parts[0] for p in traces}
    with atomic.atomic_dir(folder / sub, **how) as tmp:
        for rel, frame in traces.items():
            frame.to_csv(tmp / Path(rel).name, index=False)


def scenario_from_bill(bill: str | Path, *, out: str | Path | None = None, metrics: str | Path | None = None,
                       name: str | None = None, infer_discount: bool = True, check: bool = True,
                       force: bool = False, usage: BillUsage | None = None,
                       traces_dir: str | None = None) -> FromBill:
    """Build the baseline of ``bill`` (a bill file or folder, or an imported run folder), write it
    to ``out`` and, with ``check``, price it back and reconcile it with the bill.

    With ``metrics`` (CloudWatch exports, see :mod:`smsim.bill.metrics`), constant-count real-time
    endpoints replay their invocations. Their count traces, and the recorded steps of fleets too
    long to write inline, go to the folder ``OUT_STEM.traces`` beside ``out`` (``traces_dir``
    names it otherwise), written atomically before the YAML that names them."""
    from smsim import atomic
    from smsim.bill.metrics import read_metrics
    from smsim.pricing.catalog import load_catalog
    from smsim.scenario import load_scenario

    traces_dir = traces_dir or f"{Path(out).stem if out is not None else 'baseline'}.traces"
    if out is not None:
        inputs = [p for p in (bill, metrics) if p is not None]
        atomic.check_output(out, "file", force=force, option="--out", inputs=inputs)
        atomic.check_output(Path(out).parent / traces_dir, "dir", force=force, option="--out", inputs=inputs)
    observed = read_metrics(metrics) if metrics is not None else None
    with tempfile.TemporaryDirectory(prefix="smsim-from-bill-") as tmp:
        work = Path(tmp)
        usage = usage or load_bill(bill, workdir=work)
        baseline = build_baseline(usage, load_catalog("builtin"), name=name, infer_discount=infer_discount,
                                  metrics=observed, traces_dir=traces_dir)
        text = baseline_yaml(baseline, str(bill))
        draft = work / "baseline.yaml"
        draft.write_text(text, encoding="utf-8")
        write_traces(work, baseline.traces)
        scenario = load_scenario(draft)
        rec = reconcile(usage, baseline, price_baseline(scenario)) if check else None
    if out is not None:
        write_traces(Path(out).parent, baseline.traces, force=force, option="--out")
        atomic.write_text(out, text, force=force, option="--out")
    return FromBill(usage, baseline, text, rec, Path(out) if out is not None else None)
