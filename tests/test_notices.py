"""Library warnings summarised in plain words; smsim's own warnings kept verbatim."""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from smsim import notices


def test_record_collects_and_summarise_counts_by_kind() -> None:
    with notices.record() as caught:
        for _ in range(3):
            warnings.warn("Maximum Likelihood optimization failed to converge.", ConvergenceWarning,
                          stacklevel=1)
        with np.errstate(over="warn"):
            np.float64(1e308) * 10
        warnings.warn(notices.SmsimWarning("series 'a': check row 4"), stacklevel=1)
        warnings.warn(notices.SmsimWarning("series 'a': check row 4"), stacklevel=1)
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
    lines = notices.summarise(caught, "forecast")
    assert lines == [
        "series 'a': check row 4",
        "forecast: a model's likelihood optimiser stopped before converging "
        "(ConvergenceWarning, 3 times)",
        "forecast: a floating-point overflow (RuntimeWarning, once)",
    ]


def test_unknown_category_is_named() -> None:
    assert notices.describe("UserWarning", "x") == "a UserWarning"
