"""Cost anomaly detection against known anomalies, beside a day-over-day > 20 % rule.

Spend series (daily, per resource):

* simulated: ``scenarios/quickstart.yaml`` run for ``--days`` days on the fluid tier (a chat
  endpoint with a daily and weekly cycle, nightly spot fine-tuning, notebooks on working hours,
  a weekly batch job, S3, egress), one run per ``--seeds`` seed, spend per ``smsim:resource`` tag;
* real (when ``shared/data`` beside the checkout is present): the Philly virtual clusters' job
  arrivals (Gavel's trace) as GPUs requested per day for the five busiest clusters, and the
  Alibaba GPU cluster's (openb, FGD ATC'23) latency-sensitive and best-effort pods as GPU-hours
  per day, both priced at 1 USD per GPU-hour (the shape of spend, not SageMaker prices).

Into each series set, each trial injects ``--per-trial`` anomalies at random days after the
detector's warm-up, on random resources, of ``--min-size`` to ``--max-size`` of the mean daily
total spend: a one-day spike, a lasting level shift, a runaway autoscaled endpoint (ramping to its
size over three days, five days long), a notebook left running (flat extra spend, 3-6 days) and a
training job stuck retrying (2-4 days). Both detectors get the same monitor (per resource) and
the same minimum impact (``--min-impact`` of the mean daily total, half the smallest anomaly).
A detection is a true positive when it is on the injected resource and starts within the
anomaly's days; precision = true detections / detections, recall = anomalies detected /
anomalies injected; delay = days from the anomaly's start to the end of the first detected day.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# shared/data beside the checkout (or beside the folder of worktrees it sits in)
DATA = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data") if p.is_dir()),
            ROOT.parent / "shared" / "data")

from smsim.anomalies.detector import WINDOW, day_over_day, detect  # noqa: E402

KINDS = ("spike", "level_shift", "runaway_endpoint", "notebook_left_running", "training_stuck_retrying")


def simulated(days: int, seed: int) -> pd.DataFrame:
    import tempfile

    from smsim import api
    from smsim.anomalies.spend import series_by, spend_cube

    d = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
    d["horizon"]["duration_s"] = f"{days}d"
    d["seed"] = seed
    d["fidelity"] = "fluid"
    d.pop("budgets", None)
    for ep in d["endpoints"]:
        ep.pop("fidelity", None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(yaml.safe_dump(d))
        result = api.run_scenario(path)
    cube = spend_cube(result.ledger, start=result.scenario.horizon.start,
                      end=pd.Timestamp(result.scenario.horizon.start) + pd.Timedelta(days=days))
    return series_by(cube, "tag:smsim:resource")


def philly() -> pd.DataFrame:
    jobs = pd.read_csv(DATA / "gavel-philly-vc-arrivals" / "philly_vc_jobs_seed0.csv")
    jobs["day"] = (jobs["arrival_time_s"] // 86400).astype(int)
    busiest = jobs["vc"].value_counts().index[:5]
    wide = jobs[jobs["vc"].isin(busiest)].pivot_table(index="day", columns="vc", values="num_gpus", aggfunc="sum")
    return wide.reindex(range(int(jobs["day"].max()) + 1), fill_value=0).fillna(0.0).astype(float)


def alibaba() -> pd.DataFrame:
    pods = pd.read_csv(DATA / "alibaba-gpu-v2023-openb" / "openb_pod_list_default.csv")
    gpus = pods["num_gpu"] * np.where(pods["gpu_milli"] > 0, pods["gpu_milli"] / 1000.0, 1.0)
    n_days = int(pods["deletion_time"].max() // 86400) + 1
    out = {}
    for qos in ("LS", "BE"):
        sel = (pods["qos"] == qos).to_numpy()
        c, e, g = pods["creation_time"].to_numpy()[sel], pods["deletion_time"].to_numpy()[sel], gpus.to_numpy()[sel]
        out[qos] = [float((np.clip(np.minimum(e, (d + 1) * 86400) - np.maximum(c, d * 86400), 0, None) * g).sum() / 3600)
                    for d in range(n_days)]
    return pd.DataFrame(out)


def inject(base: pd.DataFrame, rng: np.random.Generator, n: int, min_size: float, max_size: float):
    """``(series, truth)``: a copy of ``base`` with ``n`` anomalies added; truth rows are
    ``(kind, resource, start, end)`` with ``end`` the last day the anomaly may be detected."""
    data = base.to_numpy(float).copy()
    days, _ = data.shape
    total = data.sum(axis=1).mean()
    active = [j for j in range(data.shape[1]) if data[:, j].mean() > 0.01 * total]
    truth = []
    free = np.ones(days, bool)
    free[: WINDOW["D"] + 1] = False
    for _ in range(n):
        kind = KINDS[rng.integers(len(KINDS))]
        length = {"spike": 1, "level_shift": days, "runaway_endpoint": 5,
                  "notebook_left_running": int(rng.integers(3, 7)), "training_stuck_retrying": int(rng.integers(2, 5))}[kind]
        starts = [d for d in range(days - 2) if free[d:min(d + min(length, 7) + 7, days)].all()]
        if not starts:
            break
        d = int(rng.choice(starts))
        j = int(rng.choice(active))
        size = rng.uniform(min_size, max_size) * total
        end = min(d + length, days)
        if kind == "runaway_endpoint":
            extra = size * np.minimum(1.0, (np.arange(end - d) + 1) / 3.0)
        else:
            extra = np.full(end - d, size)
        data[d:end, j] += extra
        last = min(d + min(length, 7), days) - 1
        free[max(d - 7, 0): min(last + 8, days)] = False
        truth.append((kind, j, d, last))
    return data, truth


def score(detections: list[tuple[int, int]], truth: list[tuple]) -> tuple[int, int, list[int], dict]:
    """``(true_detections, false_detections, delays, found per kind)``."""
    found = {}
    delays = []
    tp = fp = 0
    hit = set()
    for j, start in detections:
        match = [i for i, (_, tj, s, e) in enumerate(truth) if tj == j and s <= start <= e]
        if match:
            tp += 1
            i = match[0]
            if i not in hit:
                hit.add(i)
                delays.append(start - truth[i][2] + 1)
        else:
            fp += 1
    for i, (kind, *_rest) in enumerate(truth):
        k = found.setdefault(kind, [0, 0])
        k[0] += i in hit
        k[1] += 1
    return tp, fp, delays, found


def evaluate(name: str, base: pd.DataFrame, trials: int, per_trial: int, min_size: float, max_size: float,
             min_impact: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    total = base.to_numpy(float).sum(axis=1).mean()
    floor = min_impact * total
    results = {"detector": [0, 0, [], {}], "day-over-day > 20%": [0, 0, [], {}]}
    n_truth = 0
    t0 = time.perf_counter()
    for _ in range(trials):
        data, truth = inject(base, rng, per_trial, min_size, max_size)
        n_truth += len(truth)
        for label, fn in (("detector", lambda v: detect(v, "D")), ("day-over-day > 20%", day_over_day)):
            dets = [(j, ep.start) for j in range(data.shape[1]) for ep in fn(data[:, j]) if ep.impact_usd >= floor]
            tp, fp, delays, found = score(dets, truth)
            r = results[label]
            r[0] += tp
            r[1] += fp
            r[2] += delays
            for kind, (h, n) in found.items():
                k = r[3].setdefault(kind, [0, 0])
                k[0] += h
                k[1] += n
    secs = time.perf_counter() - t0
    print(f"\n{name}: {base.shape[1]} series x {base.shape[0]} days, mean daily total {total:,.2f} USD; "
          f"{trials} trials, {n_truth} anomalies of {min_size:.0%}-{max_size:.0%} of daily spend; "
          f"min impact {floor:,.2f} USD ({secs:.1f} s)")
    print(f"  {'rule':<20} {'precision':>9} {'recall':>7} {'false alarms':>12} {'delay (days) mean/max':>22}  recall by kind")
    for label, (tp, fp, delays, found) in results.items():
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = sum(h for h, _ in found.values()) / n_truth if n_truth else float("nan")
        by_kind = ", ".join(f"{k} {h}/{n}" for k, (h, n) in sorted(found.items()))
        delay = f"{np.mean(delays):.2f}/{max(delays)}" if delays else "-"
        print(f"  {label:<20} {precision:>9.3f} {recall:>7.3f} {fp:>12d} {delay:>22}  {by_kind}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=70)
    ap.add_argument("--seeds", type=int, nargs="+", default=[2026, 7])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--per-trial", type=int, default=2)
    ap.add_argument("--min-size", type=float, default=0.10)
    ap.add_argument("--max-size", type=float, default=0.50)
    ap.add_argument("--min-impact", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    common = (args.trials, args.per_trial, args.min_size, args.max_size, args.min_impact)
    for s in args.seeds:
        t = time.perf_counter()
        base = simulated(args.days, s)
        print(f"simulated quickstart, seed {s}: {time.perf_counter() - t:.1f} s")
        evaluate(f"simulated (seed {s})", base, *common, seed=args.seed + s)
    if not DATA.is_dir():
        print(f"\nreal traces skipped: {DATA} does not exist")
        return
    for name, load in (("Philly virtual clusters (GPUs requested per day)", philly),
                       ("Alibaba openb pods (GPU-hours per day, LS and BE)", alibaba)):
        try:
            base = load()
        except FileNotFoundError as exc:
            print(f"\n{name} skipped: {exc.filename} not found")
            continue
        evaluate(name, base, *common, seed=args.seed)


if __name__ == "__main__":
    main()
