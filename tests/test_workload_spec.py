"""Workload specs: every kind parses from YAML and materializes to a trace covering the horizon."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from smsim import rng as streams
from smsim.errors import InputError
from smsim.workload.spec import WorkloadSpec, iter_chunks, materialize

FIXTURES = Path(__file__).parent / "fixtures" / "workload"
ADAPTER = TypeAdapter(WorkloadSpec)
HOUR = 3600.0

EXAMPLES = {
    "poisson": "kind: poisson\nrate_per_s: 4\nrate_scale: 2\n",
    "seasonal": """
kind: seasonal
base_rate_per_s: 3
daily_amplitude: 0.6
peak_hour: 14
weekend_factor: 0.5
time_zone: America/New_York
trend: exponential
growth_pct_per_year: 40
spikes: [{start_offset_s: 30m, duration_s: 10m, rate_multiplier: 5}]
attributes:
  input_tokens: {kind: lognormal, median: 1000, p99: 8000}
  output_tokens: {kind: empirical, values: [10, 50, 200]}
""",
    "mmpp": "kind: mmpp\nrates_per_s: [2, 40]\nmean_sojourn_s: [20m, 2m]\n",
    "trace": "kind: trace\npath: requests.csv\nrepeat: true\nrate_scale: 1.5\n",
    "counts": "kind: trace\npath: cloudwatch_invocations.csv\nshape: counts\nrepeat: true\nplacement: uniform\n",
    "mix": """
kind: mix
models:
  llama: {kind: poisson, rate_per_s: 1}
  mistral: {kind: mmpp, rates_per_s: [0.5, 5], mean_sojourn_s: [10m, 1m]}
""",
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_materializes_over_the_horizon(name):
    spec = ADAPTER.validate_python(yaml.safe_load(EXAMPLES[name]))
    trace = materialize(spec, streams.stream(0, "w", name), HOUR, base_dir=FIXTURES)
    assert trace.duration_s == HOUR and len(trace) > 0
    assert trace.arrival_s.min() >= 0 and trace.arrival_s.max() < HOUR
    again = materialize(spec, streams.stream(0, "w", name), HOUR, base_dir=FIXTURES)
    assert np.array_equal(trace.arrival_s, again.arrival_s)


def test_rate_scale_doubles_a_synthetic_rate_exactly():
    spec = ADAPTER.validate_python({"kind": "poisson", "rate_per_s": 50, "rate_scale": 2})
    n = len(materialize(spec, streams.stream(1, "p"), HOUR))
    assert abs(n - 100 * HOUR) < 4 * np.sqrt(100 * HOUR)


def test_mix_labels_models_and_a_trace_keeps_its_tokens():
    mix = materialize(ADAPTER.validate_python(yaml.safe_load(EXAMPLES["mix"])), streams.stream(2, "m"), HOUR)
    assert mix.models == ("llama", "mistral")
    trace = materialize(ADAPTER.validate_python(yaml.safe_load(EXAMPLES["trace"])), streams.stream(2, "t"),
                        60.0, base_dir=FIXTURES)
    assert set(trace.input_tokens) <= {100.0, 200.0, 300.0, 400.0}


def test_short_trace_without_repeat_is_an_error():
    spec = ADAPTER.validate_python({"kind": "trace", "path": "requests.csv"})
    with pytest.raises(InputError, match="trace 'requests.csv' covers 5s but the horizon is 1h; "
                                         "set repeat: true to tile it, or shorten the horizon"):
        materialize(spec, streams.stream(3, "t"), HOUR, base_dir=FIXTURES)


def test_real_workload_without_the_data_folder_fails_clearly(tmp_path):
    spec = ADAPTER.validate_python({"kind": "real", "dataset": "azure-llm-2023-code",
                                    "data_dir": str(tmp_path / "absent")})
    with pytest.raises(InputError, match="real traces are not available"):
        materialize(spec, streams.stream(4, "r"), HOUR)


def test_real_workload_tiles_a_public_trace(shared_data):
    spec = ADAPTER.validate_python({"kind": "real", "dataset": "azure-llm-2023-conv", "repeat": True,
                                    "data_dir": str(shared_data), "rate_scale": 2})
    trace = materialize(spec, streams.stream(5, "r"), 3 * HOUR)
    assert trace.mean_rate_per_s == pytest.approx(2 * 5.53, rel=0.01)


def test_unknown_keys_and_kinds_are_refused():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ADAPTER.validate_python({"kind": "poisson", "rate_per_s": 1, "rate_scale": 2, "burst": 1})
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        ADAPTER.validate_python({"kind": "hawkes"})


def test_iter_chunks_of_a_spec_equals_materialize():
    spec = ADAPTER.validate_python(yaml.safe_load(EXAMPLES["mmpp"]))
    whole = materialize(spec, streams.stream(6, "c"), HOUR)
    parts = list(iter_chunks(spec, streams.stream(6, "c"), HOUR))
    assert np.array_equal(np.concatenate([p.arrival_s for p in parts]), whole.arrival_s)
    trace_spec = ADAPTER.validate_python(yaml.safe_load(EXAMPLES["trace"]))
    chunks = list(iter_chunks(trace_spec, streams.stream(6, "t"), 100.0, chunk_s=30.0, base_dir=FIXTURES))
    assert [c.duration_s for c in chunks] == [30.0, 60.0, 90.0, 100.0]
