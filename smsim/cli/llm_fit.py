"""``smsim llm-fit``: does a model fit an instance type, how fast is it, what does a token cost."""

from __future__ import annotations

import typer

from smsim.cli._common import handles_errors, print_json, stdout


def register(app: typer.Typer) -> None:
    @app.command("llm-fit")
    @handles_errors
    def llm_fit(
        instance_type: str = typer.Argument(..., help="e.g. ml.g5.12xlarge"),
        model: str = typer.Argument(..., help="e.g. Llama-3.1-70B or meta-llama/Llama-3.1-70B-Instruct"),
        weight_dtype: str = typer.Option("fp16", "--weight-dtype", "-w", help="fp16, bf16, fp8, int8 or int4"),
        kv_dtype: str = typer.Option("fp16", "--kv-dtype", "-k", help="fp16, bf16 or fp8"),
        tp: int = typer.Option(None, "--tp", min=1, help="tensor-parallel degree (default: the smallest that fits)"),
        input_tokens: int = typer.Option(1000, "--input-tokens", min=1, help="prompt tokens per request"),
        output_tokens: int = typer.Option(200, "--output-tokens", min=1, help="output tokens per request"),
        max_num_seqs: int = typer.Option(256, "--max-num-seqs", min=1, help="sequences per model copy at most"),
        max_model_len: int = typer.Option(None, "--max-model-len", min=1, help="longest sequence (default 4096)"),
        region: str = typer.Option("us-east-1", "--region", "-r", help="region of the on-demand price"),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of text"),
    ) -> None:
        """Fit, KV cache, latency alone and throughput at saturation of an LLM on one instance type.

        Closed forms over the roofline step model, no simulation: tensor-parallel degree, copies,
        KV-cache tokens, load time, TTFT/TPOT alone, tokens/s and $ per 1M output tokens at saturation.
        """
        from smsim.resources.llm.sizing import fit_summary

        s = fit_summary(instance_type, model, weight_dtype, kv_dtype, tp, input_tokens=input_tokens,
                        output_tokens=output_tokens, max_num_seqs=max_num_seqs, max_model_len=max_model_len,
                        region=region)
        if as_json:
            print_json(s)
            return
        price = ("no on-demand price in the catalog" if s["usd_per_hour"] is None else
                 f"${s['usd_per_hour']:.2f}/h on demand in {s['region']}: "
                 f"${s['usd_per_million_output_tokens']:.2f} per 1M output tokens at saturation")
        lines = [
            f"{s['model']} {s['weight_dtype']} (KV {s['kv_dtype']}) on {s['instance_type']} "
            f"({s['accelerators']} x {s['accelerator']} {s['accelerator_memory_gb']:g} GB)",
            f"  layout      tp={s['tp']}, {s['copies_per_instance']} cop{'y' if s['copies_per_instance'] == 1 else 'ies'} "
            f"per instance, {s['weights_gb']:.1f} GB of weights per copy, load {s['model_load_s']:.0f} s",
            f"  KV cache    {s['kv_capacity_tokens']:,} tokens per copy ({s['kv_bytes_per_token']:,} bytes a token)",
            f"  alone       TTFT {1e3 * s['ttft_s']:.1f} ms, TPOT {1e3 * s['tpot_s']:.1f} ms "
            f"(closed form {1e3 * s['closed_form_tpot_s']:.1f} ms) for {s['input_tokens']} in / {s['output_tokens']} out",
            f"  saturated   {s['output_tokens_per_s_per_instance']:,.0f} output tokens/s per instance, "
            f"{s['requests_per_s_per_instance']:.2f} requests/s, batch {s['saturation_batch']} per copy "
            f"(bound by {s['saturation_limited_by'].replace('_', ' ')}), TPOT {1e3 * s['saturation_tpot_s']:.1f} ms",
            f"  price       {price}",
        ]
        for line in lines:
            stdout.print(line, highlight=False)
