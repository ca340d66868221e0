"""``smsim llm-fit``: figures from the roofline closed forms, bad input exits 2 with the figures."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.pricing import load_catalog
from smsim.resources.llm.roofline import roofline_step_model, serving_hardware
from smsim.resources.llm.sizing import fit_summary
from smsim.resources.llm.steady_state import saturation

runner = CliRunner()


def test_a_model_that_fits_prints_its_layout_and_price():
    res = runner.invoke(app, ["llm-fit", "ml.g5.12xlarge", "Llama-3.1-70B", "--weight-dtype", "int4"])
    assert res.exit_code == 0, res.output
    assert "tp=4, 1 copy per instance" in res.output
    assert "124,800 tokens per copy" in res.output
    assert "$7.09/h on demand in us-east-1" in res.output


def test_json_figures_agree_with_the_closed_forms_by_hand():
    res = runner.invoke(app, ["llm-fit", "ml.p5.48xlarge", "meta-llama/Llama-3.1-70B-Instruct", "-w", "fp8", "-k", "fp8",
                              "--input-tokens", "500", "--output-tokens", "100", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    hw = serving_hardware("ml.p5.48xlarge", "Llama-3.1-70B", "fp8", "fp8")
    sat = saturation(hw, roofline_step_model(hw), 500, 100)
    assert (doc["tp"], doc["copies_per_instance"]) == (2, 4)
    assert doc["output_tokens_per_s_per_instance"] == pytest.approx(4 * sat.output_tokens_per_s)
    usd = load_catalog().ondemand_usd_per_hour("ml.p5.48xlarge", "RealTimeInference", "us-east-1")
    assert doc["usd_per_million_output_tokens"] == pytest.approx(usd / (4 * sat.output_tokens_per_s * 3600) * 1e6)


def test_no_price_is_said_not_invented():
    s = fit_summary("ml.p5e.48xlarge", "Llama-3.1-8B")  # facts, but no price in the built-in catalog
    assert s["usd_per_hour"] is None and s["usd_per_million_output_tokens"] is None


@pytest.mark.parametrize("args, message", [
    (["ml.g5.12xlarge", "Llama-3.1-70B"], "Llama-3.1-70B fp16 needs 141 GB of weights; ml.g5.12xlarge has 4 x 24 GB = 96 GB"),
    (["ml.g5.12xlarge", "Llama-3.1-7B"], "unknown model 'Llama-3.1-7B' (did you mean 'Llama-3.1-70B'"),
    (["ml.g5.12xlarg", "Llama-3.1-8B"], "unknown instance_type 'ml.g5.12xlarg' (did you mean 'ml.g5.12xlarge'"),
    (["ml.g5.48xlarge", "Llama-3.1-8B", "--tp", "3"], "tp must divide both the accelerator count"),
    (["ml.g5.xlarge", "Llama-3.1-8B", "-w", "fp4"], "weight_dtype 'fp4' is not one of fp16, bf16, fp8, int8, int4"),
    (["ml.g5.xlarge", "Llama-3.1-8B", "--max-model-len", "131072"], "for one 131072-token sequence"),
])
def test_bad_input_exits_2_with_the_figures(args, message):
    res = runner.invoke(app, ["llm-fit", *args])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split())
    assert "Traceback" not in res.output


def test_the_readme_examples_print_what_the_readme_shows():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"\$ smsim (llm-fit [^\n]+)\n(.*?)\n```", readme, flags=re.S)
    assert len(shown) >= 2, "the README's llm-fit examples are missing"
    for command, expected in shown:
        res = runner.invoke(app, command.split())
        assert " ".join(res.output.split()) == " ".join(expected.split()), command
