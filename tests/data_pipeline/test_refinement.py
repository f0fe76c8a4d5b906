"""Refinement conversations: real judge feedback on wrong answers, the fix as completion, resumable, on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_pipeline import refinement
from data_pipeline.refinement import MUTATORS, build_refinement, mutants
from rewards import VerifyConfig, prompt_messages, sft_messages
from stagekit.journal import Journal

CFG = VerifyConfig(device="cpu", trials=1, workers=2, timeout_s=60, seed=0)


def _row(task_id: str, ref: str, sol: str) -> dict:
    instr = "Write a Triton kernel."
    return {"task_id": task_id, "sample_id": task_id, "source": "synth", "op_kind": "x", "difficulty": "1",
            "license": "Apache-2.0", "provenance": "test", "reference": ref, "solution": sol, "instruction": instr,
            "prompt": prompt_messages(ref, instr), "messages": sft_messages(ref, instr, sol)}


def test_every_mutator_changes_a_known_good_kernel(triton_examples: dict[str, str]) -> None:
    code = triton_examples["relu_sol"]
    kinds = dict(mutants(code))
    assert set(kinds) == set(MUTATORS)
    assert "tl.loads(" in kinds["api_typo"] and "(n) // (512)" in kinds["floor_grid"]
    assert "offs <= n" in kinds["mask_off_by_one"] and kinds["cut_line"].count("(") > kinds["cut_line"].count(")")
    assert [k for k, _ in mutants(code, start=1)][0] == list(MUTATORS)[1]  # rotation spreads kinds over tasks


def test_rows_carry_real_feedback_and_the_fix(triton_examples: dict[str, str], tmp_path: Path, monkeypatch) -> None:
    ex = triton_examples
    sft = [_row("relu", ex["relu_ref"], ex["relu_sol"]), _row("vecadd", ex["vecadd_ref"], ex["vecadd_sol"])]
    wrong = f"```python\n{ex['relu_wrong']}```"
    attempts = [{"attempt_id": "relu#0", "task_id": "relu", "completion": wrong, "correct": False},
                {"attempt_id": "relu#1", "task_id": "relu", "completion": "right", "correct": True}]
    journal = Journal(tmp_path / "refine.jsonl")
    rows = build_refinement(sft, attempts, limit=10, vcfg=CFG, journal=journal, batch=8, log=lambda m: None)
    by_source = {r["refine_source"]: r for r in rows}
    teacher = by_source["teacher_attempt"]
    assert teacher["wrong_status"] == "mismatch"
    assert [m["role"] for m in teacher["prompt"]] == ["system", "user", "assistant", "user"]
    assert teacher["prompt"][2]["content"] == wrong
    assert teacher["prompt"][3]["content"].startswith("Verification failed: status `mismatch`")
    assert teacher["completion"] == [sft[0]["messages"][-1]] and "relu_kernel[" in teacher["completion"][0]["content"]
    # one mutant per SFT row (kinds rotate); each judged for real, the ones the judge still accepts dropped
    mutant_rows = [r for r in rows if r["refine_source"].startswith("synth_bug:")]
    assert mutant_rows and all(r["wrong_status"] != "ok" for r in mutant_rows)
    assert all(r["prompt"][3]["content"].startswith(f"Verification failed: status `{r['wrong_status']}`")
               for r in mutant_rows)

    # resumable: a rerun reads every verdict from the journal and verifies nothing
    def no_verify(*a, **k):
        raise AssertionError("verified again")

    monkeypatch.setattr(refinement, "verify_batch", no_verify)
    again = build_refinement(sft, attempts, limit=10, vcfg=CFG, journal=journal, batch=8, log=lambda m: None)
    assert again == rows
    assert len(build_refinement(sft, attempts, limit=1, vcfg=CFG, journal=journal, batch=8, log=lambda m: None)) == 1


def test_refine_split_round_trips_through_the_corpus(tmp_path: Path) -> None:
    from data_pipeline.corpus import load_split
    from data_pipeline.writer import write_dataset

    base = _row("t", "class Model: ...", "class ModelNew: ...")
    refine = [{"prompt": [*base["prompt"], {"role": "assistant", "content": "bad"},
                          {"role": "user", "content": "Verification failed: status `no_code`."}],
               "completion": [{"role": "assistant", "content": "good"}], "task_id": "t", "source": "synth",
               "op_kind": "x", "difficulty": "1", "license": "Apache-2.0", "provenance": "test",
               "reference": "class Model: ...", "refine_source": "synth_bug:cut_line", "wrong_status": "syntax_error"}]
    out = write_dataset(tmp_path / "c", "t", {"sft": [base], "rl": [], "heldout": [], "attempts": [],
                                                "refine": refine}, {"stages": []})
    ds = load_split(out, "refine")
    assert ds[0]["completion"][0]["content"] == "good" and ds[0]["prompt"][-1]["role"] == "user"
    assert "config_name: refine" in (out / "README.md").read_text()


def test_refinement_setting_is_checked() -> None:
    from data_pipeline.config import load_config
    from data_pipeline.errors import DataError

    assert load_config("tiny", ["--refinement", "8"]).refinement == 8
    with pytest.raises(DataError, match="refinement"):
        load_config("tiny", ["--refinement", "-1"])
