"""The roofline step-time model beside published vLLM / TensorRT-LLM measurements.

For every published point below, the model's figure (saturation throughput from the steady-state
batch model, or TTFT / TPOT of a request alone) is printed beside the published one with the
relative error and whether it is within the issue's tolerance (throughput 15 %, latency 20 %).
Points marked ``calibration`` fixed an efficiency constant (once; see
``smsim/resources/llm/calibration.py``); the others are checks and were not tuned one by one.
``--calibrate`` re-derives the calibrated constants from their points by bisection.

Also printed: the closed form at batch 1 (TPOT = weight bytes per accelerator / datasheet
bandwidth) beside the model's batch-1 TPOT, and the linear layers of Llama-3-8B on A100 beside
the per-layer times Vidur profiled (github.com/microsoft/vidur, data/profiling/compute/a100/
meta-llama/Meta-Llama-3-8B/mlp.csv @41ab8ab1; medians in ms, figures quoted here, not copied files).

    python benchmarks/bench_llm_published.py [--calibrate]

Runs in well under a second: closed forms only, no simulation.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smsim.resources.llm import calibration  # noqa: E402
from smsim.resources.llm.roofline import roofline_step_model, serving_hardware  # noqa: E402
from smsim.resources.llm.steady_state import (  # noqa: E402
    closed_form_tpot_s,
    low_load_tpot_s,
    low_load_ttft_s,
    saturation,
)

TRT = ("NVIDIA TensorRT-LLM docs/source/performance/perf-overview.md @00f37686 (trtllm-bench, max throughput, "
       "ModelOpt FP8 checkpoints; read 2026-12-07)")
NIM = ("NVIDIA NIM LLM benchmarking, Performance, NIM 1.8.0, https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/"
       "performance (concurrency 1; read 2026-12-07)")
MUSGRAVE = ("J. Musgrave, 'vLLM throughput-latency sweep on NVIDIA A100', https://johnmusgrave.com/p/"
            "vllm-throughput-latency-sweep-on (vLLM 0.23.0, concurrency 1, 1024 in / 128 out; read 2026-12-07)")
TGI = ("P. Schmid, 'Llama 2 on Amazon SageMaker a Benchmark', Hugging Face blog, 2023-09-26, github.com/huggingface/"
       "blog llama-sagemaker-benchmark.md @11a8ec1e (TGI 1.0.3 on SageMaker, 1 concurrent request, median ms/token; "
       "prompt length not stated, 256 assumed; read 2026-12-07)")
BUILDKITE = ("vLLM nightly performance benchmark, build 9515, https://buildkite.com/vllm/performance-benchmark/"
             "builds/9515 (latency test: batch 8, 32 in / 128 out; read 2026-12-07)")


@dataclass(frozen=True)
class Point:
    label: str
    metric: str  # throughput (output tok/s per copy) | ttft_ms | tpot_ms | batch_latency_ms
    instance_type: str
    model: str
    weight_dtype: str
    kv_dtype: str
    tp: int
    input_tokens: int
    output_tokens: int
    published: float
    source: str
    role: str = "check"  # "calibration: <constant>", or "other engine" (printed, counted apart)
    max_num_seqs: int = 256
    gpu_memory_utilization: float = 0.9
    batch: int = 1


# TensorRT-LLM: FP8 weights and (ModelOpt's default) FP8 KV cache, KV fraction 0.95, batches up to 2048.
_T = dict(weight_dtype="fp8", kv_dtype="fp8", max_num_seqs=2048, gpu_memory_utilization=0.95, source=TRT)
POINTS = [
    Point("Llama-3.1-8B FP8 1xH100 2048/128", "throughput", "ml.p5.48xlarge", "Llama-3.1-8B", tp=1,
          input_tokens=2048, output_tokens=128, published=3450, role="calibration: compute_efficiency_8bit", **_T),
    Point("Llama-3.1-8B FP8 1xH100 1000/1000", "throughput", "ml.p5.48xlarge", "Llama-3.1-8B", tp=1,
          input_tokens=1000, output_tokens=1000, published=15220, **_T),
    Point("Llama-3.1-8B FP8 1xH100 128/2048", "throughput", "ml.p5.48xlarge", "Llama-3.1-8B", tp=1,
          input_tokens=128, output_tokens=2048, published=22714, **_T),
    Point("Llama-3.1-8B FP8 1xH100 5000/500", "throughput", "ml.p5.48xlarge", "Llama-3.1-8B", tp=1,
          input_tokens=5000, output_tokens=500, published=3459, **_T),
    Point("Llama-3.1-8B FP8 1xH200 1000/1000", "throughput", "ml.p5e.48xlarge", "Llama-3.1-8B", tp=1,
          input_tokens=1000, output_tokens=1000, published=17744, **_T),
    Point("Llama-3.3-70B FP8 2xH100 1000/1000", "throughput", "ml.p5.48xlarge", "Llama-3.3-70B", tp=2,
          input_tokens=1000, output_tokens=1000, published=4205, **_T),
    Point("Llama-3.3-70B FP8 1xH200 1000/1000", "throughput", "ml.p5e.48xlarge", "Llama-3.3-70B", tp=1,
          input_tokens=1000, output_tokens=1000, published=2909, **_T),
    Point("Llama-3.1-8B bf16 1xA100-40GB 1024/128", "tpot_ms", "ml.p4d.24xlarge", "Llama-3.1-8B", "fp16", "fp16", 1,
          1024, 128, published=1000 / 75, source=MUSGRAVE, role="calibration: step_overhead_s"),
    Point("Llama-3.3-70B FP8 2xH100 5000/500", "ttft_ms", "ml.p5.48xlarge", "Llama-3.3-70B", "fp8", "fp8", 2,
          5000, 500, published=406.77, source=NIM),
    Point("Llama-3.3-70B FP8 2xH100 5000/500", "tpot_ms", "ml.p5.48xlarge", "Llama-3.3-70B", "fp8", "fp8", 2,
          5000, 500, published=18.58, source=NIM),
    Point("Llama-3.3-70B FP8 2xH100 500/2000", "ttft_ms", "ml.p5.48xlarge", "Llama-3.3-70B", "fp8", "fp8", 2,
          500, 2000, published=47.77, source=NIM),
    Point("Llama-3.3-70B FP8 2xH100 500/2000", "tpot_ms", "ml.p5.48xlarge", "Llama-3.3-70B", "fp8", "fp8", 2,
          500, 2000, published=18.91, source=NIM),
    Point("Llama-3.1-8B bf16 1xH200 batch 8", "batch_latency_ms", "ml.p5e.48xlarge", "Llama-3.1-8B", "fp16", "fp16",
          1, 32, 128, published=833.42, source=BUILDKITE, batch=8),
    Point("Llama-3-70B bf16 4xH200 batch 8", "batch_latency_ms", "ml.p5e.48xlarge", "Llama-3.1-70B", "fp16", "fp16",
          4, 32, 128, published=2077.53, source=BUILDKITE, batch=8),
    Point("Mixtral-8x7B bf16 2xH200 batch 8", "batch_latency_ms", "ml.p5e.48xlarge", "Mixtral-8x7B", "fp16", "fp16",
          2, 32, 128, published=1917.44, source=BUILDKITE, batch=8),
    Point("Llama-2-7B fp16 4xA10G (TGI 1.0.3)", "tpot_ms", "ml.g5.12xlarge", "Llama-2-7B", "fp16", "fp16", 4,
          256, 256, published=16.81, source=TGI, role="other engine"),
    Point("Llama-2-70B fp16 8xA100-40GB (TGI 1.0.3)", "tpot_ms", "ml.p4d.24xlarge", "Llama-2-70B", "fp16", "fp16", 8,
          256, 256, published=41.35, source=TGI, role="other engine"),
]

TOLERANCE = {"throughput": 0.15, "ttft_ms": 0.20, "tpot_ms": 0.20, "batch_latency_ms": 0.20}


def model_value(p: Point, **overrides) -> float:
    return model_figure(p, **overrides)[0]


def model_figure(p: Point, **overrides) -> tuple[float, str]:
    """The model's figure for ``p`` and a note on what bounds it."""
    hw = serving_hardware(p.instance_type, p.model, p.weight_dtype, p.kv_dtype, p.tp,
                          gpu_memory_utilization=p.gpu_memory_utilization,
                          max_model_len=max(4096, p.input_tokens + p.output_tokens))
    m = roofline_step_model(hw, **overrides)
    if p.metric == "throughput":
        sat = saturation(hw, m, p.input_tokens, p.output_tokens, p.max_num_seqs)
        return sat.output_tokens_per_s, f"batch {sat.batch} ({sat.limited_by})"
    if p.metric == "ttft_ms":
        return 1e3 * low_load_ttft_s(m, p.input_tokens), ""
    if p.metric == "tpot_ms":
        return 1e3 * low_load_tpot_s(m, p.input_tokens, p.output_tokens), f"closed form {1e3 * closed_form_tpot_s(hw):.1f}"
    # a fixed batch: every prompt prefilled in one step, then output_tokens - 1 decode steps
    b, i = p.batch, p.input_tokens
    total = m.step_time_s(b * i, 0, b * i, prefill_seqs=b)
    total += sum(m.step_time_s(0, b, b * (i + j)) for j in range(1, p.output_tokens))
    return 1e3 * total, ""


def calibrate() -> None:
    """Bisect each calibration point's constant until the model meets the published figure."""
    for p in POINTS:
        if not p.role.startswith("calibration"):
            continue
        name = p.role.split(": ")[1]
        lo, hi = (0.05, 1.0) if "efficiency" in name else (0.0, 0.01)
        for _ in range(60):
            mid = (lo + hi) / 2
            value = model_value(p, **{name: mid})
            # throughput rises with an efficiency; latency rises with an overhead
            too_high = value > p.published if p.metric == "throughput" else value < p.published
            lo, hi = (lo, mid) if too_high == ("efficiency" in name) else (mid, hi)
        print(f"{name} = {(lo + hi) / 2:.4g}  from {p.label} ({p.metric} {p.published:g})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calibrate", action="store_true", help="re-derive the calibrated constants")
    args = ap.parse_args()
    if args.calibrate:
        calibrate()
        return
    print(f"efficiencies: {calibration.EFFICIENCIES}\n")
    print(f"{'point':40} {'metric':17} {'published':>10} {'model':>10} {'error':>8}  {'verdict':38} model note")
    misses = checks = other = other_ok = 0
    for p in POINTS:
        got, note = model_figure(p)
        err = got / p.published - 1
        ok = abs(err) <= TOLERANCE[p.metric]
        verdict = ("within" if ok else "MISS") + f" {TOLERANCE[p.metric]:.0%}"
        if p.role == "check":
            checks += 1
            misses += not ok
        elif p.role == "other engine":
            other += 1
            other_ok += ok
            verdict += " (other engine)"
        else:
            verdict = p.role
        print(f"{p.label:40} {p.metric:17} {p.published:10.1f} {got:10.1f} {err:+8.1%}  {verdict:38} {note}")
    print(f"\nvLLM / TensorRT-LLM / NIM: {checks - misses} of {checks} check points within tolerance; "
          f"older engines: {other_ok} of {other}\n")
    print("sources:")
    for src in dict.fromkeys(p.source for p in POINTS):
        print(f"  {src}")

    print("\nbatch-1 decode: closed form (weights / datasheet bandwidth) beside the model's TPOT at 1k context")
    print(f"{'configuration':46} {'closed form ms':>15} {'model ms':>9}")
    for inst, model, wd, tp in [("ml.g5.xlarge", "Llama-3.1-8B", "fp16", None), ("ml.g6.xlarge", "Llama-3.1-8B", "fp8", None),
                                ("ml.g6e.xlarge", "Llama-3.1-8B", "fp16", None), ("ml.p4d.24xlarge", "Llama-3.1-8B", "fp16", 1),
                                ("ml.p5.48xlarge", "Llama-3.1-8B", "fp16", 1), ("ml.g5.12xlarge", "Llama-3.1-70B", "int4", 4),
                                ("ml.p4de.24xlarge", "Llama-3.1-70B", "fp16", 4), ("ml.p5.48xlarge", "Llama-3.1-70B", "fp8", 2),
                                ("ml.p5.48xlarge", "Mixtral-8x7B", "fp16", 2), ("ml.inf2.48xlarge", "Llama-3.1-8B", "fp16", 1)]:
        hw = serving_hardware(inst, model, wd, "fp16", tp)
        m = roofline_step_model(hw)
        print(f"{inst + ' ' + model + ' ' + wd + f' tp{hw.tp}':46} {1e3 * closed_form_tpot_s(hw):15.2f} "
              f"{1e3 * m.step_time_s(0, 1, 1024):9.2f}")

    print("\nLlama-3-8B bf16 on A100, one layer's linear layers and elementwise ops: Vidur's profile beside the roofline")
    hw8 = serving_hardware("ml.p4d.24xlarge", "Llama-3.1-8B", "fp16", "fp16", 8)
    hw1 = serving_hardware("ml.p4d.24xlarge", "Llama-3.1-8B", "fp16", "fp16", 1)
    # (tp, tokens, GEMMs ms, elementwise ms): medians of attn_pre_proj + attn_post_proj + mlp_up_proj + mlp_down_proj,
    # and of input_layernorm + attn_rope + post_attention_layernorm + mlp_act + add
    vidur = [(1, 32768, 7.2595 + 4.926 + 33.094 + 16.6075, 0.8255 + 0.776 + 0.814 + 2.7685 + 0.471),
             (8, 1, 0.008 + 0.006 + 0.022 + 0.013, 0.005 + 0.002 + 0.005 + 0.002 + 0.002),
             (8, 128, 0.013 + 0.008 + 0.047 + 0.018, 0.005 + 0.003 + 0.005 + 0.003 + 0.003)]
    print(f"{'tp':>3} {'tokens':>7} {'vidur ms':>9} {'roofline ms':>12} {'error':>8}")
    for tp, tokens, gemm, elementwise in vidur:
        hw = hw1 if tp == 1 else hw8
        shape, eff = hw.shape, calibration.EFFICIENCIES
        acc = hw.instance.accelerator
        flops = 2 * tokens * (shape.attention_params + shape.expert_params) / (tp * acc.peak_flops("bf16") * eff.compute_efficiency)
        read = (shape.attention_params + shape.expert_params) * 2 / (tp * acc.memory_bandwidth_gb_per_s * 1e9 * eff.memory_efficiency)
        ours = 1e3 * max(flops, read)
        print(f"{tp:3d} {tokens:7d} {gemm + elementwise:9.3f} {ours:12.3f} {ours / (gemm + elementwise) - 1:+8.1%}")


if __name__ == "__main__":
    main()
