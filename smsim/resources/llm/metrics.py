"""Token-level latency metrics of an LLM endpoint, in bounded memory.

* **TTFT** (time to first token): arrival to the end of the step that finishes the prompt's
  prefill (queueing included).
* **TPOT** (time per output token, the mean inter-token latency of a request): (finish - first
  token) / (output tokens - 1); requests of one output token have none.
* **E2E**: arrival to the last token.

Quantiles come from :class:`~smsim.core.histogram.LogHistogram` (0.5 % relative error). SLA
attainment and goodput are counted exactly per request against the thresholds as requests
finish: a request is *good* when its TTFT, TPOT and E2E are within every threshold the SLA sets
for them (the strictest one per metric) and, for every ITL objective ``itl_pQ_s: T``, at least
Q % of its own inter-token gaps are within T (``100 x gaps above T <= (100 - Q) x gaps``, exact:
the engine counts each request's gaps above each threshold); an objective ``metric_pQ_s: T`` is
met when at least Q % of all requests that ended (served, timed out or rejected) were served
within T; an ITL objective when at least Q % of all inter-token gaps are within T.
"""

from __future__ import annotations

import math

import numpy as np

from smsim.core.histogram import LogHistogram
from smsim.resources.llm.engine import Finished


class TokenMetrics:
    """Accumulates finished requests; :meth:`summary` gives the flat metrics of the run."""

    def __init__(self, sla=None) -> None:
        self.sla = sla
        self.hist = {m: LogHistogram() for m in ("ttft", "tpot", "e2e")}
        self.objectives = sla.objectives() if sla is not None else []
        self.within = np.zeros(len(self.objectives), np.int64)
        self.limits = sla.per_request_limits() if sla is not None else {}
        self.itl_objectives = sla.itl_objectives() if sla is not None else []
        self.good = 0
        self.good_output_tokens = 0

    def add(self, f: Finished) -> None:
        if not f.arrival_s.size:
            return
        values = {"ttft": f.ttft_s, "tpot": f.tpot_s, "e2e": f.e2e_s}
        for name, v in values.items():
            self.hist[name].add(v[~np.isnan(v)])
        for i, (metric, _, threshold) in enumerate(self.objectives):
            if metric == "itl":
                continue
            v = values[metric]
            self.within[i] += int(np.count_nonzero(np.isnan(v) | (v <= threshold)))
        if self.sla is not None:
            ok = np.ones(f.arrival_s.size, bool)
            for metric, threshold in self.limits.items():
                v = values[metric]
                ok &= np.isnan(v) | (v <= threshold)
            if self.itl_objectives:
                if f.itl_over is None or f.itl_over.shape[1] < len(self.itl_objectives):
                    raise ValueError("the engine did not count gaps above the SLA's ITL thresholds")
                gaps = f.gaps
                for j, (q, _) in enumerate(self.itl_objectives):
                    ok &= 100.0 * f.itl_over[:, j] <= (100.0 - q) * gaps
            self.good += int(ok.sum())
            self.good_output_tokens += int(f.output_tokens[ok].sum())

    def summary(self, *, ended: int, horizon_s: float, itl: LogHistogram | None = None) -> dict[str, float | bool]:
        """Quantiles (s), goodput (requests/s and share of ended requests) and SLA verdicts;
        ``ended`` counts served plus failed requests; ``itl`` holds every inter-token gap (its
        objectives are judged on the gaps, to the histogram's relative error)."""
        out: dict[str, float | bool] = {}
        for name, h in self.hist.items():
            q = h.quantile(np.array([0.5, 0.9, 0.99])) if h.count else [math.nan] * 3
            out[f"{name}_mean_s"] = h.mean
            for label, v in zip(("p50", "p90", "p99"), q, strict=True):
                out[f"{name}_{label}_s"] = float(v)
        if self.sla is None:
            return out
        out["goodput_requests"] = self.good
        out["goodput_per_s"] = self.good / horizon_s
        out["goodput_share"] = self.good / ended if ended else math.nan
        out["goodput_output_tokens_per_s"] = self.good_output_tokens / horizon_s
        met = True
        for i, (metric, q, threshold) in enumerate(self.objectives):
            if metric == "itl":
                n = itl.count if itl is not None else 0
                within = float(itl.counts[itl.representative() <= threshold].sum()) if n else 0.0
                share = within / n if n else math.nan
                out[f"sla_{metric}_p{q:g}_attainment"] = share
                met = met and n > 0 and share >= q / 100.0
                continue
            share = float(self.within[i]) / ended if ended else math.nan
            out[f"sla_{metric}_p{q:g}_attainment"] = share
            met = met and ended > 0 and share >= q / 100.0
        out["sla_met"] = bool(met)
        return out


__all__ = ["TokenMetrics"]
