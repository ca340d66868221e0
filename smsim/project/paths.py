"""Forecast sample paths -> per-path scenarios whose endpoint traffic is that path.

For every endpoint with a history (:mod:`smsim.workload.history`) the hourly invocations are
forecast from the end of the history to the end of the projection with
:func:`smsim.forecast.forecast_with_paths`: ``model="auto"`` picks the model by backtest once,
and that model gives both the forecast (whose backtest accuracy and interval coverage go into
the projection summary) and the paths. Each path is then made into per-minute counts:

* the path's hourly value is rounded to a whole number of requests;
* the hour's requests are spread over its 60 minutes with the history's intra-hour shape,
  rounded so the minutes sum to the hour exactly (largest remainder). No extra noise is added
  per minute: the uncertainty is the forecast's, at the hourly resolution it was fitted at.

Each endpoint's paths are then calibrated (:mod:`smsim.project.calibration`): scaled, path by
path, so their totals over the projection spread as the model's backtest errors on the
history did, not only as the model's own noise does.

Paths of different endpoints are drawn independently (each from its own stream);
:mod:`smsim.project.dependence` then pairs them so that endpoints' totals move together as their
histories' forecast errors did, without changing any endpoint's paths.

A path scenario is the scenario with its horizon set to the projection (start unchanged,
``duration_s`` = the projection) and every endpoint with a history on the fluid tier. Its
traffic is held in memory (``counts``), or written out by :func:`write_path_scenario` as a
per-minute count trace so that ``smsim run`` reproduces that path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.forecast import ForecastResult, forecast_with_paths
from smsim.rng import replication_seeds
from smsim.workload.history import History


@dataclass
class EndpointPaths:
    """Hourly invocations of one endpoint over the projection, one row per path."""

    history: History
    hourly: np.ndarray  # (n_paths, hours)
    model: str
    forecast: ForecastResult | None = None
    calibration: dict | None = None  # ErrorModel.summary(), or None when not calibrated

    def summary(self) -> dict:
        out = {"history": self.history.summary(), "model": self.model}
        if self.forecast is not None:
            out["forecast"] = self.forecast.summary()
        out["calibration"] = self.calibration or {"status": "off"}
        totals = self.hourly.sum(axis=1)
        out["requests"] = {"mean": float(totals.mean()),
                           **{f"p{q}": float(np.percentile(totals, q)) for q in (10, 50, 90)}}
        return out


def draw_paths(hist: History, start: pd.Timestamp, hours: int, n_paths: int, seed: int,
               model: str = "auto", calibrate: bool = True) -> EndpointPaths:
    """``n_paths`` hourly paths of ``hist``'s traffic over ``hours`` hours from ``start``.

    Hours between the end of the history and ``start`` are forecast too and dropped. With
    ``calibrate`` the paths' totals over the projection are matched to the history's own
    backtest errors (:mod:`smsim.project.calibration`).
    """
    gap = int((start - hist.end) / pd.Timedelta(hours=1))
    total = gap + hours
    y = hist.hourly.rename(hist.endpoint)
    # one selection for both; the chosen model (which may be a transform or an ensemble of
    # fitted members, which no name alone rebuilds) is what calibration refits
    fitted, paths, drew = forecast_with_paths(y, total, n_paths, seed, levels=(80, 95), model=model,
                                              nonnegative=True, unique_id=hist.endpoint)
    paths = paths[:, gap:]
    info = None
    if calibrate:
        from smsim.project.calibration import calibrate as calibrate_totals

        paths, em = calibrate_totals(y, drew, paths, gap)
        info = em.summary()
    return EndpointPaths(hist, paths, fitted.model, fitted, info)


def spread_minutes(hourly: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Per-minute whole counts from hourly values: rounded per hour, spread by ``shape``.

    ``hourly`` has one value per hour; the result has 60 per hour, each hour's minutes summing
    to ``rint(max(value, 0))`` exactly.
    """
    totals = np.rint(np.maximum(np.asarray(hourly, dtype=float), 0.0))
    exact = totals[:, None] * np.asarray(shape, dtype=float)[None, :]
    base = np.floor(exact + 1e-9)
    short = (totals - base.sum(axis=1)).astype(np.int64)
    order = np.argsort(-(exact - base), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(60), order.shape), axis=1)
    base += rank < short[:, None]
    return base.ravel()


def path_seeds(seed: int, n_paths: int) -> list[int]:
    """The simulation seed of each path (independent, and the same in any process)."""
    return replication_seeds(seed, n_paths)


def path_scenario(scenario, hours: int, history_endpoints) -> object:
    """The scenario over the projection horizon, endpoints with history on the fluid tier."""
    from smsim.scenario.schema import Horizon

    horizon = Horizon(start=scenario.horizon.start, duration_s=hours * 3600.0)
    endpoints = [e.model_copy(update={"fidelity": "fluid"}) if e.name in history_endpoints else e
                 for e in scenario.endpoints]
    out = scenario.model_copy(update={"horizon": horizon, "endpoints": endpoints})
    return out.with_source(scenario.source)


def write_path_scenario(scenario, counts: dict[str, np.ndarray], seed: int, out_dir: str | Path,
                        force: bool = False) -> Path:
    """Write a runnable scenario for one path: each endpoint's minutes as a count trace.

    ``out_dir`` gets ``scenario.yaml`` and ``<endpoint>.parquet`` (``timestamp_s, count``),
    atomically and under the output-path rule of :func:`smsim.atomic.check_output`;
    ``smsim run out_dir/scenario.yaml`` then simulates exactly this path's traffic (the fluid
    tier reads the per-minute counts back unchanged). Relative paths in the scenario (a user
    catalog) are made absolute.
    """
    import yaml

    from smsim import atomic
    from smsim.scenario import load_scenario
    from smsim.scenario.resolved import resolved_scenario_yaml
    from smsim.workload.spec import TraceWorkload

    out = Path(out_dir)
    with atomic.atomic_dir(out, force=force) as tmp:
        endpoints = []
        for e in scenario.endpoints:
            if e.name in counts:
                c = np.asarray(counts[e.name], dtype=float)
                pd.DataFrame({"timestamp_s": np.arange(c.size) * 60.0, "count": c}).to_parquet(
                    tmp / f"{e.name}.parquet", index=False)
                wl = TraceWorkload(path=f"{e.name}.parquet", shape="counts", interval_s=60.0,
                                   time_unit="s", placement="uniform")
                e = e.model_copy(update={"workload": wl, "fidelity": "fluid"})
            endpoints.append(e)
        pricing = scenario.pricing
        if pricing.catalog != "builtin" and not Path(pricing.catalog).is_absolute():
            pricing = pricing.model_copy(update={"catalog": str(scenario.base_dir / pricing.catalog)})
        scn = scenario.model_copy(update={"endpoints": endpoints, "seed": int(seed), "pricing": pricing})
        data = yaml.safe_load(resolved_scenario_yaml(scn))
        (tmp / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        load_scenario(tmp / "scenario.yaml")  # what is written must load
    return out / "scenario.yaml"


__all__ = ["EndpointPaths", "draw_paths", "path_scenario", "path_seeds", "spread_minutes",
           "write_path_scenario"]
