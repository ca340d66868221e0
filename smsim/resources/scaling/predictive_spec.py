"""The predictive scaling policy spec (``kind: predictive``).

Modelled on Application Auto Scaling predictive scaling (EC2 Auto Scaling, ECS): forecast the
load (invocations) for the next ``forecast_horizon_s`` from the last ``lookback_s`` of it, and
set the *minimum* capacity of each coming hour to ``ceil(forecast invocations per minute /
target_value)``, launched ``scheduling_buffer_s`` before the hour so instances are InService
when it starts. Reactive policies (target tracking) keep working on top: capacity is the larger
of the two, and only they scale in. SageMaker endpoints do not offer predictive scaling
themselves; the same effect is reached with forecast-driven scheduled actions
(``PutScheduledAction`` setting ``MinCapacity``), which is exactly how smsim runs it.

Assumptions of smsim (AWS publishes no such constants for endpoints): forecasts are refreshed
every ``refresh_s`` (default daily) and need ``min_history_s`` of data (AWS asks for 24 h).
``HonorMaxCapacity``: the forecast minimum never exceeds ``max_capacity``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from smsim.spec import Duration, PositiveDuration, PositiveFloat, StrictModel

#: Forecasters: ``seasonal_naive`` (smsim's fast default) or a model of :mod:`smsim.forecast`.
Forecaster = Literal["seasonal_naive", "snaive", "ets", "arima", "theta", "mstl", "ensemble", "auto"]


class PredictiveScaling(StrictModel):
    """Schedule minimum capacity ahead of forecast invocations."""

    kind: Literal["predictive"] = "predictive"
    name: str = "predictive"
    target_value: PositiveFloat = Field(description="invocations per instance per minute to plan for")
    scheduling_buffer_s: Duration = Field(
        600.0, description="launch this long before each hour (smsim's default provisioning delay is 600 s)")
    forecast_horizon_s: PositiveDuration = Field(172800.0, description="each forecast covers this far ahead (48 h)")
    refresh_s: PositiveDuration = Field(86400.0, description="a new forecast every this often (smsim's assumption)")
    lookback_s: PositiveDuration = Field(1209600.0, description="load history a forecast uses (14 days)")
    min_history_s: Duration = Field(86400.0, description="no forecast before this much history (24 h)")
    forecaster: Forecaster = "seasonal_naive"
    history: str | None = Field(
        None, description="invocations before the horizon start (time,count CSV/Parquet, per minute or hour); "
        "relative to the scenario file")

    @model_validator(mode="after")
    def _checks(self):
        if self.forecast_horizon_s % 3600 or self.refresh_s % 3600:
            raise ValueError(f"forecast_horizon_s {self.forecast_horizon_s:g} and refresh_s {self.refresh_s:g} "
                             "must be whole hours")
        if self.refresh_s + self.scheduling_buffer_s > self.forecast_horizon_s:
            raise ValueError(
                f"refresh_s {self.refresh_s:g} + scheduling_buffer_s {self.scheduling_buffer_s:g} exceeds "
                f"forecast_horizon_s {self.forecast_horizon_s:g}: some hours would have no forecast")
        return self


__all__ = ["PredictiveScaling"]
