"""Panels of hourly series for forecasting at scale: real traces cut into series, and a seeded
synthetic panel of request traffic.

Real (when shared/data beside the checkout is present): Philly job arrivals per virtual
cluster per hour, Alibaba openb GPUs held per hour by QoS class and GPU model, and Alibaba
Stable-Diffusion requests per hour per checkpoint model. Long series are cut into
non-overlapping six-week pieces, so every piece is a series of 432-1,008 hours.

Synthetic: request counts per hour drawn as Poisson around a level with a daily profile (one
to three harmonics, random phase), a weekend dip, a multiplicative trend, an occasional level
shift, log-normal day-to-day noise and rare spikes, for levels from 1 to 5,000 requests an
hour. Each series has its own ``SeedSequence`` child, so the panel is the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PIECE_HOURS = 1008
MIN_HOURS = 432  # 18 days: two weeks of training left after two 48-hour test windows
START = pd.Timestamp("2026-01-05")  # a Monday


def synthetic_panel(n_series: int, seed: int = 2026) -> dict[str, pd.Series]:
    """``n_series`` hourly request-count series of 432-1,008 hours."""
    out = {}
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_series)):
        rng = np.random.default_rng(child)
        n = int(rng.integers(MIN_HOURS, PIECE_HOURS + 1))
        t = np.arange(n)
        level = float(np.exp(rng.uniform(np.log(1.0), np.log(5000.0))))
        daily = np.zeros(n)
        for k in range(1, int(rng.integers(1, 4)) + 1):
            daily += rng.uniform(0.1, 0.6) / k * np.cos(2 * np.pi * k * t / 24 - rng.uniform(0, 2 * np.pi))
        weekday = ((t // 24) % 7) < 5
        weekend = np.where(weekday, 1.0, rng.uniform(0.3, 1.0))
        trend = np.exp(rng.uniform(-0.3, 0.6) * t / n)
        shift = np.ones(n)
        if rng.random() < 0.2:
            shift[int(rng.integers(n // 4, n)):] = rng.uniform(0.6, 1.6)
        days = n // 24 + 1
        day_noise = np.repeat(np.exp(rng.normal(0, rng.uniform(0.02, 0.25), days)), 24)[:n]
        rate = level * np.exp(daily) * weekend * trend * shift * day_noise
        y = rng.poisson(rate).astype(float)
        for _ in range(int(rng.poisson(0.5))):
            y[int(rng.integers(0, n))] *= rng.uniform(2, 5)
        out[f"synthetic-{i:03d}"] = pd.Series(y, index=pd.date_range(START, periods=n, freq="h"))
    return out


def _pieces(name: str, y: pd.Series) -> dict[str, pd.Series]:
    """Non-overlapping pieces of at most :data:`PIECE_HOURS` hours, the newest last; pieces
    shorter than :data:`MIN_HOURS` or zero in more than 80 % of hours are left out."""
    out = {}
    for j, end in enumerate(range(len(y), MIN_HOURS - 1, -PIECE_HOURS)):
        piece = y.iloc[max(0, end - PIECE_HOURS):end]
        if len(piece) >= MIN_HOURS and (piece > 0).mean() >= 0.2:
            out[f"{name}#{j}"] = piece
    return out


def real_panel() -> dict[str, pd.Series]:
    """Hourly series cut from the real traces (empty when they are absent)."""
    if not DATA.is_dir():
        return {}
    out: dict[str, pd.Series] = {}
    philly = pd.read_csv(DATA / "gavel-philly-vc-arrivals" / "philly_vc_jobs_seed0.csv",
                         usecols=["vc", "arrival_time_s"])
    philly["hour"] = (philly["arrival_time_s"] // 3600).astype(int)
    for vc, group in philly.groupby("vc"):
        counts = group.groupby("hour").size().reindex(range(group["hour"].max() + 1),
                                                      fill_value=0)
        y = pd.Series(counts.to_numpy(float), index=pd.date_range(START, periods=len(counts),
                                                                  freq="h"))
        out.update(_pieces(f"philly-arrivals-{vc}", y))
    pods = pd.read_csv(DATA / "alibaba-gpu-v2023-openb" / "openb_pod_list_default.csv",
                       usecols=["num_gpu", "gpu_milli", "gpu_spec", "qos", "creation_time",
                                "deletion_time"])
    pods = pods[pods["num_gpu"] > 0]
    horizon = int(pods["deletion_time"].max() // 3600) + 1
    pods["gpus"] = pods["num_gpu"] * pods["gpu_milli"] / 1000.0
    pods["gpu_spec"] = pods["gpu_spec"].fillna("any")
    for key in ("qos", "gpu_spec"):
        for value, group in pods.groupby(key):
            held = np.zeros(horizon + 1)
            np.add.at(held, (group["creation_time"] // 3600).astype(int), group["gpus"])
            np.add.at(held, (group["deletion_time"] // 3600).astype(int), -group["gpus"])
            y = pd.Series(np.cumsum(held)[:horizon], index=pd.date_range(START, periods=horizon,
                                                                         freq="h"))
            out.update(_pieces(f"openb-gpus-{key}={value}", y.round(6)))
    lora = pd.read_csv(DATA / "alibaba-genai-2026" / "lora_request_trace.csv",
                       usecols=["gmt_create", "checkpoint_model_version_id"],
                       parse_dates=["gmt_create"])
    lora = lora[lora["gmt_create"] >= lora["gmt_create"].min().ceil("D")]
    for model, group in lora.groupby("checkpoint_model_version_id"):
        y = group.set_index("gmt_create").assign(n=1.0)["n"].resample("h").sum()
        y = y.reindex(pd.date_range(lora["gmt_create"].min().floor("h"),
                                    lora["gmt_create"].max().floor("h"), freq="h"), fill_value=0)
        out.update(_pieces(f"alibaba-sd-{model}", y))
    return out
