"""Usage metrics from CloudWatch: ``aws cloudwatch get-metric-data`` JSON output and CSV exports,
per endpoint and variant (namespace ``AWS/SageMaker``) or training job (``/aws/sagemaker/TrainingJobs``).

JSON is the CLI's output as it comes: ``{"MetricDataResults": [{"Id", "Label", "Timestamps",
"Values", "StatusCode"}], "Messages": []}``. The output does not repeat the query's dimensions,
so they come from a sidecar holding the queries (``NAME.queries.json`` beside ``NAME.json``: the
``--metric-data-queries`` list, whose ``MetricStat.Metric.Dimensions`` name ``EndpointName`` and
``VariantName``, or ``TrainingJobName`` / ``Host``, and whose ``MetricStat.Stat`` and ``Period``
say what a value is), or else from the ``Label``, written ``endpoint/variant/Metric[/Stat]``.

CSV is long: one row per datapoint with the columns ``timestamp``, ``metric``, ``value``, either
``endpoint`` (and optional ``variant``, default ``AllTraffic``) or ``training_job``, and an
optional ``stat`` (``Sum`` for counts, ``Average`` for gauges when absent).

CloudWatch writes nothing for a minute without data. Counts (``Invocations``, errors) are filled
with 0 on the period grid from the first to the last datapoint of the whole export; gauges
(latencies, utilizations) stay missing there. Latencies are converted from CloudWatch's
microseconds to seconds; utilizations stay percent. Every problem is an
:class:`~smsim.errors.InputError` naming the file, line and field (JSON) or column (CSV).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError, did_you_mean

#: Metrics counted per period: a missing period means 0.
COUNT_METRICS = frozenset({"Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors",
                           "InvocationsPerInstance", "InvocationsPerCopy"})
#: Gauges: a missing period means no datapoint.
GAUGE_METRICS = frozenset({"ModelLatency", "OverheadLatency", "CPUUtilization", "GPUUtilization",
                           "GPUMemoryUtilization", "MemoryUtilization", "DiskUtilization",
                           "ConcurrentRequestsPerModel", "ConcurrentRequestsPerCopy", "ModelSetupTime"})
#: Metrics CloudWatch reports in microseconds; converted to seconds.
MICROSECOND_METRICS = frozenset({"ModelLatency", "OverheadLatency", "ModelSetupTime"})
METRICS = COUNT_METRICS | GAUGE_METRICS
COLUMNS = ["resource", "variant", "metric", "stat", "period_s", "time", "value"]
_RESOURCE_DIMENSIONS = ("EndpointName", "TrainingJobName", "InferenceComponentName")
_VARIANT_DIMENSIONS = ("VariantName", "Host")
_BAD_STATUS = frozenset({"InternalError", "Forbidden"})


@dataclass(frozen=True)
class UsageMetrics:
    """Tidy metrics: one row per (resource, variant, metric, stat, time), gaps filled as above."""

    frame: pd.DataFrame

    def resources(self) -> list[str]:
        return sorted(self.frame["resource"].unique().tolist())

    def series(self, resource: str, metric: str, stat: str | None = None) -> pd.Series:
        """One metric of one resource as a time-indexed series (variants summed for counts,
        averaged for gauges); empty when absent."""
        f = self.frame
        f = f[(f["resource"] == resource) & (f["metric"] == metric)]
        if stat is not None:
            f = f[f["stat"] == stat]
        elif len(f):
            f = f[f["stat"] == sorted(f["stat"].unique(), key=_stat_order)[0]]
        how = "sum" if metric in COUNT_METRICS else "mean"
        return f.groupby("time")["value"].agg(how).sort_index() if len(f) else pd.Series(dtype=float)

    def period_s(self, resource: str, metric: str) -> float:
        f = self.frame[(self.frame["resource"] == resource) & (self.frame["metric"] == metric)]
        return float(f["period_s"].min()) if len(f) else 60.0


def _stat_order(stat: str) -> tuple:
    return (0 if stat in ("Sum", "Average") else 1, stat)


def read_metrics(source: str | Path) -> UsageMetrics:
    """Every metrics file at ``source`` (a file or a folder of ``*.json`` / ``*.csv``)."""
    source = Path(source)
    if not source.exists():
        raise InputError("metrics file or folder not found", file=str(source))
    files = [source] if source.is_file() else sorted(
        p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in (".json", ".csv")
        and not p.name.endswith(".queries.json"))
    if not files:
        raise InputError("no metrics files (*.json, *.csv) in the folder", file=str(source))
    parts = [_read_json(p) if p.suffix.lower() == ".json" else _read_csv(p) for p in files]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    frame = frame.groupby(COLUMNS[:-1], as_index=False, sort=True)["value"].sum(min_count=1)
    return UsageMetrics(_fill_counts(frame))


def _fill_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Zeros for the periods a count was not written, from the export's first to last time."""
    if frame.empty:
        return frame[COLUMNS]
    t0, t1 = frame["time"].min(), frame["time"].max()
    filled = [frame[~frame["metric"].isin(COUNT_METRICS)]]
    for key, g in frame[frame["metric"].isin(COUNT_METRICS)].groupby(COLUMNS[:5], sort=True):
        grid = pd.date_range(t0, t1, freq=pd.Timedelta(seconds=key[4]))
        values = g.set_index("time")["value"].reindex(grid.union(g["time"]), fill_value=0.0)
        filled.append(pd.DataFrame({**dict(zip(COLUMNS[:5], key, strict=True)), "time": values.index,
                                    "value": values.to_numpy()}))
    return pd.concat(filled, ignore_index=True)[COLUMNS].sort_values(COLUMNS[:-1], ignore_index=True)


def _metric(name: str, file: str, line: int | None, path: str) -> str:
    if name not in METRICS:
        raise InputError(f"unknown metric {name!r}{did_you_mean(name, METRICS)}; known: "
                         f"{', '.join(sorted(METRICS))}", file=file, line=line, path=path)
    return name


def _value(metric: str, value: float) -> float:
    return value / 1e6 if metric in MICROSECOND_METRICS else value


# -- JSON (get-metric-data) ----------------------------------------------------------------------


def _load_json(path: Path):
    text = path.read_bytes()
    if b"\x00" in text[:4096]:
        raise InputError("binary content, not a JSON metrics file", file=str(path), line=1)
    try:
        return text.decode("utf-8-sig"), json.loads(text)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start + 1})", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno, column=exc.colno) from None


def _lines_of(text: str, key: str) -> list[int]:
    """Line of each ``"key":`` in document order (the n-th result's line for error messages)."""
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(rf'"{key}"\s*:', text)]


def _queries(path: Path) -> dict[str, dict]:
    """Id -> {resource, variant, metric, stat, period_s} from the sidecar of queries, if any."""
    side = path.with_name(path.name[: -len(".json")] + ".queries.json")
    if not side.exists():
        return {}
    text, data = _load_json(side)
    items = data.get("MetricDataQueries", data) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InputError("expected a list of metric data queries", file=str(side), line=1)
    lines = _lines_of(text, "Id")
    out = {}
    for i, q in enumerate(items):
        line = lines[i] if i < len(lines) else None
        stat = q.get("MetricStat") if isinstance(q, dict) else None
        if not isinstance(stat, dict) or "Metric" not in stat:
            continue  # a math expression: its own Label says what it is
        metric = stat["Metric"]
        dims = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}
        resource = next((dims[d] for d in _RESOURCE_DIMENSIONS if d in dims), None)
        if resource is None:
            raise InputError(f"the query names no {' or '.join(_RESOURCE_DIMENSIONS)} dimension", file=str(side),
                             line=line, path=f"[{i}].MetricStat.Metric.Dimensions")
        variant = next((dims[d] for d in _VARIANT_DIMENSIONS if d in dims), "AllTraffic")
        name = _metric(str(metric.get("MetricName")), str(side), line, f"[{i}].MetricStat.Metric.MetricName")
        out[str(q.get("Id"))] = {"resource": str(resource), "variant": str(variant), "metric": name,
                                 "stat": str(stat.get("Stat", "Sum" if name in COUNT_METRICS else "Average")),
                                 "period_s": float(stat.get("Period", 60))}
    return out


def _from_label(label: str, file: str, line: int | None, path: str) -> dict:
    parts = [p for p in re.split(r"[/ ]", label.strip()) if p]
    if len(parts) not in (3, 4):
        raise InputError(f"cannot tell the endpoint, variant and metric of label {label!r}: write labels as "
                         "endpoint/variant/Metric[/Stat] or put the queries beside the file as NAME.queries.json",
                         file=file, line=line, path=path)
    name = _metric(parts[2], file, line, path)
    stat = parts[3] if len(parts) == 4 else ("Sum" if name in COUNT_METRICS else "Average")
    return {"resource": parts[0], "variant": parts[1], "metric": name, "stat": stat, "period_s": 0.0}


def _read_json(path: Path) -> pd.DataFrame:
    file = str(path)
    text, data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("MetricDataResults"), list):
        raise InputError("not get-metric-data output: no MetricDataResults list", file=file, line=1,
                         path="MetricDataResults")
    queries = _queries(path)
    lines = _lines_of(text, "Id")
    rows = []
    for i, r in enumerate(data["MetricDataResults"]):
        line = lines[i] if i < len(lines) else None
        where = f"MetricDataResults[{i}]"
        if r.get("StatusCode") in _BAD_STATUS:
            raise InputError(f"CloudWatch answered {r['StatusCode']} for this query", file=file, line=line,
                             path=f"{where}.StatusCode")
        meta = queries.get(str(r.get("Id"))) or _from_label(str(r.get("Label", "")), file, line, f"{where}.Label")
        stamps, values = r.get("Timestamps", []), r.get("Values", [])
        if len(stamps) != len(values):
            raise InputError(f"{len(stamps)} timestamps but {len(values)} values", file=file, line=line,
                             path=f"{where}.Values")
        times = pd.to_datetime(pd.Series(stamps, dtype=object), utc=True, errors="coerce", format="ISO8601")
        if times.isna().any():
            j = int(np.flatnonzero(times.isna())[0])
            raise InputError(f"{stamps[j]!r} is not a timestamp", file=file, line=line, path=f"{where}.Timestamps[{j}]")
        try:
            vals = np.array([_value(meta["metric"], float(v)) for v in values], dtype=float)
        except (TypeError, ValueError):
            j = next(k for k, v in enumerate(values) if not _is_number(v))
            raise InputError(f"{values[j]!r} is not a number", file=file, line=line, path=f"{where}.Values[{j}]") from None
        period = meta["period_s"] or _period(times)
        rows.append(pd.DataFrame({**{k: meta[k] for k in COLUMNS[:4]}, "period_s": period,
                                  "time": times.dt.tz_convert(UTC).to_numpy(), "value": vals}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=COLUMNS)


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _period(times: pd.Series) -> float:
    times = pd.Series(pd.to_datetime(times, utc=True))
    gaps = np.diff(np.sort((times - times.min()).dt.total_seconds().to_numpy()))
    gaps = gaps[gaps > 0]
    return float(gaps.min()) if len(gaps) else 60.0


# -- CSV -----------------------------------------------------------------------------------------

CSV_REQUIRED = ("timestamp", "metric", "value")


def _read_csv(path: Path) -> pd.DataFrame:
    file = str(path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if b"\x00" in head:
        raise InputError("binary content, not a CSV metrics file", file=file, line=1)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start + 1})", file=file) from None
    if not rows:
        raise InputError("the file is empty", file=file, line=1)
    header = [h.strip() for h in rows[0]]
    for col in CSV_REQUIRED:
        if col not in header:
            raise InputError(f"missing column {col!r}{did_you_mean(col, header)}; a metrics CSV has timestamp, "
                             "endpoint (or training_job), variant, metric, stat, value", file=file, line=1, path=col)
    who = "endpoint" if "endpoint" in header else "training_job" if "training_job" in header else None
    if who is None:
        raise InputError(f"missing column 'endpoint' (or 'training_job'){did_you_mean('endpoint', header)}",
                         file=file, line=1, path="endpoint")
    ix = {h: i for i, h in enumerate(header)}
    variant_col = "variant" if "variant" in ix else "host" if "host" in ix else None
    out = {c: [] for c in COLUMNS}
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{len(row)} fields where the header has {len(header)}", file=file, line=n)

        def cell(col: str, row=row) -> str:
            return row[ix[col]].strip()

        metric = _metric(cell("metric"), file, n, "metric")
        t = pd.to_datetime(cell("timestamp"), utc=True, errors="coerce", format="ISO8601")
        if pd.isna(t):
            raise InputError(f"{cell('timestamp')!r} is not a timestamp", file=file, line=n, path="timestamp")
        raw = cell("value")
        try:
            value = float(raw) if raw else np.nan
        except ValueError:
            raise InputError(f"{raw!r} is not a number", file=file, line=n, path="value") from None
        if not cell(who):
            raise InputError(f"empty {who}", file=file, line=n, path=who)
        out["resource"].append(cell(who))
        out["variant"].append((cell(variant_col) if variant_col else "") or "AllTraffic")
        out["metric"].append(metric)
        out["stat"].append((cell("stat") if "stat" in ix else "") or ("Sum" if metric in COUNT_METRICS else "Average"))
        out["time"].append(t)
        out["value"].append(_value(metric, value))
    frame = pd.DataFrame({c: out[c] for c in COLUMNS if c != "period_s"})
    if frame.empty:
        raise InputError("the file has a header but no datapoints", file=file, line=2)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame["period_s"] = frame.groupby(["resource", "variant", "metric", "stat"])["time"].transform(_period).astype(float)
    return frame[COLUMNS]
