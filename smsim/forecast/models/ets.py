"""Exponential smoothing (statsmodels ETS) behind the forecaster contract."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.forecast.models.base import MAX_DIRECT_SEASON, Forecaster


class ETS(Forecaster):
    """Exponential smoothing (statsmodels ``ETSModel``) with the form chosen by AICc.

    Initial states come from the usual decomposition heuristic rather than the likelihood:
    estimating 24 seasonal states makes a fit ~20x slower for a negligible gain in AICc.
    Candidates: additive errors; no, additive or damped trend; no or additive seasonality at the
    shortest season up to ``MAX_DIRECT_SEASON``. Multiplicative seasonality is left out: with
    additive errors it gives a model of infinite forecast variance (Hyndman et al., *Forecasting
    with Exponential Smoothing*, 2008, ch. 15; R forecast's ``ets`` skips such forms with
    ``restrict = TRUE``), whose simulated paths over weeks of hours grow without bound. A season
    that scales with the level is the ``+log1p`` variant's: additive on the log scale.
    ``seasonal=False`` restricts to non-seasonal forms (used on MSTL remainders).
    """

    name = "ets"

    def __init__(self, seasonal: bool = True, form: tuple | None = None) -> None:
        self.seasonal = seasonal
        self.form = form

    def fixed(self) -> ETS:
        return ETS(self.seasonal, getattr(self, "spec_", None))

    def _fit(self, y: np.ndarray) -> None:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        endog = pd.Series(y)
        m = next((s for s in self.seasons_ if s <= MAX_DIRECT_SEASON), None)
        seasonals: list[str | None] = [None]
        if self.seasonal and m and len(y) >= 2 * m + 4:
            seasonals += ["add"]
        forms = [(t, dmp, sea) for sea in seasonals
                 for t, dmp in ((None, False), ("add", False), ("add", True))]
        if self.form is not None:
            trend, damped, seasonal = self.form
            seasonal = "add" if seasonal == "mul" else seasonal  # never the unstable form
            forms = [(trend, damped, seasonal if m and len(y) >= 2 * m + 4 else None)]
        best = None
        for trend, damped, seasonal in forms:
            try:
                res = ETSModel(endog, error="add", trend=trend, damped_trend=damped,
                               seasonal=seasonal, seasonal_periods=m if seasonal else None,
                               initialization_method="heuristic",
                               ).fit(disp=False, maxiter=100)
            except Exception:  # noqa: BLE001 - a form that cannot be fitted is skipped
                continue
            if np.isfinite(res.aicc) and (best is None or res.aicc < best.aicc):
                best = res
        if best is None:
            raise FloatingPointError("ets: no form could be fitted")
        self.res_ = best
        self.spec_ = (best.model.trend, bool(best.model.damped_trend), best.model.seasonal)
        self.form_ = (f"ETS(A,{'Ad' if best.model.damped_trend else (best.model.trend or 'N')[0]},"
                      f"{(best.model.seasonal or 'N')[0]})").upper().replace("AD", "Ad")

    def _moments(self, h):
        n = self.res_.nobs
        # Multiplicative forms have no closed-form variance: statsmodels simulates it, so the
        # simulation gets a fixed seed (the same fit must always give the same bands).
        pred = self.res_.get_prediction(start=n, end=n + h - 1, rng=np.random.default_rng(20260101))
        return np.asarray(pred.predicted_mean), np.sqrt(np.asarray(pred.forecast_variance))

    def _simulate(self, h, n_paths, rng):
        sim = self.res_.simulate(h, anchor="end", repetitions=n_paths, rng=rng)
        return np.asarray(sim, float).reshape(h, n_paths).T
