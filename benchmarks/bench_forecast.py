"""Forecast accuracy, interval coverage and speed on real series, side by side with baselines.

Run: ``python benchmarks/bench_forecast.py [--origins 2]``. Each series is cut at ``origins``
rolling origins (the last windows of ``h`` periods); every method forecasts each window from
the data before it. Reported per method: mean MASE (seasonal-naive scaled), sMAPE, empirical
coverage of the 80 % and 95 % bands, and seconds. smsim ``auto`` is compared with the
seasonal-naive baseline and, when the optional ``statsforecast`` package is installed, with its
AutoETS, AutoARIMA and MSTL.

Series: statsmodels' bundled co2 (monthly means) and elnino (monthly SST), the Alibaba
Stable-Diffusion request trace as hourly counts, Alibaba system QPS in 5-minute means, and the
Azure LLM conversation trace as per-minute counts (the last three only when shared/data beside the checkout is
present).

``--panel N`` forecasts at scale instead: N synthetic hourly request series plus the hourly
series cut from the real traces (``forecast_panel.py``), each at two rolling origins with
horizon 48 and 80/95 % bands, printing accuracy and series per second for smsim ``auto``
beside statsforecast's SeasonalNaive, AutoETS and MSTL (daily and weekly seasons), all in one
process each, in the same run.

``--baseline-rev REV`` adds smsim ``auto`` as it was at git revision REV (its ``smsim`` package
read with ``git archive`` into a temporary folder and run in a subprocess on the same windows),
so before and after a change are measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.forecast.api import forecast_many
from smsim.forecast.backtest import mase_scale, smape
from smsim.forecast.series import season_lengths

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LEVELS = (80, 95)


def load_series() -> list[tuple[str, pd.Series, str, int]]:
    """``(name, series, freq, horizon)`` for every available benchmark series."""
    import statsmodels.api as sm

    out = []
    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    out.append(("co2 monthly", co2.iloc[-240:], "MS", 12))
    nino = sm.datasets.elnino.load_pandas().data.set_index("YEAR").stack().to_numpy()
    out.append(("elnino monthly", pd.Series(nino, index=pd.date_range(
        "1950-01-01", periods=len(nino), freq="MS")).iloc[-240:], "MS", 12))
    if not DATA.is_dir():
        print(f"real traces skipped: {DATA} not found")
        return out
    lora = pd.read_csv(DATA / "alibaba-genai-2026" / "lora_request_trace.csv",
                       usecols=["gmt_create"], parse_dates=["gmt_create"])
    hourly = lora.set_index("gmt_create").assign(n=1.0)["n"].resample("h").sum()
    hourly = hourly.loc[hourly.index >= hourly.index[0].ceil("D")]  # whole days only
    out.append(("alibaba SD requests/h", hourly, "h", 24))
    qps = pd.read_csv(DATA / "alibaba-genai-2026" / "qps.csv")
    qps["ts"] = pd.to_datetime(qps["timestamp_anon"], unit="s")
    per_min = qps.groupby(qps["ts"].dt.floor("min"))["value"].sum()
    five = per_min.resample("5min").mean().interpolate()
    out.append(("alibaba QPS 5-min", five, "5min", 12))
    conv = pd.read_csv(DATA / "azure-llm-inference-2023" / "AzureLLMInferenceTrace_conv.csv",
                       usecols=["TIMESTAMP"], parse_dates=["TIMESTAMP"])
    minute = conv.set_index("TIMESTAMP").assign(n=1.0)["n"].resample("min").sum().iloc[1:-1]
    out.append(("azure LLM conv req/min", minute, "min", 6))
    return out


def score(actual, mean, lo, hi, train, m) -> dict:
    return {"mase": float(np.mean(np.abs(actual - mean)) / mase_scale(train, m)),
            "smape": smape(actual, mean),
            **{f"cov{lv}": float(np.mean((actual >= lo[lv]) & (actual <= hi[lv])))
               for lv in LEVELS}}


def run_smsim(model: str, windows, jobs: int) -> tuple[list[dict], float]:
    start = time.perf_counter()
    series = {f"{i}": y_train for i, (_, y_train, _, _, _) in enumerate(windows)}
    rows = []
    # horizons differ per series: group by horizon
    results: dict[str, object] = {}
    for h in sorted({w[3] for w in windows}):
        sub = {k: v for k, v in series.items() if windows[int(k)][3] == h}
        for uid, res in zip(sub, forecast_many(sub, h, LEVELS, model, n_jobs=jobs), strict=True):
            results[uid] = res
    for i, (_, train, actual, _, m) in enumerate(windows):
        f = results[str(i)].frame
        rows.append(score(actual, f["mean"].to_numpy(),
                          {lv: f[f"lo-{lv}"].to_numpy() for lv in LEVELS},
                          {lv: f[f"hi-{lv}"].to_numpy() for lv in LEVELS}, train.to_numpy(), m))
    return rows, time.perf_counter() - start


def run_statsforecast(windows) -> dict[str, tuple[list[dict], float]]:
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoARIMA, AutoETS

    out: dict[str, tuple[list[dict], float]] = {}
    for label in ("AutoETS", "AutoARIMA", "MSTL"):
        rows, seconds = [], 0.0
        for _, train, actual, h, m in windows:
            seasons = list(season_lengths(_freq(train), len(train))) or [1]
            if label == "AutoETS":
                model = AutoETS(season_length=min(seasons[0], 24))
            elif label == "AutoARIMA":
                model = AutoARIMA(season_length=min(seasons[0], 24))
            elif seasons == [1]:
                # statsforecast's MSTL needs the supersmoother package for period 1; a series
                # too short for any season (the per-minute Azure hour) is left out of its row
                rows.append({"mase": np.nan, "smape": np.nan,
                             **{f"cov{lv}": np.nan for lv in LEVELS}})
                continue
            else:
                model = MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))
            df = pd.DataFrame({"unique_id": "s", "ds": train.index, "y": train.to_numpy()})
            start = time.perf_counter()
            fc = StatsForecast(models=[model], freq=train.index.freq).forecast(
                df=df, h=h, level=list(LEVELS))
            seconds += time.perf_counter() - start
            col = [c for c in fc.columns if c not in ("unique_id", "ds") and "-" not in c][0]
            rows.append(score(actual, fc[col].to_numpy(),
                              {lv: fc[f"{col}-lo-{lv}"].to_numpy() for lv in LEVELS},
                              {lv: fc[f"{col}-hi-{lv}"].to_numpy() for lv in LEVELS},
                              train.to_numpy(), m))
        out[f"statsforecast {label}"] = (rows, seconds)
    return out


def _mean(values: list[float]) -> float:
    """Mean of the finite values (nan when there are none)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _freq(y: pd.Series) -> str:
    from smsim.forecast.series import detect_freq

    return detect_freq(y.index)


def panel_windows(n_synthetic: int, origins: int, h: int = 48) -> list[tuple]:
    """``(name, train, actual, h, m)`` for every series of the panel and origin."""
    from forecast_panel import real_panel, synthetic_panel

    windows = []
    for name, y in {**synthetic_panel(n_synthetic), **real_panel()}.items():
        y = y.asfreq("h")
        for k in range(origins, 0, -1):
            end = len(y) - k * h
            windows.append((name, y.iloc[:end].rename(f"{name}@{k}"), y.to_numpy()[end:end + h],
                            h, 24))
    return windows


def run_statsforecast_panel(windows) -> dict[str, tuple[list[dict], float]]:
    """statsforecast over all windows at once (its own vectorised loop, one process)."""
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    h = windows[0][3]
    df = pd.concat([pd.DataFrame({"unique_id": str(i), "ds": train.index, "y": train.to_numpy()})
                    for i, (_, train, _, _, _) in enumerate(windows)], ignore_index=True)
    out = {}
    for label, model in (("SeasonalNaive", SeasonalNaive(season_length=24)),
                         ("AutoETS", AutoETS(season_length=24)),
                         ("MSTL", MSTL(season_length=[24, 168],
                                       trend_forecaster=AutoETS(model="ZZN")))):
        # compile numba code on a small batch first, so the timing is the forecasting itself
        StatsForecast(models=[model], freq="h").forecast(
            df=df[df["unique_id"] == "0"], h=h, level=list(LEVELS))
        start = time.perf_counter()
        fc = StatsForecast(models=[model], freq="h", n_jobs=1).forecast(
            df=df, h=h, level=list(LEVELS))
        seconds = time.perf_counter() - start
        col = [c for c in fc.columns if c not in ("unique_id", "ds") and "-" not in c][0]
        fc = fc.set_index("unique_id")
        rows = []
        for i, (_, train, actual, _, m) in enumerate(windows):
            f = fc.loc[str(i)]
            rows.append(score(actual, f[col].to_numpy(),
                              {lv: f[f"{col}-lo-{lv}"].to_numpy() for lv in LEVELS},
                              {lv: f[f"{col}-hi-{lv}"].to_numpy() for lv in LEVELS},
                              train.to_numpy(), m))
        out[f"statsforecast {label}"] = (rows, seconds)
    return out


def print_panel(windows, methods) -> None:
    groups = {"all": lambda name: True,
              "synthetic": lambda name: name.startswith("synthetic"),
              "real": lambda name: not name.startswith("synthetic")}
    import os

    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    for group, keep in groups.items():
        idx = [i for i, w in enumerate(windows) if keep(w[0])]
        if not idx:
            continue
        print(f"\n{group}: {len({windows[i][0] for i in idx})} series, {len(idx)} windows")
        print(f"{'method':28s}{'MASE':>8s}{'sMAPE%':>8s}{'cov80':>7s}{'cov95':>7s}"
              f"{'seconds':>9s}{'series/s':>10s}")
        for label, (rows, seconds) in methods.items():
            frame = pd.DataFrame([rows[i] for i in idx])
            share = seconds * len(idx) / len(windows)  # time is measured over all windows
            print(f"{label:28s}{frame['mase'].mean():8.3f}{frame['smape'].mean():8.2f}"
                  f"{frame['cov80'].mean():7.3f}{frame['cov95'].mean():7.3f}{share:9.1f}"
                  f"{len(idx) / share:10.2f}")


def run_baseline(rev: str, argv: list[str]) -> tuple[list[dict], float]:
    """smsim ``auto`` of git revision ``rev`` on the windows ``argv`` builds (a subprocess)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", rev, "smsim"], cwd=root, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": tmp}
        out = subprocess.run([sys.executable, __file__, *argv, "--emit-auto"], env=env, check=True,
                             capture_output=True, text=True).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    return doc["rows"], doc["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--panel", type=int, default=0,
                        help="forecast N synthetic hourly series plus the real-trace panel")
    parser.add_argument("--baseline-rev", default=None,
                        help="also run smsim auto as it was at this git revision")
    parser.add_argument("--emit-auto", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    argv = ["--origins", str(args.origins), "--jobs", str(args.jobs), "--panel", str(args.panel)]
    if args.panel:
        windows = panel_windows(args.panel, args.origins)
        if args.emit_auto:
            rows, seconds = run_smsim("auto", windows, 1)
            print(json.dumps({"rows": rows, "seconds": seconds}))
            return
        print(f"{len(windows)} windows over {len({w[0] for w in windows})} hourly series, "
              f"{args.origins} origin(s) each, horizon 48")
        methods = {"seasonal naive (smsim)": run_smsim("snaive", windows, 1),
                   "smsim auto, 1 process": run_smsim("auto", windows, 1)}
        if args.baseline_rev:
            methods[f"smsim auto @{args.baseline_rev}"] = run_baseline(args.baseline_rev, argv)
        if args.jobs > 1:
            methods[f"smsim auto, {args.jobs} processes"] = run_smsim("auto", windows, args.jobs)
        try:
            methods.update(run_statsforecast_panel(windows))
        except ImportError:
            print("statsforecast not installed: comparison skipped (pip install statsforecast)")
        print_panel(windows, methods)
        return
    windows = []
    for name, y, freq, h in load_series():
        y = y.asfreq(pd.tseries.frequencies.to_offset(
            {"MS": "MS", "h": "h", "5min": "5min", "min": "min"}[freq]))
        m = (season_lengths(freq, len(y)) or (1,))[0]
        for k in range(args.origins, 0, -1):
            end = len(y) - k * h
            windows.append((name, y.iloc[:end].rename(name), y.to_numpy()[end:end + h], h, m))
    if args.emit_auto:
        rows, seconds = run_smsim("auto", windows, args.jobs)
        print(json.dumps({"rows": rows, "seconds": seconds}))
        return
    print(f"{len(windows)} windows over {len({w[0] for w in windows})} series, "
          f"{args.origins} origin(s) each")
    methods: dict[str, tuple[list[dict], float]] = {
        "seasonal naive": run_smsim("snaive", windows, 1),
        "smsim auto": run_smsim("auto", windows, args.jobs),
    }
    if args.baseline_rev:
        methods[f"smsim auto @{args.baseline_rev}"] = run_baseline(args.baseline_rev, argv)
    try:
        methods.update(run_statsforecast(windows))
    except ImportError:
        print("statsforecast not installed: comparison skipped (pip install statsforecast)")
    except Exception as exc:  # noqa: BLE001 - the optional comparison must not end the run
        print(f"statsforecast comparison failed ({exc}): skipped")
    names = sorted({w[0] for w in windows}, key=[w[0] for w in windows].index)
    print("\nper series MASE (mean over origins)")
    print(f"{'series':26s}" + "".join(f"{k[:22]:>24s}" for k in methods))
    for name in names:
        idx = [i for i, w in enumerate(windows) if w[0] == name]
        print(f"{name:26s}" + "".join(
            f"{_mean([rows[i]['mase'] for i in idx]):24.3f}" for rows, _ in methods.values()))
    print(f"\n{'method':28s}{'MASE':>8s}{'sMAPE%':>8s}{'cov80':>7s}{'cov95':>7s}"
          f"{'seconds':>9s}{'series/s':>10s}")
    for label, (rows, seconds) in methods.items():
        frame = pd.DataFrame(rows).dropna()
        print(f"{label:28s}{frame['mase'].mean():8.3f}{frame['smape'].mean():8.2f}"
              f"{frame['cov80'].mean():7.2f}{frame['cov95'].mean():7.2f}{seconds:9.1f}"
              f"{len(frame) / seconds:10.2f}" + ("" if len(frame) == len(rows) else
                                                  f"  ({len(rows) - len(frame)} windows left out)"))


if __name__ == "__main__":
    main()
