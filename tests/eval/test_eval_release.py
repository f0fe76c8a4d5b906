"""Release folders load with AutoModelForCausalLM/AutoTokenizer; LoRA adapters are merged; the card has the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.cli import main
from eval.release import release
from eval.report import write_report
from rewards.contract.prompt import SYSTEM_PROMPT


@pytest.fixture
def eval_dir(tmp_path: Path) -> Path:
    d = tmp_path / "eval_sft"
    d.mkdir()
    rows = [
        {"task_id": "relu", "sample": 0, "status": "ok", "correct": True, "rule_ok": True, "speedup": None},
        {"task_id": "add", "sample": 0, "status": "mismatch", "correct": False, "rule_ok": True, "speedup": None},
    ]
    write_report(d, rows, settings={"model": "ckpt", "suite": "heldout:corpus", "samples": 1, "label": "sft"})
    return d


def _load(folder: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(str(folder)), AutoTokenizer.from_pretrained(str(folder))


def test_release_full_checkpoint(tmp_path: Path, tiny_model_dir: Path, eval_dir: Path) -> None:
    (tiny_model_dir / "trainer_state.json").write_text(json.dumps(
        {"global_step": 12, "epoch": 1.0, "max_steps": 12, "log_history": [{"loss": 2.5, "step": 12}]}))
    out = release(tiny_model_dir, [eval_dir], tmp_path / "rel")
    model, tok = _load(out)
    assert tok.chat_template and (out / "generation_config.json").is_file()
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    card = (out / "README.md").read_text()
    assert "| sft | `heldout:corpus` |" in card and "exec_accuracy" in card
    assert SYSTEM_PROMPT in card and "## Limitations" in card and "global step 12" in card
    assert not list(tmp_path.glob(".rel.*"))  # no temporary folder left behind
    release(tiny_model_dir, [], tmp_path / "rel")  # replacing an existing release works
    assert "No eval report" in (out / "README.md").read_text()


def test_release_merges_lora(tmp_path: Path, tiny_model_dir: Path, eval_dir: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():  # make the adapter non-trivial so merging visibly changes weights
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.05)
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(str(adapter))
    AutoTokenizer.from_pretrained(str(tiny_model_dir)).save_pretrained(str(adapter))
    expected = peft_model.merge_and_unload().state_dict()["model.layers.0.self_attn.q_proj.weight"].clone()

    assert main(["release", "--model", str(adapter), "--report", str(eval_dir), "--out", str(tmp_path / "rel")]) == 0
    model, _tok = _load(tmp_path / "rel")
    got = model.state_dict()["model.layers.0.self_attn.q_proj.weight"]
    assert torch.allclose(got, expected, atol=1e-6)
    assert not (tmp_path / "rel" / "adapter_config.json").exists()
    card = (tmp_path / "rel" / "README.md").read_text()
    assert "LoRA adapter (r=4, alpha=8) merged" in card


def test_release_bad_checkpoint_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["release", "--model", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
