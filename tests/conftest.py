"""Shared test fixtures: paths, and the real public traces (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SCENARIOS = REPO / "scenarios"


@pytest.fixture
def shared_data() -> Path:
    """The folder of real public traces; the test is skipped with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real traces not available: {SHARED_DATA} does not exist")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _private_results_store(tmp_path_factory, monkeypatch):
    """Runs recorded during tests go to a temporary store, never into the working tree."""
    monkeypatch.setenv("SMSIM_STORE", str(tmp_path_factory.mktemp("store")))
