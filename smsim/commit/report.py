"""The savings-versus-commitment curve as a picture, and a short text table of the result.

The curve shows why the recommendation sits where it does: expected savings rise while the next
dollar of commitment is used often enough (more than ``1 - d`` of the time), then fall; the P10-P90
band shows how much a given commitment could go wrong; the lookback recommendations are marked
on the same axis.
"""

from __future__ import annotations

from pathlib import Path

from smsim.atomic import atomic_path
from smsim.commit.api import CommitResult


def plot_curve(result: CommitResult, path: str | Path, force: bool = False) -> Path:
    """Write the curve (PNG/SVG/PDF by suffix) atomically; matplotlib's Agg backend, no display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = result.curve
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(curve.commitment_usd_per_hour, curve.p10_savings_usd, curve.p90_savings_usd,
                    alpha=0.25, label="P10-P90 across forecast paths")
    ax.plot(curve.commitment_usd_per_hour, curve.expected_savings_usd, lw=2, label="expected savings")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.axvline(result.recommended_usd_per_hour, color="C3", lw=2,
               label=f"smsim: {result.recommended_usd_per_hour:,.2f} USD/h")
    styles = {"7d": ":", "30d": "--", "60d": "-."}
    for key, lb in result.lookback.items():
        ax.axvline(lb["commitment_usd_per_hour"], color="gray", ls=styles.get(key, ":"),
                   label=f"{key} lookback: {lb['commitment_usd_per_hour']:,.2f} USD/h")
    if result.evaluation:
        h = result.evaluation["hindsight_optimum"]["commitment_usd_per_hour"]
        ax.axvline(h, color="C2", lw=1.5, label=f"hindsight optimum: {h:,.2f} USD/h")
    ax.set_xlabel("hourly commitment (USD/hour)")
    ax.set_ylabel(f"savings over {result.horizon_hours} h (USD)")
    ax.set_title(f"SageMaker Savings Plan {result.terms.term} {result.terms.payment}, "
                 f"discount {result.terms.discount:.0%}")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    return path


def summary_rows(result: CommitResult) -> list[tuple[str, float, float, float, float]]:
    """(name, USD/h, expected, P10, P90 savings) for smsim, the staged plan, the ladder and each lookback."""
    r = result.recommended
    rows = [("smsim", result.recommended_usd_per_hour, r["expected_savings_usd"],
             r["p10_savings_usd"], r["p90_savings_usd"])]
    if result.staged:
        s = result.staged["on_forecast"]
        rows.append((f"staged (top-up at h {result.staged['at_hour']})", result.staged["first_usd_per_hour"],
                     s["expected_savings_usd"], s["p10_savings_usd"], s["p90_savings_usd"]))
    if result.ladder:
        s = result.ladder["on_forecast"]
        rows.append((f"ladder (first tranche, reviews every {result.ladder['every_hours']} h)",
                     result.ladder["first_usd_per_hour"], s["expected_savings_usd"], s["p10_savings_usd"],
                     s["p90_savings_usd"]))
    for key, lb in result.lookback.items():
        f = lb["on_forecast"]
        rows.append((f"lookback {key}", lb["commitment_usd_per_hour"], f["expected_savings_usd"],
                     f["p10_savings_usd"], f["p90_savings_usd"]))
    return rows
