"""Readers for the public production traces shipped beside smsim (never inside it).

Each dataset lives in a sub-folder of a data folder, with a README giving its source, columns and
units. The data folder is the workload's ``data_dir`` (relative to the scenario file), else
``$SMSIM_REAL_DATA_DIR``, else the first ``shared/data`` holding the dataset found beside the
scenario file or one of its parent folders, then beside the working folder or one of its parents,
then beside the smsim source checkout (an editable install). An installed smsim never looks inside
its own site-packages. Nothing in smsim requires these files: asking for one that is in none of
these places is an :class:`~smsim.errors.InputError` that lists where it looked.

Datasets (name -> what it yields):

* ``azure-llm-2023-code`` / ``azure-llm-2023-conv``: Azure LLM inference (Splitwise, ISCA'24),
  one hour of arrivals with input (``ContextTokens``) and output (``GeneratedTokens``) tokens;
  a :class:`RequestTrace` re-based to the first request.
* ``mooncake-conversation`` / ``mooncake-synthetic``: Mooncake FAST'25 (Kimi); timestamps are
  millisecond offsets, kept as offsets (so the trace starts at 0 ms as the file does). The
  synthetic one has Poisson arrivals made by Mooncake, not real ones. Prefix hashes are dropped.
* ``alibaba-genai-2026-lora``: Alibaba Stable-Diffusion + LoRA serving, 23 days of requests
  at 1-s resolution; ``model`` is ``checkpoint_model_version_id`` (``"unknown"`` where absent).
* ``alibaba-genai-2026-qps``: the same service's per-container QPS samples summed per 57-s
  window into a :class:`CountTrace`; upstream scaled the values ("preserves trend proportions"),
  so the level is not the real one: use it for shape and set the level with ``rate_scale``.
  Windows in which no container reported are zero.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from smsim.errors import InputError, did_you_mean
from smsim.workload.request_trace import CountTrace, RequestTrace
from smsim.workload.traces import TraceColumns, read_count_trace, read_request_trace

#: ``shared/data`` next to the folder that holds this checkout of smsim (meaningful for an editable
#: install or a source checkout only; see :func:`candidate_dirs`).
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
#: Where the data folder sits relative to a folder searched.
SHARED_DATA = Path("shared") / "data"


@dataclass(frozen=True)
class RealDataset:
    folder: str
    file: str
    shape: Literal["requests", "counts"]
    description: str


DATASETS: dict[str, RealDataset] = {
    "azure-llm-2023-code": RealDataset("azure-llm-inference-2023", "AzureLLMInferenceTrace_code.csv",
                                       "requests", "Azure LLM coding service, 1 h, 8,819 requests"),
    "azure-llm-2023-conv": RealDataset("azure-llm-inference-2023", "AzureLLMInferenceTrace_conv.csv",
                                       "requests", "Azure LLM conversation service, 1 h, 19,366 requests"),
    "mooncake-conversation": RealDataset("mooncake-fast25", "conversation_trace.jsonl", "requests",
                                         "Kimi conversation arrivals, 59 min, 12,031 requests"),
    "mooncake-synthetic": RealDataset("mooncake-fast25", "synthetic_trace.jsonl", "requests",
                                      "Mooncake synthetic (Poisson) arrivals, 17 min, 3,993 requests"),
    "alibaba-genai-2026-lora": RealDataset("alibaba-genai-2026", "lora_request_trace.csv", "requests",
                                           "Alibaba SD+LoRA requests, 23 days, 26,823 requests, 86 models"),
    "alibaba-genai-2026-qps": RealDataset("alibaba-genai-2026", "qps.csv", "counts",
                                          "Alibaba SD+LoRA system QPS (scaled), 57-s windows, 22.3 h"),
}

RealDatasetName = Literal[
    "azure-llm-2023-code", "azure-llm-2023-conv", "mooncake-conversation", "mooncake-synthetic",
    "alibaba-genai-2026-lora", "alibaba-genai-2026-qps",
]


def _source_checkout_dir() -> Path | None:
    """DEFAULT_DATA_DIR when smsim runs from a source checkout, not from an installed package."""
    package = Path(__file__).resolve().parents[1]
    if any(part in ("site-packages", "dist-packages") for part in package.parts):
        return None
    return DEFAULT_DATA_DIR


def candidate_dirs(data_dir: str | Path | None = None, base_dir: str | Path | None = None) -> list[tuple[str, Path]]:
    """``(why, folder)`` of every data folder tried, in order (see the module doc)."""
    if data_dir:
        path = Path(data_dir).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return [("data_dir", path)]
    env = os.environ.get("SMSIM_REAL_DATA_DIR")
    if env:
        return [("SMSIM_REAL_DATA_DIR", Path(env).expanduser())]
    out: list[tuple[str, Path]] = []
    for why, start in (("beside the scenario", base_dir), ("beside the working folder", Path.cwd())):
        if start is None:
            continue
        start = Path(start).resolve()
        for folder in (start, *start.parents):
            out.append((why, folder / SHARED_DATA))
    checkout = _source_checkout_dir()
    if checkout is not None:
        out.append(("beside the smsim checkout", checkout))
    seen: set[Path] = set()
    return [(why, p) for why, p in out if not (p in seen or seen.add(p))]


def real_data_dir(data_dir: str | Path | None = None, base_dir: str | Path | None = None,
                  dataset: str | None = None) -> Path:
    """The data folder (holding ``dataset``'s file when given); an InputError listing where it looked."""
    tried = candidate_dirs(data_dir, base_dir)
    ds = DATASETS.get(dataset) if dataset else None
    for _, path in tried:
        if (path / ds.folder / ds.file).is_file() if ds else path.is_dir():
            return path
    what = f"real dataset {dataset!r} ({ds.folder}/{ds.file})" if ds else "the real traces folder"
    looked = "; ".join(f"{p} ({why})" for why, p in tried)
    raise InputError(
        f"real traces are not available: {what} not found; looked in: {looked}. Set SMSIM_REAL_DATA_DIR or the workload's data_dir to "
        "the folder of public traces, or use a synthetic or file workload",
        path="workload.data_dir",
    )


def dataset_path(name: str, data_dir: str | Path | None = None, base_dir: str | Path | None = None) -> Path:
    if name not in DATASETS:
        raise InputError(f"unknown real dataset {name!r}; known: {', '.join(DATASETS)}" + did_you_mean(name, DATASETS))
    ds = DATASETS[name]
    return real_data_dir(data_dir, base_dir, name) / ds.folder / ds.file


def load_real_trace(
    name: str,
    data_dir: str | Path | None = None,
    *,
    request_type: Literal["generative", "api", "all"] = "all",
    base_dir: str | Path | None = None,
) -> RequestTrace | CountTrace:
    """The named dataset as a request trace (or a count trace for ``*-qps``).

    ``request_type`` filters the Alibaba QPS samples by their ``request_type`` column;
    ``base_dir`` is the scenario file's folder (see the module doc for where the data is looked for).
    """
    path = dataset_path(name, data_dir, base_dir)
    if name.startswith("azure-llm-2023"):
        return read_request_trace(path, columns=TraceColumns(time="TIMESTAMP"))
    if name.startswith("mooncake"):
        return read_request_trace(path, columns=TraceColumns(time="timestamp"), time_unit="ms", origin="zero")
    if name == "alibaba-genai-2026-lora":
        return _alibaba_lora(path)
    return _alibaba_qps(path, request_type)


def _alibaba_lora(path: Path) -> RequestTrace:
    frame = pd.read_csv(path, usecols=["gmt_create", "checkpoint_model_version_id"])
    t = pd.to_datetime(frame["gmt_create"], format="%Y-%m-%d %H:%M:%S", utc=True)
    seconds = t.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
    offsets = seconds - seconds[0]
    model = frame["checkpoint_model_version_id"].fillna("unknown").astype("string")
    codes, uniques = pd.factorize(model, sort=True)
    gap = offsets[-1] / (offsets.size - 1)
    return RequestTrace(offsets, offsets[-1] + gap, model_index=codes,
                        models=tuple(str(u) for u in uniques), start=t.iloc[0].to_pydatetime())


def _alibaba_qps(path: Path, request_type: str) -> CountTrace:
    if request_type == "all":
        return read_count_trace(path, columns=TraceColumns(time="timestamp_anon", rate="value"),
                                duplicates="sum", interval_s=57.0)
    frame = pd.read_csv(path)
    label = {"generative": "Generative Requests", "api": "API Requests"}[request_type]
    frame = frame[frame["request_type"] == label]
    t0 = pd.read_csv(path, usecols=["timestamp_anon"])["timestamp_anon"].min()
    k = np.rint((frame["timestamp_anon"].to_numpy() - t0) / 57.0).astype(np.int64)
    counts = np.zeros(int(k.max()) + 1)
    np.add.at(counts, k, frame["value"].to_numpy() * 57.0)
    return CountTrace(interval_s=57.0, counts=counts,
                      start=pd.Timestamp(t0, unit="s", tz="UTC").to_pydatetime())
