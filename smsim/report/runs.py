"""Read a run for a report: a run folder (``smsim run --out`` or a store folder) or a run id."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from smsim.report.content import RunView


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
    from smsim.report.monitoring import budgets_of

    view.budgets = budgets_of(folder)
    for name in ("ledger.parquet", "ledger.csv"):
        if (folder / name).exists():
            view.ledger = pd.read_parquet(folder / name) if name.endswith("parquet") else pd.read_csv(folder / name)
            break
    from smsim.store.series import read_series

    view.series.update(read_series(folder))  # a store's series.parquet or a folder of files
    for path in sorted((folder / "extras").glob("*.parquet")) if (folder / "extras").is_dir() else []:
        view.extras[path.stem] = pd.read_parquet(path).drop(columns=["run_id", "resource_id"], errors="ignore")
    return view
