"""A picture a planner can read: recent history, the forecast, and its bands (PNG, atomic)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smsim.atomic import atomic_path

#: At most this many series are drawn (one panel each); the rest are in the CSV.
MAX_PANELS = 6


def plot_forecast(history: dict[str, pd.Series] | pd.Series, forecast: pd.DataFrame,
                  path: str | Path, *, title: str | None = None, value_label: str = "value",
                  history_periods: int | None = None, force: bool = False) -> Path:
    """Draw each series' last history, the forecast mean and its bands; write ``path``.

    ``forecast`` is the long frame of :func:`smsim.forecast.api.forecast_series`. History is cut
    to ``history_periods`` (default: four times the horizon, at least 100 periods) so the
    forecast is not a sliver at the right edge. An existing ``path`` is replaced only with
    ``force``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(history, pd.Series):
        history = {str(forecast["unique_id"].iloc[0]): history}
    ids = list(dict.fromkeys(forecast["unique_id"].astype(str)))[:MAX_PANELS]
    levels = sorted((float(c[3:]) for c in forecast.columns if c.startswith("lo-")), reverse=True)
    fig, axes = plt.subplots(len(ids), 1, figsize=(10, 3.6 * len(ids)), squeeze=False)
    for ax, uid in zip(axes[:, 0], ids, strict=True):
        fc = forecast[forecast["unique_id"].astype(str) == uid]
        keep = history_periods or max(100, 4 * len(fc))
        hist = history[uid].iloc[-keep:]
        ax.plot(hist.index, hist.to_numpy(), color="black", lw=1.0, label="history")
        for i, lv in enumerate(levels):
            ax.fill_between(fc["ds"], fc[f"lo-{lv:g}"], fc[f"hi-{lv:g}"], color="tab:blue",
                            alpha=0.18 + 0.17 * i, lw=0, label=f"{lv:g}% interval")
        ax.plot(fc["ds"], fc["mean"], color="tab:blue", lw=1.6,
                label=f"forecast ({fc['model'].iloc[0]})")
        ax.axvline(hist.index[-1], color="grey", ls=":", lw=0.8)
        ax.set_title(title or f"{uid}: {len(fc)}-period forecast")
        ax.set_xlabel("time")
        ax.set_ylabel(value_label)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return Path(path)
