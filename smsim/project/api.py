"""``project_scenario``: forecast traffic, simulate each sample path, report spend with P10/P50/P90.

What is projected: the scenario from its ``horizon.start`` for ``horizon`` (the scenario's own
``duration_s`` is replaced). Endpoints with a traffic history (:mod:`smsim.workload.history`)
get ``n_paths`` forecast paths (:mod:`smsim.project.paths`); every other resource runs as
written, once per path with that path's seed, and its cost adds to each path.

``eligible_usage.csv`` (hourly ``timestamp, ondemand_usd, instance_type, component, region``,
what ``smsim commit OUT_DIR`` reads) is the **median path**: the path whose total spend is the
median, a real hour-by-hour trajectory. A mean over paths would smooth away the quiet hours that
decide how much of a commitment goes unused, so it would oversize the commitment. The eligible
usage of every path is in ``paths.parquet``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smsim.errors import InputError
from smsim.project.paths import EndpointPaths, draw_paths, path_scenario, path_seeds, spread_minutes
from smsim.project.report import (
    eligible_usage_frame,
    fan_frame,
    median_path,
    quantiles,
    spend_matrix,
    spend_table,
)
from smsim.project.run import PathRun, run_paths
from smsim.workload.history import histories as find_histories


@dataclass
class Projection:
    """A finished projection. ``table`` is the long spend table (see :func:`spend_table`)."""

    scenario: Any
    start: pd.Timestamp
    hours: int
    seed: int
    endpoints: dict[str, EndpointPaths]
    runs: list[PathRun]
    table: pd.DataFrame
    summary: dict[str, Any]
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def median_index(self) -> int:
        return self.summary["eligible_usage"]["path"]

    def eligible_usage(self) -> pd.DataFrame:
        """The median path's hourly eligible usage (what ``eligible_usage.csv`` holds)."""
        run = self.runs[self.median_index]
        return eligible_usage_frame(run.eligible, self.start, self.hours, self.scenario.region)

    def paths_frame(self) -> pd.DataFrame:
        """One row per (path, hour): seed, requests per endpoint, spend, eligible on-demand USD."""
        parts = []
        stamps = pd.date_range(self.start, periods=self.hours, freq="h", tz="UTC")
        for run in self.runs:
            frame = pd.DataFrame({"path": run.index, "seed": np.uint64(run.seed), "timestamp": stamps})
            for name, ep in self.endpoints.items():
                frame[f"requests:{name}"] = np.rint(np.maximum(ep.hourly[run.index], 0.0))
            frame["spend_usd"] = spend_matrix([run.spend], self.start, self.hours)[0]
            e = run.eligible
            eh = np.zeros(self.hours)
            ok = (e["hour"] >= 0) & (e["hour"] < self.hours)
            np.add.at(eh, e["hour"][ok].to_numpy(np.int64), e["ondemand_usd"][ok].to_numpy(float))
            frame["eligible_ondemand_usd"] = eh
            parts.append(frame)
        return pd.concat(parts, ignore_index=True)


def _hours(horizon: str | int | float) -> int:
    from smsim.forecast.series import parse_horizon

    return parse_horizon(horizon if isinstance(horizon, str) else int(horizon), "h")


def project_scenario(
    scenario,
    horizon: str | int,
    *,
    n_paths: int = 50,
    seed: int | None = None,
    model: str = "auto",
    jobs: int = 1,
    scheduler: Any = None,
    histories: dict[str, str | Path] | None = None,
    keep_ledgers: bool = False,
    progress: Callable[[float], None] | None = None,
    independent: bool = False,
    calibrate: bool = True,
) -> Projection:
    """Project ``scenario`` ``horizon`` ahead (``"90d"``, or hours as an int) over ``n_paths`` paths.

    Endpoints' paths are paired so their totals follow the correlation of the histories' daily
    forecast errors (:mod:`smsim.project.dependence`; each endpoint's own paths are unchanged);
    ``independent`` pairs them at random instead, as if the endpoints' demand were unrelated.
    Each endpoint's path totals are first calibrated on its history's backtest errors
    (:mod:`smsim.project.calibration`); ``calibrate=False`` keeps the model's own spread.
    """
    from smsim.forecast.api import MODEL_CHOICES
    from smsim.scenario import load_scenario

    if not hasattr(scenario, "resources"):
        scenario = load_scenario(scenario)
    if model not in MODEL_CHOICES:
        raise InputError(f"unknown model {model!r}; choose from {', '.join(MODEL_CHOICES)}", path="--model")
    if n_paths < 1:
        raise InputError(f"--paths must be at least 1, found {n_paths}", path="--paths")
    hours = _hours(horizon)
    seed = scenario.seed if seed is None else int(seed)
    start = pd.Timestamp(scenario.horizon.start).tz_convert("UTC").tz_localize(None)
    if start != start.floor("h"):
        raise InputError(f"horizon.start {start} is not on a clock hour; a projection runs in whole hours")
    hists = find_histories(scenario, histories)
    if not hists:
        raise InputError("no endpoint has a traffic history (a trace workload or a history file); "
                         "nothing to forecast", file=scenario.source)
    endpoints = {name: draw_paths(h, start, hours, n_paths, seed, model, calibrate)
                 for name, h in hists.items()}
    dependence = _couple(endpoints, n_paths, seed, independent)
    scn = path_scenario(scenario, hours, set(endpoints))
    counts = [{name: spread_minutes(ep.hourly[i], ep.history.minute_shape) for name, ep in endpoints.items()}
              for i in range(n_paths)]
    seeds = path_seeds(seed, n_paths)
    runs = run_paths(scn, counts, seeds, jobs=jobs, scheduler=scheduler, keep_ledger=keep_ledgers, progress=progress)
    resources = [spec.name for _, spec in scenario.resources()]
    spend = [r.spend for r in runs]
    table = spend_table(spend, start, hours, resources)
    totals = spend_matrix(spend, start, hours).sum(axis=1)
    med = median_path(totals)
    summary = _summary(scenario, start, hours, n_paths, seed, model, endpoints, runs, table, totals, med)
    summary["dependence"] = dependence
    summary["calibration"] = _calibration(endpoints, calibrate)
    summary["notes"].append(_calibration_note(summary["calibration"]))
    summary["notes"][1] = ("endpoint paths are paired independently: correlated demand across endpoints "
                           "is not modelled" if independent or len(endpoints) < 2 else
                           "endpoint paths are paired by a Gaussian copula of the histories' daily "
                           "forecast errors (dependence.correlation); each endpoint's paths are its own")
    extras = {f"forecast:{name}": fan_frame(ep.hourly, start, ep.history.hourly) for name, ep in endpoints.items()}
    extras["forecast:spend"] = fan_frame(spend_matrix(spend, start, hours), start)
    return Projection(scenario, start, hours, seed, endpoints, runs, table, summary, extras)


def _couple(endpoints: dict[str, EndpointPaths], n_paths: int, seed: int, independent: bool) -> dict:
    """Pair the endpoints' paths (in place) by the copula of their histories' errors; what was done."""
    from smsim.project.dependence import couple_paths, error_correlation

    names = list(endpoints)
    if independent or len(names) < 2:
        return {"method": "independent", "endpoints": names, "correlation": np.eye(len(names)).tolist()}
    r, info = error_correlation({n: ep.history.hourly for n, ep in endpoints.items()})
    coupled = couple_paths({n: ep.hourly for n, ep in endpoints.items()}, r, seed)
    for n, ep in endpoints.items():
        ep.hourly = coupled[n]
    return {**info, "correlation": np.round(r, 4).tolist()}


def _calibration(endpoints: dict[str, EndpointPaths], calibrate: bool) -> dict:
    """Whether the bands are calibrated: ``calibrated``, ``uncalibrated`` (some endpoint's history
    was too short, a fixed rule was used) or ``off``; and each endpoint's status."""
    status = {n: (ep.calibration or {"status": "off"})["status"] for n, ep in endpoints.items()}
    overall = "off" if not calibrate else \
        "uncalibrated" if any(s == "uncalibrated" for s in status.values()) else "calibrated"
    return {"status": overall, "endpoints": status}


def _calibration_note(cal: dict) -> str:
    if cal["status"] == "off":
        return "bands are the forecast model's own spread (not calibrated): they ignore model error"
    if cal["status"] == "uncalibrated":
        short = ", ".join(n for n, s in cal["endpoints"].items() if s == "uncalibrated")
        return (f"UNCALIBRATED band: the history of {short} is too short to backtest; its spread is a "
                "fixed conservative rule (resources[].traffic.calibration)")
    return "each endpoint's path totals are calibrated on its history's backtest errors"


def _rows(table: pd.DataFrame, scope: str) -> dict:
    sub = table[table["scope"] == scope]
    months = [{k: (v if k in ("month",) else round(float(v), 4)) for k, v in r.items() if k != "scope"}
              for r in sub[sub["month"] != "all"].to_dict("records")]
    total = sub[sub["month"] == "all"].iloc[0]
    return {"total": {k: round(float(total[k]), 4) for k in ("mean", "p10", "p50", "p90")}, "by_month": months}


def _summary(scenario, start, hours, n_paths, seed, model, endpoints, runs, table, totals, med) -> dict:
    catalog = runs[0].summary.get("catalog") if runs else None
    per_resource = []
    for _, spec in scenario.resources():
        rows = _rows(table, spec.name)
        entry = {"resource_id": spec.name, "kind": spec.kind, "cost_usd": rows["total"]["mean"], **rows}
        metrics = [next((r for r in run.summary["resources"] if r["resource_id"] == spec.name), {}) for run in runs]
        for key in ("requests", "timed_out", "instance_hours", "sla_attainment"):
            vals = [m[key] for m in metrics if m.get(key) is not None]
            if vals:
                entry[key] = {k: round(v, 6) for k, v in quantiles(np.asarray(vals, float)).items()}
        entry["projected"] = spec.name in endpoints
        if spec.name in endpoints:
            entry["traffic"] = endpoints[spec.name].summary()
        per_resource.append(entry)
    overall = _rows(table, "total")
    return {
        "scenario": scenario.name,
        "kind": "project",
        "seed": seed,
        "horizon": {"start": start.tz_localize("UTC").isoformat(), "duration_s": hours * 3600.0, "hours": hours},
        "region": scenario.region,
        "n_paths": n_paths,
        "model": model,
        "catalog": catalog,
        "total_cost_usd": overall["total"]["mean"],
        "total": overall["total"],
        "by_month": overall["by_month"],
        "resources": per_resource,
        "eligible_usage": {"source": "median path (total spend at the median)", "path": med,
                           "seed": int(runs[med].seed), "total_usd": round(float(totals[med]), 4)},
        "notes": [
            "total_cost_usd is the mean over paths; P10/P50/P90 of a total are not sums of per-resource ones",
            "endpoint paths are drawn independently: correlated demand across endpoints is not modelled",
        ],
    }


def write_projection(proj: Projection, out: str | Path, force: bool = False) -> Path:
    """Write ``summary.json``, ``spend_by_month.csv``, ``paths.parquet``, ``eligible_usage.csv``
    and ``scenario.resolved.yaml`` into ``out`` atomically (complete with ``_SUCCESS``, or absent)."""
    from smsim import atomic
    from smsim.store.records import json_default

    out = Path(out)
    with atomic.atomic_dir(out, force=force) as tmp:
        (tmp / "summary.json").write_text(json.dumps(proj.summary, indent=2, default=json_default) + "\n")
        proj.table.to_csv(tmp / "spend_by_month.csv", index=False)
        proj.paths_frame().to_parquet(tmp / "paths.parquet", index=False)
        proj.eligible_usage().to_csv(tmp / "eligible_usage.csv", index=False)
        from smsim.scenario.resolved import resolved_scenario_yaml

        (tmp / "scenario.resolved.yaml").write_text(resolved_scenario_yaml(proj.scenario))
    return out


def record_projection(proj: Projection, store: str | Path | None = None) -> str:
    """Record the projection in the results store (kind ``project``) with its fan charts."""
    from smsim.scenario.resolved import resolved_scenario_yaml
    from smsim.store import Store

    return Store(store).record_summary(
        proj.summary, "project", scenario_yaml=resolved_scenario_yaml(proj.scenario),
        description=proj.scenario.description, source=proj.scenario.source, extras=proj.extras)


__all__ = ["Projection", "project_scenario", "record_projection", "write_projection"]
