"""Report sections for budgets (actual vs budget vs forecast, alert markers) and anomalies."""

from __future__ import annotations

from typer.testing import CliRunner

from smsim.cli import app
from smsim.report.content import ReportData, RunView
from smsim.report.monitoring import anomalies_section, budgets_section
from smsim.report.runs import load_run_view
from tests.test_anomalies import _bill
from tests.test_budgets import FLEET


def test_budget_section_from_a_run_folder(tmp_path):
    (tmp_path / "s.yaml").write_text(FLEET + "budgets:\n  - {name: m, amount_usd: 1.0, thresholds: [{percent: 50}]}\n")
    assert CliRunner().invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "r"),
                                    "--no-store", "-q"]).exit_code == 0
    view = load_run_view(tmp_path / "r")
    assert [b.name for b in view.budgets] == ["m"]
    section = budgets_section(ReportData("t", [view]))
    table, figure = section.blocks
    (row,) = table.rows
    assert row[1] == "m" and row[-1] == "actual > 50%"
    assert figure.svg.startswith("<svg")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "r"), "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 0 and 'id="budgets"' in (tmp_path / "r.html").read_text()


def test_anomaly_section_marks_the_spike():
    view = RunView("bill", {"horizon": {"start": "2026-03-02T00:00:00Z", "duration_s": 56 * 86400.0}},
                   ledger=_bill())
    section = anomalies_section(ReportData("t", [view]))
    table, figure = section.blocks
    (row,) = table.rows
    assert row[1] == "service=AmazonSageMaker" and row[2] == "2026-04-06" and row[-1] == "a gpu-spike"
    assert budgets_section(ReportData("t", [view])) is None  # no budgets, no section
