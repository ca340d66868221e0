"""Fuzzing every command that reads a file: random bytes, YAML and CSV rows end with exit 0 or 2.

Whatever a user feeds smsim, it either works (exit 0) or says what is wrong with the input
(exit 2, a message naming the file); it never shows a traceback or calls its own bug (exit 70).
Each command gets a few dozen seeded examples (``derandomize``: CI sees the same ones every
time) with a per-example deadline, so the whole file runs in well under a minute.
"""

from __future__ import annotations

import json
import string
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from smsim.cli import app

runner = CliRunner()

#: Text cells and values, rich markup ("[/x]") included: every printed user string is literal.
_TEXT = string.printable

#: Wall time one command may take on one fuzzed input (generous: the machine may be loaded).
LIMIT_S = 8.0

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=timedelta(seconds=2 * LIMIT_S),  # a backstop; each command is timed in _invoke
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def _invoke(args: list[str]) -> None:
    """Run one command and check it ended as a command should: 0 or 2, in time, no traceback."""
    start = time.perf_counter()
    result = runner.invoke(app, args, catch_exceptions=True)
    elapsed = time.perf_counter() - start
    output = result.output
    assert result.exit_code in (0, 2), f"exit {result.exit_code} for {args}:\n{output}\n{result.exception!r}"
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output and "internal error" not in output, output
    assert elapsed < LIMIT_S, f"{args} took {elapsed:.1f} s"


# --- strategies -------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(_TEXT, max_size=12),
    st.sampled_from(["1h", "7d", "-1", "nan", "inf", "1e300", "2026-01-01T00:00:00Z",
                     "ml.m5.large", "realtime", "trace", "fluid", "", "~", "*", "&a", "0x10"]),
)
_yaml_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(string.ascii_letters + "_", max_size=10),
                                            inner, max_size=4)),
    max_leaves=12,
)

#: Keys a scenario has, so random documents reach deeper than the first "unknown field".
_SCENARIO_KEYS = ["description", "region", "horizon", "seed", "fidelity", "tags",
                  "models", "endpoints", "fleets", "training_jobs", "batch_jobs", "notebooks",
                  "storage", "pricing", "variants"]
_scenario_docs = st.fixed_dictionaries(
    {"name": st.one_of(st.text(_TEXT, max_size=8), _scalars)},
    optional={k: _yaml_values for k in _SCENARIO_KEYS},
)

_cells = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "1.5", "nan", "NaN", "inf", "-inf", "1e300", "1e15",
                     "1e-300", "abc", "\"", ",", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z",
                     "2026-01-01", "2026-13-45", "1767225600", "ml.m5.large", "Hosting",
                     "us-east-1", " ", "\u00e9"]),
    st.text(_TEXT, max_size=10),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**18, 10**18).map(str),
)


def _csv(headers: list[str]):
    """A header (sometimes perturbed) and random rows of random cells."""
    header = st.one_of(st.just(headers), st.permutations(headers),
                       st.lists(st.sampled_from([*headers, "x", ""]), min_size=0, max_size=4))
    rows = st.lists(st.lists(_cells, min_size=0, max_size=len(headers) + 2), max_size=30)
    return st.tuples(header, rows).map(
        lambda hr: "\n".join([",".join(hr[0]), *(",".join(r) for r in hr[1])]) + "\n")


def _hourly_csv(time_col: str, value_col: str, min_hours: int = 0):
    """A mostly regular hourly series with random values, repeats and gaps: reaches the models."""
    from datetime import datetime

    start = datetime(2026, 1, 1, tzinfo=UTC)

    def build(drawn) -> str:
        values, odd, drop, repeat = drawn
        for i, cell in odd:
            if i < len(values):
                values[i] = cell
        lines = [f"{time_col},{value_col}"]
        for i, v in enumerate(values):
            line = f"{(start + timedelta(hours=i)).strftime('%Y-%m-%dT%H:%M:%SZ')},{v}"
            if i not in drop:
                lines.append(line)
            if i in repeat:
                lines.append(line)
        return "\n".join(lines) + "\n"

    return st.tuples(
        st.lists(st.floats(0, 1e4).map(lambda f: f"{f:.3f}"), min_size=min_hours, max_size=80),
        st.lists(st.tuples(st.integers(0, 79), _cells), max_size=2),
        st.sets(st.integers(0, 79), max_size=3),
        st.sets(st.integers(0, 79), max_size=2),
    ).map(build)


def _write(directory: str, name: str, content: str | bytes) -> Path:
    path = Path(directory) / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


_bytes = st.binary(max_size=300)

#: A one-hour fluid scenario around a trace file, for fuzzing trace rows.
_TRACE_SCENARIO = """\
name: fuzz-trace
region: us-east-1
horizon: {start: 2026-01-01T00:00:00Z, duration_s: 1h}
seed: 1
fidelity: fluid
models:
  - name: m
    memory_gb: 1
    latency:
      ml.m5.large: {kind: lognormal, median_s: 0.1, p99_s: 0.3}
endpoints:
  - kind: realtime
    name: ep
    model: m
    instance_type: ml.m5.large
    concurrency_per_instance: 1
    workload: {kind: trace, path: trace.csv, shape: counts, repeat: true}
    sla: {latency_threshold_s: 2.0, percentile: 99}
"""


def _mutate(doc, path: list, value):
    """``doc`` with the node at ``path`` (indices into its containers, wrapped) set to ``value``."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    out = dict(doc) if isinstance(doc, dict) else list(doc)
    out[key] = _mutate(doc[key], path[1:], value)
    return out


#: A valid scenario with one node (a leaf or a whole section) replaced by a random value.
_mutated_scenarios = st.tuples(st.lists(st.integers(0, 20), min_size=1, max_size=6), _yaml_values).map(
    lambda pv: yaml.safe_dump(_mutate(yaml.safe_load(_TRACE_SCENARIO), *pv)))


# --- scenarios: run and validate --------------------------------------------------------------

@settings(FUZZ, max_examples=60)
@given(content=st.one_of(_bytes, _yaml_values.map(yaml.safe_dump), _scenario_docs.map(yaml.safe_dump),
                         _mutated_scenarios))
def test_validate_scenario(content) -> None:
    with tempfile.TemporaryDirectory() as d:
        _write(d, "trace.csv", "timestamp,count\n2026-01-01T00:00:00Z,5\n2026-01-01T01:00:00Z,7\n")
        _invoke(["validate", str(_write(d, "s.yaml", content))])


@FUZZ
@given(content=st.one_of(_bytes, _yaml_values.map(yaml.safe_dump), _scenario_docs.map(yaml.safe_dump)))
def test_run_scenario(content) -> None:
    with tempfile.TemporaryDirectory() as d:
        _invoke(["run", str(_write(d, "s.yaml", content)), "--no-store", "--quiet"])


@FUZZ
@given(trace=st.one_of(_bytes, _csv(["timestamp", "count"]), _hourly_csv("timestamp", "count")))
def test_run_and_validate_workload_trace(trace) -> None:
    with tempfile.TemporaryDirectory() as d:
        scenario = _write(d, "s.yaml", _TRACE_SCENARIO)
        _write(d, "trace.csv", trace)
        _invoke(["validate", str(scenario)])
        _invoke(["run", str(scenario), "--no-store", "--quiet"])


# --- forecast ---------------------------------------------------------------------------------

@FUZZ
@given(content=st.one_of(_bytes, _csv(["ds", "y"]), _csv(["unique_id", "ds", "y"]),
                         _hourly_csv("ds", "y")))
def test_forecast_file(content) -> None:
    with tempfile.TemporaryDirectory() as d:
        _invoke(["forecast", str(_write(d, "f.csv", content)), "--horizon", "3",
                 "--model", "snaive"])


@settings(FUZZ, max_examples=10)
@given(content=_bytes)
def test_forecast_parquet_bytes(content) -> None:
    with tempfile.TemporaryDirectory() as d:
        _invoke(["forecast", str(_write(d, "f.parquet", content)), "--horizon", "3"])


# --- commit -----------------------------------------------------------------------------------

@FUZZ
@given(content=st.one_of(
    _bytes, _csv(["timestamp", "ondemand_usd"]),
    _csv(["timestamp", "ondemand_usd", "instance_type", "component", "region"]),
    _csv(["lineItem/UsageStartDate", "pricing/publicOnDemandCost", "smsim/pricing_class"]),
))
def test_commit_usage_file(content) -> None:
    with tempfile.TemporaryDirectory() as d:
        _invoke(["commit", str(_write(d, "u.csv", content)), "--discount", "0.3",
                 "--horizon", "1d", "--paths", "5"])


@settings(FUZZ, max_examples=15)
@given(content=_hourly_csv("timestamp", "ondemand_usd", min_hours=50))
def test_commit_hourly_series(content) -> None:
    """Series long enough to reach the forecast and the sizing, with odd values among them.

    The library call the command makes, with the seasonal-naive forecast (``auto`` backtests
    several statsmodels fits, seconds per series): it returns or raises an InputError (exit 2).
    """
    from smsim.commit.api import recommend_commitment
    from smsim.errors import InputError

    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        try:
            result = recommend_commitment(_write(d, "u.csv", content), discount=0.3, horizon_hours=24,
                                          n_paths=5, stage_at_hours=None, model="snaive")
        except InputError as exc:
            assert "u.csv" in str(exc) or exc.path, str(exc)
        else:
            assert result.recommended_usd_per_hour >= 0
        assert time.perf_counter() - start < LIMIT_S


# --- pricing import ---------------------------------------------------------------------------

_price_headers = ["SKU", "OfferTermCode", "RateCode", "TermType", "PriceDescription",
                  "EffectiveDate", "StartingRange", "EndingRange", "Unit", "PricePerUnit",
                  "Currency", "Instance Type", "Location", "usageType", "Component"]


_offering_rates = st.fixed_dictionaries({"searchResults": st.lists(st.fixed_dictionaries(
    {},
    optional={
        "savingsPlanOffering": st.one_of(_yaml_values, st.fixed_dictionaries(
            {"planType": st.sampled_from(["SageMaker", "Compute", "x"])},
            optional={"durationSeconds": st.one_of(st.sampled_from([31536000, 94608000, "31536000"]),
                                                   _scalars),
                      "paymentOption": st.one_of(st.sampled_from(["No Upfront", "All Upfront"]),
                                                 _scalars),
                      "offeringId": _scalars})),
        "usageType": st.one_of(st.sampled_from(["USE1-Host:ml.m5.large", "USE1-Train:ml.g5.xlarge",
                                                "USE1-TrSpt:ml.g5.xlarge", "x"]), _scalars),
        "rate": _scalars,
        "properties": st.one_of(_yaml_values, st.lists(st.fixed_dictionaries(
            {"name": st.sampled_from(["instanceType", "region"]), "value": _scalars}), max_size=2)),
    }), max_size=4)}).map(json.dumps)
_price_rows = st.lists(st.tuples(
    st.one_of(st.sampled_from(["OnDemand", "Reserved"]), _cells),
    st.one_of(st.sampled_from(["Hrs", "GB-Mo"]), _cells),
    st.one_of(st.sampled_from(["0.115", "0", "-1", "nan", "inf", "1e300"]), _cells),
    st.one_of(st.sampled_from(["USD", "CNY"]), _cells),
    st.one_of(st.sampled_from(["USE1-Host:ml.m5.large", "EUC1-Train:ml.p4d.24xlarge"]), _cells),
), max_size=10).map(lambda rows: "\n".join(
    ["SKU,TermType,Unit,PricePerUnit,Currency,usageType"]
    + [f"S{i},{t},{u},{p},{c},{g}" for i, (t, u, p, c, g) in enumerate(rows)]) + "\n")


@settings(FUZZ, max_examples=50)
@given(content=st.one_of(_bytes, _csv(_price_headers), _price_rows, _yaml_values.map(json.dumps),
                         _offering_rates),
       suffix=st.sampled_from([".csv", ".json"]))
def test_pricing_import(content, suffix) -> None:
    with tempfile.TemporaryDirectory() as d:
        _invoke(["pricing", "import", str(_write(d, "prices" + suffix, content)),
                 "--out", str(Path(d) / "catalog")])


# --- project history --------------------------------------------------------------------------

_PROJECT_SCENARIO = _TRACE_SCENARIO.replace("{kind: trace, path: trace.csv, shape: counts, repeat: true}",
                                            "{kind: poisson, rate_per_s: 1.0}")


@settings(FUZZ, max_examples=15)
@given(history=st.one_of(_bytes, _csv(["timestamp", "count"])))
def test_project_history(history) -> None:
    with tempfile.TemporaryDirectory() as d:
        scenario = _write(d, "s.yaml", _PROJECT_SCENARIO)
        hist = _write(d, "history.csv", history)
        _invoke(["project", str(scenario), "--horizon", "1d", "--paths", "2", "--model", "snaive",
                 "--history", f"ep={hist}", "--no-store", "--json"])


# --- compare ----------------------------------------------------------------------------------

@settings(FUZZ, max_examples=10)
@given(content=st.one_of(_bytes, _scenario_docs.map(yaml.safe_dump)))
def test_compare_scenarios(content) -> None:
    with tempfile.TemporaryDirectory() as d:
        bad = _write(d, "b.yaml", content)
        _invoke(["compare", str(bad), str(bad)])
