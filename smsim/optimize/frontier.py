"""The cost-vs-p99 Pareto frontier of the simulated candidates, as rows and as a plot.

A candidate is on the frontier when no other simulated candidate is both no more expensive and
no slower at p99, and strictly better in one of the two. Only simulated candidates appear:
pruned ones were proven infeasible or more expensive than the answer, so the frontier is exact
at and below the answer's cost and partial above it.
"""

from __future__ import annotations

import math
from pathlib import Path

from smsim.optimize.evaluate import Evaluation


def pareto_frontier(evals: list[Evaluation]) -> list[Evaluation]:
    """Non-dominated evaluations in (cost, p99), by increasing cost (NaN p99 counts as infinite)."""
    def p99(e: Evaluation) -> float:
        v = e.verdict.latency_p99_s
        return v if math.isfinite(v) else math.inf

    out: list[Evaluation] = []
    best_p99 = math.inf
    for e in sorted(evals, key=lambda e: (e.rank_key[0], p99(e), e.candidate.index)):
        if p99(e) < best_p99:
            out.append(e)
            best_p99 = p99(e)
    return out


def plot_frontier(evals: list[Evaluation], path: str | Path, *, threshold_s: float | None = None,
                  best: Evaluation | None = None) -> Path:
    """Scatter of every simulated candidate (feasible filled), the frontier line, the SLA line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from smsim import atomic

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for feasible, marker in ((True, "o"), (False, "x")):
        pts = [(e.cost_usd, e.verdict.latency_p99_s * 1000) for e in evals if e.feasible == feasible]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.scatter(xs, ys, marker=marker, alpha=0.6, label="meets SLA" if feasible else "misses SLA")
    front = pareto_frontier(evals)
    if front:
        ax.step([e.cost_usd for e in front], [e.verdict.latency_p99_s * 1000 for e in front], where="post",
                color="black", lw=1, label="Pareto frontier")
    if threshold_s is not None:
        ax.axhline(threshold_s * 1000, ls="--", color="red", lw=1, label="SLA threshold")
    if best is not None:
        ax.scatter([best.cost_usd], [best.verdict.latency_p99_s * 1000], s=160, facecolors="none",
                   edgecolors="green", lw=2, label="answer")
    ax.set_xlabel("cost (USD over the horizon)")
    ax.set_ylabel("p99 latency (ms)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return path


__all__ = ["pareto_frontier", "plot_frontier"]
