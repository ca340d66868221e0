"""The published-points check of benchmarks/bench_llm_published.py, held as a regression test.

Every check point (vLLM, TensorRT-LLM, NIM) must stay within the issue's tolerance (throughput
15 %, TTFT/TPOT 20 %) and every calibration point within 2 % of the figure it fixed; a change
to the step model or its constants that breaks either fails here. Closed forms only: instant.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_llm_published.py"
spec = importlib.util.spec_from_file_location("bench_llm_published", PATH)
bench = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = bench  # dataclasses look their module up
spec.loader.exec_module(bench)


@pytest.mark.parametrize("point", [p for p in bench.POINTS if p.role == "check"], ids=lambda p: f"{p.label} {p.metric}")
def test_check_points_are_within_tolerance(point):
    error = bench.model_value(point) / point.published - 1
    assert abs(error) <= bench.TOLERANCE[point.metric], f"{error:+.1%}"


@pytest.mark.parametrize("point", [p for p in bench.POINTS if p.role.startswith("calibration")], ids=lambda p: p.label)
def test_calibration_points_are_met(point):
    assert bench.model_value(point) == pytest.approx(point.published, rel=0.02)


def test_at_least_five_published_checks_on_at_least_two_accelerators():
    checks = [p for p in bench.POINTS if p.role == "check"]
    assert len(checks) >= 5
    assert {p.instance_type for p in checks} >= {"ml.p5.48xlarge", "ml.p5e.48xlarge"}
    assert {p.metric for p in checks} >= {"throughput", "ttft_ms", "tpot_ms"}
