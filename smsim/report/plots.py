"""Report charts as self-contained SVG text (matplotlib, Agg backend).

Text is drawn as paths (``svg.fonttype = "path"``), so a chart looks the same on any machine
with no font files and nothing fetched from the network; the SVG carries no date, and ids are
salted with a fixed string, so the same data gives the same bytes. Scenario strings that appear
in charts (resource names, labels) therefore end up as outlines, never as markup.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from smsim.units import NEGLIGIBLE_USD

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
#: Past ten segments colours repeat, so the next ten get a hatch to stay distinguishable.
HATCHES = ["", "//", "..", "xx"]


def _figure(width: float = 8.0, height: float = 3.6, layout: str | None = None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "smsim", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "axes.prop_cycle": matplotlib.cycler(color=PALETTE)})
    return plt.subplots(figsize=(width, height), layout=layout)


def to_svg(fig) -> str:
    """The figure as an inline ``<svg>`` element (XML prolog and doctype stripped)."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _short(text: str, n: int = 28) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


#: Columns of the cost-by-component legend, which sits under the bars and grows downwards, one
#: row per ``LEGEND_COLUMNS`` components, so it holds any number of them.
LEGEND_COLUMNS = 4


def cost_breakdown(costs: Mapping[str, Mapping[str, float]], title: str = "Cost by component") -> str:
    """Horizontal stacked bars: one bar per run, one segment per component (USD); components of
    under half a cent in every run (float residues) are left out."""
    labels = list(costs)
    parts = sorted({k for c in costs.values() for k, v in c.items() if abs(float(v)) >= NEGLIGIBLE_USD},
                   key=lambda k: -sum(float(c.get(k, 0.0)) for c in costs.values()))
    columns = max(1, min(LEGEND_COLUMNS, len(parts)))
    legend_rows = -(-len(parts) // columns)
    fig, ax = _figure(8.0, 1.5 + 0.45 * max(len(labels), 2) + 0.22 * legend_rows, layout="constrained")
    left = np.zeros(len(labels))
    for i, part in enumerate(parts):
        values = np.array([float(costs[lbl].get(part, 0.0)) for lbl in labels])
        ax.barh(range(len(labels)), values, left=left, label=_short(part), color=PALETTE[i % len(PALETTE)],
                hatch=HATCHES[(i // len(PALETTE)) % len(HATCHES)], edgecolor="white", linewidth=0.4)
        left += values
    for y, total in enumerate(left):
        ax.text(total, y, f"  ${total:,.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)), [_short(lbl) for lbl in labels])
    ax.invert_yaxis()
    ax.set_xlabel("USD over the horizon")
    ax.set_xlim(0, max(left.max() if len(left) else 1.0, 1e-9) * 1.25)
    ax.set_title(title, loc="left")
    if parts:
        fig.legend(fontsize=8, frameon=False, loc="outside lower center", ncols=columns)
    return to_svg(fig)


def lines_over_time(lines: Mapping[str, pd.DataFrame], column: str, ylabel: str, title: str,
                    step: bool = False) -> str:
    """One line per (run, resource) of ``column`` against ``time_s`` (plotted in hours)."""
    fig, ax = _figure()
    for label, frame in lines.items():
        hours = frame["time_s"].to_numpy(dtype=float) / 3600.0
        values = frame[column].to_numpy(dtype=float)
        if step:
            ax.step(hours, values, where="post", label=_short(label, 40), lw=1.3)
        else:
            ax.plot(hours, values, label=_short(label, 40), lw=1.3)
    ax.set_xlabel("hours from the horizon start")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    if len(lines) > 1:
        ax.legend(fontsize=8, frameon=False)
    return to_svg(fig)


def bars(values: Mapping[str, float], xlabel: str, title: str, fmt: str = "{:.2%}",
         reference: float | None = None) -> str:
    """Horizontal bars with their value printed; an optional reference line (an SLA target)."""
    labels = list(values)
    fig, ax = _figure(8.0, 0.9 + 0.4 * max(len(labels), 2))
    data = [float(values[k]) for k in labels]
    ax.barh(range(len(labels)), data, color=PALETTE[0])
    for y, v in enumerate(data):
        ax.text(v, y, "  " + fmt.format(v), va="center", fontsize=8)
    if reference is not None:
        ax.axvline(reference, color=PALETTE[3], ls="--", lw=1)
    ax.set_yticks(range(len(labels)), [_short(lbl, 40) for lbl in labels])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, max(data + [1e-9]) * 1.2)
    ax.set_title(title, loc="left")
    return to_svg(fig)


def fan_chart(frame: pd.DataFrame, title: str, ylabel: str = "USD",
              history: pd.Series | None = None) -> str:
    """A forecast: the mean line, nested ``lo-L``/``hi-L`` bands (wider = lighter), and history."""
    fig, ax = _figure()
    x = frame.index if not isinstance(frame.index, pd.RangeIndex) else np.arange(len(frame))
    levels = sorted({float(c[3:]) for c in frame.columns if c.startswith("lo-")}, reverse=True)
    for i, level in enumerate(levels):
        tag = f"{level:g}"
        ax.fill_between(x, frame[f"lo-{tag}"], frame[f"hi-{tag}"], color=PALETTE[0],
                        alpha=0.15 + 0.15 * i, lw=0, label=f"{tag}% interval")
    if history is not None and len(history):
        ax.plot(history.index, history.to_numpy(dtype=float), color="black", lw=1.0, label="history")
    ax.plot(x, frame["mean"], color=PALETTE[0], lw=1.6, label="forecast mean")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    fig.autofmt_xdate()
    return to_svg(fig)


def savings_plan_hours(hourly: pd.DataFrame, title: str = "Savings-plan utilization and coverage") -> str:
    """Per-hour utilization and coverage (fractions) of the held savings plans."""
    fig, ax = _figure()
    ax.plot(hourly["hour"], hourly["utilization"], lw=1.2, label="utilization (used / commitment)")
    if "coverage" in hourly:
        ax.plot(hourly["hour"], hourly["coverage"], lw=1.2, label="coverage (covered / eligible on-demand)")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("hours from the horizon start")
    ax.set_ylabel("fraction")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return to_svg(fig)


def commitment_curve(curve: pd.DataFrame, recommended: float | None = None,
                     title: str = "Savings versus hourly commitment") -> str:
    """Expected savings against commitment with its P10-P90 band (``smsim commit`` output)."""
    fig, ax = _figure()
    x = curve["commitment_usd_per_hour"]
    if {"p10_savings_usd", "p90_savings_usd"} <= set(curve.columns):
        ax.fill_between(x, curve["p10_savings_usd"], curve["p90_savings_usd"], alpha=0.25, lw=0,
                        label="P10-P90")
    ax.plot(x, curve["expected_savings_usd"], lw=1.8, label="expected savings")
    ax.axhline(0.0, color="black", lw=0.7)
    if recommended is not None:
        ax.axvline(recommended, color=PALETTE[3], lw=1.5, label=f"recommended {recommended:,.2f} USD/h")
    ax.set_xlabel("hourly commitment (USD/hour)")
    ax.set_ylabel("savings (USD)")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False)
    return to_svg(fig)


def ranking(labels: Sequence[str], costs: Sequence[float], title: str = "Scenarios by total cost") -> str:
    """The bench ranking as bars (cheapest on top)."""
    return bars(dict(zip(labels, costs, strict=True)), "total cost (USD)", title, fmt="${:,.2f}")


def budget_chart(actual: pd.Series, amount: float, forecast: pd.Series | None, alerts: Sequence[tuple],
                 title: str) -> str:
    """A budget period: cumulative actual spend, the budgeted amount, the forecast of the
    period's spend at each hour, and a marker where each alert fired."""
    fig, ax = _figure()
    ax.plot(actual.index, actual.to_numpy(float), color=PALETTE[0], lw=1.6, label="actual (cumulative)")
    if forecast is not None and forecast.notna().any():
        ax.plot(forecast.index, forecast.to_numpy(float), color=PALETTE[1], lw=1.0, ls="--",
                label="forecast for the period")
    ax.axhline(amount, color=PALETTE[3], lw=1.0, label=f"budget {amount:,.0f} USD")
    for i, (when, spend, label) in enumerate(alerts):
        ax.plot([when], [spend], marker="v", color=PALETTE[3], ms=7, ls="none",
                label="alert fired" if i == 0 else None)
        ax.annotate(_short(label, 24), (when, spend), textcoords="offset points", xytext=(4, 6), fontsize=7)
    ax.set_ylabel("USD")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    fig.autofmt_xdate()
    return to_svg(fig)


def spend_with_anomalies(daily: pd.Series, spans: Sequence[tuple], title: str) -> str:
    """Spend per step with each anomaly's span shaded."""
    fig, ax = _figure()
    ax.plot(daily.index, daily.to_numpy(float), color=PALETTE[0], lw=1.4, label="spend")
    for i, (start, end) in enumerate(spans):
        ax.axvspan(start, end, color=PALETTE[3], alpha=0.25, lw=0, label="anomaly" if i == 0 else None)
    ax.set_ylabel("USD")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    fig.autofmt_xdate()
    return to_svg(fig)
