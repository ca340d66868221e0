"""Forecasting traffic and spend with calibrated intervals and sample paths.

Public API: :func:`forecast_series`, :func:`sample_paths` (and
:func:`sample_paths_fitted`, which also returns the model), :func:`forecast_with_paths` (both
from one model selection), :func:`forecast_many`,
:func:`forecast_file` (see :mod:`smsim.forecast.api`) and the models in
:mod:`smsim.forecast.models`.
"""

from smsim.forecast.api import (
    ForecastResult,
    ForecastRun,
    forecast_file,
    forecast_many,
    forecast_series,
    forecast_with_paths,
    sample_paths,
    sample_paths_fitted,
)

__all__ = ["ForecastResult", "ForecastRun", "forecast_file", "forecast_many",
           "forecast_series", "forecast_with_paths", "sample_paths", "sample_paths_fitted"]
