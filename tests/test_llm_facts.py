"""The LLM hardware and model fact tables: sourced, consistent with the price catalog, shapes that add up."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from smsim.errors import InputError
from smsim.pricing.catalog import builtin_catalog_dir
from smsim.resources.llm.facts import FACT_FILES, fact_table, facts_dir, read_fact_table
from smsim.resources.llm.hardware import accelerator, instance_accelerators, model_shape


@pytest.mark.parametrize("name", sorted(FACT_FILES))
def test_every_row_has_a_source_and_a_date(name):
    table = fact_table(name)
    assert len(table) >= 5
    assert (table["source"].str.len() > 20).all()
    assert table["as_of"].map(lambda d: re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) is not None).all()


def test_facts_live_with_the_catalog_so_they_ship_in_the_wheel():
    # setup.py copies data/pricing into the wheel as smsim/_catalog; the facts sit in the same folder
    assert facts_dir() == builtin_catalog_dir()
    for name in FACT_FILES:
        assert (facts_dir() / name).is_file()


def test_instances_agree_with_the_price_catalogs_instance_table():
    ours = fact_table("accelerator_instances.csv").set_index("instance_type")
    catalog = pd.read_csv(builtin_catalog_dir() / "instances.csv").set_index("instance_type")
    both = ours.index.intersection(catalog.index)
    assert len(both) >= 30  # every modelled type but ml.p5e.48xlarge, which has no price yet
    assert set(ours.index) - set(both) == {"ml.p5e.48xlarge"}
    for it in both:
        row, cat = ours.loc[it], catalog.loc[it]
        assert row["accelerator_count"] == cat["accelerator_count"], it
        assert row["accelerator"].startswith(cat["accelerator_type"]), it
        acc = accelerator(row["accelerator"])
        assert acc.memory_gb * row["accelerator_count"] == pytest.approx(cat["accelerator_memory_gib"]), it
        assert (row["interconnect_gb_per_s"] > 0) == (row["accelerator_count"] > 1), it


def test_every_family_the_issue_names_is_modelled():
    families = {it.split(".")[1] for it in fact_table("accelerator_instances.csv")["instance_type"]}
    assert families == {"g5", "g6", "g6e", "p4d", "p4de", "p5", "p5e", "inf2", "trn1"}
    names = set(fact_table("accelerators.csv")["accelerator"])
    assert names == {"NVIDIA A10G", "NVIDIA L4", "NVIDIA L40S", "NVIDIA A100 40GB", "NVIDIA A100 80GB",
                     "NVIDIA H100", "NVIDIA H200", "AWS Inferentia2", "AWS Trainium"}


@pytest.mark.parametrize("name", list(fact_table("llm_models.csv")["model"]))
def test_parameter_counts_from_the_shape_match_the_published_totals(name):
    shape = model_shape(name)
    assert shape.total_params / 1e9 == pytest.approx(shape.params_b, rel=0.005)
    assert shape.active_params / 1e9 == pytest.approx(shape.active_params_b, rel=0.005)
    assert shape.head_dim * shape.attention_heads == shape.q_dim
    assert shape.attention_heads % shape.kv_heads == 0


def test_llama_8b_parameters_by_hand():
    s = model_shape("Llama-3.1-8B")
    per_layer = 4096 * 4096 * 2 + 2 * 4096 * 1024 + 3 * 4096 * 14336  # q, o; k, v; gate, up, down
    assert s.linear_params(1) == 32 * per_layer == 6_979_321_856
    assert s.total_params == 6_979_321_856 + 2 * 128256 * 4096 + 65 * 4096 == 8_030_261_248


def test_mixtral_active_parameters_count_two_of_eight_experts():
    s = model_shape("Mixtral-8x7B")
    expert = 3 * 4096 * 14336
    assert s.total_params - s.active_params == 32 * 6 * expert


def test_hugging_face_ids_resolve_to_the_base_rows():
    assert model_shape("meta-llama/Meta-Llama-3.1-8B-Instruct").name == "Llama-3.1-8B"
    assert model_shape("mistralai/Mixtral-8x7B-Instruct-v0.1").name == "Mixtral-8x7B"
    assert model_shape("mistralai/Mistral-7B-Instruct-v0.3").name == "Mistral-7B-v0.3"
    assert model_shape("qwen2.5-72b-instruct").name == "Qwen2.5-72B"


def test_unknown_names_are_input_errors_with_suggestions():
    with pytest.raises(InputError, match=r"unknown model 'Llama-3.1-7B' \(did you mean 'Llama-3.1-70B'"):
        model_shape("Llama-3.1-7B")
    with pytest.raises(InputError, match=r"unknown instance_type 'ml.g5.2xlarg' \(did you mean 'ml.g5.2xlarge'"):
        instance_accelerators("ml.g5.2xlarg")
    with pytest.raises(InputError, match="unknown accelerator 'H100'"):
        accelerator("H100")


def test_a_bad_fact_file_names_the_file_line_and_column(tmp_path):
    good = (facts_dir() / "accelerators.csv").read_text().splitlines()
    header, first = good[0], good[1]
    missing_source = first.rsplit(",", 1)[0].rsplit('"', 2)[0].rstrip(",") + ",,2026-01-01"
    path = tmp_path / "accelerators.csv"
    path.write_text("\n".join([header, first, missing_source]) + "\n")
    with pytest.raises(InputError) as err:
        read_fact_table(path, "accelerators.csv")
    e = err.value
    assert (e.file, e.line, e.column, e.path) == (str(path), 3, 7, "source")
    path.write_text("\n".join([header, first.replace(",600,", ",fast,", 1)]) + "\n")
    with pytest.raises(InputError, match="memory_bandwidth_gb_per_s must be a finite number >= 0, found 'fast'"):
        read_fact_table(path, "accelerators.csv")
    path.write_text("\n".join([header, first, first]) + "\n")
    with pytest.raises(InputError, match="duplicate row for accelerator=NVIDIA A10G"):
        read_fact_table(path, "accelerators.csv")
