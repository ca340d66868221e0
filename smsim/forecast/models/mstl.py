"""MSTL: seasonal components removed by STL, the remainder forecast by ETS or ARIMA."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.forecast.models.arima import ARIMA
from smsim.forecast.models.base import Forecaster, fake_date
from smsim.forecast.models.ets import ETS


class MSTL(Forecaster):
    """Several seasonalities (e.g. daily and weekly in hourly data) removed by statsmodels MSTL.

    The deseasonalised series is forecast by a non-seasonal ETS (or ARIMA); each seasonal
    component is carried forward by repeating its last cycle. The uncertainty is that of the
    remainder model (seasonal shapes are treated as known).
    """

    name = "mstl"

    def __init__(self, remainder: str = "ets", inner: Forecaster | None = None) -> None:
        self.remainder = remainder
        self.inner = inner

    def fixed(self) -> MSTL:
        inner = getattr(self, "inner_", None)
        return MSTL(self.remainder, inner.fixed() if inner is not None else None)

    def _fit(self, y):
        from statsmodels.tsa.seasonal import MSTL as _SM

        inner = self.inner or (ETS(seasonal=False) if self.remainder == "ets"
                               else ARIMA(seasonal=False))
        periods = [m for m in self.seasons_ if 2 * m <= len(y)]
        if periods:
            res = _SM(y, periods=periods if len(periods) > 1 else periods[0]).fit()
            seasonal = np.asarray(res.seasonal, float).reshape(len(y), -1)
        else:
            seasonal = np.zeros((len(y), 0))
        self.periods_ = periods
        self.seasonal_ = seasonal
        adjusted = y - seasonal.sum(axis=1)
        inner.fit(pd.Series(adjusted, index=pd.RangeIndex(len(y)).map(fake_date)), ())
        self.inner_ = inner
        self.form_ = f"MSTL{list(periods)}+{getattr(inner, 'form_', inner.name)}"

    def _future_seasonal(self, h):
        total = np.zeros(h)
        for j, m in enumerate(self.periods_):
            last = self.seasonal_[-m:, j]
            total += last[np.arange(h) % m]
        return total

    def _moments(self, h):
        mean, sd = self.inner_.predict_moments(h)
        return mean + self._future_seasonal(h), sd

    def _simulate(self, h, n_paths, rng):
        return self.inner_.simulate(h, n_paths, rng) + self._future_seasonal(h)
