"""``smsim forecast`` and the public API: outputs, exit codes, ordering, paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from smsim.cli import app
from smsim.forecast import forecast_many, forecast_series, sample_paths


def _daily(n: int = 70, seed: int = 0, name: str = "s") -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 15 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 3, n)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq="D"), name=name)


def test_cli_writes_forecast_plot_and_json(tmp_path: Path) -> None:
    y = _daily()
    src = tmp_path / "traffic.csv"
    pd.DataFrame({"ds": y.index, "y": y.to_numpy()}).to_csv(src, index=False)
    out, png = tmp_path / "fc.csv", tmp_path / "fc.png"
    result = CliRunner().invoke(app, ["forecast", str(src), "--horizon", "2w", "--model",
                                      "snaive", "--out", str(out), "--plot", str(png), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["horizon"] == 14 and doc["series"][0]["model"] == "snaive"
    assert set(doc["series"][0]["coverage"]) == {"80", "95"}
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95",
                                   "model"]
    assert len(frame) == 14 and png.stat().st_size > 10_000


def test_cli_bad_input_exits_2_naming_the_row(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("ds,y\n2024-01-01,1\n2024-01-02,x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["forecast", str(src), "--horizon", "3"])
    assert result.exit_code == 2
    assert "bad.csv:3" in result.output and "data row 2" in result.output


def test_cli_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["forecast", str(tmp_path / "nope.csv"), "--horizon", "3"])
    assert result.exit_code == 2


def test_forecast_series_reports_backtest_coverage() -> None:
    res = forecast_series(_daily(), 7, model="snaive")
    assert res.model == "snaive" and set(res.coverage) == {80.0, 95.0}
    assert all(0 <= c <= 1 for c in res.coverage.values())
    assert (res.frame["lo-80"] >= 0).all()


def test_sample_paths_are_seeded_non_negative_and_shaped() -> None:
    y = _daily().clip(lower=0) * 0.05  # small counts, so clipping at zero matters
    a = sample_paths(y, 10, 200, seed=5, model="snaive")
    b = sample_paths(y, 10, 200, seed=5, model="snaive")
    assert a.shape == (200, 10) and (a >= 0).all()
    np.testing.assert_array_equal(a, b)


def test_many_series_parallel_matches_serial_in_order() -> None:
    series = {f"s{i}": _daily(42, seed=i, name=f"s{i}") for i in range(3)}
    serial = forecast_many(series, 5, model="snaive", n_jobs=1)
    parallel = forecast_many(series, 5, model="snaive", n_jobs=2)
    assert [r.frame["unique_id"].iloc[0] for r in parallel] == ["s0", "s1", "s2"]
    for s, p in zip(serial, parallel, strict=True):
        pd.testing.assert_frame_equal(s.frame, p.frame)


def test_cli_empty_file_exits_2_naming_it(tmp_path: Path) -> None:
    for body in ("", "ds,y\n"):
        src = tmp_path / "empty.csv"
        src.write_text(body, encoding="utf-8")
        result = CliRunner().invoke(app, ["forecast", str(src), "--horizon", "3"])
        assert result.exit_code == 2, result.output
        assert "empty.csv" in result.output and "internal error" not in result.output


def test_cli_absurd_value_exits_2_naming_the_row(tmp_path: Path) -> None:
    y = _daily()
    values = y.to_numpy().astype(object)
    values[30] = "1e300"
    src = tmp_path / "big.csv"
    pd.DataFrame({"ds": y.index, "y": values}).to_csv(src, index=False)
    result = CliRunner().invoke(app, ["forecast", str(src), "--horizon", "3"])
    assert result.exit_code == 2, result.output
    assert "big.csv:32" in result.output and "data row 31" in result.output
    assert "beyond the 1e+15" in result.output and "Warning" not in result.output


def test_library_call_with_absurd_value_names_the_stamp() -> None:
    from smsim.errors import InputError

    y = _daily()
    y.iloc[12] = float("inf")
    try:
        forecast_series(y, 3, model="snaive")
    except InputError as exc:
        assert "2024-01-13" in str(exc) and "not a finite number" in str(exc)
    else:
        raise AssertionError("an infinite value was accepted")


def test_noiseless_series_has_zero_width_bands_and_full_coverage() -> None:
    n = 70
    y = pd.Series(100.0 + np.arange(n), index=pd.date_range("2024-01-01", periods=n, freq="D"))
    res = forecast_series(y, 7)
    f = res.frame
    assert np.allclose(f["mean"], 170.0 + np.arange(7), atol=1e-6)
    width = (f["hi-95"] - f["lo-95"]).max()
    assert width < 1e-6
    # a zero-width band that the backtest says covered its actuals: every one of them
    assert res.coverage == {80.0: 1.0, 95.0: 1.0}


def test_dominant_value_is_flagged_not_silently_scored() -> None:
    y = _daily()
    y.iloc[30] = 1e12
    res = forecast_series(y, 3, model="snaive")
    assert any("1e+12" in n and "times the series' median" in n for n in res.notes), res.notes
    assert res.summary()["notes"] == res.notes


class _Unconverged:
    """A seasonal naive whose fit raises the warning statsmodels raises when it stops early."""

    @staticmethod
    def make():
        from statsmodels.tools.sm_exceptions import ConvergenceWarning

        from smsim.forecast.models.naive import SeasonalNaive

        class Unconverged(SeasonalNaive):
            def _fit(self, y):
                import warnings

                warnings.warn("Maximum Likelihood optimization failed to converge.",
                              ConvergenceWarning, stacklevel=2)
                super()._fit(y)

        return Unconverged


def test_library_warnings_become_notes_not_stderr_dumps(tmp_path: Path, monkeypatch) -> None:
    from smsim.forecast.models import registry as models

    monkeypatch.setitem(models.MODELS, "snaive", _Unconverged.make())
    y = _daily()
    src = tmp_path / "traffic.csv"
    pd.DataFrame({"ds": y.index, "y": y.to_numpy()}).to_csv(src, index=False)
    result = CliRunner().invoke(app, ["forecast", str(src), "--horizon", "3", "--model",
                                      "snaive"])
    assert result.exit_code == 0, result.output
    assert ("note: model snaive: a model's likelihood optimiser stopped before converging "
            "(ConvergenceWarning, once)") in result.stdout
    assert "ConvergenceWarning:" not in result.output and "mle_retvals" not in result.output


def test_sample_paths_raise_the_notes_as_smsim_warnings(monkeypatch) -> None:
    import pytest

    from smsim.forecast.models import registry as models
    from smsim.notices import SmsimWarning

    monkeypatch.setitem(models.MODELS, "snaive", _Unconverged.make())
    with pytest.warns(SmsimWarning, match="stopped before converging"):
        sample_paths(_daily(), 5, 4, seed=0, model="snaive")


def test_cli_time_stamp_beyond_the_calendar_exits_2(tmp_path: Path) -> None:
    for stamp in ("9223372037.0", "2300-01-01", "0001-01-01"):
        src = tmp_path / "far.csv"
        src.write_text(f"ds,y\n{stamp},1\n", encoding="utf-8")
        result = CliRunner().invoke(app, ["forecast", str(src), "--horizon", "3"])
        assert result.exit_code == 2, result.output
        assert "far.csv:2" in result.output and "outside the years" in result.output
