"""SFT with refinement conversations: the fix is trained, the wrong answer and the feedback are context only."""

from __future__ import annotations

from pathlib import Path

from sft.cli import parse

RECIPE = Path(__file__).resolve().parents[2] / "stagekit" / "recipes" / "sft" / "tiny.yaml"


def _corpus(root: Path, triton_examples: dict[str, str]) -> Path:
    from data_pipeline.writer import write_dataset
    from rewards import prompt_messages, sft_messages

    ex = triton_examples
    meta = {"source": "synth", "op_kind": "x", "difficulty": "1", "license": "Apache-2.0", "provenance": "test"}
    sft = [{"task_id": f"t{i}", "reference": ex["relu_ref"], "instruction": "go", "solution": ex["relu_sol"],
            "prompt": prompt_messages(ex["relu_ref"], "go"), "messages": sft_messages(ex["relu_ref"], "go", ex["relu_sol"]),
            **meta} for i in range(3)]
    refine = [{"prompt": [*prompt_messages(ex["vecadd_ref"], "go"),
                          {"role": "assistant", "content": "WRONG_ANSWER_MARKER ```python\nx = 1\n```"},
                          {"role": "user", "content": "Verification failed: status `rule_violation`."}],
               "completion": [{"role": "assistant", "content": "FIX_MARKER ```python\n" + ex["vecadd_sol"] + "```"}],
               "task_id": f"r{i}", "reference": ex["vecadd_ref"], "refine_source": "synth_bug:api_typo",
               "wrong_status": "rule_violation", **meta} for i in range(3)]
    return write_dataset(root / "corpus", "t", {"sft": sft, "rl": [], "heldout": [], "attempts": [], "refine": refine},
                         {"stages": []})


def test_refinement_rows_train_only_the_fix(tiny_model_dir, triton_examples, tmp_path) -> None:
    from sft.train import build_trainer

    corpus = _corpus(tmp_path, triton_examples)
    args = parse(["--config", str(RECIPE), "--model_name_or_path", str(tiny_model_dir), "--corpus", str(corpus),
                  "--output_dir", str(tmp_path / "out"), "--max_length", "2048", "--max_steps", "1",
                  "--per_device_train_batch_size", "8", "--refine_split", "refine"])
    trainer = build_trainer(*args)
    tok = trainer.processing_class
    trained, seen = [], []
    for batch in trainer.get_train_dataloader():
        ids, labels = batch["input_ids"], batch["labels"]
        trained.append(tok.decode(ids[labels != -100].tolist()))
        seen.append(tok.decode(ids.flatten().tolist()))
    trained_text, all_text = "".join(trained), "".join(seen)
    assert trained_text.count("FIX_MARKER") == 3 and trained_text.count("relu_kernel[") == 3  # both kinds of rows
    assert "WRONG_ANSWER_MARKER" in all_text and "Verification failed" in all_text  # context...
    assert "WRONG_ANSWER_MARKER" not in trained_text and "Verification failed" not in trained_text  # ...not target
