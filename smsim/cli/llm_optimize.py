"""``smsim llm-optimize``: the cheapest LLM endpoint configuration that meets token SLAs."""

from __future__ import annotations

import typer

from smsim.cli._common import handles_errors, print_json, stdout


def _list(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _ints(text: str, what: str) -> tuple[int, ...]:
    from smsim.errors import InputError

    out: list[int] = []
    for part in _list(text):
        lo, sep, hi = part.partition("-")
        try:
            out += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
        except ValueError:
            raise InputError(f"{part!r} is not a whole number or a range like 1-6", path=what) from None
    if not out or min(out) < 1:
        raise InputError(f"{text!r}: give whole numbers >= 1", path=what)
    return tuple(out)


def _floats(text: str, what: str) -> tuple[float, ...]:
    from smsim.errors import InputError

    try:
        out = tuple(float(p) for p in _list(text))
    except ValueError:
        raise InputError(f"{text!r}: give numbers, e.g. 8,16,32", path=what) from None
    if any(not v > 0 for v in out):
        raise InputError(f"{text!r}: targets must be > 0", path=what)
    return out


def register(app: typer.Typer) -> None:
    @app.command("llm-optimize")
    @handles_errors
    def llm_optimize(
        scenario: str = typer.Argument(..., help="scenario YAML with the llm endpoint"),
        endpoint: str = typer.Option(..., "--endpoint", "-e", help="name of the llm endpoint to size"),
        instance_types: str = typer.Option(..., "--instance-types", help="comma-separated, e.g. ml.g6e.xlarge,ml.g6.xlarge"),
        weight_dtypes: str = typer.Option("fp16", "--weight-dtypes", help="comma-separated: fp16, bf16, fp8, int8, int4"),
        kv_dtypes: str = typer.Option("fp16", "--kv-dtypes", help="comma-separated: fp16, bf16, fp8"),
        tp: str = typer.Option("auto", "--tp", help="tensor-parallel degrees, comma-separated; auto = smallest that fits"),
        max_num_seqs: str = typer.Option("256", "--max-num-seqs", help="comma-separated batch limits per copy"),
        instances: str = typer.Option("1-4", "--instances", help="fixed fleet sizes, e.g. 1-6 or 2,4,8"),
        scaling_targets: str = typer.Option("", "--scaling-targets",
                                            help="also try autoscaling: concurrent requests per copy, e.g. 8,16,32"),
        scaling_min: str = typer.Option("1", "--scaling-min", help="autoscaling minimum capacities to try"),
        scaling_max: int = typer.Option(8, "--scaling-max", min=1, help="autoscaling maximum capacity"),
        sla: str = typer.Option(None, "--sla", help="e.g. ttft_p99_s=2,tpot_p99_s=0.1 (default: the endpoint's sla)"),
        max_failed: float = typer.Option(0.01, "--max-failed", min=0.0, max=1.0, help="largest share of failed requests"),
        no_screen: bool = typer.Option(False, "--no-screen", help="simulate fleets below the saturation bound too"),
        as_json: bool = typer.Option(False, "--json", help="print JSON"),
    ) -> None:
        """Search instance type x quantisation x tensor parallelism x batch limit x instance count (or
        autoscaling target), simulating each candidate token by token, for the cheapest that meets
        the token SLAs."""
        from smsim.optimize.api import optimize_llm
        from smsim.optimize.llm import LlmSpace

        tps = tuple(None if t == "auto" else _ints(t, "--tp")[0] for t in _list(tp))
        space = LlmSpace(_list(instance_types), _list(weight_dtypes), _list(kv_dtypes), tps,
                         _ints(max_num_seqs, "--max-num-seqs"), _ints(instances, "--instances"),
                         _floats(scaling_targets, "--scaling-targets"), _ints(scaling_min, "--scaling-min"), scaling_max)
        out = optimize_llm(scenario, endpoint, space, sla=sla, max_failed_share=max_failed, screen=not no_screen)
        out.pop("best_scenario")
        if as_json:
            print_json(out)
        else:
            print_result(out)
        if out["best"] is None:
            raise typer.Exit(1)  # a result, not bad input (as smsim optimize)


def print_result(out: dict) -> None:
    """The text report of an LLM search (``smsim llm-optimize`` and ``smsim optimize``)."""
    p = stdout.print
    p(f"{out['candidates']} candidates, {out['simulated']} simulated, pruned: "
      + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in out["pruned"].items()), highlight=False)
    for left in out["left_out"]:
        p(f"  left out {left['candidate']}: {left['reason']}", highlight=False)
    p(f"{'candidate':<60}{'cost $':>9}{'TTFT p99':>10}{'TPOT p99':>10}{'failed':>8}  verdict", highlight=False)
    for r in out["evaluations"]:
        failed = (r["timed_out"] + r["dropped"]) / max(r["requests"], 1)
        p(f"{r['candidate']:<60}{r['cost_usd']:>9.2f}{r['ttft_p99_s']:>9.2f}s{r['tpot_p99_s'] * 1000:>8.0f}ms"
          f"{failed:>8.1%}  {r['why']}", highlight=False)
    best = out["best"]
    p(f"best: {best['candidate']} at ${best['cost_usd']:.2f}" if best else "no candidate meets the objectives",
      highlight=False)
