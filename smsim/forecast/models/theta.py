"""The Theta method behind the forecaster contract."""

from __future__ import annotations

import numpy as np

from smsim.forecast.models.base import Forecaster


class Theta(Forecaster):
    """The Theta method (statsmodels ``ThetaModel``), deseasonalised at the shortest season.

    The Theta forecast equals simple exponential smoothing with drift (Hyndman and Billah,
    2003), so its sd is SES's ``sigma * sqrt(1 + (h - 1) alpha^2)``; statsmodels' own interval
    grows like ``2 h`` for a small alpha, far wider than the method's actual errors.
    """

    name = "theta"

    def _fit(self, y):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = self.seasons_[0] if self.seasons_ else 1
        positive = y.min() > 0
        model = ThetaModel(y, period=m, deseasonalize=m > 1,
                           method="multiplicative" if positive else "additive")
        self.res_ = model.fit()
        # sigma^2 of the one-step SES errors on the deseasonalised data (statsmodels' own
        # sigma2 fits an ARIMA(0,1,1) state space, ~40x the cost of the whole Theta fit, on
        # the raw series, seasonality included)
        adjusted, seasonal = model._deseasonalize_data()
        alpha = float(self.res_.params.iloc[1])
        level, errors = float(adjusted[0]), np.empty(len(adjusted) - 1)
        for t in range(1, len(adjusted)):
            errors[t - 1] = adjusted[t] - level
            level += alpha * errors[t - 1]
        scale = float(np.mean(seasonal)) if model._method.startswith("mul") and len(seasonal) \
            else 1.0
        self.alpha_ = alpha
        self.sigma2_ = float(np.mean(errors**2)) * scale**2

    def _moments(self, h):
        mean = np.asarray(self.res_.forecast(h))
        sd = np.sqrt(self.sigma2_ * (1 + np.arange(h) * self.alpha_**2))
        return mean, sd
