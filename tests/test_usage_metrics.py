"""CloudWatch metrics import: get-metric-data JSON (dimensions from the queries beside it or from
the label) and CSV; counts filled with zeros where CloudWatch wrote nothing, gauges left missing;
latencies from microseconds to seconds; bad files named with line and field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from smsim.bill.metrics import read_metrics
from smsim.errors import InputError


def _result(qid, label, stamps, values):
    return {"Id": qid, "Label": label, "Timestamps": stamps, "Values": values, "StatusCode": "Complete"}


def test_json_with_queries_fills_count_gaps_with_zero_and_leaves_gauges_missing(tmp_path):
    stamps = ["2026-03-02T00:03:00+00:00", "2026-03-02T00:00:00+00:00"]  # newest first, as AWS returns
    doc = {"MetricDataResults": [_result("inv", "Invocations", stamps, [5.0, 3.0]),
                                 _result("lat", "ModelLatency", stamps, [200000.0, 100000.0])], "Messages": []}
    (tmp_path / "m.json").write_text(json.dumps(doc, indent=4))
    dims = [{"Name": "EndpointName", "Value": "chat"}, {"Name": "VariantName", "Value": "blue"}]
    queries = [{"Id": q, "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": m, "Dimensions": dims},
                                        "Period": 60, "Stat": s}}
               for q, m, s in (("inv", "Invocations", "Sum"), ("lat", "ModelLatency", "Average"))]
    (tmp_path / "m.queries.json").write_text(json.dumps(queries))
    m = read_metrics(tmp_path)
    inv = m.series("chat", "Invocations")
    assert inv.tolist() == [3.0, 0.0, 0.0, 5.0]  # two idle minutes CloudWatch did not write
    lat = m.series("chat", "ModelLatency")
    assert lat.tolist() == [0.1, 0.2] and len(lat) == 2  # seconds; no value invented for the gap
    assert set(m.frame["variant"]) == {"blue"} and m.period_s("chat", "Invocations") == 60.0


def test_json_dimensions_from_labels_and_csv_together(tmp_path):
    stamps = ["2026-03-02T00:00:00Z", "2026-03-02T00:05:00Z"]
    doc = {"MetricDataResults": [_result("a", "search/AllTraffic/Invocations", stamps, [10, 20]),
                                 _result("b", "search/AllTraffic/CPUUtilization/Maximum", stamps, [55.5, 60])]}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    (tmp_path / "b.csv").write_text("timestamp,endpoint,variant,metric,stat,value\n"
                                    "2026-03-02T00:00:00Z,idle,AllTraffic,Invocations,Sum,0\n"
                                    "2026-03-02T00:10:00Z,idle,AllTraffic,GPUUtilization,Average,\n")
    m = read_metrics(tmp_path)
    assert m.series("search", "Invocations").sum() == 30.0
    assert m.series("search", "CPUUtilization", "Maximum").tolist() == [55.5, 60.0]
    assert m.period_s("search", "Invocations") == 300.0
    idle = m.series("idle", "Invocations")
    assert idle.sum() == 0 and len(idle) == 11  # a 60 s grid over the export's ten minutes
    assert np.isnan(m.series("idle", "GPUUtilization")).all()
    assert m.resources() == ["idle", "search"]


def test_training_job_metrics_csv(tmp_path):
    (tmp_path / "t.csv").write_text("timestamp,training_job,host,metric,value\n"
                                    "2026-03-02T00:00:00Z,bert,algo-1,GPUUtilization,91\n"
                                    "2026-03-02T00:01:00Z,bert,algo-1,GPUUtilization,89\n")
    m = read_metrics(tmp_path / "t.csv")
    assert m.series("bert", "GPUUtilization").mean() == 90.0
    assert set(m.frame["variant"]) == {"algo-1"} and set(m.frame["stat"]) == {"Average"}


@pytest.mark.parametrize(("name", "text", "where", "words"), [
    ("bad.json", '{"MetricDataResults": [\n  {"Id": "a",, }]}', "bad.json:2:14", "not valid JSON"),
    ("shape.json", '{"Results": []}', "shape.json:1: MetricDataResults", "no MetricDataResults"),
    ("len.json", '{"MetricDataResults": [\n {"Id": "a", "Label": "e/v/Invocations",\n  "Timestamps": ["2026-03-02T00:00:00Z"], "Values": [1, 2]}]}',
     "len.json:2: MetricDataResults[0].Values", "1 timestamps but 2 values"),
    ("label.json", '{"MetricDataResults": [\n {"Id": "a", "Label": "Invocations", "Timestamps": [], "Values": []}]}',
     "label.json:2: MetricDataResults[0].Label", "NAME.queries.json"),
    ("metric.json", '{"MetricDataResults": [{"Id": "a", "Label": "e/v/Invocatons", "Timestamps": [], "Values": []}]}',
     "metric.json:1: MetricDataResults[0].Label", "did you mean 'Invocations'"),
    ("time.json", '{"MetricDataResults": [{"Id": "a", "Label": "e/v/Invocations", "Timestamps": ["yesterday"], "Values": [1]}]}',
     "time.json:1: MetricDataResults[0].Timestamps[0]", "not a timestamp"),
    ("status.json", '{"MetricDataResults": [{"Id": "a", "Label": "e/v/Invocations", "StatusCode": "Forbidden"}]}',
     "status.json:1: MetricDataResults[0].StatusCode", "Forbidden"),
    ("col.csv", "timestamp,endpiont,metric,value\n", "col.csv:1: endpoint", "did you mean 'endpiont'"),
    ("val.csv", "timestamp,endpoint,metric,value\n2026-03-02T00:00:00Z,e,Invocations,1\n2026-03-02T00:01:00Z,e,Invocations,many\n",
     "val.csv:3: value", "'many' is not a number"),
    ("metric.csv", "timestamp,endpoint,metric,value\n2026-03-02T00:00:00Z,e,Latency,1\n", "metric.csv:2: metric",
     "unknown metric 'Latency'"),
    ("ragged.csv", "timestamp,endpoint,metric,value\n2026-03-02T00:00:00Z,e,Invocations\n", "ragged.csv:2:",
     "3 fields where the header has 4"),
])
def test_bad_metrics_files_name_file_line_and_field(tmp_path, name, text, where, words):
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError) as info:
        read_metrics(tmp_path / name)
    assert str(info.value).startswith(str(tmp_path / where)), str(info.value)
    assert words in str(info.value)


def test_binary_and_missing_files(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"\x00\x01PK")
    with pytest.raises(InputError, match="binary"):
        read_metrics(tmp_path / "x.csv")
    with pytest.raises(InputError, match="not found"):
        read_metrics(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no metrics files"):
        read_metrics(tmp_path / "empty")
