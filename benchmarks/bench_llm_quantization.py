"""What quantisation buys: fit, KV capacity, latency, throughput and cost per token, per instance type.

For each model x instance type x weight dtype (fp8 weights come with an fp8 KV cache), the
smallest tensor-parallel degree that fits, copies per instance, KV-cache tokens per copy, the
batch-1 TPOT of the roofline model at 1k context, saturation output tokens/s per instance
(1,000 input / 200 output tokens per request, ``max_num_seqs`` 256 per copy) and the on-demand
price per million output tokens at that saturation (us-east-1 real-time inference prices from the
built-in catalog). Configurations that do not fit print the reason. Closed forms only; instant.

    python benchmarks/bench_llm_quantization.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smsim.errors import InputError  # noqa: E402
from smsim.pricing import load_catalog  # noqa: E402
from smsim.resources.llm.roofline import roofline_step_model, serving_hardware  # noqa: E402
from smsim.resources.llm.steady_state import saturation  # noqa: E402

CASES = [
    ("Llama-3.1-8B", ["ml.g5.xlarge", "ml.g6.xlarge", "ml.g6e.xlarge"]),
    ("Llama-3.1-70B", ["ml.g5.12xlarge", "ml.g6e.12xlarge", "ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge"]),
]


def main() -> None:
    catalog = load_catalog()
    print(f"{'model':14} {'instance':17} {'weights':7} {'tp':>3} {'copies':>6} {'KV tokens':>10} {'TPOT ms':>8} "
          f"{'out tok/s':>10} {'$/h':>7} {'$/1M out':>9}")
    for model, instances in CASES:
        for instance in instances:
            usd_h = catalog.ondemand_usd_per_hour(instance, "RealTimeInference", "us-east-1")
            for wd in ("fp16", "fp8", "int4"):
                kv = "fp8" if wd == "fp8" else "fp16"
                try:
                    hw = serving_hardware(instance, model, wd, kv)
                except InputError as exc:
                    print(f"{model:14} {instance:17} {wd:7} does not fit: {exc.message}")
                    continue
                m = roofline_step_model(hw)
                per_instance = saturation(hw, m, 1000, 200).output_tokens_per_s * hw.copies_per_instance
                usd_per_m = usd_h / (per_instance * 3600) * 1e6
                print(f"{model:14} {instance:17} {wd:7} {hw.tp:3d} {hw.copies_per_instance:6d} {hw.kv_capacity_tokens:10,d} "
                      f"{1e3 * m.step_time_s(0, 1, 1024):8.1f} {per_instance:10,.0f} {usd_h:7.2f} {usd_per_m:9.2f}")


if __name__ == "__main__":
    main()
