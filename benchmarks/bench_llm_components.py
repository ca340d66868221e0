"""Inference components against whole-instance scaling, on the same traffic, in one run.

Runs ``scenarios/llm_inference_components.yaml``: two LLMs (Llama-3.1-8B chat, Qwen-2.5-7B
summaries) on ml.g6e.12xlarge, once as inference components sharing one endpoint's instances
(copies scaled, instances following) and once as two endpoints scaled by whole instances of
four copies (the baseline), with the same arrivals and prompts. Prints copies and instances over
time, then per model: billed cost, instance-hours, copy-hours, packing share, TTFT p99, goodput.

    PYTHONPATH=$PWD python benchmarks/bench_llm_components.py
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smsim import api  # noqa: E402

SCENARIO = ROOT / "scenarios" / "llm_inference_components.yaml"


def main() -> None:
    t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    run = api.run_scenario(SCENARIO)
    wall, cpu = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0
    res = {r["resource_id"]: r for r in run.summary["resources"]}
    s = run.series
    print(f"{SCENARIO.name}: whole run {wall:.1f} s wall, {cpu:.1f} s CPU; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("\ncopies in service and instances (minute averages, every 15 min)")
    print(f"{'time':>6} {'chat copies':>11} {'summ copies':>11} {'shared inst':>11} | {'chat inst':>9} {'summ inst':>9}")
    for i in range(0, len(s["chat-ic"]), 15):
        t = int(s["chat-ic"].time_s[i])
        print(f"{t // 3600:3d}:{t % 3600 // 60:02d} {s['chat-ic'].copies_in_service[i]:11.1f} "
              f"{s['summarize-ic'].copies_in_service[i]:11.1f} {s['chat-ic'].instances[i]:11.1f} | "
              f"{s['chat-whole'].instances[i]:9.1f} {s['summarize-whole'].instances[i]:9.1f}")
    print(f"\n{'endpoint':16} {'cost $':>8} {'inst-h':>7} {'copy-h':>7} {'max inst':>8} {'TTFT p99':>9} "
          f"{'TPOT p99':>9} {'goodput':>8} {'SLA':>5}")
    for name, r in res.items():
        copy_h = r.get("copy_hours", r["mean_copies_in_service"] * run.summary["horizon"]["duration_s"] / 3600)
        print(f"{name:16} {r['cost_usd']:8.2f} {r['instance_hours']:7.2f} {copy_h:7.2f} "
              f"{r.get('endpoint_max_instances', r['max_instances']):8d} {r['ttft_p99_s']:8.3f}s "
              f"{r['tpot_p99_s'] * 1000:7.1f}ms {r['goodput_share']:8.2%} {str(r['sla_met']):>5}")
    ic = res["chat-ic"]["cost_usd"] + res["summarize-ic"]["cost_usd"]
    whole = res["chat-whole"]["cost_usd"] + res["summarize-whole"]["cost_usd"]
    print(f"\ninference components (endpoint {res['chat-ic']['endpoint']}): ${ic:.2f}, "
          f"{res['chat-ic']['endpoint_instance_hours']:.2f} instance-hours, packing share "
          f"{res['chat-ic']['endpoint_packing_share']:.1%} of the GPUs' hours held by copies")
    wh = res["chat-whole"]["instance_hours"] + res["summarize-whole"]["instance_hours"]
    print(f"whole instances (baseline):  ${whole:.2f}, {wh:.2f} instance-hours; components cost "
          f"{ic / whole - 1:+.1%}")


if __name__ == "__main__":
    main()
