"""Realistic spend series for the anomaly benchmark, made from the public traces and from smsim runs.

A GPU platform's bill is the instance-hours of what is *running*, priced: jobs last hours to days,
so spend is far smoother than job arrivals. Each builder returns a wide frame (one column per
monitored series, one row per day or hour) of USD.

* :func:`philly_training`: the Philly virtual clusters' real job arrivals and GPU counts (Gavel's
  trace), each job given a duration drawn from the real Philly runtime distribution (that file
  has runtimes only, so the pairing is random, seeded), run as SageMaker training on single-GPU
  ``ml.g5.xlarge`` instances (one per GPU) at the catalog's on-demand rate: daily USD per VC.
* :func:`openb_hourly`: the Alibaba openb cluster's pods (real creation and deletion times, GPU
  counts and shares) as running GPU-hours per hour at the same rate, per QoS class. The trace
  is a snapshot that holds only pods alive after day 115.3, so only the fully covered window
  (day 116 to the end, about 33 days) is used.
* :func:`genai_endpoint_hourly`: the Alibaba Stable-Diffusion + LoRA service's real 23 days of
  requests replayed through smsim (a real-time endpoint with target-tracking autoscaling, fluid
  tier): hourly USD of the endpoint.
* :func:`simulated`: ``scenarios/quickstart.yaml`` run by smsim for some days: daily USD per
  resource.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DAY_S = 86400.0


def gpu_usd_per_hour() -> float:
    """On-demand training rate of ml.g5.xlarge (one A10G) in us-east-1, from smsim's catalog."""
    from smsim.pricing.catalog import load_catalog

    return load_catalog().ondemand_usd_per_hour("ml.g5.xlarge", "Training", "us-east-1")


def running_hours(start_s: np.ndarray, end_s: np.ndarray, weight: np.ndarray, edges_s: np.ndarray) -> np.ndarray:
    """Weighted running hours of intervals ``[start, end)`` within each bin of ``edges_s``: the
    exact overlap, through the cumulative running weight (a difference of piecewise-linear
    integrals), so a job's weight x duration is split across the bins it spans."""
    def integral(x: np.ndarray) -> np.ndarray:
        # integral over (-inf, x] of sum_i w_i 1[s_i <= t < e_i] dt = sum_i w_i (clip(x, s_i, e_i) - s_i)
        order_s, order_e = np.argsort(start_s), np.argsort(end_s)
        s, ws = start_s[order_s], weight[order_s]
        e, we = end_s[order_e], weight[order_e]
        cs, cws = np.concatenate([[0.0], np.cumsum(ws * s)]), np.concatenate([[0.0], np.cumsum(ws)])
        ce, cwe = np.concatenate([[0.0], np.cumsum(we * e)]), np.concatenate([[0.0], np.cumsum(we)])
        i, j = np.searchsorted(s, x, side="right"), np.searchsorted(e, x, side="right")
        # started by x: w (x - s); ended by x: minus w (x - e)
        return (cws[i] * x - cs[i]) - (cwe[j] * x - ce[j])

    return np.diff(integral(np.asarray(edges_s, float))) / 3600.0


def philly_training(data: Path, seed: int = 0, *, burn_in_days: int = 7, days: int = 84,
                    ) -> pd.DataFrame:
    """Daily training spend (USD) of the Philly VCs whose trace spans ``burn_in_days + days``."""
    jobs = pd.read_csv(data / "gavel-philly-vc-arrivals" / "philly_vc_jobs_seed0.csv")
    runtimes = pd.read_csv(data / "philly-runtime-alibaba" / "philly_runtime.csv")["runtime"].to_numpy(float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 16]))
    rate = gpu_usd_per_hour()
    edges = np.arange(burn_in_days, burn_in_days + days + 1) * DAY_S
    out = {}
    for vc, g in jobs.groupby("vc", sort=True):
        if g["arrival_time_s"].max() < edges[-1]:
            continue
        start = g["arrival_time_s"].to_numpy(float)
        end = start + rng.choice(runtimes, size=len(g))
        out[str(vc)] = running_hours(start, end, g["num_gpus"].to_numpy(float), edges) * rate
    return pd.DataFrame(out)


def openb_hourly(data: Path, *, first_day: int = 116) -> pd.DataFrame:
    """Hourly GPU spend (USD) of the openb cluster's latency-sensitive and best-effort pods."""
    pods = pd.read_csv(data / "alibaba-gpu-v2023-openb" / "openb_pod_list_default.csv")
    gpus = pods["num_gpu"].to_numpy(float) * np.where(pods["gpu_milli"] > 0, pods["gpu_milli"] / 1000.0, 1.0)
    last = float(pods["creation_time"].max())
    edges = np.arange(first_day * DAY_S, last - 3600.0, 3600.0)
    rate = gpu_usd_per_hour()
    out = {}
    for qos in ("LS", "BE"):
        sel = (pods["qos"] == qos).to_numpy()
        out[qos] = running_hours(pods["creation_time"].to_numpy(float)[sel],
                                 pods["deletion_time"].to_numpy(float)[sel], gpus[sel], edges) * rate
    return pd.DataFrame(out)


def _run(doc: dict, freq: str, days: int, dimension: str) -> pd.DataFrame:
    from smsim import api
    from smsim.anomalies.spend import series_by, spend_cube

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(yaml.safe_dump(doc))
        result = api.run_scenario(path)
    start = pd.Timestamp(result.scenario.horizon.start)
    cube = spend_cube(result.ledger, freq=freq, start=start, end=start + pd.Timedelta(days=days))
    return series_by(cube, dimension)


def genai_endpoint_hourly(data: Path, seed: int = 0, *, days: int = 22, rate_scale: float = 8.0) -> pd.DataFrame:
    """Hourly spend (USD) of a real-time endpoint serving the Alibaba LoRA trace x ``rate_scale``
    (one image takes the trace's median 23 s, p99 106 s), simulated by smsim on the fluid tier."""
    doc = {
        "name": "genai-lora", "region": "us-east-1", "seed": seed, "fidelity": "fluid",
        "horizon": {"start": "2024-11-16T00:00:00Z", "duration_s": f"{days}d"},
        "models": [{"name": "sd-lora", "memory_gb": 10,
                    "latency": {"*": {"kind": "lognormal", "median_s": 23.0, "p99_s": 106.0}}}],
        "endpoints": [{
            "kind": "realtime", "name": "sd-lora", "model": "sd-lora", "instance_type": "ml.g5.xlarge",
            "concurrency_per_instance": 1,
            "workload": {"kind": "real", "dataset": "alibaba-genai-2026-lora", "data_dir": str(data),
                         "skip_s": "7h", "rate_scale": rate_scale},
            "autoscaling": {"min_capacity": 1, "max_capacity": 40,
                            "policies": [{"kind": "target_tracking", "target_value": 1.8,
                                          "scale_in_cooldown_s": 900}]},
        }],
    }
    return _run(doc, "h", days, "resource")


def simulated(days: int, seed: int) -> pd.DataFrame:
    """Daily spend (USD) per resource of ``scenarios/quickstart.yaml`` run for ``days`` days."""
    d = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
    d["horizon"]["duration_s"] = f"{days}d"
    d["seed"] = seed
    d["fidelity"] = "fluid"
    d.pop("budgets", None)
    for ep in d["endpoints"]:
        ep.pop("fidelity", None)
    return _run(d, "D", days, "tag:smsim:resource")
