"""README examples use files the repository ships or creates in the text, and write nothing tracked."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from smsim.cli import app

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_bad_scenario_example_prints_what_the_readme_shows(monkeypatch):
    monkeypatch.chdir(REPO)
    shown = re.search(r"\$ smsim validate (\S+)\n(error: .*)\n", README)
    assert shown, "the README's validate example is missing"
    path, expected = shown.groups()
    assert (REPO / path).is_file(), f"{path} is not shipped"
    out = CliRunner().invoke(app, ["validate", path])
    assert out.exit_code == 2
    assert " ".join(out.output.split()) == " ".join(expected.split())


def test_console_examples_write_no_tracked_file():
    tracked = set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split())
    if not tracked:
        import pytest

        pytest.skip("not a git checkout")
    written = re.findall(r"--(?:plot|out|report|html|md)[ =](\S+)", README)
    assert written, "no output options found in the README"
    assert not [w for w in written if w in tracked], "a README example overwrites a tracked file"
