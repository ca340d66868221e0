"""``detect_anomalies``: every monitor's anomalies over a run (scenario or run folder) or a bill."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.anomalies.detector import PERIOD, detect
from smsim.anomalies.monitors import Monitor
from smsim.anomalies.rootcause import root_causes
from smsim.anomalies.spend import series_by, spend_cube
from smsim.billing.views import read_run_ledger
from smsim.errors import InputError


def _iso(ts) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def anomalies_in_cube(cube: pd.DataFrame, monitors: list[Monitor], *, z: float = 4.0) -> list[dict]:
    """Anomalies of every monitor over a spend cube (:func:`smsim.anomalies.spend.spend_cube`)."""
    freq = cube.attrs["freq"]
    steps = cube.attrs["steps"]
    step = pd.Timedelta(days=1) if freq == "D" else pd.Timedelta(hours=1)
    out = []
    for monitor in monitors:
        dim = monitor.dimension
        if dim != "total" and dim not in cube.columns:
            tags = sorted(c[4:] for c in cube.columns if c.startswith("tag:"))
            raise InputError(f"no line of the bill carries tag {dim[4:]!r} (tags: {', '.join(tags) or 'none'})",
                             path="--monitor")
        wide = series_by(cube, dim)
        for key in wide.columns:
            values = wide[key].to_numpy(float)
            for ep in detect(values, freq, z=z):
                if not monitor.passes(ep.impact_usd, ep.expected_usd):
                    continue
                mask = np.ones(len(cube), bool) if dim == "total" else (cube[dim] == key).to_numpy()
                out.append({
                    "monitor": dim, "key": key, "start": _iso(steps[ep.start]), "end": _iso(steps[ep.end] + step),
                    "detected_at": _iso(steps[ep.detected] + step), "steps": ep.end - ep.start + 1,
                    "actual_usd": round(ep.actual_usd, 4), "expected_usd": round(ep.expected_usd, 4),
                    "impact_usd": round(ep.impact_usd, 4),
                    "impact_pct": round(100 * ep.impact_usd / ep.expected_usd, 2) if ep.expected_usd > 0 else None,
                    "root_causes": root_causes(cube, mask, ep.start, ep.end, PERIOD[freq], ep.impact_usd),
                })
    out.sort(key=lambda a: (a["start"], -a["impact_usd"]))
    return out


def detect_anomalies(target: str | Path, monitors: list[Monitor], *, freq: str = "D", cost: str = "amortized",
                     z: float = 4.0, seed: int | None = None) -> dict:
    """Read ``target`` (a scenario, which is run; a run folder; or a bill) and detect anomalies."""
    from smsim.anomalies.detector import START

    if freq not in PERIOD:
        raise InputError(f"--freq must be D or h, found {freq!r}", path="--freq")
    if cost not in ("amortized", "unblended"):
        raise InputError(f"--cost must be amortized or unblended, found {cost!r}", path="--cost")
    target = Path(target)
    if not target.exists():
        raise FileNotFoundError(2, "no such file", str(target))
    start = end = None
    if target.is_dir():
        summary = json.loads((target / "summary.json").read_text()) if (target / "summary.json").exists() else None
        if summary is None:
            raise InputError("not a run folder (no summary.json)", file=str(target))
        start = pd.Timestamp(summary["horizon"]["start"])
        end = start + pd.Timedelta(seconds=float(summary["horizon"]["duration_s"]))
        ledger = read_run_ledger(target)
    elif target.suffix.lower() in (".yaml", ".yml"):
        from smsim.api import run_scenario

        result = run_scenario(target, seed=seed)
        start = pd.Timestamp(result.scenario.horizon.start)
        end = start + pd.Timedelta(seconds=result.scenario.horizon.duration_s)
        ledger = result.ledger
    elif target.suffix.lower() in (".csv", ".parquet"):
        ledger = pd.read_parquet(target) if target.suffix.lower() == ".parquet" else pd.read_csv(target)
    else:
        raise InputError("expected a scenario (.yaml), a run folder or a bill (.csv, .parquet)", file=str(target))
    cube = spend_cube(ledger, freq=freq, cost=cost, start=start, end=end)
    steps = len(cube.attrs["steps"])
    notes = []
    if steps <= START[freq]:
        notes.append(f"{steps} {'days' if freq == 'D' else 'hours'} of spend: the detector needs more than "
                     f"{START[freq]} to learn a baseline, so nothing can be detected")
    return {"source": str(target), "freq": freq, "cost": cost, "steps": steps,
            "monitors": [m.model_dump() for m in monitors], "anomalies": anomalies_in_cube(cube, monitors, z=z),
            "notes": notes}
