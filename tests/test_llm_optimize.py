"""The LLM optimizer against brute force on a small space, and its bad input."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.optimize.llm import LlmSpace, brute_force, parse_token_sla, search
from smsim.scenario import load_scenario

SCENARIO = """\
name: llm-opt
region: us-east-1
horizon: {start: 2026-03-02T00:00:00Z, duration_s: 15m}
seed: 2
endpoints:
  - kind: llm
    name: chat
    instance_type: ml.g6e.xlarge
    step_model: {kind: roofline, model: Llama-3.1-8B}
    engine: {max_num_seqs: 64}
    workload:
      kind: poisson
      rate_per_s: 3
      attributes:
        input_tokens: {kind: lognormal, median: 800, p99: 4000}
        output_tokens: {kind: lognormal, median: 150, p99: 800}
    sla: {ttft_p99_s: 1.5, tpot_p99_s: 0.06}
"""


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.mark.parametrize("screen", [True, False])
def test_search_equals_brute_force(scenario, screen):
    sc = load_scenario(scenario)
    space = LlmSpace(("ml.g6e.xlarge", "ml.g6.xlarge", "ml.g5.xlarge"), ("fp16", "fp8"), ("fp16",), (None,), (64,),
                     (1, 2, 3))
    fast = search(sc, "chat", space, screen=screen)
    full = brute_force(sc, "chat", space)
    assert full.best is not None
    assert fast.best.candidate == full.best.candidate and fast.best.cost_usd == full.best.cost_usd
    assert len(fast.evaluations) < len(full.evaluations)
    # the cheapest feasible really is: nothing cheaper in the full table meets the SLA
    assert all(not e.feasible for e in full.evaluations if e.key < full.best.key)
    # a fixed fleet's billed cost is exactly instances x price x hours (the search's bound)
    for e in full.evaluations:
        c = e.candidate
        assert e.cost_usd == pytest.approx(c.instances * c.usd_per_hour * 0.25, abs=1e-6)


def test_autoscaled_candidates_equal_brute_force(scenario):
    sc = load_scenario(scenario)
    space = LlmSpace(("ml.g6e.xlarge", "ml.g6.xlarge"), ("fp8",), ("fp8",), (None,), (64,), (1, 2),
                     scaling_targets=(4.0, 16.0), scaling_min=(1,), scaling_max=3)
    fast = search(sc, "chat", space)
    full = brute_force(sc, "chat", space)
    assert fast.best.candidate == full.best.candidate and fast.best.cost_usd == full.best.cost_usd
    scaled = [e for e in full.evaluations if e.candidate.target is not None]
    assert scaled and all(e.cost_usd >= e.candidate.usd_per_hour * 0.25 - 1e-6 for e in scaled)
    # a lower target keeps more instances: never cheaper than the higher one on the same hardware
    by = {(e.candidate.instance_type, e.candidate.target): e.cost_usd for e in scaled}
    for it in ("ml.g6e.xlarge", "ml.g6.xlarge"):
        assert by[(it, 4.0)] >= by[(it, 16.0)]


def test_left_out_with_reason(scenario):
    sc = load_scenario(scenario)
    res = search(sc, "chat", LlmSpace(("ml.g6.xlarge",), ("fp16",), ("fp16",), (4,), (64,), (1,)))
    assert res.n_candidates == 0 and "tp=4" in res.skipped[0][1]


def test_parse_token_sla():
    assert parse_token_sla("ttft_p99_s=2, tpot_p99_s=0.1") == {"ttft_p99_s": 2.0, "tpot_p99_s": 0.1}


@pytest.mark.parametrize(("args", "needle"), [
    (["--sla", "ttft_p98_s=2"], "ttft_p98_s"),
    (["--sla", "ttft_p99_s=fast"], "name=seconds"),
    (["--instances", "0-2"], "--instances"),
    (["-e", "nope"], "no llm endpoint"),
])
def test_cli_bad_input_exit_2(scenario, args, needle):
    base = ["llm-optimize", str(scenario), "-e", "chat", "--instance-types", "ml.g6e.xlarge", "--instances", "1"]
    res = CliRunner().invoke(app, base + args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output


def test_cli_finds_best(scenario):
    res = CliRunner().invoke(app, ["llm-optimize", str(scenario), "-e", "chat", "--instance-types",
                                   "ml.g6e.xlarge", "--instances", "1-2", "--json"])
    assert res.exit_code == 0, res.output
    assert '"status": "optimal"' in res.output


def test_optimize_section_for_llm_endpoint(tmp_path):
    """``smsim optimize`` with an ``optimize:`` section searches an llm endpoint the same way and
    writes a best.yaml that runs."""
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO + """\
optimize:
  endpoint: chat
  instance_types: [ml.g6e.xlarge, ml.g6.xlarge]
  instance_count: {min: 1, max: 2}
  max_error_rate: 1%
  llm:
    weight_dtypes: [fp16, fp8]
    sla: {ttft_p99_s: 1.5, tpot_p99_s: 0.06}
""")
    out = tmp_path / "opt"
    res = CliRunner().invoke(app, ["optimize", str(path), "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    sc = load_scenario(path)
    want = search(sc, "chat", LlmSpace(("ml.g6e.xlarge", "ml.g6.xlarge"), ("fp16", "fp8"), ("fp16",), (None,),
                                       (64,), (1, 2)))
    assert want.best.candidate.label() in res.output
    best = load_scenario(out / "best.yaml")
    assert best.endpoints[0].instance_type == want.best.candidate.instance_type
    res = CliRunner().invoke(app, ["optimize", str(path), "--sla", "p99<=250ms"])
    assert res.exit_code == 2 and "ttft" in res.output


def test_cli_infeasible_exit_1(scenario):
    res = CliRunner().invoke(app, ["llm-optimize", str(scenario), "-e", "chat", "--instance-types", "ml.g6.xlarge",
                                   "--instances", "1", "--sla", "ttft_p50_s=0.001"])
    assert res.exit_code == 1, res.output
    assert "no candidate meets the objectives" in res.output
