"""LLM serving simulation speed, and the token-level model beside the per-request one.

A. The one-hour Azure LLM conversation trace (19,366 requests; needs ../shared/data or
   $SMSIM_REAL_DATA_DIR) through the token-level model: Llama-3.1-8B fp16 on ml.g6e.xlarge (the
   roofline), a fixed fleet. Beside it, the per-request ``realtime`` endpoint on the same trace,
   its service time taken from the same roofline at batch 1 (prefill per input token, one decode
   step per output token), with 1 worker per instance (one request per GPU) and with 16 (16
   sequences at batch-1 speed). For 1..N instances: latency, failures, cost, and the smallest
   fleet meeting ``E2E p99 <= --e2e-p99`` with under 1 % failed in each model.
B. A day of an autoscaled endpoint around 20 instances at 50 requests/s (synthetic seasonal
   traffic, lognormal tokens; streamed in one-hour chunks): wall time and peak memory.

Timings include the whole run (scenario load, SimPy control plane, billing); numba compilation
is done by a warm-up run first. Prints the load average beside every timing: the machine may be
shared.

    python benchmarks/bench_llm_serving.py            # A and B
    python benchmarks/bench_llm_serving.py --skip-day # A only
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's smsim

from smsim import api  # noqa: E402
from smsim.resources.llm.roofline import roofline_step_model, serving_hardware  # noqa: E402

HEAD = """\
name: bench-llm
region: us-east-1
horizon: {{start: 2026-03-02T00:00:00Z, duration_s: {duration}}}
seed: 1
"""

LLM = """\
  - kind: llm
    name: {name}
    instance_type: ml.g6e.xlarge
    step_model: {{kind: roofline, model: Llama-3.1-8B}}
    initial_instance_count: {n}
    traffic_stream: azure
    workload: {workload}
"""

REALTIME = """\
  - kind: realtime
    name: {name}
    model: llama8b
    instance_type: ml.g6e.xlarge
    concurrency_per_instance: {c}
    routing: least_outstanding
    fidelity: request
    initial_instance_count: {n}
    traffic_stream: azure
    workload: {workload}
"""

AZURE = "{kind: real, dataset: azure-llm-2023-conv}"
TRACE_S = 3500  # the trace covers 58 min 22 s


CPU_S = [0.0]


def _run(text: str, folder: Path):
    """Summary and wall seconds of one run (its CPU seconds in ``CPU_S[0]``)."""
    path = folder / "s.yaml"
    path.write_text(text)
    t0, c0 = time.perf_counter(), time.process_time()
    res = api.run_scenario(path)
    CPU_S[0] = time.process_time() - c0
    return res.summary, time.perf_counter() - t0


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def batch_one_profile() -> str:
    """The per-request model's service time from the same roofline at batch 1."""
    m = roofline_step_model(serving_hardware("ml.g6e.xlarge", "Llama-3.1-8B"))
    base = m.step_time_s(1, 0, 0)  # the step that reads the weights once
    per_in = (m.step_time_s(1155, 0, 0) - base) / 1154  # the trace's mean prompt
    per_out = m.step_time_s(0, 1, 1200)  # one decode step at a typical context
    return (f"models:\n  - name: llama8b\n    memory_gb: 16\n    latency:\n      ml.g6e.xlarge: {{kind: gamma, "
            f"mean_s: {base:.6f}, cv: 0.0001, per_input_token_s: {per_in:.9f}, per_output_token_s: {per_out:.6f}}}\n")


def part_a(folder: Path, max_n: int, e2e_p99: float) -> None:
    print("== A. Azure LLM conversation trace, 1 h, Llama-3.1-8B fp16 on ml.g6e.xlarge ==")
    print(f"   per-request service time from the roofline at batch 1: {batch_one_profile().splitlines()[-1].strip()}")
    _run(HEAD.format(duration="10m") + "endpoints:\n" + LLM.format(name="warm", n=2, workload=AZURE), folder)
    rows = []
    for n in range(1, max_n + 1):
        text = (HEAD.format(duration=f"{TRACE_S}s") + batch_one_profile() + "endpoints:\n"
                + LLM.format(name="token-level", n=n, workload=AZURE)
                + REALTIME.format(name="per-request-c1", c=1, n=n, workload=AZURE)
                + REALTIME.format(name="per-request-c16", c=16, n=n, workload=AZURE))
        summary, wall = _run(text, folder)
        for r in summary["resources"]:
            failed = (r["timed_out"] + r["dropped"]) / r["requests"]
            p99 = r.get("e2e_p99_s", r.get("latency_p99_s"))
            rows.append((r["resource_id"], n, r["requests"], failed, p99, r.get("ttft_p99_s"), r["cost_usd"],
                         failed < 0.01 and p99 <= e2e_p99))
        print(f"   n={n}: whole run (3 endpoints, billing) {wall:.2f} s; {_load()}")
    print(f"\n   {'model':<18}{'inst':>5}{'requests':>10}{'failed':>9}{'E2E p99 s':>11}{'TTFT p99 s':>12}"
          f"{'cost $':>9}{'meets':>7}")
    for name, n, req, failed, p99, ttft, cost, ok in rows:
        ttft_s = f"{ttft:12.2f}" if ttft is not None else f"{'-':>12}"
        print(f"   {name:<18}{n:>5}{req:>10,}{failed:>9.1%}{p99:>11.2f}{ttft_s}{cost:>9.2f}{'yes' if ok else 'no':>7}")
    print(f"\n   smallest fleet meeting E2E p99 <= {e2e_p99:g} s with < 1 % failed:")
    for name in ("token-level", "per-request-c1", "per-request-c16"):
        ok = [(n, cost) for m, n, _, _, _, _, cost, good in rows if m == name and good]
        print(f"     {name:<18}" + (f"{ok[0][0]} instances, ${ok[0][1]:.2f} for the trace" if ok else f"none up to {max_n}"))
    m = roofline_step_model(serving_hardware("ml.g6e.xlarge", "Llama-3.1-8B"))
    base = m.step_time_s(1, 0, 0)
    service = base + (m.step_time_s(1155, 0, 0) - base) + 211 * m.step_time_s(0, 1, 1200)
    print(f"     (per-request-c1: mean service {service:.2f} s x {19364 / TRACE_S:.2f} requests/s = "
          f"{service * 19364 / TRACE_S:.1f} instances busy on average)")
    summary, wall = _run(HEAD.format(duration=f"{TRACE_S}s") + "endpoints:\n" + LLM.format(name="token-level", n=3, workload=AZURE),
                         folder)
    r = summary["resources"][0]
    print(f"\n   token-level alone, 3 instances: whole run {wall:.2f} s ("
          f"{r['engine_steps']:,} engine steps, {r['output_tokens']:,} output tokens), {CPU_S[0]:.2f} s CPU; "
          f"target < 5 s; {_load()}")


DAY = """\
  - kind: llm
    name: day
    instance_type: ml.g6e.xlarge
    step_model: {kind: roofline, model: Llama-3.1-8B}
    engine: {max_num_seqs: 128}
    initial_instance_count: 20
    autoscaling:
      min_capacity: 12
      max_capacity: 40
      policies: [{kind: target_tracking, metric: concurrent_requests_per_copy, target_value: 20, scale_in_cooldown_s: 600}]
      provisioning: {kind: fixed, delay_s: 480}
    workload:
      kind: seasonal
      base_rate_per_s: 50
      daily_amplitude: 0.3
      peak_hour: 15
      time_zone: America/New_York
      attributes:
        input_tokens: {kind: lognormal, median: 600, p99: 4000}
        output_tokens: {kind: lognormal, median: 100, p99: 600}
"""


DAY_LENGTH = ["1d"]


def part_b(folder: Path) -> None:
    print("\n== B. one day, autoscaled around 20 x ml.g6e.xlarge, 50 requests/s ==")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary, wall = _run(HEAD.format(duration=DAY_LENGTH[0]) + "endpoints:\n" + DAY, folder)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    r = summary["resources"][0]
    print(f"   {r['requests']:,} requests, {r['output_tokens']:,} output tokens, {r['engine_steps']:,} engine steps; "
          f"instances mean {r['mean_instances']:.1f}, max {r['max_instances']}; TTFT p99 {r['ttft_p99_s']:.2f} s, "
          f"TPOT p99 {r['tpot_p99_s'] * 1000:.0f} ms; cost ${r['cost_usd']:,.0f}")
    print(f"   whole run {wall:.1f} s wall, {CPU_S[0]:.1f} s CPU; "
          f"target < 60 s; {_load()}")
    print(f"   peak RSS {after:.0f} MB (before this run {before:.0f} MB)")


SATURATION_CASES = [("ml.g6e.xlarge", "Llama-3.1-8B", 200, 1000, 64), ("ml.g6e.xlarge", "Llama-3.1-8B", 1000, 200, 256),
                    ("ml.g5.xlarge", "Llama-3.1-8B", 1000, 200, 256), ("ml.p4d.24xlarge", "Llama-3.1-70B", 2000, 200, 256)]


def part_c() -> None:
    """The engine overloaded with identical requests beside the steady-state closed form."""
    import numpy as np

    from smsim.resources.llm.engine import EngineConfig, ServingEngine
    from smsim.resources.llm.profile import form_of
    from smsim.resources.llm.steady_state import saturation

    print("\n== C. saturation: engine (600 s overloaded, tokens/s over the last 400 s) vs steady-state closed form ==")
    for it, model, inp, out, seqs in SATURATION_CASES:
        hw = serving_hardware(it, model)
        m = roofline_step_model(hw)
        sat = saturation(hw, m, inp, out, seqs)
        e = ServingEngine(EngineConfig(kv_capacity_blocks=hw.kv_capacity_tokens // 16, max_num_seqs=seqs,
                                       queue_limit=100_000, timeout_s=1e9), form_of(m))
        e.add_copies(1, 0.0)
        n = int(sat.requests_per_s * 3 * 600)
        t = np.linspace(0, 599, n)
        for lo, hi in ((0.0, 200.0), (200.0, 600.0)):
            sel = (t >= lo) & (t < hi)
            if hi == 600.0:
                k0 = e.counters()["output_tokens"]
            e.advance(t[sel], np.full(sel.sum(), inp), np.full(sel.sum(), out), hi)
        c = e.counters()
        sim = (c["output_tokens"] - k0) / 400.0
        print(f"   {model} on {it}, {inp} in / {out} out, max_num_seqs {seqs}: engine {sim:,.0f} output tok/s, "
              f"closed form {sat.output_tokens_per_s:,.0f} (bound by {sat.limited_by}, batch {sat.batch}): "
              f"{sim / sat.output_tokens_per_s - 1:+.1%}; {c['preemptions']} preemptions")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-instances", type=int, default=5)
    ap.add_argument("--e2e-p99", type=float, default=30.0)
    ap.add_argument("--skip-day", action="store_true")
    ap.add_argument("--skip-trace", action="store_true")
    ap.add_argument("--day-length", default="1d", help="shorter for a quick look, e.g. 6h")
    args = ap.parse_args()
    DAY_LENGTH[0] = args.day_length
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_trace:
            part_a(folder, args.max_instances, args.e2e_p99)
        if not args.skip_day:
            part_b(folder)
        part_c()


if __name__ == "__main__":
    main()
