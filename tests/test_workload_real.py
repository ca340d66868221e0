"""Readers of the public traces, checked against facts stated in each folder's README."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from smsim.errors import InputError
from smsim.workload.real_traces import load_real_trace
from smsim.workload.request_trace import CountTrace


@pytest.mark.parametrize(
    ("name", "rows", "span_min", "rate", "in_median", "out_median"),
    [
        ("azure-llm-2023-code", 8819, 57.3, 2.57, 1469, 13),
        ("azure-llm-2023-conv", 19366, 58.4, 5.53, 1020, 129),
    ],
)
def test_azure_llm_2023(shared_data, name, rows, span_min, rate, in_median, out_median):
    trace = load_real_trace(name, shared_data)
    span = trace.arrival_s[-1]
    assert len(trace) == rows
    assert span / 60 == pytest.approx(span_min, abs=0.05)
    assert (rows - 1) / span == pytest.approx(rate, abs=0.005)
    assert np.median(trace.input_tokens) == in_median
    assert np.median(trace.output_tokens) == out_median


def test_azure_code_starts_at_the_readme_time(shared_data):
    trace = load_real_trace("azure-llm-2023-code", shared_data)
    assert trace.start == datetime(2023, 11, 16, 18, 17, 3, 979960, tzinfo=UTC)
    assert trace.input_tokens.max() == 7437


@pytest.mark.parametrize(
    ("name", "rows", "last_ms", "mean_in", "mean_out"),
    [("mooncake-conversation", 12031, 3536999, 12035, 343), ("mooncake-synthetic", 3993, None, 15325, 149)],
)
def test_mooncake(shared_data, name, rows, last_ms, mean_in, mean_out):
    trace = load_real_trace(name, shared_data)
    assert len(trace) == rows and trace.arrival_s[0] == 0.0
    if last_ms is not None:
        assert trace.arrival_s[-1] == pytest.approx(last_ms / 1000)
    else:
        assert trace.arrival_s[-1] / 60 == pytest.approx(17.0, abs=0.05)
    assert trace.input_tokens.mean() == pytest.approx(mean_in, abs=0.5)
    assert trace.output_tokens.mean() == pytest.approx(mean_out, abs=0.5)


def test_alibaba_lora_requests(shared_data):
    trace = load_real_trace("alibaba-genai-2026-lora", shared_data)
    assert len(trace) == 26823
    assert trace.start == datetime(2024, 11, 15, 16, 57, 50, tzinfo=UTC)
    end = (datetime(2024, 12, 8, 17, 33, 57, tzinfo=UTC) - trace.start).total_seconds()
    assert trace.arrival_s[-1] == end
    assert len(trace.models) == 87  # 86 checkpoints plus "unknown" for the 25 rows without one
    assert (trace.model == "unknown").sum() == 25


def test_alibaba_qps_series(shared_data):
    total = load_real_trace("alibaba-genai-2026-qps", shared_data)
    assert isinstance(total, CountTrace) and total.interval_s == 57.0
    assert total.duration_s / 3600 == pytest.approx(22.3, abs=0.05)
    gen = load_real_trace("alibaba-genai-2026-qps", shared_data, request_type="generative")
    api = load_real_trace("alibaba-genai-2026-qps", shared_data, request_type="api")
    n = min(gen.counts.size, api.counts.size)
    assert np.allclose(gen.counts[:n] + api.counts[:n], total.counts[:n])


def test_absent_data_folder_is_a_clear_input_error(tmp_path):
    with pytest.raises(InputError, match=r"not found; looked in: .*missing \(data_dir\)"):
        load_real_trace("azure-llm-2023-code", tmp_path / "missing")
    with pytest.raises(InputError, match="unknown real dataset 'azure-llm-2023-cod'.*did you mean"):
        load_real_trace("azure-llm-2023-cod", tmp_path)


def _fake_azure(root):
    folder = root / "shared" / "data" / "azure-llm-inference-2023"
    folder.mkdir(parents=True)
    (folder / "AzureLLMInferenceTrace_conv.csv").write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2023-11-16 18:15:46.5,374,44\n2023-11-16 18:15:48.0,396,109\n", encoding="utf-8")


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """smsim as a plain install: its module lives in a site-packages folder, no env variable set."""
    from smsim.workload import real_traces

    monkeypatch.delenv("SMSIM_REAL_DATA_DIR", raising=False)
    fake = tmp_path / "venv" / "lib" / "python3.12" / "site-packages" / "smsim" / "workload" / "real_traces.py"
    monkeypatch.setattr(real_traces, "__file__", str(fake))
    monkeypatch.setattr(real_traces, "DEFAULT_DATA_DIR", fake.parents[2].parent / "shared" / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return tmp_path


def test_an_installed_smsim_finds_real_traces_beside_the_scenario(installed):
    project = installed / "project"
    _fake_azure(project)
    (project / "scenarios").mkdir()
    trace = load_real_trace("azure-llm-2023-conv", base_dir=project / "scenarios")
    assert len(trace) == 2 and trace.arrival_s[-1] == pytest.approx(1.5)
    assert list(trace.input_tokens) == [374, 396]


def test_an_installed_smsim_finds_real_traces_beside_the_working_folder(installed, monkeypatch):
    _fake_azure(installed / "elsewhere")
    (installed / "elsewhere" / "sub").mkdir()
    monkeypatch.chdir(installed / "elsewhere" / "sub")
    assert len(load_real_trace("azure-llm-2023-conv")) == 2


def test_a_relative_data_dir_is_read_from_the_scenario_folder(installed):
    _fake_azure(installed / "project")
    (installed / "project" / "scenarios").mkdir()
    trace = load_real_trace("azure-llm-2023-conv", "../shared/data", base_dir=installed / "project" / "scenarios")
    assert len(trace) == 2


def test_missing_real_traces_say_where_they_were_looked_for(installed):
    with pytest.raises(InputError) as info:
        load_real_trace("azure-llm-2023-conv", base_dir=installed / "project")
    text = str(info.value)
    assert "azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv" in text
    assert f"{installed / 'project' / 'shared' / 'data'} (beside the scenario)" in text
    assert f"{installed / 'elsewhere' / 'shared' / 'data'} (beside the working folder)" in text
    assert "site-packages" not in text and "SMSIM_REAL_DATA_DIR" in text
