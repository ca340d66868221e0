"""Text from users reaches the terminal literally: rich markup in tags, descriptions, file names
and error messages is printed as typed, never interpreted, and the error handlers never raise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from conftest import REPO, SCENARIOS
from typer.testing import CliRunner

from smsim.cli import _common, app
from smsim.errors import InputError

runner = CliRunner()

UNBALANCED = "[/oops] x"
STYLED = "[bold red]RED[/bold red] [link=https://example.com]click[/link]"


def _scenario(tmp_path, *, tag_key="team", tag_value="platform", description="", name="s.yaml"):
    doc = yaml.safe_load((SCENARIOS / "fleet_minimal.yaml").read_text())
    doc["tags"] = {tag_key: tag_value}
    doc["description"] = description
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("text", [UNBALANCED, STYLED])
def test_markup_in_a_tag_value_is_printed_literally(tmp_path, text):
    result = runner.invoke(app, ["run", str(_scenario(tmp_path, tag_value=text)), "-q", "--no-store"])
    assert result.exit_code == 0, result.output
    assert text in result.stdout
    assert "Traceback" not in result.output


def test_markup_in_a_tag_key_is_printed_literally(tmp_path):
    result = runner.invoke(app, ["run", str(_scenario(tmp_path, tag_key=UNBALANCED)), "-q", "--no-store"])
    assert result.exit_code == 0, result.output
    assert f"Cost by tag {UNBALANCED}" in result.stdout


def test_styled_text_in_a_terminal_gets_no_style_and_no_hyperlink(tmp_path, monkeypatch):
    monkeypatch.setattr(_common.stdout, "_force_terminal", True)
    monkeypatch.setattr(_common.stdout, "_color_system", _common.stdout._detect_color_system() or None)
    result = runner.invoke(app, ["run", str(_scenario(tmp_path, tag_value=STYLED)), "-q", "--no-store"])
    assert result.exit_code == 0, result.output
    assert STYLED in result.stdout
    assert "\x1b]8;" not in result.stdout  # the OSC 8 hyperlink escape


def test_markup_in_a_file_name(tmp_path):
    (tmp_path / "[").mkdir()
    path = _scenario(tmp_path, name=f"{UNBALANCED}.yaml")  # a folder "[" holding "oops] x.yaml"
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{UNBALANCED}.yaml: valid" in result.stdout
    missing = runner.invoke(app, ["run", f"{tmp_path}/{STYLED}.yaml"])
    assert missing.exit_code == 2
    assert "[bold red]RED[/bold red] [link=https:" in missing.stderr  # (the path's // is normalised)
    assert "Traceback" not in missing.output


def test_input_error_quoting_markup_exits_2_with_the_text(monkeypatch, tmp_path):
    from smsim import api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("name: s\n")

    def bad(*_a, **_k):
        raise InputError(f"s.yaml: tags.team: bad value {UNBALANCED!r} {STYLED}")

    monkeypatch.setattr(api, "load_scenario", bad)
    result = runner.invoke(app, ["run", "s.yaml"])
    assert result.exit_code == 2
    assert f"error: s.yaml: tags.team: bad value {UNBALANCED!r} {STYLED}" in result.stderr


def test_internal_error_quoting_markup_exits_70_with_the_text(monkeypatch, tmp_path):
    from smsim import api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("name: s\n")

    def bug(*_a, **_k):
        raise RuntimeError(UNBALANCED)

    monkeypatch.setattr(api, "load_scenario", bug)
    result = runner.invoke(app, ["run", "s.yaml"])
    assert result.exit_code == 70
    assert f"internal error: RuntimeError: {UNBALANCED}" in result.stderr


def test_handlers_never_raise(monkeypatch, tmp_path):
    from smsim import api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("name: s\n")

    class Unprintable(Exception):
        def __str__(self):
            raise ValueError("no text")

    def bug(*_a, **_k):
        raise Unprintable()

    def broken_print(*_a, **_k):
        raise OSError("stderr is gone")

    monkeypatch.setattr(api, "load_scenario", bug)
    monkeypatch.setattr(_common.stderr, "print", broken_print)
    result = runner.invoke(app, ["run", "s.yaml"])
    assert result.exit_code == 70  # the fallback wrote plain text; nothing escaped the handler
    assert "internal error: (the error message could not be formed)" in result.stderr


_PROGRESS = """
import io, sys
class Tty(io.StringIO):
    def isatty(self):
        return True
fake = sys.stderr = Tty()
from smsim.cli import _common
with _common.progress_bar(sys.argv[1]) as progress:
    progress(0.5)
sys.stdout.write(fake.getvalue())
"""


def test_progress_description_with_markup():
    # a fresh interpreter whose stderr is a terminal, so the bar is really drawn
    description = f"simulating {UNBALANCED}"
    run = subprocess.run([sys.executable, "-c", _PROGRESS, description], capture_output=True, text=True,
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert description in run.stdout and "50%" in run.stdout



def test_a_closed_pipe_ends_quietly_not_as_an_internal_error(capsys, monkeypatch):
    # `smsim ... | head`: the reader left, so a write raised BrokenPipeError; smsim stops with the
    # shell's SIGPIPE code and says nothing, instead of reporting an internal error (exit 70)
    import typer

    from smsim.cli import _common
    from smsim.cli._common import EXIT_BROKEN_PIPE, handles_errors

    redirected = []
    monkeypatch.setattr(_common.os, "dup2", lambda src, dst: redirected.append(dst))
    monkeypatch.setattr(_common.sys, "stdout", type("Pipe", (), {"fileno": lambda self: 99})())

    @handles_errors
    def writes_to_a_closed_pipe():
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(typer.Exit) as ended:
        writes_to_a_closed_pipe()
    assert ended.value.exit_code == EXIT_BROKEN_PIPE == 141
    assert redirected == [99]  # stdout pointed at /dev/null for the flush at exit
    assert "internal error" not in capsys.readouterr().err
