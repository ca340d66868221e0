"""Cost anomaly detection against known anomalies, beside a day-over-day > 20 % rule.

Spend series (see ``benchmarks/anomaly_series.py`` for how each is made):

* simulated: ``scenarios/quickstart.yaml`` run by smsim for ``--days`` days (fluid tier), one run
  per ``--seeds`` seed, daily spend per resource;
* real, when ``shared/data`` beside the checkout is present: the Philly VCs' training spend
  (real arrivals and GPU counts, real runtime distribution; one pairing per seed), daily per VC;
  the openb cluster's running GPU spend, hourly per QoS class; the Alibaba LoRA service's
  real requests replayed through an autoscaled smsim endpoint (one run per seed), hourly.

Each trial injects ``--per-trial`` anomalies into a copy of a series set, after the detectors'
warm-up (28 days, 72 hours), on random series, each adding ``--min-size`` to ``--max-size`` of
the set's mean total spend per step (so 10-50 % of a day's spend per day it lasts): a spike (1
day; 1-3 hours holding that much of a day's spend), a lasting level shift, a runaway autoscaled
endpoint (ramping to its size over 3 days / 6 hours, lasting 5 days / 36 hours), a notebook left
running (3-6 days; 24-72 hours) and a training job stuck retrying (2-4 days; 24-48 hours). Every
rule gets the same monitor (per series) and the same minimum impact (``--min-impact`` of the
mean total daily spend). The plain rule compares each step with the same step a day earlier
(the previous day; the same hour of the previous day). A detection is true when it is on the
injected series and starts within the anomaly's first period (7 days; 24 hours); else it is a
false alarm. Real series have unlabelled events of their own (a 32-GPU job starting is a real
jump in spend), so each rule also runs on the clean series (``alarms on clean series``, once
per seed): false alarms that start within one step of such an alarm are counted in ``on
clean``, and ``precision*`` leaves them out. Delay = steps from the anomaly's start to the end
of the step its first detection was found on. Start error = the detection's reported start
minus the injected start (mean, and the share exactly on it); ``early`` counts detections found
within an anomaly's first period whose start was put before it (so they are not matched).
Impact error = the reported impact over the injected extra spend, less 1 (the injected extra
spend over all its steps; for a level shift, which never ends, up to the detection's end,
when the detector accepts the new level).

``--seen`` names the seeds among ``--seeds`` that settings were already chosen or figures
reported on: the summary then gives the fresh seeds, the honest test of a change, apart from
the seen ones.

``--baseline-rev REV [REV ...]`` adds the detector as it was at each git revision REV (read
with ``git show``), so before and after are measured in the same run.

``--levels``: ``series`` watches each series (a per-resource monitor: the anomaly's size is
relative to the whole set's spend, so on a small or noisy series it may be far below that
series' own noise); ``total`` watches the set's total (a monitor of the whole account, as AWS's
service monitor does: the anomaly's size is relative to the monitored spend). Before the
tallies, each seed prints every series' signal-to-noise ratio: the smallest anomaly
(``--min-size`` of the set's mean spend per step) over the detector's median spread there. Recall
is also split by each anomaly's own SNR (its largest extra spend per step over the detector's
spread on the unmodified series at its start: below 2, 2-5.3, 5.3 and up), and the summary pools
the recall at SNR 5.3+, where precision and recall of 0.9 are within any detector's reach.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
# shared/data beside the checkout (or beside the folder of worktrees it sits in)
DATA = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data") if p.is_dir()),
            ROOT.parent / "shared" / "data")

import anomaly_series  # noqa: E402

from smsim.anomalies.detector import day_over_day, detect, forecast  # noqa: E402

KINDS = ("spike", "level_shift", "runaway_endpoint", "notebook_left_running", "training_stuck_retrying")
WARMUP = {"D": 28, "h": 72}
PERIOD = {"D": 7, "h": 24}


def baseline_detector(rev: str):
    """``detect`` of ``smsim/anomalies/detector.py`` at git revision ``rev``."""
    source = subprocess.run(["git", "show", f"{rev}:smsim/anomalies/detector.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"detector_{rev}")
    sys.modules[module.__name__] = module
    exec(compile(source, f"detector@{rev}", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module.detect


def _length(kind: str, freq: str, rng: np.random.Generator, steps: int) -> int:
    if kind == "level_shift":
        return steps
    if freq == "D":
        return {"spike": 1, "runaway_endpoint": 5, "notebook_left_running": int(rng.integers(3, 7)),
                "training_stuck_retrying": int(rng.integers(2, 5))}[kind]
    return {"spike": int(rng.integers(1, 4)), "runaway_endpoint": 36, "notebook_left_running": int(rng.integers(24, 73)),
            "training_stuck_retrying": int(rng.integers(24, 49))}[kind]


def inject(base: np.ndarray, freq: str, rng: np.random.Generator, n: int, min_size: float, max_size: float):
    """``(series, truth)``: ``base`` with ``n`` anomalies added; truth rows are ``(kind, series,
    start, last, size, added)`` with ``last`` the last step a detection may start on and
    ``added`` the extra spend of each step from ``start`` on."""
    data = base.copy()
    steps = data.shape[0]
    total = data.sum(axis=1).mean()
    period = PERIOD[freq]
    active = [j for j in range(data.shape[1]) if data[:, j].mean() > 0.01 * total]
    truth = []
    free = np.ones(steps, bool)
    free[: WARMUP[freq] + 1] = False
    for _ in range(n):
        kind = KINDS[rng.integers(len(KINDS))]
        length = _length(kind, freq, rng, steps)
        starts = [d for d in range(steps - 2) if free[d:min(d + min(length, period) + period, steps)].all()]
        if not starts:
            break
        d = int(rng.choice(starts))
        j = int(rng.choice(active))
        frac = rng.uniform(min_size, max_size)
        end = min(d + length, steps)
        ramp = 3 if freq == "D" else 6
        shape = np.minimum(1.0, (np.arange(end - d) + 1) / ramp) if kind == "runaway_endpoint" else np.ones(end - d)
        if kind == "spike":  # a day's worth of the extra spend within the spike's steps
            shape = shape * period / len(shape) if freq == "h" else shape
        data[d:end, j] += frac * total * shape
        last = min(d + min(length, period), steps) - 1
        free[max(d - period, 0): min(last + period + 1, steps)] = False
        truth.append((kind, j, d, last, frac, frac * total * shape))
    return data, truth


BANDS = ((0.10, 0.20), (0.20, 0.35), (0.35, 1.0))
#: signal-to-noise bands: an anomaly's largest extra spend per step over the detector's spread
#: on its series, unmodified, at the step the anomaly starts (spend that is volatile then hides
#: an anomaly more than its typical spread says). From 5.3
#: (4 + 1.28) spreads a single step clears a 4-spread test nine times in ten under normal errors,
#: so there precision and recall of 0.9 are within any detector's reach; below 2 a step is inside
#: the noise
SNR_BANDS = ((0.0, 2.0), (2.0, 5.3), (5.3, np.inf))


class Tally:
    def __init__(self) -> None:
        self.tp = self.fp = self.background = self.clean = 0
        self.delays: list[int] = []
        self.start_errors: list[int] = []
        self.impact_errors: list[float] = []
        self.early = 0
        self.kinds: dict[str, list[int]] = {}
        self.bands = [[0, 0] for _ in BANDS]
        self.snr_bands = [[0, 0] for _ in SNR_BANDS]

    def add(self, detections, clean_alarms, truth, spreads=None) -> None:
        hit = set()
        for j, start, end, found, impact in detections:
            match = [i for i, (_, tj, s, e, _f, _a) in enumerate(truth) if tj == j and s <= start <= e]
            self.early += any(tj == j and start < s <= found <= e for _, tj, s, e, _f, _a in truth) and not match
            if match:
                self.tp += 1
                if match[0] not in hit:
                    hit.add(match[0])
                    kind, _, s, _, _, added = truth[match[0]]
                    self.delays.append(found - s + 1)
                    self.start_errors.append(start - s)
                    injected = float(added[:max(end - s + 1, 0)].sum() if kind == "level_shift" else added.sum())
                    self.impact_errors.append(impact / injected - 1.0)
            elif any(cj == j and cs - 1 <= start <= ce + 1 for cj, cs, ce in clean_alarms):
                self.background += 1
            else:
                self.fp += 1
        for i, (kind, j, start, _e, frac, added) in enumerate(truth):
            k = self.kinds.setdefault(kind, [0, 0])
            k[0] += i in hit
            k[1] += 1
            b = next(b for b, (lo, hi) in enumerate(BANDS) if frac < hi)
            self.bands[b][0] += i in hit
            self.bands[b][1] += 1
            if spreads is not None:
                snr = float(np.max(added)) / spreads[j][start] if spreads[j][start] > 0 else np.inf
                b = next(b for b, (lo, hi) in enumerate(SNR_BANDS) if snr < hi)
                self.snr_bands[b][0] += i in hit
                self.snr_bands[b][1] += 1

    @property
    def n_truth(self) -> int:
        return sum(n for _, n in self.kinds.values())

    def precision(self, strict: bool = True) -> float:
        fp = self.fp + (self.background if strict else 0)
        return self.tp / (self.tp + fp) if self.tp + fp else float("nan")

    def recall(self) -> float:
        return sum(h for h, _ in self.kinds.values()) / self.n_truth if self.n_truth else float("nan")


def evaluate(base: pd.DataFrame, freq: str, rules: dict, trials: int, per_trial: int, min_size: float,
             max_size: float, min_impact: float, seed: int, level: str = "series") -> dict[str, Tally]:
    """Tallies of every rule over ``trials`` injections. ``level="series"`` watches each series
    (a per-resource monitor); ``"total"`` watches their sum (a monitor of the whole set, where
    an anomaly's size is relative to the monitored spend itself), the same injections."""
    rng = np.random.default_rng(seed)
    values = base.to_numpy(float)
    floor = min_impact * values.sum(axis=1).mean() * (24 if freq == "h" else 1)
    watch = (lambda d: d) if level == "series" else (lambda d: d.sum(axis=1, keepdims=True))

    def run(fn, data):  # (series, start, end, step found on, impact); a detector without the last: its start
        return [(j, ep.start, ep.end, getattr(ep, "detected", ep.start), ep.impact_usd)
                for j in range(data.shape[1]) for ep in fn(data[:, j]) if ep.impact_usd >= floor]

    tallies = {label: Tally() for label in rules}
    spreads = [forecast(v, freq)[1] for v in watch(values).T]  # the detector's spread per step
    clean = {label: [(j, s, e) for j, s, e, _, _ in run(fn, watch(values))] for label, fn in rules.items()}
    for label in rules:
        tallies[label].clean = len(clean[label])
    for _ in range(trials):
        data, truth = inject(values, freq, rng, per_trial, min_size, max_size)
        if level != "series":
            truth = [(kind, 0, *rest) for kind, _j, *rest in truth]
        data = watch(data)
        for label, fn in rules.items():
            tallies[label].add(run(fn, data), clean[label], truth, spreads)
    return tallies


def print_tallies(title: str, tallies: dict[str, Tally], unit: str) -> None:
    print(f"\n{title}")
    print(f"  {'rule':<22} {'precision':>9} {'precision*':>10} {'recall':>7} {'false alarms':>12} {'on clean':>8} "
          f"{'alarms on clean series':>22} {'delay mean/max':>15} {'start err/exact':>16} {'early':>5} "
          f"{'impact err':>10}  recall by size (10-20/20-35/35-50 %)  by SNR (<2/2-5.3/5.3+)")
    for label, t in tallies.items():
        delay = f"{np.mean(t.delays):.2f}/{max(t.delays)} {unit}" if t.delays else "-"
        start = f"{np.mean(t.start_errors):+.2f} {unit}/{np.mean(np.equal(t.start_errors, 0)):.2f}" \
            if t.start_errors else "-"
        impact = f"{np.mean(t.impact_errors):+.1%}" if t.impact_errors else "-"
        bands = " / ".join(f"{h}/{n}" for h, n in t.bands)
        snr = " / ".join(f"{h}/{n}" for h, n in t.snr_bands)
        print(f"  {label:<22} {t.precision():>9.3f} {t.precision(False):>10.3f} {t.recall():>7.3f} "
              f"{t.fp + t.background:>12d} {t.background:>8d} {t.clean:>22d} {delay:>15} {start:>16} {t.early:>5d} "
              f"{impact:>10}  {bands:<30}  {snr}")


def median_spread(v: np.ndarray, freq: str) -> float:
    """The detector's median spread (its typical forecast error) over the clean series ``v``."""
    return float(np.nanmedian(forecast(v, freq)[1]))


def noise(base: pd.DataFrame, freq: str, min_size: float) -> list[tuple[str, float, float, float, float]]:
    """Per series and for their total: ``(name, mean spend per step, median change from a day
    earlier in %, detector spread, SNR)``, the SNR being the smallest injected anomaly
    (``min_size`` of the set's mean total spend per step, spread over a day) over the detector's
    median spread (its forecast error): below about 5 no rule can find it at 0.9 / 0.9."""
    values = base.to_numpy(float)
    lag = 24 if freq == "h" else 1
    size = min_size * values.sum(axis=1).mean()
    rows = []
    for name, v in [*((str(c), values[:, j]) for j, c in enumerate(base.columns)), ("(total)", values.sum(axis=1))]:
        if v.mean() <= 0.01 * values.sum(axis=1).mean():
            continue  # never injected into (under 1 % of the set)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.nanmedian(np.abs(v[lag:] - v[:-lag]) / v[:-lag]) * 100
        spread = median_spread(v, freq)
        rows.append((name, v.mean(), change, spread, size / spread if spread > 0 else float("inf")))
    return rows


def series_sets(args) -> list[tuple[str, str, object]]:
    """``(name, freq, loader(seed))`` of every set asked for."""
    sets = []
    if "simulated" in args.sets:
        sets.append((f"simulated quickstart ({args.days} days, per resource)", "D",
                     lambda s: anomaly_series.simulated(args.days, s)))
    real = [("philly", "Philly training fleet (real arrivals and runtimes, per VC)", "D",
             lambda s: anomaly_series.philly_training(DATA, s)),
            ("openb", "openb GPU pods (real, hourly per QoS; same series every seed)", "h",
             lambda s: anomaly_series.openb_hourly(DATA)),
            ("genai", "Alibaba LoRA endpoint (real requests through smsim, hourly)", "h",
             lambda s: anomaly_series.genai_endpoint_hourly(DATA, s))]
    for key, name, freq, load in real:
        if key not in args.sets:
            continue
        if not DATA.is_dir():
            print(f"{name} skipped: {DATA} does not exist")
            continue
        sets.append((name, freq, load))
    return sets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=70)
    ap.add_argument("--seeds", type=int, nargs="+", default=[2026, 7, 11])
    ap.add_argument("--sets", nargs="+", default=["simulated", "philly", "openb", "genai"])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--per-trial", type=int, default=2)
    ap.add_argument("--min-size", type=float, default=0.10)
    ap.add_argument("--max-size", type=float, default=0.50)
    ap.add_argument("--min-impact", type=float, default=0.05)
    ap.add_argument("--seen", type=int, nargs="*", default=[],
                    help="those of --seeds already looked at (settings chosen or figures reported on them): "
                         "the summary gives the fresh and the seen seeds apart")
    ap.add_argument("--baseline-rev", nargs="*", default=[], help="also run the detector of these git revisions")
    ap.add_argument("--levels", nargs="+", default=["series", "total"], choices=["series", "total"],
                    help="watch each series (per-resource monitor) and/or their total (one monitor of the set)")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    summary = []
    for name, freq, load in series_sets(args):
        rules = {"detector": lambda v, f=freq: detect(v, f)}
        for rev in args.baseline_rev:
            old = baseline_detector(rev)
            rules[f"detector @{rev[:7]}"] = lambda v, f=freq, old=old: old(v, f)
        rules["day-over-day > 20%"] = lambda v, lag=(24 if freq == "h" else 1): day_over_day(v, lag=lag)
        per_seed = {level: [] for level in args.levels}
        for s in args.seeds:
            t = time.perf_counter()
            base = load(s)
            t_load = time.perf_counter() - t
            unit = "day" if freq == "D" else "hour"
            print(f"\n{name}, seed {s}: signal-to-noise of a {args.min_size:.0%} anomaly "
                  f"(change = median change from a day earlier)")
            for col, mean, change, spread, snr in noise(base, freq, args.min_size):
                print(f"  {col[:40]:<40} mean {mean:>10,.2f} USD/{unit}  change {change:>5.0f} %  "
                      f"spread {spread:>9,.2f}  SNR {snr:>8.2f}")
            for level in args.levels:
                t = time.perf_counter()
                tallies = evaluate(base, freq, rules, args.trials, args.per_trial, args.min_size, args.max_size,
                                   args.min_impact, seed=s, level=level)
                total = base.to_numpy(float).sum(axis=1).mean()
                watched = f"{base.shape[1]} series" if level == "series" else f"their total ({base.shape[1]} series)"
                print_tallies(f"{name}, seed {s}, watching {watched} x {base.shape[0]} {unit}s, "
                              f"mean total {total:,.2f} USD per {unit}; {args.trials} trials, "
                              f"{tallies['detector'].n_truth} anomalies ({t_load:.1f} s to build, "
                              f"{time.perf_counter() - t:.1f} s to score, load {os.getloadavg()[0]:.2f})",
                              tallies, "d" if freq == "D" else "h")
                per_seed[level].append(tallies)
        for level in args.levels:
            summary.append((f"{name} [{level}]", per_seed[level]))
    seen = [s in set(args.seen) for s in args.seeds]
    groups = [("", [True] * len(args.seeds))] if not any(seen) or all(seen) else \
        [("fresh seeds", [not x for x in seen]), ("seen seeds", seen)]
    for group, keep in groups:
        chosen = [s for s, k in zip(args.seeds, keep, strict=True) if k]
        print(f"\nover {group or 'seeds'} {' '.join(map(str, chosen))} (mean / worst), load average {os.getloadavg()}")
        print(f"  {'series':<71} {'rule':<22} {'precision':>13} {'recall':>13} {'false alarms':>13} "
              f"{'mean delay':>10} {'start err':>9} {'exact':>5} {'|impact err|':>12} {'impact err':>10} "
              f"{'recall at SNR 5.3+':>18}")
        for name, per_seed in summary:
            per_seed = [t for t, k in zip(per_seed, keep, strict=True) if k]
            for label in per_seed[0]:
                p = [t[label].precision() for t in per_seed]
                r = [t[label].recall() for t in per_seed]
                fa = [t[label].fp + t[label].background for t in per_seed]
                d = [np.mean(t[label].delays) for t in per_seed if t[label].delays]
                # start and impact errors pooled over the seeds' matched anomalies
                se = [x for t in per_seed for x in t[label].start_errors]
                ie = [x for t in per_seed for x in t[label].impact_errors]
                hit, n = (sum(t[label].snr_bands[-1][i] for t in per_seed) for i in (0, 1))
                high = f"{hit / n:.3f} ({hit}/{n})" if n else "-"
                print(f"  {name:<71} {label:<22} {np.mean(p):>6.3f}/{min(p):.3f} {np.mean(r):>6.3f}/{min(r):.3f} "
                      f"{np.mean(fa):>7.1f}/{max(fa):>4d} {np.mean(d) if d else float('nan'):>10.2f} "
                      f"{np.mean(se) if se else float('nan'):>+9.2f} "
                      f"{np.mean(np.equal(se, 0)) if se else float('nan'):>5.2f} "
                      f"{np.mean(np.abs(ie)) if ie else float('nan'):>12.1%} {np.mean(ie) if ie else float('nan'):>+10.1%} "
                      f"{high:>18}")


if __name__ == "__main__":
    main()
