"""A planted account for the assessment tests: a four-week bill across two months (savings plan,
discount, tags) with an idle endpoint, an oversized endpoint, on-demand training and a notebook
left on, plus its CloudWatch metrics as get-metric-data JSON (with the queries beside it) and CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-01-18T00:00:00Z")
DAYS = 28
PLANTED = Path(__file__).resolve().parents[1] / "scenarios" / "assess_account.yaml"
#: big-ep's traffic: invocations per 5 minutes (0.2/s on average, a daily swing), 50 ms mean latency
PERIOD_S = 300
MEAN_LATENCY_US = 50_000.0
P99_LATENCY_US = 300_000.0


def big_ep_counts(period_s: int = PERIOD_S) -> pd.Series:
    times = pd.date_range(START, periods=DAYS * 86400 // period_s, freq=f"{period_s}s")
    hours = (times - START).total_seconds() / 3600.0
    scale = period_s / PERIOD_S
    counts = np.round(scale * (60 + 30 * np.sin(2 * np.pi * hours.to_numpy() / 24.0)))
    counts[(np.arange(len(times)) % 97) == 0] = 0  # a few empty periods CloudWatch does not write
    return pd.Series(counts, index=times)


def write_metrics(folder: Path, period_s: int = PERIOD_S, indent: int | None = 4) -> Path:
    """``big-ep.json`` (+ ``big-ep.queries.json``) and ``idle-ep.csv`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = big_ep_counts(period_s)
    written = counts[counts > 0]
    stamps = [t.strftime("%Y-%m-%dT%H:%M:%S+00:00") for t in written.index[::-1]]  # newest first, as AWS
    results = [
        {"Id": "inv", "Label": "Invocations", "Timestamps": stamps, "Values": written.to_list()[::-1],
         "StatusCode": "Complete"},
        {"Id": "lat", "Label": "ModelLatency", "Timestamps": stamps, "Values": [MEAN_LATENCY_US] * len(stamps),
         "StatusCode": "Complete"},
        {"Id": "p99", "Label": "ModelLatency", "Timestamps": stamps, "Values": [P99_LATENCY_US] * len(stamps),
         "StatusCode": "Complete"},
        {"Id": "mem", "Label": "MemoryUtilization", "Timestamps": stamps, "Values": [5.0] * len(stamps),
         "StatusCode": "Complete"},
    ]
    (folder / "big-ep.json").write_text(json.dumps({"MetricDataResults": results, "Messages": []}, indent=indent))

    def query(qid: str, metric: str, stat: str) -> dict:
        dims = [{"Name": "EndpointName", "Value": "big-ep"}, {"Name": "VariantName", "Value": "AllTraffic"}]
        return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric,
                                                     "Dimensions": dims}, "Period": period_s, "Stat": stat}}

    queries = [query("inv", "Invocations", "Sum"), query("lat", "ModelLatency", "Average"),
               query("p99", "ModelLatency", "p99"), query("mem", "MemoryUtilization", "Average")]
    (folder / "big-ep.queries.json").write_text(json.dumps(queries, indent=2))
    rows = ["timestamp,endpoint,variant,metric,stat,value"]
    step_h = max(1, period_s // 3600) * (6 if period_s >= 3600 else 1)
    for t in pd.date_range(START, periods=DAYS * 24 // step_h, freq=f"{step_h}h"):
        rows.append(f"{t:%Y-%m-%dT%H:%M:%SZ},idle-ep,AllTraffic,CPUUtilization,Average,0.5")
    rows.append(f"{START:%Y-%m-%dT%H:%M:%SZ},idle-ep,AllTraffic,Invocations,Sum,0")
    (folder / "idle-ep.csv").write_text("\n".join(rows) + "\n")
    return folder


def write_bill(folder: Path) -> Path:
    """Simulate the planted account and export its bill as CUR 2.0; returns the bill file."""
    from smsim import api

    folder.mkdir(parents=True, exist_ok=True)
    result = api.run_scenario(api.load_scenario(PLANTED))
    api.write_run(result, folder / "run", ledger_format="cur2")
    return folder / "run" / "ledger.cur2.parquet"
