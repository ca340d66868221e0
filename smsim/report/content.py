"""What a report holds: runs as the report sees them, and sections of tables, figures and text
that every renderer (HTML, Markdown) lays out; plus the number formats they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from smsim.units import format_usd


@dataclass
class RunView:
    """One run as the report sees it."""

    label: str
    summary: dict[str, Any]
    description: str = ""
    run_id: str | None = None
    scenario_hash: str | None = None
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    ledger: pd.DataFrame | None = None
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    budgets: list = field(default_factory=list)  # the scenario's budgets (smsim.budgets.spec.Budget)


@dataclass
class ReportData:
    title: str
    runs: list[RunView]
    ranking: list[dict[str, Any]] | None = None
    comparison: dict[str, Any] | None = None


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Figure:
    svg: str
    caption: str = ""


@dataclass
class Text:
    text: str


Block = Table | Figure | Text


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block]


def usd(value: Any) -> str:
    return "-" if value is None else format_usd(value)


def pct(value: Any) -> str:
    return num(value, "{:.2%}")


def num(value: Any, fmt: str) -> str:
    """``-`` when absent, ``n/a`` when NaN (e.g. a latency when no request was served)."""
    if value is None:
        return "-"
    value = float(value)
    return "n/a" if value != value else fmt.format(value)
