"""LLM endpoints end to end: scenario -> control plane -> token metrics, bad input -> exit 2."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.resources.llm import routing, scheduler
from smsim.resources.llm.engine import Finished
from smsim.resources.llm.metrics import TokenMetrics
from smsim.resources.llm.profile import read_profile
from smsim.resources.llm.spec import TokenSlaSpec

HEAD = """\
name: llm-test
region: us-east-1
horizon: {start: 2026-03-02T00:00:00Z, duration_s: %s}
seed: 3
endpoints:
"""


def _scenario(tmp_path, endpoint: str, duration="1h"):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD % duration + textwrap.indent(textwrap.dedent(endpoint), "  "))
    return path


LINEAR = "{kind: linear, base_s: 0.02, prefill_s_per_token: 0.0001, decode_s_per_seq: 0.0005}"


def _trace(tmp_path, n=200, spacing=5.0, columns=("ContextTokens", "GeneratedTokens")):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"arrival_s": np.arange(n) * spacing,
                          columns[0]: rng.integers(10, 800, n), columns[1]: rng.integers(1, 120, n)})
    path = tmp_path / "trace.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_trace_conservation_and_closed_form(tmp_path):
    """Requests 5 s apart through one copy never overlap: TTFT = one prefill step exactly, all
    served, tokens out = the trace's, instance-hours = the horizon's."""
    path, frame = _trace(tmp_path, n=100)
    s = _scenario(tmp_path, f"""\
        - kind: llm
          name: chat
          instance_type: ml.g6e.xlarge
          step_model: {LINEAR}
          kv_capacity_tokens: 100000
          workload: {{kind: trace, path: {path.name}, repeat: true}}
          sla: {{ttft_p99_s: 0.1, tpot_p99_s: 0.03}}
        """, duration="1000s")
    r = api.run_scenario(s).summary["resources"][0]
    assert r["requests"] == 200 and r["served"] == 200
    assert r["output_tokens"] == 2 * int(frame.GeneratedTokens.sum())
    assert r["input_tokens"] == 2 * int(frame.ContextTokens.sum())
    ttft = 0.02 + 0.0001 * frame.ContextTokens.to_numpy()
    assert r["ttft_p99_s"] == pytest.approx(np.quantile(ttft, 0.99, method="lower"), rel=0.006)
    assert r["tpot_p50_s"] == pytest.approx(0.0205, rel=0.006)
    assert r["instance_hours"] == pytest.approx(1000 / 3600)
    want_good = int(((ttft <= 0.1)).sum()) * 2
    assert r["goodput_requests"] == want_good
    assert r["cost_per_1m_output_tokens_usd"] == pytest.approx(r["cost_usd"] / r["output_tokens"] * 1e6)


def test_missing_token_column_exit_2(tmp_path):
    path, _ = _trace(tmp_path, columns=("prompt_len", "GeneratedTokens"))
    s = _scenario(tmp_path, f"""\
        - kind: llm
          name: chat
          instance_type: ml.g6e.xlarge
          step_model: {LINEAR}
          kv_capacity_tokens: 100000
          workload: {{kind: trace, path: {path.name}}}
        """, duration="900s")
    res = CliRunner().invoke(app, ["run", str(s), "--no-store", "-q"])
    assert res.exit_code == 2, res.output
    assert "trace.csv" in res.output and "input_tokens" in res.output and "ContextTokens" in res.output
    assert "Traceback" not in res.output


def test_bad_profile_row_exit_2(tmp_path):
    (tmp_path / "p.csv").write_text("prefill_tokens,decode_seqs,step_time_s\n0,1,0.02\n0,8,abc\n512,1,0.05\n512,8,0.06\n")
    s = _scenario(tmp_path, """\
        - kind: llm
          name: chat
          instance_type: ml.g6e.xlarge
          step_model: {kind: profile, path: p.csv}
          kv_capacity_tokens: 100000
          workload: {kind: poisson, rate_per_s: 1, attributes: {input_tokens: {kind: constant, value: 100}, output_tokens: {kind: constant, value: 10}}}
        """, duration="600s")
    res = CliRunner().invoke(app, ["run", str(s), "--no-store", "-q"])
    assert res.exit_code == 2, res.output
    assert "p.csv:3" in res.output and "step_time_s" in res.output and "row 2" in res.output


def test_model_that_does_not_fit_exit_2(tmp_path):
    s = _scenario(tmp_path, """\
        - kind: llm
          name: big
          instance_type: ml.g5.xlarge
          step_model: {kind: roofline, model: Llama-3.1-70B}
          workload: {kind: poisson, rate_per_s: 1, attributes: {input_tokens: {kind: constant, value: 100}, output_tokens: {kind: constant, value: 10}}}
        """, duration="600s")
    res = CliRunner().invoke(app, ["run", str(s), "--no-store", "-q"])
    assert res.exit_code == 2, res.output
    assert "needs 141 GB" in res.output and "s.yaml:8" in res.output and "instance_type" in res.output


def test_unknown_model_exit_2_at_its_line(tmp_path):
    s = _scenario(tmp_path, """\
        - kind: llm
          name: big
          instance_type: ml.g5.xlarge
          step_model: {kind: roofline, model: Llama-9-8B}
          workload: {kind: poisson, rate_per_s: 1, attributes: {input_tokens: {kind: constant, value: 100}, output_tokens: {kind: constant, value: 10}}}
        """, duration="600s")
    res = CliRunner().invoke(app, ["validate", str(s)])
    assert res.exit_code == 2, res.output
    assert "Llama-9-8B" in res.output and "s.yaml:9" in res.output and "step_model" in res.output


def test_profile_interpolation(tmp_path):
    (tmp_path / "p.csv").write_text("prefill_tokens,decode_seqs,step_time_s\n0,1,0.02\n0,9,0.04\n1000,1,0.10\n1000,9,0.12\n")
    m = read_profile(tmp_path / "p.csv")
    assert m.step_time_s(0, 1, 0) == pytest.approx(0.02)
    assert m.step_time_s(500, 5, 0) == pytest.approx(0.07)
    assert m.step_time_s(2000, 1, 0) == pytest.approx(0.18)  # linear beyond the grid


def test_autoscaling_on_concurrency_and_copies(tmp_path):
    """Heavy load on one instance: target tracking on concurrent requests per copy scales out;
    the new instances serve only after provisioning plus model load."""
    s = _scenario(tmp_path, f"""\
        - kind: llm
          name: chat
          instance_type: ml.g6e.xlarge
          step_model: {LINEAR}
          kv_capacity_tokens: 200000
          copies_per_instance: 2
          model_load_s: 120
          initial_instance_count: 1
          autoscaling:
            min_capacity: 1
            max_capacity: 6
            policies: [{{kind: target_tracking, metric: concurrent_requests_per_copy, target_value: 4, scale_out_cooldown_s: 60}}]
            provisioning: {{kind: fixed, delay_s: 180}}
          workload: {{kind: poisson, rate_per_s: 4, attributes: {{input_tokens: {{kind: constant, value: 400}}, output_tokens: {{kind: constant, value: 100}}}}}}
        """, duration="2h")
    result = api.run_scenario(s)
    r = result.summary["resources"][0]
    assert r["scale_out_events"] >= 1 and r["max_instances"] > 1
    series = result.series["chat"]
    assert (series.copies_in_service % 2 == 0).iloc[:3].all()  # whole instances of 2 copies at first
    first_new = series.index[series.copies_in_service > 2]
    # the first scale-out cannot serve before 60 s (first metric) + 180 s + 120 s
    assert series.time_s[first_new[0]] >= 300 - 60
    assert r["requests"] == r["served"] + r["timed_out"] + r["dropped"] + r["in_flight_at_horizon"]


def test_token_sla_table():
    sla = TokenSlaSpec(ttft_p99_s=1.0, tpot_p50_s=0.05, ttft_p50_s=0.5)
    m = TokenMetrics(sla)
    f = Finished(np.zeros(4), np.array([0.2, 0.6, 1.5, 0.3]), np.array([1.2, 1.6, 2.5, 0.3]),
                 np.ones(4, int), np.array([11, 11, 11, 1]), np.zeros(4, int))
    m.add(f)
    out = m.summary(ended=5, horizon_s=10.0)  # one more request failed
    # ttft <= 0.5 (strictest ttft), tpot <= 0.05 (0.1, 0.1, 0.1, none): only the one-token one is good
    assert out["goodput_requests"] == 1
    assert out["sla_ttft_p99_attainment"] == pytest.approx(3 / 5)
    assert out["sla_ttft_p50_attainment"] == pytest.approx(2 / 5)
    assert out["sla_met"] is False


@pytest.mark.parametrize(("cache", "target", "budget", "want"), [
    (0, 100, 4096, 100), (0, 10_000, 4096, 4096), (100, 100, 4096, 1), (100, 100, 0, 0), (50, 100, 20, 20),
])
def test_tokens_wanted_table(cache, target, budget, want):
    assert scheduler.tokens_wanted(cache, target, budget) == want


@pytest.mark.parametrize(("tokens", "blocks"), [(0, 0), (1, 1), (16, 1), (17, 2), (32, 2)])
def test_blocks_table(tokens, blocks):
    assert scheduler.blocks_for(tokens, 16) == blocks


@pytest.mark.parametrize(("policy", "loads", "matches", "want"), [
    ("least_outstanding", [3, 1, 1], [0, 0, 0], 1),
    ("least_outstanding", [0, 0], [5, 0], 0),
    ("prefix_aware", [9, 1, 2], [2, 0, 2], 2),  # equal matches: the less loaded
    ("prefix_aware", [9, 1, 2], [0, 0, 0], 1),  # no match anywhere: least outstanding
    ("prefix_aware", [1, 1, 9], [2, 0, 3], 2),  # the longest match wins over load within the slack
    ("prefix_aware", [1, 1, 10], [2, 0, 3], 0),  # ... not beyond it
])
def test_routing_table(policy, loads, matches, want):
    assert routing.choose(policy, loads, matches, [0]) == want


def test_prefix_hit_table():
    assert scheduler.prefix_hit_tokens(3, 512, 10_000) == 1536
    assert scheduler.prefix_hit_tokens(3, 512, 1000) == 999


def test_azure_and_mooncake_traces(shared_data, tmp_path):
    """The real LLM traces' token columns are recognised; Mooncake's hash_ids give prefix hits
    that cut prefill work and TTFT."""
    base = """\
- kind: llm
  name: {name}
  instance_type: ml.g6e.xlarge
  step_model: {{kind: roofline, model: Llama-3.1-8B}}
  initial_instance_count: 2
  engine: {{prefix_caching: {cache}, max_num_seqs: 64}}
  routing: {routing}
  traffic_stream: moon
  workload: {{kind: real, dataset: mooncake-conversation, data_dir: {data}, rate_scale: 0.25}}
"""
    eps = base.format(name="plain", cache="false", routing="least_outstanding", data=shared_data) + \
        base.format(name="cached", cache="true", routing="prefix_aware", data=shared_data)
    s = _scenario(tmp_path, eps, duration="20m")
    res = {r["resource_id"]: r for r in api.run_scenario(s).summary["resources"]}
    assert res["plain"]["requests"] == res["cached"]["requests"] > 100
    assert res["cached"]["prefix_hit_tokens"] > 0 and res["plain"]["prefix_hit_tokens"] == 0
    assert res["cached"]["prefill_tokens_computed"] < res["plain"]["prefill_tokens_computed"]
    assert res["cached"]["ttft_p50_s"] < res["plain"]["ttft_p50_s"]


def test_realtime_refuses_copy_concurrency_metric(tmp_path):
    path = tmp_path / "rt.yaml"
    path.write_text(HEAD % "1h" + textwrap.indent(textwrap.dedent("""\
        - kind: realtime
          name: web
          model: m
          instance_type: ml.m5.large
          workload: {kind: poisson, rate_per_s: 1}
          autoscaling:
            max_capacity: 3
            policies: [{kind: target_tracking, metric: concurrent_requests_per_copy, target_value: 4}]
        """), "  ") + "models:\n  - {name: m, memory_gb: 1, latency: {'*': {kind: gamma, mean_s: 0.1}}}\n")
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert "llm endpoints only" in res.output


def test_same_seed_same_summary():
    """Every figure of the bundled LLM scenario repeats exactly (nothing machine-dependent)."""
    import json

    from tests.conftest import SCENARIOS

    runs = [api.run_scenario(SCENARIOS / "llm_serving.yaml").summary["resources"] for _ in range(2)]
    assert json.dumps(runs[0], sort_keys=True, default=str) == json.dumps(runs[1], sort_keys=True, default=str)


def test_report_has_llm_section(tmp_path):
    path, _ = _trace(tmp_path, n=50)
    s = _scenario(tmp_path, f"""\
        - kind: llm
          name: chat
          instance_type: ml.g6e.xlarge
          step_model: {LINEAR}
          kv_capacity_tokens: 100000
          workload: {{kind: trace, path: {path.name}}}
        """, duration="240s")
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(s), "--no-store", "-q", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", str(tmp_path / "run"), "--md", str(tmp_path / "r.md")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "r.md").read_text()
    assert "## LLM serving" in text and "| chat |" in text and "TTFT p99" in text


def test_itl_objective_over_gaps():
    from smsim.core.histogram import LogHistogram

    gaps = LogHistogram()
    gaps.add(np.array([0.01] * 95 + [0.5] * 5))
    m = TokenMetrics(TokenSlaSpec(itl_p90_s=0.1, itl_p99_s=0.1))
    out = m.summary(ended=3, horizon_s=10.0, itl=gaps)
    assert out["sla_itl_p90_attainment"] == pytest.approx(0.95)
    assert out["sla_itl_p99_attainment"] == pytest.approx(0.95)
    assert out["sla_met"] is False
    out = TokenMetrics(TokenSlaSpec(itl_p90_s=0.1)).summary(ended=3, horizon_s=10.0, itl=gaps)
    assert out["sla_met"] is True and out["goodput_requests"] == 0  # no request finished here


def test_compare_reports_token_figures(tmp_path):
    path, _ = _trace(tmp_path, n=80, spacing=2.0)
    s = _scenario(tmp_path, f"""\
        - kind: llm
          name: chat
          instance_type: ml.g6e.xlarge
          step_model: {{kind: roofline, model: Llama-3.1-8B}}
          workload: {{kind: trace, path: {path.name}}}
          sla: {{ttft_p99_s: 1}}
        """, duration="150s")
    s.write_text(s.read_text() + "variants:\n  - name: fp8\n    patch:\n      endpoints:\n        chat: "
                 "{step_model: {kind: roofline, model: Llama-3.1-8B, weight_dtype: fp8, kv_dtype: fp8}}\n")
    res = CliRunner().invoke(app, ["compare", str(s), "--no-store"])
    assert res.exit_code == 0, res.output
    assert "chat TTFT p99" in res.output and "chat USD per 1M output tokens" in res.output


def test_prefix_caching_on_a_user_jsonl_trace(tmp_path):
    """A Mooncake-format file of one's own: hash_ids follow each request through rate scaling."""
    import json

    rows = [{"timestamp": 500 * i, "input_length": 1500, "output_length": 20, "hash_ids": [0, 1, i % 3 + 10]}
            for i in range(60)]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    base = """\
        - kind: llm
          name: {name}
          instance_type: ml.g6e.xlarge
          step_model: {{kind: roofline, model: Llama-3.1-8B}}
          engine: {{prefix_caching: {cache}}}
          traffic_stream: t
          workload: {{kind: trace, path: t.jsonl, time_unit: ms, rate_scale: 2}}
"""
    eps = textwrap.dedent(base.format(name="plain", cache="false")) + textwrap.dedent(base.format(name="cached", cache="true"))
    s = _scenario(tmp_path, eps, duration="29s")
    res = {r["resource_id"]: r for r in api.run_scenario(s).summary["resources"]}
    assert res["plain"]["requests"] == res["cached"]["requests"] > 100
    # two shared 512-token blocks of every 1,500-token prompt are cached after the first ones
    assert res["cached"]["prefix_hit_tokens"] >= 1024 * (res["cached"]["served"] - 10)
    assert res["cached"]["ttft_p50_s"] < res["plain"]["ttft_p50_s"]


def test_bad_hash_ids_exit_2(tmp_path):
    lines = ['{"timestamp": 0, "input_length": 100, "output_length": 5, "hash_ids": [0]}',
             '{"timestamp": 10, "input_length": 100, "output_length": 5, "hash_ids": "x"}']
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    s = _scenario(tmp_path, """\
        - kind: llm
          name: chat
          instance_type: ml.g6e.xlarge
          step_model: {kind: roofline, model: Llama-3.1-8B}
          engine: {prefix_caching: true}
          workload: {kind: trace, path: t.jsonl, time_unit: ms, repeat: true}
        """, duration="60s")
    res = CliRunner().invoke(app, ["run", str(s), "--no-store", "-q"])
    assert res.exit_code == 2, res.output
    assert "t.jsonl:2" in res.output and "hash_ids" in res.output


def test_itl_objective_enters_goodput_per_request():
    """Request A: 4 gaps, 1 above 0.05 s (25 %); B: 2 gaps, none. itl_p50: both good
    (100 x 1 <= 50 x 4); itl_p90: only B (100 x 1 > 10 x 4). Over all 6 gaps 5/6 are within."""
    f = Finished(np.zeros(2), np.array([0.11, 1.13]), np.array([1.15, 1.15]), np.array([100, 1000]),
                 np.array([5, 3]), np.zeros(2, int), np.array([[1, 0, 0], [0, 0, 0]]))
    from smsim.core.histogram import LogHistogram

    itl = LogHistogram()
    itl.add(np.array([0.01, 1.01, 0.01, 0.01, 0.01, 0.01]))
    for sla, good, met in ((TokenSlaSpec(itl_p50_s=0.05), 2, True), (TokenSlaSpec(itl_p90_s=0.05), 1, False),
                           (TokenSlaSpec(ttft_p99_s=1.0, itl_p50_s=0.05), 1, False)):
        m = TokenMetrics(sla)
        m.add(f)
        out = m.summary(ended=2, horizon_s=10.0, itl=itl)
        assert out["goodput_requests"] == good
        assert out["goodput_output_tokens_per_s"] == pytest.approx((3 if good == 1 and sla.ttft_p99_s is None else
                                                                     5 if good == 1 else 8) / 10.0)
        assert out["sla_met"] is met
