"""Reports: sections appear with their data, scenario strings are escaped, the file is
self-contained, bench ranks and resumes, and a real headless browser renders the HTML."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.report.content import ReportData, RunView, Table
from smsim.report.html import render_html
from smsim.report.markdown import render_markdown
from smsim.report.sections import build_sections, hourly_savings_plan

EVIL = '<script>alert("x")</script> & "quotes" \'too\''


def _view(label: str = "base", total: float = 12.5, endpoint: bool = True) -> RunView:
    summary = {
        "scenario": "demo", "seed": 1, "smsim_version": "0.1.0",
        "horizon": {"start": "2026-01-05T00:00:00+00:00", "duration_s": 7200.0},
        "total_cost_usd": total, "catalog": {"name": "builtin", "as_of": "2026-09-27"},
        "cost_by_component": {"RealTimeInference": total},
        "cost_by_pricing": {"on_demand": total, "spot": 0.0},
        "cost_by_tag": {"team": {EVIL: total}},
        "resources": [{"resource_id": "chat", "kind": "endpoint", "cost_usd": total,
                       **({"latency_p99_s": 0.8, "sla_attainment": 0.975, "timed_out": 3} if endpoint else {})}],
    }
    t = np.arange(0, 7200, 60.0)
    series = {"chat": pd.DataFrame({"time_s": t, "instances": 1 + (t > 3600), "latency_p99_s": 0.5 + t / 1e5})} if endpoint else {}
    return RunView(label, summary, description=EVIL, series=series)


def test_sections_follow_the_data():
    ids = [s.id for s in build_sections(ReportData("t", [_view(endpoint=False)]))]
    assert ids == ["overview", "cost", "resources", "provenance"]
    ids = [s.id for s in build_sections(ReportData("t", [_view()], ranking=[
        {"rank": 1, "label": "a", "total_cost_usd": 1.0}]))]
    assert ids == ["overview", "ranking", "cost", "resources", "instances", "latency", "sla", "provenance"]


def test_extras_add_forecast_and_commitment_sections():
    view = _view(endpoint=False)
    idx = pd.date_range("2026-02-01", periods=24, freq="h")
    view.extras["forecast:spend"] = pd.DataFrame({"mean": np.ones(24), "lo-80": np.zeros(24), "hi-80": 2 * np.ones(24)}, index=idx)
    c = np.linspace(0, 10, 11)
    view.extras["commitment_curve"] = pd.DataFrame({"commitment_usd_per_hour": c, "expected_savings_usd": c * (10 - c),
                                                    "p10_savings_usd": c * (8 - c), "p90_savings_usd": c * (12 - c)})
    ids = [s.id for s in build_sections(ReportData("t", [view]))]
    assert "forecast" in ids and "commitment" in ids


def test_scenario_strings_are_escaped_and_nothing_is_external():
    page = render_html(ReportData(f"title {EVIL}", [_view()]))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot; &#x27;too&#x27;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no external resources
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # only in-document refs
    assert page.count("<svg") >= 4
    md = render_markdown(ReportData(f"title {EVIL}", [_view()]))
    assert "<script" not in md and "&lt;script&gt;" in md
    assert all(line.count("|") - line.count("\\|") == line.count("|") - line.count("\\|") for line in md.splitlines())


def test_markdown_tables_keep_their_columns_with_pipes_in_values():
    view = _view()
    view.summary["cost_by_tag"] = {"team": {"a|b": 12.5}}
    md = render_markdown(ReportData("t", [view]))
    row = next(line for line in md.splitlines() if "a\\|b" in line)
    assert len(re.split(r"(?<!\\)\|", row)) == len(re.split(r"(?<!\\)\|", next(
        line for line in md.splitlines() if line.startswith("| tag team"))))


def test_hourly_savings_plan_from_ledger():
    ledger = pd.DataFrame({
        "lineItem/LineItemType": ["SavingsPlanRecurringFee", "SavingsPlanRecurringFee", "SavingsPlanCoveredUsage", "Usage"],
        "smsim/hour": [0, 1, 0, 1],
        "lineItem/UnblendedCost": [2.0, 2.0, 1.5, 3.0],
        "savingsPlan/UsedCommitment": [1.5, 0.5, 0.0, 0.0],
        "smsim/pricing_class": ["savings_plan_commitment", "savings_plan_commitment", "savings_plan_covered", "on_demand"],
        "pricing/publicOnDemandCost": [0.0, 0.0, 2.0, 3.0],
    })
    hourly = hourly_savings_plan(ledger)
    assert list(hourly["utilization"]) == pytest.approx([0.75, 0.25])
    assert hourly["coverage"].iloc[0] == pytest.approx(1.5 / 2.0)
    assert hourly["coverage"].iloc[1] == pytest.approx(0.0)


SCEN = """\
name: {name}
description: '{desc}'
horizon: {{start: 2026-01-05T00:00:00Z, duration_s: 3h}}
tags: {{team: "<b>ops</b>"}}
fleets:
  - {{name: web, instance_type: ml.m5.xlarge, count: {count}}}
"""


def test_bench_ranks_records_and_resumes(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "big.yaml").write_text(SCEN.format(name="big", desc="<script>x</script>", count=3))
    (folder / "small.yaml").write_text(SCEN.format(name="small", desc="small", count=1))
    runner = CliRunner()
    args = ["bench", str(folder), "--store", str(tmp_path / "st"), "--report", str(tmp_path / "r.html"), "--json", "-q"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    import json

    rows = json.loads(first.stdout)
    assert [r["label"] for r in rows] == ["small.yaml", "big.yaml"]
    assert rows[0]["total_cost_usd"] == pytest.approx(0.23 * 3) and rows[1]["total_cost_usd"] == pytest.approx(0.23 * 9)
    assert not any(r["resumed"] for r in rows)
    (folder / "small.yaml").write_text(SCEN.format(name="small", desc="small", count=2))  # changed: rerun
    refused = runner.invoke(app, [*args, "--resume"])  # r.html exists: refused before any run
    assert refused.exit_code == 2 and "r.html already exists" in refused.output
    second = json.loads(runner.invoke(app, [*args, "--resume", "--force"]).stdout)
    assert {r["label"]: r["resumed"] for r in second} == {"big.yaml": True, "small.yaml": False}
    page = (tmp_path / "r.html").read_text()
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script" not in page and 'id="ranking"' in page
    from smsim.store import Store

    assert len(Store(tmp_path / "st").list(kind="bench")) == 3


def test_report_cli_on_a_run_folder_and_a_store_id(tmp_path):
    from smsim.api import run_scenario, write_run
    from smsim.store import Store

    path = tmp_path / "s.yaml"
    path.write_text(SCEN.format(name="one", desc=EVIL.replace("'", "''"), count=2))
    result = run_scenario(path)
    write_run(result, tmp_path / "out")
    run_id = Store(tmp_path / "st").record(result)
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(tmp_path / "out"), run_id[-6:], "--store", str(tmp_path / "st"),
                              "--html", str(tmp_path / "r.html"), "--md", str(tmp_path / "r.md")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "r.html").read_text()
    assert "<script" not in page and "&lt;script&gt;alert" in page and page.count("$1.38") >= 2  # 2 x ml.m5.xlarge x 3 h x $0.23
    assert runner.invoke(app, ["report", "nope", "--store", str(tmp_path / "st"), "--html", "x.html"]).exit_code == 2


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")

#: A Chromium log line carrying a page's console message. Current Chromium logs every level
#: (console.log, console.error, CSP violations, uncaught exceptions) as ``INFO:CONSOLE``, older
#: ones as ``ERROR:CONSOLE(12)`` or ``VERBOSE1:CONSOLE``: match the message whatever its level.
CONSOLE_LINE = re.compile(r"^\[[^\]]*:CONSOLE[^\]]*\]\s*(?P<message>.*)$")
#: Words of a browser complaint, in case one ever reaches the log without the CONSOLE prefix.
COMPLAINTS = re.compile(r"Uncaught|Refused to|violates the following Content Security Policy")


def browser_problems(log: str) -> list[str]:
    """Every console message (at any level) and every script or CSP complaint in a Chromium log.
    A report has no scripts and loads nothing, so a clean page logs none at all."""
    problems = []
    for line in log.splitlines():
        found = CONSOLE_LINE.match(line)
        if found:
            problems.append(found["message"])
        elif COMPLAINTS.search(line):
            problems.append(line)
    return problems


def _chromium(page: Path, tmp_path: Path) -> tuple[Path, str, list[str]]:
    """Render ``page`` headless: a screenshot, the DOM after load, and the console's problems."""
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / f"{page.stem}.png"
    run = subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                         capture_output=True, text=True, timeout=90)
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90)
    return shot, dom.stdout, browser_problems(run.stderr + dom.stderr)


def test_browser_problems_reads_every_console_level():
    log = (
        '[1:1:1204/215043.960650:INFO:CONSOLE:2] "control console.error", source: file:///c.html (2)\n'
        '[1:1:1204/215043.960650:ERROR:CONSOLE(7)] "Uncaught ReferenceError: x", source: file:///c.html (7)\n'
        '[1:1:1204/215043.960650:VERBOSE1:CONSOLE:3] "log", source: file:///c.html (3)\n'
        "[1:1:1204/215043.960650:WARNING:dbus] unrelated\n"
        "Refused to apply inline style because it violates the following Content Security Policy\n")
    assert browser_problems(log) == ['"control console.error", source: file:///c.html (2)',
                                     '"Uncaught ReferenceError: x", source: file:///c.html (7)',
                                     '"log", source: file:///c.html (3)',
                                     "Refused to apply inline style because it violates the following "
                                     "Content Security Policy"]


CONTROL_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
</head><body><p>control page: must fail the console check</p>
<script>console.error("control console.error")</script>
<div style="color: red">an inline style the policy refuses</div>
</body></html>
"""


@needs_chromium
def test_console_check_catches_a_control_page(tmp_path):
    page = tmp_path / "control.html"
    page.write_text(CONTROL_PAGE)
    _, _, problems = _chromium(page, tmp_path)
    assert any("control console.error" in p for p in problems), problems
    assert any("Content Security Policy" in p for p in problems), problems


@needs_chromium
def test_report_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(ReportData(f"browser {EVIL}", [_view(), _view("g5", 20.0)])))
    shot, dom, problems = _chromium(page, tmp_path)
    assert shot.exists() and shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert problems == []
    assert dom.count("<svg") >= 4
    assert "<script" not in dom.lower()
    assert 'alert("x")' in dom.replace("&quot;", '"') or "alert(" in dom  # shown as text


COMPONENTS = ["RealTimeInference", "ServerlessInference", "AsyncInference", "MultiModelEndpoint", "Training",
              "TrainingSpot", "BatchTransform", "ProcessingJob", "Notebook", "NotebookStorage", "S3Storage",
              "S3Requests", "DataTransferOut", "DataTransferIn", "SavingsPlanCommitment", "Studio", "EFS",
              "ModelMonitor", "FeatureStore", "Canvas", "GroundTruth", "DataWrangler", "Pipelines", "Clarify",
              "Autopilot"]


@pytest.mark.parametrize("n", [3, 10, 15, 25])
def test_cost_legend_fits_the_figure_whatever_the_number_of_components(monkeypatch, n):
    from smsim.report import plots

    figures = []
    monkeypatch.setattr(plots, "to_svg", lambda fig: figures.append(fig) or "<svg/>")
    costs = {run: {c: 50.0 / (i + 1) for i, c in enumerate(COMPONENTS[:n])} for run in ("base", "g5")}
    costs["g5"]["residue"] = 1e-12  # a float residue is no component
    plots.cost_breakdown(costs)
    fig = figures[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = fig.legends or [fig.axes[0].get_legend()]
    assert len(legends[0].get_texts()) == n
    box, legend = fig.bbox, legends[0].get_window_extent(renderer)
    assert box.x0 <= legend.x0 and legend.x1 <= box.x1 and box.y0 <= legend.y0 and legend.y1 <= box.y1
    bars = fig.axes[0].get_window_extent(renderer)
    assert bars.height >= 2 * 0.3 * fig.dpi  # two bars of at least 0.3 in each, not squashed
    assert not legend.overlaps(bars)


def test_residues_under_half_a_cent_make_no_rows_and_no_minus_zero():
    from smsim.units import format_usd

    assert [format_usd(v) for v in (-1e-12, 0.004, 0.005, -3.2, 1234.5)] == [
        "$0.00", "$0.00", "$0.01", "-$3.20", "$1,234.50"]
    view = _view()
    view.summary["cost_by_component"] = {"RealTimeInference": 12.5, "Notebook": 3e-9}
    view.summary["cost_by_pricing"] = {"on_demand": 12.5, "spot": 0.0, "savings_plan_covered": -2e-10}
    tables = {b.caption: b for s in build_sections(ReportData("t", [view, _view("g5", 20.0)]))
              for b in s.blocks if isinstance(b, Table)}
    assert [r[0] for r in tables["cost by component"].rows] == ["RealTimeInference"]
    assert [r[0] for r in tables["cost by pricing"].rows] == ["on_demand"]
    assert "$-0.00" not in render_html(ReportData("t", [view]))


def test_bench_title_names_the_scenarios_or_takes_title(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "big.yaml").write_text(SCEN.format(name="big-fleet", desc="big", count=3))
    (folder / "small.yaml").write_text(SCEN.format(name="small-fleet", desc="small", count=1))
    runner = CliRunner()
    args = ["bench", str(folder), "--store", str(tmp_path / "st"), "--report", str(tmp_path / "r.html"), "-q",
            "--force"]
    assert runner.invoke(app, args).exit_code == 0
    page = (tmp_path / "r.html").read_text()
    assert "<h1>Benchmark of small-fleet, big-fleet</h1>" in page and "Benchmark of bench" not in page
    assert runner.invoke(app, [*args, "--resume", "--title", "GPU <options>"]).exit_code == 0
    assert "<h1>GPU &lt;options&gt;</h1>" in (tmp_path / "r.html").read_text()
    named = tmp_path / "gpu-options"
    folder.rename(named)
    assert runner.invoke(app, [*args[:1], str(named), *args[2:]]).exit_code == 0
    assert "<h1>Benchmark of gpu-options: small-fleet, big-fleet</h1>" in (tmp_path / "r.html").read_text()


def test_markdown_escapes_once_so_apostrophes_and_ampersands_read_as_written():
    from smsim.report.markdown import md_escape

    assert md_escape("team's") == "team's"
    assert md_escape("R&D #1") == "R&amp;D \\#1"
    assert md_escape("<b>a|b</b>") == "&lt;b&gt;a\\|b&lt;/b&gt;"
    assert md_escape("&#x27;") == "&amp;\\#x27;"  # an entity typed by the user stays literal
    view = _view()
    view.summary["cost_by_tag"] = {"team": {"team's": 12.5}}
    md = render_markdown(ReportData("the team's week", [view]))
    assert "# the team's week" in md and "| team's |" in md
    assert "&\\#x27;" not in md and "&#x27;" not in md

