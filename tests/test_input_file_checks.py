"""Trace files are checked before a run and by ``smsim validate``, with the same located errors;
errors raised inside the simulation keep their file, line, row and column."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.errors import InputError
from smsim.workload.traces import read_count_trace

SCENARIO = """\
name: traces
region: us-east-1
horizon: {{start: 2026-01-05T00:00:00Z, duration_s: 1h}}
models:
  - name: m
    latency: {{"*": {{kind: deterministic, value_s: 0.2}}}}
endpoints:
  - kind: realtime
    name: ep
    model: m
    instance_type: ml.g5.xlarge
    fidelity: {fidelity}
    workload: {workload}
"""


def scenario(tmp_path, workload: str, fidelity: str = "request", trace: str | None = None, name="t.csv"):
    if trace is not None:
        (tmp_path / name).write_text(textwrap.dedent(trace))
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(workload=workload, fidelity=fidelity))
    return path


BAD = [
    # (trace text, expected message, file line, where)
    ("timestamp,input_tokens\n0,10\n1,\n2,30\n", "input tokens is missing", 3, "row 2, column 'input_tokens'"),
    ("timestamp,input_tokens\n0,10\n2,30\n1,5\n",
     "timestamps are not sorted: this row is 1 s earlier than row 2 (pass sort: true to sort the trace)", 4,
     "row 3, column 'timestamp'"),
    ("timestamp,input_tokens\n0,10\n1,-3\n", "input tokens must be >= 0, found -3", 3, "row 2, column 'input_tokens'"),
    ("timestamp,payload_bytes\n0,10\n1,inf\n", "payload bytes is not a finite number ('inf')", 3,
     "row 2, column 'payload_bytes'"),
]


@pytest.mark.parametrize(("text", "message", "line", "where"), BAD)
def test_errors_inside_the_simulation_keep_file_row_and_column(tmp_path, text, message, line, where):
    """The request tier reads its trace while SimPy runs; SimPy re-raises a copy of a failing
    process's exception, so the engine must hand back the located original."""
    from smsim import api
    from smsim.resources.registry import simulate

    path = scenario(tmp_path, "{kind: trace, path: t.csv, repeat: true}", trace=text)
    with pytest.raises(InputError) as err:
        simulate(api.load_scenario(path), catalog=api.catalog_for(api.load_scenario(path)))
    e = err.value
    assert (e.message, e.file, e.line, e.path) == (message, str(tmp_path / "t.csv"), line, where)


@pytest.mark.parametrize(("text", "message", "line", "where"), BAD)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_validate_and_run_report_the_same_located_trace_error(tmp_path, text, message, line, where, command):
    path = scenario(tmp_path, "{kind: trace, path: t.csv, repeat: true}", trace=text)
    args = [command, str(path)] + (["--no-store", "--quiet"] if command == "run" else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 't.csv'}:{line}: {where}: {message}" in result.output
    assert "Traceback" not in result.output


def test_validate_reports_a_missing_trace_and_a_short_one_at_the_scenario_field(tmp_path):
    path = scenario(tmp_path, "{kind: trace, path: absent.csv, repeat: true}")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"trace file not found: {tmp_path / 'absent.csv'}" in result.output
    # two requests cover 2 s of a one-hour horizon; without repeat that is an error in the scenario
    path = scenario(tmp_path, "{kind: trace, path: t.csv}", trace="timestamp\n0\n1\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert (f"{path}:13:15: endpoints[0].workload: trace 't.csv' covers 2s but the horizon is 1h; "
            "set repeat: true to tile it, or shorten the horizon") in result.output
    run = CliRunner().invoke(app, ["run", str(path), "--no-store", "--quiet"])
    assert run.exit_code == 2 and "endpoints[0].workload: trace 't.csv' covers 2s" in run.output


def test_validate_reads_every_member_of_a_mix(tmp_path):
    (tmp_path / "a.csv").write_text("timestamp\n0\n1\n")
    workload = "{kind: mix, models: {a: {kind: trace, path: a.csv, repeat: true}, b: {kind: trace, path: b.csv}}}"
    path = scenario(tmp_path, workload, trace="timestamp,output_tokens\n0,1\n1,x\n", name="b.csv")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'b.csv'}:3: row 2, column 'output_tokens': output tokens is not a finite number ('x')" \
        in result.output


def test_a_valid_trace_still_validates_and_runs(tmp_path):
    path = scenario(tmp_path, "{kind: trace, path: t.csv, repeat: true}", trace="timestamp\n0\n30\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "valid (1 endpoints)" in result.output
    table = CliRunner().invoke(app, ["run", str(path), "--no-store", "--quiet"])
    assert table.exit_code == 0 and "no capacity" not in table.output and "warning" not in table.output
    run = CliRunner().invoke(app, ["run", str(path), "--no-store", "--quiet", "--json"])
    assert run.exit_code == 0, run.output
    # 2 requests per 60-s tile over one hour
    assert '"requests": 120' in run.output


def test_an_absurd_count_names_its_row(tmp_path):
    """1e300 requests in one minute used to end in numpy's 'repeats may not contain negative values'."""
    (tmp_path / "c.csv").write_text("timestamp,count\n0,5\n60,1e300\n120,3\n")
    with pytest.raises(InputError) as err:
        read_count_trace(tmp_path / "c.csv")
    assert (err.value.line, err.value.path) == (3, "row 2, column 'count'")
    assert err.value.message.startswith("count 1e+300 in a 60-s interval is 1.67e+298 requests/s, above the 1e+07/s")
    # a rate column is bounded the same way; a large but plausible count passes
    (tmp_path / "r.csv").write_text("timestamp,qps\n0,5\n60,2e7\n")
    with pytest.raises(InputError, match=r"rate 2e\+07/s is 2e\+07 requests/s"):
        read_count_trace(tmp_path / "r.csv")
    (tmp_path / "ok.csv").write_text("timestamp,count\n0,5\n60,6e8\n")
    assert read_count_trace(tmp_path / "ok.csv").counts.tolist() == [5.0, 6e8]
    path = scenario(tmp_path, "{kind: trace, path: c.csv, shape: counts, repeat: true}", fidelity="fluid")
    for command in (["validate"], ["run", "--no-store", "--quiet"]):
        result = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
        assert result.exit_code == 2, result.output
        assert f"{tmp_path / 'c.csv'}:3: row 2, column 'count': count 1e+300" in result.output


def test_validate_reads_a_predictive_history(tmp_path):
    workload = "{kind: poisson, rate_per_s: 1}\n    autoscaling:\n      min_capacity: 1\n      max_capacity: 4\n" \
               "      policies: [{kind: predictive, target_value: 60, history: hist.csv}]"
    path = scenario(tmp_path, workload)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"endpoints[0].autoscaling.policies[0].history: predictive history file not found: {tmp_path / 'hist.csv'}" \
        in result.output
    # a history that ends a day before the horizon starts is refused naming the file
    (tmp_path / "hist.csv").write_text("time,count\n" + "".join(
        f"2026-01-03T{h:02d}:00:00Z,100\n" for h in range(24)))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'hist.csv'}: predictive history ends at" in result.output
    assert "it must end at the horizon start 2026-01-05 00:00:00" in result.output


@pytest.mark.parametrize("shape", ["requests", "counts"])
def test_an_absurd_timestamp_names_its_row(tmp_path, shape):
    """1e300 as a time made the count reader infer a NaN interval and report 'two rows for the
    same interval'; a request trace silently spanned 1e300 s."""
    from smsim.workload.traces import read_request_trace

    (tmp_path / "t.csv").write_text("timestamp,count\n0,5\n1e300,3\n")
    reader = read_count_trace if shape == "counts" else read_request_trace
    with pytest.raises(InputError) as err:
        reader(tmp_path / "t.csv")
    assert (err.value.line, err.value.path) == (3, "row 2, column 'timestamp'")
    assert err.value.message == ("timestamp 1e+300 (unit s) is more than 1e+10 s, about 300 years, from 1970 "
                                 "or from 0 (a unit or export error?)")
    # nanosecond epoch times of 2026 are fine
    (tmp_path / "ns.csv").write_text("timestamp,count\n1767225600000000000,5\n1767225660000000000,3\n")
    assert reader(tmp_path / "ns.csv").duration_s == pytest.approx(120.0 if shape == "counts" else 120.0)
