"""The forecaster contract: fit, predict with nested intervals, forecast, sample paths; and the
helpers every model shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from smsim import notices
from smsim.forecast.series import detect_freq
from smsim.forecast.series import season_lengths as default_seasons

#: Longest season an ETS model estimates directly; longer cycles are left to MSTL.
MAX_DIRECT_SEASON = 24
#: Longest season given seasonal ARMA terms; longer ones become Fourier regressors.
MAX_SARIMA_SEASON = 12


def z_value(level: float) -> float:
    """The standard-normal quantile giving a central ``level`` % interval."""
    return float(stats.norm.ppf(0.5 + level / 200.0))


def interval_frame(index: pd.DatetimeIndex, mean: np.ndarray, half_widths: dict[float, np.ndarray]
                   ) -> pd.DataFrame:
    """``mean, lo-L, hi-L`` columns, with widths forced to grow with the level (nested bands)."""
    data: dict[str, np.ndarray] = {"mean": np.asarray(mean, float)}
    widest = np.zeros(len(mean))
    for level in sorted(half_widths):
        widest = np.maximum(widest, np.nan_to_num(np.asarray(half_widths[level], float)))
        data[f"lo-{_fmt(level)}"] = data["mean"] - widest
        data[f"hi-{_fmt(level)}"] = data["mean"] + widest
    frame = pd.DataFrame(data, index=index)
    frame.index.name = "ds"
    return frame


def _fmt(level: float) -> str:
    return f"{level:g}"


class Forecaster:
    """Base class: dates, the constant-series shortcut, intervals and generic sample paths."""

    name: ClassVar[str] = "base"
    max_obs: ClassVar[int] = 2000

    def fit(self, y: pd.Series, season_lengths: Sequence[int] | None = None) -> Forecaster:
        if not isinstance(y.index, pd.DatetimeIndex):
            raise TypeError("y needs a DatetimeIndex")
        values = np.asarray(y.to_numpy(dtype=float))[-self.max_obs:]
        if len(values) < 3 or not np.all(np.isfinite(values)):
            raise ValueError(f"{self.name}: need at least 3 finite values, got {len(values)}")
        self.offset_ = y.index.freq or pd.tseries.frequencies.to_offset(pd.infer_freq(y.index))
        self.last_ = y.index[-1]
        if season_lengths is None:
            season_lengths = default_seasons(detect_freq(y.index), len(values))
        self.seasons_ = tuple(int(m) for m in season_lengths if 1 < m and 2 * m <= len(values))
        self.y_ = values
        self.constant_ = bool(np.ptp(values) == 0)
        self.warnings_ = Counter()
        if not self.constant_:
            with self._recording():
                self._fit(values)
        return self

    @contextmanager
    def _recording(self) -> Iterator[None]:
        """Run library code with its warnings counted in ``warnings_`` instead of printed."""
        with notices.record() as caught, np.errstate(all="ignore"):
            try:
                yield
            finally:
                counts = getattr(self, "warnings_", None)
                if counts is None:
                    counts = self.warnings_ = Counter()
                counts.update(notices.count(caught))

    def predict_moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Point forecast and predictive standard deviation for steps 1..h."""
        if self.constant_:
            return np.full(h, self.y_[-1]), np.zeros(h)
        with self._recording():
            mean, sd = self._moments(h)
        mean = np.asarray(mean, float)
        sd = np.asarray(sd, float)
        sd = np.where(np.isfinite(sd), np.maximum(sd, 0.0), np.nanmax(np.r_[sd[np.isfinite(sd)],
                                                                            0.0]))
        if not np.all(np.isfinite(mean)):
            raise FloatingPointError(f"{self.name}: non-finite forecast")
        return mean, sd

    def future_index(self, h: int) -> pd.DatetimeIndex:
        idx = pd.date_range(self.last_, periods=h + 1, freq=self.offset_)[1:]
        idx.name = "ds"
        return idx

    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        mean, sd = self.predict_moments(h)
        return interval_frame(self.future_index(h), mean,
                              {lv: z_value(lv) * sd for lv in levels})

    def forecast(self, y: pd.Series, h: int, levels: Sequence[float] = (80, 95),
                 season_lengths: Sequence[int] | None = None) -> pd.DataFrame:
        return self.fit(y, season_lengths).predict(h, levels)

    def simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Sample paths, shape ``(n_paths, h)``.

        The default draws Gaussian paths whose step-h marginal matches ``predict_moments``
        and whose increments are independent, so errors persist along a path (a high
        month tends to be followed by a high month), as cumulative spend needs.
        """
        mean, sd = self.predict_moments(h)
        if self.constant_:
            return np.tile(mean, (n_paths, 1))
        with self._recording():
            native = self._simulate(h, n_paths, rng)
        if native is not None and np.all(np.isfinite(native)):
            return native
        return gaussian_paths(mean, sd, n_paths, rng)

    def fixed(self) -> Forecaster:
        """An unfitted copy that re-estimates parameters but keeps the chosen form or order.

        The backtest refits this at every origin: choosing the form once, on the whole series,
        costs a small optimistic bias in backtest accuracy and saves most of the fitting time.
        """
        return type(self)()

    # subclasses implement these
    def _fit(self, y: np.ndarray) -> None:
        raise NotImplementedError

    def _moments(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _simulate(self, h: int, n_paths: int, rng: np.random.Generator) -> np.ndarray | None:
        return None


def gaussian_paths(mean: np.ndarray, sd: np.ndarray, n_paths: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Paths ``mean + cumulative independent increments`` with marginal sd ``sd`` (made monotone)."""
    sd = np.maximum.accumulate(np.asarray(sd, float))
    inc = np.sqrt(np.diff(np.r_[0.0, sd**2]))
    return mean + np.cumsum(rng.standard_normal((n_paths, len(mean))) * inc, axis=1)


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """Wang-Smith-Hyndman seasonal strength ``1 - var(R) / var(S + R)`` from an STL fit."""
    from statsmodels.tsa.seasonal import STL

    res = STL(y, period=m, robust=True).fit()
    denom = np.var(res.seasonal + res.resid)
    return float(max(0.0, 1 - np.var(res.resid) / denom)) if denom > 0 else 0.0


def fake_date(i: int) -> pd.Timestamp:
    return pd.Timestamp("2000-01-01") + pd.Timedelta(days=int(i))
