"""Every kind of bad scenario ends in a precise InputError (CLI: exit code 2, no traceback)."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.errors import InputError
from smsim.scenario.load import load_model, read_yaml
from smsim.scenario.schema import Scenario

GOOD = """\
name: t
horizon:
  start: 2026-01-01T00:00:00Z
  duration_s: 1d
fleets:
  - name: a
    instance_type: ml.m5.xlarge
    count: 1
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path, text) -> InputError:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_model(path, Scenario)
    return info.value


def test_good_scenario_loads(tmp_path):
    scenario, _ = load_model(write(tmp_path, GOOD), Scenario)
    assert scenario.horizon.duration_s == 86400.0
    assert scenario.fleets[0].instance_type == "ml.m5.xlarge"


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    err = error_of(tmp_path, "name: t\nhorizon: [1, 2\nfleets: []\n")
    assert err.file.endswith("s.yaml")
    assert err.line == 3 and err.column is not None
    assert "YAML syntax error" in err.message


@pytest.mark.parametrize(
    "fleets, line, column, tag",
    [
        ("  - !foo\n    name: a\n", 7, 5, "!foo"),  # a tag on a list item (was dropped silently)
        ("  - !!python/object:os.system {name: a}\n", 7, 5, "!!python/object:os.system"),
        ("  - name: !!python/object/apply:os.system [ls]\n", 7, 11, "!!python/object/apply:os.system"),
        ("  - name: !!str a\n", 7, 11, "!!str"),
        ("  !seq\n  - name: a\n", 7, 3, "!seq"),
        ("  - {name: a, tags: !map {team: x}}\n", 7, 21, "!map"),
    ],
)
def test_explicit_tags_are_refused_with_their_position(tmp_path, fleets, line, column, tag):
    text = "name: t\nhorizon:\n  start: 2026-01-01T00:00:00Z\n  duration_s: 1d\nregion: us-east-1\nfleets:\n" + fleets
    err = error_of(tmp_path, text)
    assert (err.file.endswith("s.yaml"), err.line, err.column) == (True, line, column)
    assert f"explicit YAML tag {tag!r} is not allowed" in err.message


def test_empty_file(tmp_path):
    err = error_of(tmp_path, "   \n\n")
    assert "empty" in err.message


def test_comment_only_file(tmp_path):
    err = error_of(tmp_path, "# nothing here\n")
    assert "no YAML document" in err.message


def test_binary_file(tmp_path):
    err = error_of(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in err.message


def test_list_at_top_level(tmp_path):
    err = error_of(tmp_path, "- a\n- b\n")
    assert "mapping at the top level" in err.message and "list" in err.message
    assert err.line == 1


def test_unknown_key_with_did_you_mean_and_line(tmp_path):
    text = GOOD.replace("    count: 1", "    cuont: 1")
    err = error_of(tmp_path, text)
    assert err.path == "fleets[0].cuont"
    assert err.line == 8 and err.column == 5
    assert "unknown key 'cuont'" in err.message and "did you mean 'count'" in err.message


def test_wrong_value_names_field_and_found_value(tmp_path):
    err = error_of(tmp_path, GOOD.replace("count: 1", "count: -3"))
    assert err.path == "fleets[0].count"
    assert err.line == 8
    assert "-3" in err.message


def test_missing_required_key(tmp_path):
    err = error_of(tmp_path, "name: t\nfleets: []\n")
    assert err.path == "horizon" and "missing required key" in err.message


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append("name: bomb")
    err = error_of(tmp_path, "\n".join(lines) + "\n")
    assert "alias bomb" in err.message


def test_oversized_file(tmp_path):
    err = error_of(tmp_path, "name: t\n" + "# padding\n" * 300_000)
    assert "at most" in err.message and "bytes" in err.message


def test_nan_and_inf_are_refused(tmp_path):
    err = error_of(tmp_path, GOOD + "pricing:\n  enterprise_discount_pct: .nan\n")
    assert err.path == "pricing.enterprise_discount_pct"
    err = error_of(tmp_path, GOOD.replace("duration_s: 1d", "duration_s: .inf"))
    assert err.path == "horizon.duration_s" and "finite" in err.message


def test_million_year_horizon(tmp_path):
    err = error_of(tmp_path, GOOD.replace("duration_s: 1d", "duration_s: 1000000y"))
    assert err.path == "horizon.duration_s"
    assert "years" in err.message and err.line == 4


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_yaml(tmp_path / "nope.yaml")
    assert "not found" in info.value.message


def test_duplicate_key(tmp_path):
    err = error_of(tmp_path, "name: a\nname: b\n")
    assert "duplicate key 'name'" in err.message and err.line == 2


def test_duplicate_resource_names(tmp_path):
    text = GOOD + "  - name: a\n    instance_type: ml.m5.large\n"
    err = error_of(tmp_path, text)
    assert "used twice" in err.message


@pytest.mark.parametrize(
    "text",
    [
        "name: t\nhorizon: [1, 2\n",
        "",
        b"\x00\x01\x02",
        "- a\n",
        GOOD.replace("count: 1", "cuont: 1"),
        GOOD.replace("duration_s: 1d", "duration_s: 1000000y"),
    ],
)
def test_cli_exit_code_2_without_traceback(tmp_path, text):
    path = write(tmp_path, text)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert str(path) in result.output


def test_cli_missing_file_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["run", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert "not found" in result.output
