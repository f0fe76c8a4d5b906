"""The training stages read the corpus through `data_pipeline.corpus`, the owner of its layout."""

from __future__ import annotations

import json

import pytest

from data_pipeline import corpus
from data_pipeline.corpus import load_split as load_corpus_split
from sft.common import final_model_dir


def test_fixture_corpus_splits(tiny_corpus_dir) -> None:
    sft = load_corpus_split(str(tiny_corpus_dir), "sft")
    rl = load_corpus_split(str(tiny_corpus_dir), "rl", max_samples=1)
    # The fixture is written by the real writer: every task split has the one task schema.
    assert sft.column_names == list(corpus.TASK_COLUMNS) and len(rl) == 1
    assert {"prompt", "reference", "task_id"} <= set(rl.column_names)


def test_data_pipeline_writer_layout(tmp_path, triton_examples) -> None:
    """Same schema as `tritonforge data build` (skipped where the data pipeline is not in the checkout)."""
    writer = pytest.importorskip("data_pipeline.writer")
    from rewards import prompt_messages, sft_messages

    ex = triton_examples
    row = {
        "task_id": "relu",
        "source": "synth",
        "op_kind": "relu",
        "difficulty": "easy",
        "reference": ex["relu_ref"],
        "prompt": prompt_messages(ex["relu_ref"], "ReLU."),
        "messages": sft_messages(ex["relu_ref"], "ReLU.", ex["relu_sol"]),
    }
    out = writer.write_dataset(tmp_path / "corpus", "t", {"sft": [row], "rl": [row], "heldout": [row]}, {})
    assert load_corpus_split(str(out), "sft")[0]["messages"][-1]["role"] == "assistant"
    assert load_corpus_split(str(out), "rl")[0]["reference"] == ex["relu_ref"]


def test_missing_corpus_says_how_to_build(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="tritonforge data build"):
        load_corpus_split(str(tmp_path / "nope"), "sft")


def test_final_model_dir_prefers_merged(tmp_path) -> None:
    assert final_model_dir(str(tmp_path)) == str(tmp_path)
    (tmp_path / "merged").mkdir()
    (tmp_path / "merged" / "config.json").write_text("{}")
    (tmp_path / "merged" / "model.safetensors").write_bytes(b"")  # complete: config and weights
    assert final_model_dir(str(tmp_path)) == str(tmp_path / "merged")


def test_resume_skips_checkpoint_killed_mid_save(tmp_path) -> None:
    from sft.common import resume_checkpoint

    assert resume_checkpoint(str(tmp_path / "none"), None, auto=True) is None
    for step in (2, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (tmp_path / "checkpoint-12").mkdir()  # killed before trainer_state.json was written
    (tmp_path / "checkpoint-12" / "model.safetensors").write_text("partial")
    (tmp_path / "checkpoint-11").mkdir()
    (tmp_path / "checkpoint-11" / "trainer_state.json").write_text('{"global_st')  # torn write
    assert resume_checkpoint(str(tmp_path), None, auto=True) == str(tmp_path / "checkpoint-10")
    assert resume_checkpoint(str(tmp_path), None, auto=False) is None
    assert resume_checkpoint(str(tmp_path), "explicit", auto=True) == "explicit"
