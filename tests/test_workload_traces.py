"""Trace file readers: column detection, time parsing, re-basing and errors that name the row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smsim.errors import InputError
from smsim.workload.request_trace import CountTrace, RequestTrace
from smsim.workload.traces import TraceColumns, read_count_trace, read_request_trace

FIXTURES = Path(__file__).parent / "fixtures" / "workload"


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_requests_with_detected_columns_and_rebases_to_first_row():
    trace = read_request_trace(FIXTURES / "requests.csv")
    assert trace.arrival_s.tolist() == [0.0, 1.0, 3.0, 4.0]
    assert trace.duration_s == pytest.approx(4.0 + 4.0 / 3)  # last + mean gap
    assert trace.input_tokens.tolist() == [100, 200, 300, 400]
    assert trace.output_tokens.tolist() == [10, 20, 30, 40]
    assert trace.models == ("llama", "mistral")
    assert trace.model.tolist() == ["llama", "mistral", "llama", "llama"]
    assert trace.start == datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)


def test_origin_datetime_and_parquet(tmp_path):
    frame = pd.read_csv(FIXTURES / "requests.csv")
    frame.to_parquet(tmp_path / "r.parquet")
    trace = read_request_trace(tmp_path / "r.parquet", origin=datetime(2024, 1, 1, tzinfo=UTC))
    assert trace.arrival_s.tolist() == [0.5, 1.5, 3.5, 4.5]


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("time\n1700000000\n1700000002.5\n", "auto", [0.0, 2.5]),  # epoch seconds
        ("time\n1700000000000\n1700000002500\n", "auto", [0.0, 2.5]),  # epoch ms
        ("time_ms\n0\n2500\n", "auto", [0.0, 2.5]),  # unit from the name suffix, offsets kept
        ("offset\n3\n5\n", "s", [3.0, 5.0]),  # offsets are not re-based
    ],
)
def test_time_units(tmp_path, text, unit, expected):
    cols = TraceColumns(time="offset") if text.startswith("offset") else None
    trace = read_request_trace(write(tmp_path, text), time_unit=unit, columns=cols)
    assert trace.arrival_s.tolist() == pytest.approx(expected)


def test_unsorted_rows_are_refused_with_their_row_and_line_or_sorted_on_request():
    with pytest.raises(InputError) as err:
        read_request_trace(FIXTURES / "unsorted.csv")
    e = err.value
    assert (e.line, e.path) == (4, "row 3, column 'ts'")
    assert e.message == "timestamps are not sorted: this row is 1 s earlier than row 2 (pass sort: true to sort the trace)"
    assert str(e).startswith(f"{FIXTURES / 'unsorted.csv'}:4: row 3, column 'ts': ")
    trace = read_request_trace(FIXTURES / "unsorted.csv", sort=True)
    assert trace.arrival_s.tolist() == [10.0, 11.0, 12.0]
    assert trace.input_tokens.tolist() == [1.0, 3.0, 2.0]


@pytest.mark.parametrize(
    ("text", "message", "line", "where"),
    [
        ("timestamp,input_tokens\n2024-01-01,1\nnot a date,2\n",
         "cannot parse timestamp 'not a date'", 3, "row 2, column 'timestamp'"),
        ("time,input_tokens\n1,1\n2,-5\n", "input tokens must be >= 0, found -5", 3, "row 2, column 'input_tokens'"),
        ("time,output_tokens\n1,1\n2,\n", "output tokens is missing", 3,
         "row 2, column 'output_tokens'"),
        ("time,x\n1,1\n,2\n", "missing timestamp", 3, "row 2, column 'time'"),
        ("time,payload_bytes\n1,1\n2,lots\n", "payload bytes is not a finite number ('lots')", 3,
         "row 2, column 'payload_bytes'"),
        ("ts\n-5\n1\n", "timestamp is 5 s before the trace origin", 2, "row 1, column 'ts'"),
    ],
)
def test_bad_values_name_the_row(tmp_path, text, message, line, where):
    with pytest.raises(InputError) as err:
        read_request_trace(write(tmp_path, text))
    assert (err.value.message, err.value.line, err.value.path) == (message, line, where)


def test_missing_column_suggests_a_name_and_lists_columns(tmp_path):
    path = write(tmp_path, "tstamp,tokens\n1,2\n")
    with pytest.raises(InputError) as err:
        read_request_trace(path)
    assert err.value.message.startswith("no timestamp column: expected one of timestamp, time, ts")
    assert err.value.message.endswith("columns are tstamp, tokens")
    with pytest.raises(InputError, match=r"no column 'tstmp' for timestamp; columns are tstamp, tokens "
                                         r"\(did you mean 'tstamp'\?\)"):
        read_request_trace(path, columns=TraceColumns(time="tstmp"))


def test_empty_and_header_only_files(tmp_path):
    with pytest.raises(InputError, match="the trace file is empty"):
        read_request_trace(write(tmp_path, ""))
    with pytest.raises(InputError, match="the trace file has no data rows"):
        read_request_trace(write(tmp_path, "time,count\n"))
    with pytest.raises(InputError, match="trace file not found"):
        read_request_trace(tmp_path / "nope.csv")


def test_cloudwatch_counts_fill_gaps_with_zero_or_refuse_them():
    trace = read_count_trace(FIXTURES / "cloudwatch_invocations.csv")
    assert trace.interval_s == 60.0
    assert trace.counts.tolist() == [5, 7, 0, 2]
    with pytest.raises(InputError) as err:
        read_count_trace(FIXTURES / "cloudwatch_invocations.csv", contiguous=True)
    assert err.value.message == "gap of 1 missing interval(s) of 60 s before this row (contiguous counts were required)"
    assert (err.value.line, err.value.path) == (4, "row 3, column 'Timestamp'")


def test_counts_per_model_rates_and_duplicates(tmp_path):
    path = write(tmp_path, "time,model,qps\n0,a,1.0\n0,b,0.5\n10,a,2.0\n10,a,1.0\n")
    with pytest.raises(InputError) as err:
        read_count_trace(path)
    assert (err.value.path, err.value.line) == ("row 4, column 'time'", 5)
    trace = read_count_trace(path, duplicates="sum")
    assert trace.interval_s == 10.0
    assert trace.counts.tolist() == [15.0, 30.0]  # rates x 10 s
    assert trace.models == ("a", "b")
    assert trace.model_counts.tolist() == [[10.0, 30.0], [5.0, 0.0]]
    off = write(tmp_path, "time,count\n0,1\n10,1\n25,1\n", "off.csv")
    with pytest.raises(InputError, match="not on the 10-s interval grid") as err:
        read_count_trace(off)
    assert err.value.path == "row 3, column 'time'"


def test_count_and_request_conversions():
    counts = CountTrace(interval_s=60.0, counts=np.array([3.0, 0.0, 5.0]))
    rng = np.random.default_rng(0)
    for placement in ("even", "uniform"):
        trace = counts.to_requests(rng, placement)
        assert trace.to_counts(60.0).counts.tolist() == [3.0, 0.0, 5.0]
    even = counts.to_requests(rng, "even")
    assert even.arrival_s[:3].tolist() == [10.0, 30.0, 50.0]
    # Poisson placement: the mean count over many draws is the recorded count.
    draws = [len(counts.to_requests(rng, "poisson")) for _ in range(2000)]
    assert abs(np.mean(draws) - 8.0) < 4 * np.sqrt(8.0 / 2000)
    multi = RequestTrace(np.array([1.0, 2.0, 70.0]), 120.0, model_index=np.array([0, 1, 1]), models=("a", "b"))
    c = multi.to_counts(60.0)
    assert c.model_counts.tolist() == [[1, 0], [1, 1]]
    back = c.to_requests(rng)
    assert back.models == ("a", "b") and sorted(back.model.tolist()) == ["a", "b", "b"]


def test_request_trace_invariants():
    with pytest.raises(ValueError, match="sorted"):
        RequestTrace(np.array([2.0, 1.0]), 5.0)
    with pytest.raises(ValueError, match="< duration_s"):
        RequestTrace(np.array([1.0, 5.0]), 5.0)
    trace = RequestTrace(np.array([1.0, 2.0]), 5.0)
    with pytest.raises(ValueError):
        trace.arrival_s[0] = 0.0
