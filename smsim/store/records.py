"""What one stored run is made of: an id, an index row, and the frames kept next to it.

A record is built from a finished run (``RunResult``) or from any summary dict (commit,
optimize and projection results have no ``RunResult``), so every kind of result lands in the
same store with the same provenance: scenario hash, seed, smsim version and catalog as-of date.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

#: Kinds of record the store knows; anything else is refused so queries can rely on the column.
#: ``actual`` is an imported bill (``smsim bill import``): a ledger and summary, no scenario.
KINDS = ("run", "actual", "project", "optimize", "commit", "compare", "bench")

#: Columns of the ``runs`` index, in order. ``created`` is a UTC timestamp.
INDEX_COLUMNS = [
    "run_id", "kind", "created", "scenario", "description", "label", "group_id", "scenario_hash",
    "seed", "smsim_version", "catalog_name", "catalog_as_of", "region", "horizon_start",
    "horizon_s", "total_cost_usd", "source", "summary",
]


def scenario_hash(resolved_yaml: str) -> str:
    """sha256 of the resolved scenario YAML: equal hashes mean the same simulated inputs."""
    return hashlib.sha256(resolved_yaml.encode("utf-8")).hexdigest()


#: The names :func:`new_run_id` makes: the only folders of a store that can be reserved runs.
RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


def new_run_id(now: datetime | None = None) -> str:
    """A time-sortable, collision-safe id such as ``20260105-093000-3f9a1c``.

    The suffix comes from ``os.urandom`` (not a seeded stream): ids must differ between
    processes started in the same second, and they never feed a simulation.
    """
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%d-%H%M%S-") + os.urandom(3).hex()


def json_default(value: Any) -> Any:
    """JSON encoder fallback for numpy scalars and datetimes found in summaries."""
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@dataclass
class Record:
    """Everything the store writes for one run (frames may be empty for non-simulation kinds)."""

    kind: str
    summary: dict[str, Any]
    scenario_yaml: str = ""
    description: str = ""
    source: str | None = None
    label: str | None = None
    group_id: str | None = None
    ledger: pd.DataFrame | None = None
    #: writes ``ledger.parquet`` itself (``writer(path, run_id)``), for a ledger too large for a
    #: frame; called before the summary is written, which it may complete
    ledger_writer: Callable[[Path, str], None] | None = None
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: a folder :func:`smsim.api.write_run` wrote for this very run: the store links its ledger,
    #: series and resolved scenario (the same bytes) instead of writing them a second time
    written: Path | None = None

    def index_row(self, run_id: str, created: datetime) -> dict[str, Any]:
        s = self.summary
        catalog = s.get("catalog") or {}
        horizon = s.get("horizon") or {}
        seed = s.get("seed")
        total = s.get("total_cost_usd")
        return {
            "run_id": run_id,
            "kind": self.kind,
            "created": pd.Timestamp(created).tz_convert("UTC") if pd.Timestamp(created).tzinfo
            else pd.Timestamp(created, tz="UTC"),
            "scenario": str(s.get("scenario", "")),
            "description": self.description,
            "label": self.label,
            "group_id": self.group_id,
            "scenario_hash": scenario_hash(self.scenario_yaml) if self.scenario_yaml else None,
            "seed": None if seed is None else int(seed),
            "smsim_version": str(s.get("smsim_version", "")),
            "catalog_name": catalog.get("name"),
            "catalog_as_of": None if catalog.get("as_of") is None else str(catalog.get("as_of")),
            "region": s.get("region"),
            "horizon_start": horizon.get("start"),
            "horizon_s": None if horizon.get("duration_s") is None else float(horizon["duration_s"]),
            "total_cost_usd": None if total is None else float(total),
            "source": self.source,
            "summary": json.dumps(s, default=json_default, sort_keys=False),
        }


def index_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The index rows as a frame with fixed columns and dtypes (also when there are none)."""
    frame = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    frame["seed"] = frame["seed"].astype("Int64")
    for col in ("horizon_s", "total_cost_usd"):
        frame[col] = frame[col].astype("float64")
    for col in INDEX_COLUMNS:
        if col not in ("created", "seed", "horizon_s", "total_cost_usd"):
            frame[col] = frame[col].astype("string")
    return frame.sort_values(["created", "run_id"], kind="stable").reset_index(drop=True)


def resources_frame(run_id: str, summary: dict[str, Any]) -> pd.DataFrame:
    """One row per resource of the summary (cost and whatever metrics the engine reported)."""
    rows = []
    for res in summary.get("resources") or []:
        row = {"run_id": run_id}
        for key, value in res.items():
            if isinstance(value, (dict, list)):
                value = json.dumps(value, default=json_default)
            row[key] = value
        rows.append(row)
    return pd.DataFrame(rows) if rows else pd.DataFrame({"run_id": pd.Series([], dtype="string")})


def record_from_result(result, kind: str = "run", *, label: str | None = None,
                       group_id: str | None = None, written: str | Path | None = None) -> Record:
    """A :class:`Record` of a ``smsim.api.RunResult`` (``written``: the folder ``write_run``
    wrote it to, if any)."""
    from smsim.scenario.resolved import resolved_scenario_yaml

    scenario = result.scenario
    return Record(
        kind=kind,
        summary=result.summary,
        scenario_yaml=resolved_scenario_yaml(scenario),
        description=getattr(scenario, "description", "") or "",
        source=getattr(scenario, "source", None),
        label=label,
        group_id=group_id,
        ledger=result.ledger,
        series=dict(result.series or {}),
        written=None if written is None else Path(written),
    )
