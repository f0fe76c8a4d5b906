"""The corpus format has one owner (`data_pipeline.corpus`): what it writes, every reader reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_pipeline import corpus
from data_pipeline.errors import DataError
from data_pipeline.writer import write_dataset


def _row(triton_examples: dict[str, str], task_id: str) -> dict:
    from rewards import prompt_messages, sft_messages

    ref, sol = triton_examples["relu_ref"], triton_examples["relu_sol"]
    return {"task_id": task_id, "sample_id": task_id, "source": "synth", "op_kind": "relu", "difficulty": "1",
            "license": "Apache-2.0", "provenance": "test", "instruction": "ReLU.", "reference": ref, "solution": sol,
            "prompt": prompt_messages(ref, "ReLU."), "messages": sft_messages(ref, "ReLU.", sol), "has_solution": True,
            "verify_status": "ok", "verify_max_abs_err": 0.0, "verify_trials": 2, "verify_kernel_launches": 1,
            "verify_summary": "ok"}


@pytest.fixture
def full_corpus(tmp_path: Path, triton_examples: dict[str, str]) -> Path:
    attempt = {"attempt_id": "a#0", "task_id": "a", "source": "synth", "prompt": [], "completion": "x",
               "reference": "r", "correct": False, "backend": "fake", "model": "m", "verify_status": "no_code"}
    fix = _row(triton_examples, "f")
    refine = {**{k: fix[k] for k in ("task_id", "source", "op_kind", "difficulty", "license", "provenance", "reference")},
              "prompt": [*fix["prompt"], {"role": "assistant", "content": "x"}, {"role": "user", "content": "feedback"}],
              "completion": fix["messages"][-1:], "refine_source": "synth_bug:cut_line", "wrong_status": "syntax_error"}
    splits = {"sft": [_row(triton_examples, "s")], "rl": [_row(triton_examples, "r")],
              "heldout": [_row(triton_examples, "h")], "attempts": [attempt], "indist": [_row(triton_examples, "i")],
              "refine": [refine]}
    return write_dataset(tmp_path / "corpus", "t", splits, {"stages": []})


def test_fixture_corpus_is_the_builder_layout(tiny_corpus_dir: Path) -> None:
    """tests/conftest.py writes its corpus with the builder's writer: `datasets` reads it from the card."""
    import datasets

    assert corpus.split_files(tiny_corpus_dir, "sft") == [corpus.split_file(tiny_corpus_dir, "sft")]
    ds = datasets.load_dataset(str(tiny_corpus_dir), download_mode="force_redownload")
    assert set(ds) == {"sft", "rl"} and ds["sft"].features == corpus.features("sft")
    assert (tiny_corpus_dir / "build_report.json").is_file()


def test_every_split_round_trips(full_corpus: Path) -> None:
    for split in ("sft", "rl", "heldout", "attempts", "indist", "refine"):
        ds = corpus.load_split(full_corpus, split)
        assert ds.column_names == list(corpus.columns(split)), split
        assert ds.features == corpus.features(split), split
    assert corpus.load_split(full_corpus, "indist")[0]["task_id"] == "i"
    assert corpus.load_split(full_corpus / corpus.INDIST, "heldout")[0]["task_id"] == "i"
    rows = corpus.read_rows(full_corpus)
    assert {s: len(r) for s, r in rows.items()} == {"sft": 1, "rl": 1, "heldout": 1, "attempts": 1, "refine": 1}
    assert rows["refine"][0]["prompt"][-1] == {"role": "user", "content": "feedback"}
    assert rows["sft"][0]["verify_trials"] == 2 and rows["attempts"][0]["verify_trials"] is None


def test_rewritten_corpus_is_read_fresh(full_corpus: Path, triton_examples: dict[str, str]) -> None:
    """A corpus rebuilt under the same name is read from disk, not from `datasets`' cache of the old one."""
    assert corpus.load_split(full_corpus, "sft")[0]["task_id"] == "s"
    write_dataset(full_corpus, "t", {"sft": [_row(triton_examples, "new")]}, {})
    assert corpus.load_split(full_corpus, "sft")["task_id"] == ["new"]
    assert not full_corpus.with_name("corpus.partial").exists() and not full_corpus.with_name("corpus.old").exists()


def test_missing_split_or_corpus_says_so(tiny_corpus_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no 'heldout' split .* splits here: sft, rl"):
        corpus.load_split(tiny_corpus_dir, "heldout")
    with pytest.raises(FileNotFoundError, match="tritonforge data build"):
        corpus.load_split(tmp_path / "nope", "sft")
    (tmp_path / "file.parquet").write_text("")
    with pytest.raises(DataError, match="not a corpus folder"):
        corpus.load_split(tmp_path / "file.parquet", "sft")
    with pytest.raises(DataError, match="not a built corpus"):
        corpus.read_rows(tmp_path)


def test_nothing_to_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no rows at all"):
        write_dataset(tmp_path / "empty", "t", {"sft": [], "attempts": []}, {})
    assert list(tmp_path.iterdir()) == []
