"""Shared test fixtures: paths, and the real public traces (skipped when absent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
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


@dataclass
class StandInHorizon:
    duration_s: float
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class StandInScenario:
    """The few scenario attributes a resource model reads, for testing a model on its own."""

    horizon: StandInHorizon
    models: list = field(default_factory=list)
    tags: dict = field(default_factory=dict)
    base_dir: object = None
