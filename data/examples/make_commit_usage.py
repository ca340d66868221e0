"""Write the README's commitment example inputs to the current folder: ``usage.csv`` (60 days of
hourly on-demand spend of a slowly growing fleet with a daily cycle) and ``actual.csv`` (the year
that follows, for ``smsim commit --evaluate``). Seeded, so the README's figures reproduce."""

import numpy as np
import pandas as pd

t = pd.date_range("2026-01-01", periods=(60 + 365) * 24, freq="h", tz="UTC")
h = np.arange(t.size)
usd = 30 + 0.002 * h + 8 * np.sin(2 * np.pi * h / 24) + np.random.default_rng(7).normal(0, 2, t.size)
frame = pd.DataFrame({"timestamp": t, "ondemand_usd": usd.clip(0).round(4)})
frame[: 60 * 24].to_csv("usage.csv", index=False)
frame[60 * 24 :].to_csv("actual.csv", index=False)
print("wrote usage.csv (1,440 hours) and actual.csv (8,760 hours)")
