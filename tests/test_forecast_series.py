"""Input reading: frequency detection, aggregation, fills, and errors that name the row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smsim.errors import InputError
from smsim.forecast.series import parse_horizon, read_series


def _csv(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("stamps", "freq"), [
    (pd.date_range("2024-01-01", periods=5, freq="h"), "h"),
    (pd.date_range("2024-01-01", periods=5, freq="D"), "D"),
    (pd.date_range("2024-01-07", periods=5, freq="W"), "W"),
    (pd.date_range("2024-01-01", periods=5, freq="MS"), "MS"),
])
def test_frequency_is_detected(tmp_path: Path, stamps, freq: str) -> None:
    path = tmp_path / "s.parquet"
    pd.DataFrame({"ds": stamps, "y": np.arange(5.0)}).to_parquet(path)
    series, detected = read_series(path)
    assert detected == freq and list(series["series"]) == [0, 1, 2, 3, 4]


def test_long_format_keeps_series_in_input_order(tmp_path: Path) -> None:
    path = _csv(tmp_path, "unique_id,ds,y\nb,2024-01-01,1\nb,2024-01-02,2\nb,2024-01-03,3\n"
                "a,2024-01-01,4\na,2024-01-02,5\na,2024-01-03,6\n")
    series, freq = read_series(path)
    assert list(series) == ["b", "a"] and freq == "D"


def test_per_minute_samples_are_aggregated(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-01-01", periods=180, freq="min")
    path = _csv(tmp_path, "time,value\n" + "".join(f"{t},1\n" for t in stamps))
    series, freq = read_series(path, freq="h")
    assert freq == "h" and list(series["series"]) == [60.0, 60.0, 60.0]


def test_gap_names_row_line_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n")
    with pytest.raises(InputError) as err:
        read_series(path)
    e = err.value
    assert e.line == 4 and "data row 3" in str(e) and "'y'" in str(e) and "2024-01-03" in str(e)
    filled, _ = read_series(path, fill="zero")
    assert list(filled["series"]) == [1, 2, 0, 4]
    assert list(read_series(path, fill="interpolate")[0]["series"]) == [1, 2, 3, 4]
    assert list(read_series(path, fill="ffill")[0]["series"]) == [1, 2, 2, 4]


def test_duplicate_stamp_names_the_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n2024-01-03,3\n")
    with pytest.raises(InputError, match=r"duplicate.*data row 3.*'ds'") as err:
        read_series(path)
    assert err.value.line == 4 and err.value.file == str(path)


def test_non_numeric_value_names_the_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,lots\n2024-01-03,3\n")
    with pytest.raises(InputError, match=r"'lots' is not a number.*data row 2.*'y'") as err:
        read_series(path)
    assert err.value.line == 3


def test_negative_value_is_rejected_unless_allowed(tmp_path: Path) -> None:
    path = _csv(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,-2\n2024-01-03,3\n")
    with pytest.raises(InputError, match="negative.*data row 2"):
        read_series(path)
    assert read_series(path, allow_negative=True)[0]["series"].iloc[1] == -2


def test_bad_time_stamp_names_the_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "ds,y\n2024-01-01,1\nyesterday,2\n2024-01-03,3\n")
    with pytest.raises(InputError, match="time stamp 'yesterday'.*data row 2"):
        read_series(path)


@pytest.mark.parametrize(("text", "freq", "periods"), [
    ("24", "h", 24), ("90d", "D", 90), ("2d", "h", 48), ("13w", "D", 91), ("3mo", "MS", 3),
])
def test_horizon_accepts_periods_or_duration(text: str, freq: str, periods: int) -> None:
    assert parse_horizon(text, freq) == periods


def test_horizon_rejects_nonsense() -> None:
    with pytest.raises(InputError):
        parse_horizon("soon", "D")
