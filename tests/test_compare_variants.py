"""Variant patches and their errors: name-addressed merges, removal, additions, and error lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from smsim.compare import apply_patch, load_compared, load_variants
from smsim.errors import InputError

BASE = """\
name: base-case
horizon: {start: 2026-01-05T00:00:00Z, duration_s: 1d}
seed: 3
tags: {team: platform}
fleets:
  - name: web
    instance_type: ml.m5.xlarge
    count: 2
  - name: nb
    instance_type: ml.t3.medium
    component: Notebook
    count: 1
"""


def _write(tmp_path: Path, variants: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(BASE + textwrap.dedent(variants))
    return path


def test_patch_merges_by_name_removes_and_adds_without_touching_the_base():
    base = {"tags": {"team": "a", "env": "prod"},
            "fleets": [{"name": "web", "count": 2, "tags": {"x": "1"}}, {"name": "nb", "count": 1}]}
    patch = {"tags": {"env": None, "cost-center": "42"},
             "fleets": {"web": {"count": 5}, "nb": None, "gpu": {"instance_type": "ml.g5.xlarge"}}}
    merged, origins = apply_patch(base, patch, ("variants", 0, "patch"))
    assert merged == {"tags": {"team": "a", "cost-center": "42"},
                      "fleets": [{"name": "web", "count": 5, "tags": {"x": "1"}},
                                 {"name": "gpu", "instance_type": "ml.g5.xlarge"}]}
    assert base["fleets"][0]["count"] == 2 and len(base["fleets"]) == 2  # base untouched
    assert origins[("fleets", 0, "count")] == ("variants", 0, "patch", "fleets", "web", "count")
    assert origins[("fleets", 1, "instance_type")] == ("variants", 0, "patch", "fleets", "gpu", "instance_type")


def test_removal_shifts_origins_of_later_items():
    base = {"fleets": [{"name": "a", "count": 1}, {"name": "b", "count": 1}, {"name": "c", "count": 1}]}
    merged, origins = apply_patch(base, {"fleets": {"a": None, "c": {"count": 9}}}, ("p",))
    assert [f["name"] for f in merged["fleets"]] == ["b", "c"]
    assert origins[("fleets", 1, "count")] == ("p", "fleets", "c", "count")
    assert origins[("fleets", 0)] == ("fleets", 1)  # b now sits at 0 but came from line of fleets[1]


def test_load_variants_validates_each_variant(tmp_path):
    path = _write(tmp_path, """
        variants:
          - name: bigger
            patch: {fleets: {web: {count: 4}}}
          - name: gpu
            description: g5 hosting
            patch:
              fleets:
                web: {instance_type: ml.g5.xlarge}
    """)
    arms = load_variants(path)
    assert [a.name for a in arms] == ["base", "bigger", "gpu"]
    assert arms[1].scenario.fleets[0].count == 4 and arms[1].scenario.fleets[0].instance_type == "ml.m5.xlarge"
    assert arms[2].scenario.fleets[0].instance_type == "ml.g5.xlarge" and arms[2].description == "g5 hosting"
    assert arms[0].scenario.fleets[0].count == 2


def test_error_in_a_patch_names_the_variant_and_points_at_the_patch_line(tmp_path):
    path = _write(tmp_path, """
        variants:
          - name: broken
            patch:
              fleets:
                web:
                  count: -1
    """)
    with pytest.raises(InputError) as info:
        load_variants(path)
    text = str(info.value)
    count_line = (BASE + textwrap.dedent("""
        variants:
          - name: broken
            patch:
              fleets:
                web:
                  count: -1
    """)).splitlines().index("          count: -1") + 1
    assert f"s.yaml:{count_line}:" in text
    assert "variant 'broken'" in text and "fleets[0].count" in text


def test_unknown_key_in_patch_is_reported_at_its_line(tmp_path):
    path = _write(tmp_path, """
        variants:
          - name: typo
            patch: {fleets: {web: {cuont: 3}}}
    """)
    with pytest.raises(InputError, match=r"variant 'typo': unknown key 'cuont' \(did you mean 'count'\?\)"):
        load_variants(path)


@pytest.mark.parametrize("variants, message", [
    ("variants:\n  - name: x\n    patch: {fleets: {webb: {count: 3}}}\n", "no resource named 'webb'.*did you mean 'web'"),
    ("variants:\n  - name: x\n    patch: {seed: 4}\n", "share the base seed"),
    ("variants:\n  - name: x\n    traffic_scale: 2\n", "no endpoints"),
    ("variants:\n  - name: x\n    traffic_scale: -1\n", "must be a number > 0"),
    ("variants:\n  - name: x\n  - name: x\n", "used twice"),
    ("variants:\n  - name: x\n    pach: {}\n", "unknown key 'pach'"),
])
def test_bad_variants_are_input_errors(tmp_path, variants, message):
    with pytest.raises(InputError, match=message):
        load_variants(_write(tmp_path, variants))


def test_traffic_scale_multiplies_rate_scale_of_every_endpoint():
    from smsim.compare import scale_traffic

    data = {"endpoints": [{"name": "a", "workload": {"rate_scale": 1.5}}, {"name": "b"}]}
    scale_traffic(data, 2.0)
    assert data["endpoints"][0]["workload"]["rate_scale"] == 3.0
    assert data["endpoints"][1]["workload"]["rate_scale"] == 2.0


def test_several_files_become_arms_with_unique_labels(tmp_path):
    a = _write(tmp_path, "", "a.yaml")
    b = _write(tmp_path, "variants:\n  - name: big\n    patch: {fleets: {web: {count: 9}}}\n", "b.yaml")
    c = _write(tmp_path, "", "c.yaml")
    arms = load_compared([a, b, c])
    # other files are named after their scenario; a clash falls back to the file stem
    assert [x.name for x in arms] == ["base", "base-case", "base-case/big", "c"]
    with pytest.raises(InputError, match="nothing to compare"):
        load_compared([a])
