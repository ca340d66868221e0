"""Library entry points: one series, many series, a file, and sample paths.

Every forecast is backtested before it is returned: the backtest picks the model (``auto``),
calibrates the intervals and measures their out-of-sample coverage, which is returned with the
forecast so a planner can see how far to trust the bands.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError
from smsim.forecast.backtest import (
    Backtest,
    backtest_steps,
    beats,
    run_backtest,
    select,
    stationary_candidates,
)
from smsim.forecast.intervals import Calibration, calibrate
from smsim.forecast.models.base import Forecaster, interval_frame
from smsim.forecast.models.registry import MODELS, make_model
from smsim.forecast.plausible import CEILING_RATIO, plausible
from smsim.forecast.series import (
    MAX_ABS_VALUE,
    detect_freq,
    parse_horizon,
    read_series,
    season_lengths,
)
from smsim.forecast.stationarity import Stationarity, check_series_stationarity
from smsim.notices import SmsimWarning
from smsim.rng import stream

MODEL_CHOICES = ("auto", *MODELS)


@dataclass
class ForecastResult:
    """A forecast in long format plus what the backtest says about it.

    ``frame`` has columns ``unique_id, ds, mean, lo-L, hi-L, ..., model``. ``coverage`` maps
    each level to the out-of-sample share of backtest actuals inside the band (``None`` when the
    series was too short to backtest); ``interval_source`` says per level whether the band is the
    model's own or conformal; ``mase``/``smape`` are the chosen model's backtest accuracy.
    """

    frame: pd.DataFrame
    model: str
    coverage: dict[float, float | None]
    interval_source: dict[float, str] = field(default_factory=dict)
    mase: float | None = None
    smape: float | None = None
    form: str = ""
    backtests: dict[str, float] = field(default_factory=dict)  # model -> backtest MASE
    stationarity: Stationarity | None = None  # tested when the horizon exceeds the backtest
    notes: list[str] = field(default_factory=list)  # what to read with care, in plain words

    def summary(self) -> dict:
        """JSON-ready description (no frame)."""
        uid = str(self.frame["unique_id"].iloc[0]) if len(self.frame) else ""
        return {
            "unique_id": uid,
            "model": self.model,
            "form": self.form,
            "backtest_mase": _round(self.mase),
            "backtest_smape": _round(self.smape),
            "coverage": {f"{lv:g}": _round(c) for lv, c in self.coverage.items()},
            "interval_source": {f"{lv:g}": s for lv, s in self.interval_source.items()},
            "candidates_mase": {k: _round(v) for k, v in self.backtests.items()},
            "stationarity": self.stationarity.summary() if self.stationarity else None,
            "notes": list(self.notes),
        }


def _round(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


@dataclass
class _Fitted:
    model: Forecaster
    name: str
    calibration: Calibration
    backtest: Backtest | None
    candidates: dict[str, float]
    nonnegative: bool
    stationarity: Stationarity | None = None
    notes: list[str] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)  # candidates whose paths ran away


def long_horizon_stationarity(y: pd.Series, horizon: int, seasons: Sequence[int] | None = None,
                              n_origins: int = 4) -> Stationarity | None:
    """The ADF/KPSS verdict on ``y`` when ``horizon`` goes past the longest backtested step.

    Up to that step the backtest ranks models on what they got right; past it nothing does,
    and the model class decides how the spread grows. A unit-root model's variance grows
    without bound (linearly in h for a random walk); for a stationary series the h-step
    predictive distribution converges to the series' own marginal distribution, so ``auto``
    then chooses among stationary models only (:func:`~smsim.forecast.backtest.stationary_candidates`). ``None`` when
    the backtest covers the horizon (the usual choice stands).
    """
    if seasons is None:
        seasons = season_lengths(detect_freq(y.index), len(y))
    if horizon <= backtest_steps(len(y), horizon, seasons, n_origins):
        return None
    return check_series_stationarity(y)


def check_values(y: pd.Series) -> None:
    """An :class:`InputError` naming the stamp of the first non-finite or absurdly large value."""
    values = y.to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (np.abs(values) > MAX_ABS_VALUE)
    if bad.any():
        i = int(np.argmax(bad))
        what = "is not a finite number" if not np.isfinite(values[i]) else \
            f"is beyond the {MAX_ABS_VALUE:g} smsim accepts (check the units)"
        raise InputError(f"series {str(y.name or 'series')!r}: value {values[i]:g} at "
                         f"{y.index[i]} {what}", path=f"position {i}")


#: A value this many times the series' median magnitude dominates the backtest scale.
DOMINANT_RATIO = 1e6


def _range_notes(y: pd.Series) -> list[str]:
    """A note when one value dwarfs the rest (MASE and bands then say little)."""
    values = np.abs(y.to_numpy(dtype=float))
    nonzero = values[values > 0]
    if nonzero.size < 2:
        return []
    median = float(np.median(nonzero))
    i = int(np.argmax(values))
    if values[i] <= DOMINANT_RATIO * median:
        return []
    return [f"value {y.iloc[i]:g} at {y.index[i]} is {values[i] / median:.3g} times the "
            f"series' median magnitude {median:g}; it dominates the backtest scale (MASE near "
            "0 means nothing here) and the bands: check it is not a unit or export error"]


def _model_notes(name: str, model: Forecaster) -> list[str]:
    """Library warnings the chosen model's fit raised, in plain words."""
    counts = getattr(model, "warnings_", None) or {}
    notes = []
    for (category, meaning), n in sorted(counts.items()):
        times = "once" if n == 1 else f"{n} times"
        notes.append(f"model {name}: {meaning} ({category}, {times}); its backtest accuracy "
                     "and coverage say how far to trust it")
    return notes


def _fit(y: pd.Series, horizon: int, levels: Sequence[float], model: str,
         seasons: Sequence[int] | None, n_origins: int, nonnegative: bool | None) -> _Fitted:
    if model not in MODEL_CHOICES:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODEL_CHOICES)}")
    y = y.astype(float)
    check_values(y)
    if y.index.freq is None:
        y = y.asfreq(pd.infer_freq(y.index) or detect_freq(y.index))
    if seasons is None:
        seasons = season_lengths(detect_freq(y.index), len(y))
    candidates: dict[str, float] = {}
    passed_over: list[str] = []
    bt: Backtest | None = None
    nonneg = bool((y >= 0).all()) if nonnegative is None else nonnegative
    stationarity = None
    if model == "auto":
        stationarity = long_horizon_stationarity(y, horizon, seasons, n_origins)
        only = None
        if stationarity is not None and stationarity.stationary:
            only = stationary_candidates(seasons, nonneg, horizon)
        name, results, models = select(y, horizon, seasons, n_origins=n_origins, candidates=only)
        bt, fitted = results[name], models[name]
        candidates = {k: b.mase for k, b in results.items()}
        passed_over = _passed_over(name, results)
    else:
        name = model
        fitted = make_model(name).fit(y, seasons)
        try:
            bt = run_backtest(y, fitted, horizon, n_origins=n_origins, season_lengths=seasons)
            candidates = {name: bt.mase}
        except Exception:  # noqa: BLE001 - too short or unfit: keep model-based widths
            bt = None
    return _Fitted(fitted, name, _calibration(bt, levels), bt, candidates, nonneg, stationarity,
                   _range_notes(y) + passed_over + _model_notes(name, fitted), passed_over)


def _passed_over(winner: str, results: dict[str, Backtest]) -> list[str]:
    """A note per candidate that backtested better than ``winner`` but whose paths run away
    (:mod:`smsim.forecast.plausible`)."""
    base = results.get("snaive")
    return [f"model {n} backtested better (MASE {b.mase:.3g}) but was passed over: the upper 1 % of "
            f"its paths reaches {b.peak_ratio:.3g} times the widest level the history supports (its "
            "largest value, the point forecast's, a seasonal random walk's upper 1 %), beyond the "
            f"{CEILING_RATIO:g} smsim accepts"
            for n, b in sorted(results.items(), key=lambda kv: kv[1].mase)
            if b.mase < results[winner].mase and b.peak_ratio is not None and not np.isnan(b.peak_ratio)
            and not plausible(b.peak_ratio)
            and (base is None or n == "snaive" or beats(b, base))]


def _calibration(bt: Backtest | None, levels: Sequence[float]) -> Calibration:
    """The bands' widths at ``levels`` from the backtest (the model's own without one)."""
    if bt is not None and bt.actual.size:
        return calibrate(bt.errors, bt.sd, levels, float(np.max(np.abs(bt.actual))))
    return Calibration.model_based(levels)


def forecast_series(
    y: pd.Series,
    horizon: int,
    levels: Sequence[float] = (80, 95),
    model: str = "auto",
    *,
    season_lengths: Sequence[int] | None = None,
    n_origins: int = 4,
    nonnegative: bool | None = None,
    unique_id: str | None = None,
) -> ForecastResult:
    """Forecast ``y`` (regular DatetimeIndex) ``horizon`` periods ahead with calibrated bands.

    ``nonnegative`` (default: inferred, true when no value is negative) clips the mean and the
    bands at zero, as counts and costs cannot go below it.
    """
    levels = tuple(float(lv) for lv in levels)
    f = _fit(y, horizon, levels, model, season_lengths, n_origins, nonnegative)
    return _forecast(f, y, horizon, unique_id)


def _forecast(f: _Fitted, y: pd.Series, horizon: int, unique_id: str | None) -> ForecastResult:
    mean, sd = f.model.predict_moments(horizon)
    frame = interval_frame(f.model.future_index(horizon), mean, f.calibration.half_widths(sd))
    if f.nonnegative:
        frame = frame.clip(lower=0.0)
    notes = list(f.notes)
    peak = float(np.nanmax(np.abs(frame.to_numpy(dtype=float)))) if frame.size else 0.0
    if not np.isfinite(peak) or peak > MAX_ABS_VALUE:
        notes.append(f"model {f.name}: the forecast reaches {peak:g}, beyond the "
                     f"{MAX_ABS_VALUE:g} smsim treats as plausible; the model extrapolates "
                     "explosively, do not use these numbers")
    frame = frame.reset_index()
    frame.insert(0, "unique_id", unique_id if unique_id is not None else str(y.name or "series"))
    frame["model"] = f.name
    return ForecastResult(
        frame=frame, model=f.name, coverage=dict(f.calibration.coverage),
        interval_source=dict(f.calibration.source),
        mase=f.backtest.mase if f.backtest is not None else None,
        smape=f.backtest.smape if f.backtest is not None else None,
        form=getattr(f.model, "form_", f.name), backtests=f.candidates,
        stationarity=f.stationarity, notes=notes)


def sample_paths(y: pd.Series, horizon: int, n_paths: int, seed: int, model: str = "auto", *,
                 season_lengths: Sequence[int] | None = None, n_origins: int = 4,
                 nonnegative: bool | None = None) -> np.ndarray:
    """``(n_paths, horizon)`` simulated futures of ``y`` for spend projection and sizing.

    Paths come from the model's own simulator (ETS, ARIMA, seasonal naive) or from Gaussian
    paths matching its predictive sd, with deviations from the point forecast scaled so the
    paths' spread matches the backtest-calibrated 80 % band. Errors persist along each path, so
    sums over the horizon (quarterly spend) get honest, wider-than-independent spread. Values are
    clipped at zero when the series is a count or cost (``nonnegative``, inferred by default).
    Past the longest backtested step a series that tests stationary gets a stationary model
    (:func:`long_horizon_stationarity`), so paths over a year-long term stay within the spread
    the series has instead of widening like a random walk.
    Deterministic for a given ``seed`` (stream ``forecast/paths/<name>``).
    """
    return sample_paths_fitted(y, horizon, n_paths, seed, model, season_lengths=season_lengths,
                               n_origins=n_origins, nonnegative=nonnegative)[0]


def sample_paths_fitted(y: pd.Series, horizon: int, n_paths: int, seed: int, model: str = "auto", *,
                        season_lengths: Sequence[int] | None = None, n_origins: int = 4,
                        nonnegative: bool | None = None) -> tuple[np.ndarray, Forecaster]:
    """:func:`sample_paths` and the model that drew them (fitted on all of ``y``).

    The model's :meth:`~smsim.forecast.models.base.Forecaster.fixed` copy can be refitted at
    earlier origins to backtest exactly the chosen form (projection calibration does so).
    """
    f = _fit(y, horizon, PATH_LEVELS, model, season_lengths, n_origins, nonnegative)
    return _paths(f, f.calibration, y, horizon, n_paths, seed), f.model


#: The levels whose calibration scales sample paths (the 80 % band's, :attr:`Calibration.path_scale`).
PATH_LEVELS = (80.0, 95.0)


def _paths(f: _Fitted, cal: Calibration, y: pd.Series, horizon: int, n_paths: int, seed: int) -> np.ndarray:
    rng = stream(seed, "forecast", "paths", str(y.name or "series"))
    mean, _ = f.model.predict_moments(horizon)
    paths = f.model.simulate(horizon, n_paths, rng)
    paths = mean + (paths - mean) * cal.path_scale
    for note in _range_notes(y) + f.passed_over + _model_notes(f.name, f.model):  # incl. the simulation's
        warnings.warn(SmsimWarning(note), stacklevel=4)
    return np.maximum(paths, 0.0) if f.nonnegative else paths


def forecast_with_paths(
    y: pd.Series, horizon: int, n_paths: int, seed: int, levels: Sequence[float] = (80, 95),
    model: str = "auto", *, season_lengths: Sequence[int] | None = None, n_origins: int = 4,
    nonnegative: bool | None = None, unique_id: str | None = None,
) -> tuple[ForecastResult, np.ndarray, Forecaster]:
    """:func:`forecast_series` and :func:`sample_paths_fitted` from one fit.

    Choosing the model (``auto``: a rolling-origin backtest of every candidate) is most of the
    cost of either; here it is done once and both use the chosen model, so the results equal
    the two calls' (selection is deterministic) in about half the time.
    """
    levels = tuple(float(lv) for lv in levels)
    f = _fit(y, horizon, levels, model, season_lengths, n_origins, nonnegative)
    cal = f.calibration if levels == PATH_LEVELS else _calibration(f.backtest, PATH_LEVELS)
    # paths first: the simulation's warnings are reported as sample_paths reports them, and the
    # forecast's notes were taken at the fit
    paths = _paths(f, cal, y, horizon, n_paths, seed)
    return _forecast(f, y, horizon, unique_id), paths, f.model


def _one(uid, y, horizon, levels, model, n_origins) -> ForecastResult:
    return forecast_series(y, horizon, levels, model, n_origins=n_origins, unique_id=uid)


def forecast_many(
    series: dict[str, pd.Series],
    horizon: int,
    levels: Sequence[float] = (80, 95),
    model: str = "auto",
    *,
    n_jobs: int = 1,
    scheduler=None,
    n_origins: int = 4,
    progress: Callable[[float], None] | None = None,
) -> list[ForecastResult]:
    """Forecast every series, in input order, over ``n_jobs`` processes (``-1``: all cores) or a
    Dask ``scheduler`` (:func:`smsim.executor.executor`)."""
    from smsim.executor import executor

    tasks = [(i, (uid, y, horizon, tuple(levels), model, n_origins)) for i, (uid, y) in enumerate(series.items())]
    names = list(series)
    with executor(n_jobs, scheduler) as ex:
        out = ex.map(_one, tasks, progress=progress, describe=lambda i: f"series {names[i]!r}")
    return [out[i] for i in range(len(tasks))]


@dataclass
class ForecastRun:
    """What :func:`forecast_file` produced."""

    frame: pd.DataFrame
    results: list[ForecastResult]
    freq: str
    horizon: int
    out: Path | None
    plot: Path | None
    history: dict[str, pd.Series]

    def summary(self) -> dict:
        return {"freq": self.freq, "horizon": self.horizon, "n_series": len(self.results),
                "out": str(self.out) if self.out else None,
                "plot": str(self.plot) if self.plot else None,
                "series": [r.summary() for r in self.results]}


def forecast_file(
    path: str | Path,
    horizon: str | int,
    *,
    levels: Sequence[float] = (80, 95),
    model: str = "auto",
    freq: str | None = None,
    fill: str | None = None,
    agg: str = "sum",
    allow_negative: bool = False,
    out: str | Path | None = None,
    plot: str | Path | None = None,
    n_jobs: int = 1,
    scheduler=None,
    progress: Callable[[float], None] | None = None,
    force: bool = False,
) -> ForecastRun:
    """Read ``path``, forecast every series, write ``out`` (CSV/Parquet) and ``plot`` (PNG).

    Both outputs are checked before any forecasting; an existing file is replaced only with
    ``force``."""
    from smsim.atomic import check_output, write_frame

    if model not in MODEL_CHOICES:
        raise InputError(f"unknown model {model!r}; choose from {', '.join(MODEL_CHOICES)}",
                         path="--model")
    for lv in levels:
        if not 0 < float(lv) < 100:
            raise InputError(f"level {lv} must be between 0 and 100 (a percentage)",
                             path="--level")
    for target, option in ((out, "--out"), (plot, "--plot")):
        if target:
            check_output(target, "file", force=force, option=option, inputs=[path])
    series, detected = read_series(path, freq=freq, fill=fill, agg=agg,
                                   allow_negative=allow_negative)
    h = parse_horizon(horizon, detected)
    for uid, y in series.items():
        if len(y) < 8:
            raise InputError(f"series {uid!r} has {len(y)} periods; at least 8 are needed",
                             file=str(path))
    results = forecast_many(series, h, levels, model, n_jobs=n_jobs, scheduler=scheduler, progress=progress)
    frame = pd.concat([r.frame for r in results], ignore_index=True)
    out_path = write_frame(out, frame, force=force) if out else None
    plot_path = None
    if plot:
        from smsim.forecast.plot import plot_forecast

        plot_path = plot_forecast(series, frame, plot, force=force)
    return ForecastRun(frame, results, detected, h, out_path, plot_path, series)
