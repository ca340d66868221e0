"""Root cause of an anomaly: the (resource, usage type) pairs whose spend moved.

Within the monitored slice of the cube, each pair's expected spend at a step is the mean of its
spend at the same phase one, two and three periods earlier (the same weekday for daily spend,
the same hour for hourly); a pair's contribution is its actual minus expected spend over the
anomaly's steps. Pairs are ranked by contribution (the top three that moved at least 1 % of the anomaly's
impact); their share is of the anomaly's impact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def root_causes(cube: pd.DataFrame, mask: np.ndarray, start: int, end: int, period: int,
                impact_usd: float, top: int = 3) -> list[dict]:
    steps = cube.attrs["steps"]
    sub = cube.loc[mask]
    wide = sub.pivot_table(index="time", columns=["resource", "usage_type"], values="cost_usd",
                           aggfunc="sum", observed=True).reindex(steps, fill_value=0.0).fillna(0.0)
    if wide.empty:
        return []
    v = wide.to_numpy(float)
    rows = np.arange(start, end + 1)
    lags = [rows - k * period for k in (1, 2, 3)]
    lags = [lag for lag in lags if (lag >= 0).all()]
    expected = np.mean([v[lag] for lag in lags], axis=0) if lags else np.zeros((len(rows), v.shape[1]))
    delta = (v[rows] - expected).sum(axis=0)
    order = np.argsort(-delta)[:top]
    out = []
    for j in order:
        if delta[j] <= 0.01 * max(impact_usd, 0.0):  # a pair that moved less than 1 % of the impact
            break
        resource, usage_type = wide.columns[j]
        out.append({"resource": resource or "(none)", "usage_type": usage_type,
                    "contribution_usd": round(float(delta[j]), 4),
                    "share": round(float(delta[j] / impact_usd), 4) if impact_usd > 0 else None})
    return out
