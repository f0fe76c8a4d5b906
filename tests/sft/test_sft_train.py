"""SFT on the tiny random model: the prompt is masked, parameters move, checkpoints load and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sft.cli import parse

RECIPE = Path(__file__).resolve().parents[2] / "stagekit" / "recipes" / "sft" / "tiny.yaml"


def _args(model_dir: Path, corpus: Path, out: Path, *extra: str) -> tuple:
    return parse(
        [
            "--config", str(RECIPE),
            "--model_name_or_path", str(model_dir),
            "--corpus", str(corpus),
            "--output_dir", str(out),
            "--max_length", "1024",
            "--max_steps", "4",
            "--save_steps", "2",
            "--logging_steps", "1",
            "--learning_rate", "1e-3",
            "--per_device_train_batch_size", "2",
            *extra,
        ]
    )  # fmt: skip


def test_recipe_parses_with_overrides() -> None:
    script, cfg, model_cfg = parse(["--config", str(RECIPE), "--max_steps", "3", "--corpus", "x"])
    assert cfg.max_steps == 3 and script.corpus == "x" and cfg.assistant_only_loss
    assert model_cfg.model_name_or_path == "default"
    assert cfg.bf16 is (torch.cuda.is_available())  # fp32 on CPU, bf16 on GPU


def test_loss_masks_prompt(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    """Labels are -100 on system/user tokens and real on the assistant turn (including <|im_end|>)."""
    from sft.train import build_trainer

    trainer = build_trainer(*_args(tiny_model_dir, tiny_corpus_dir, tmp_path / "out"))
    tok = trainer.processing_class
    batch = next(iter(trainer.get_train_dataloader()))
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    kept = ids[labels != -100].tolist()
    text = tok.decode(kept)
    assert "```python" in text and "class ModelNew" in text and text.endswith("<|im_end|>")
    assert "class Model(nn.Module)" not in text and "expert GPU kernel engineer" not in text
    assert "<|im_start|>" not in text  # role headers are prompt, not target
    full = tok.decode(ids[batch["attention_mask"][0].bool()].tolist()) if "attention_mask" in batch else ""
    assert not full or "class Model(nn.Module)" in full  # the prompt is in the input, just not in the loss
    assert 0 < len(kept) < (labels.numel() + 1)


def test_tiny_sft_trains_saves_and_resumes(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sft.train import run_sft

    out = tmp_path / "sft"
    script, cfg, model_cfg = _args(tiny_model_dir, tiny_corpus_dir, out, "--max_steps", "2")
    run_sft(script, cfg, model_cfg)
    assert (out / "checkpoint-2").is_dir()
    before = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    after = AutoModelForCausalLM.from_pretrained(str(out))
    changed = [
        n
        for (n, a), b in zip(before.named_parameters(), after.parameters(), strict=True)
        if not torch.equal(a, b)
    ]
    assert changed, "no parameter changed during SFT"
    tok = AutoTokenizer.from_pretrained(str(out))
    assert "{% generation %}" in tok.chat_template

    # Same command with a larger budget (as after a kill): continues from checkpoint-2, not from scratch.
    script, cfg, model_cfg = _args(tiny_model_dir, tiny_corpus_dir, out, "--max_steps", "4")
    run_sft(script, cfg, model_cfg)
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == sorted(set(steps)) and steps[0] == 1  # history carried over from the first run


def test_lora_run_saves_adapter_and_merged(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    from transformers import AutoModelForCausalLM

    from sft.train import final_model_dir, run_sft

    out = tmp_path / "lora"
    script, cfg, model_cfg = _args(
        tiny_model_dir, tiny_corpus_dir, out, "--max_steps", "1", "--use_peft", "--lora_r", "4",
        "--lora_target_modules", "q_proj", "v_proj",
    )  # fmt: skip
    run_sft(script, cfg, model_cfg)
    assert (out / "adapter_config.json").is_file()
    assert final_model_dir(str(out)) == str(out / "merged")
    AutoModelForCausalLM.from_pretrained(final_model_dir(str(out)))


@pytest.mark.parametrize("argv", [["--help"]])
def test_cli_help(argv, capsys) -> None:
    import argparse

    from sft.cli import register

    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="cmd"))
    ns = p.parse_args(["sft", *argv])
    assert ns.func(ns) == 0
    assert "assistant_only_loss" in capsys.readouterr().out


def test_sigkilled_run_resumes_with_same_command(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    """Kill -9 a real `tritonforge sft` process mid-training; the same command then finishes the run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    cmd = [
        sys.executable, "-m", "sft.cli", "--config", str(RECIPE), "--model_name_or_path", str(tiny_model_dir),
        "--corpus", str(tiny_corpus_dir), "--output_dir", str(out), "--max_length", "1024",
        "--save_steps", "1", "--logging_steps", "1", "--per_device_train_batch_size", "1",
    ]  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([*cmd, "--max_steps", "400"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (out / "checkpoint-2" / "trainer_state.json").exists():
            assert proc.poll() is None, "training exited before it could be killed"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    killed_at = max(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*"))
    assert 2 <= killed_at < 400
    done = subprocess.run(
        [*cmd, "--max_steps", str(killed_at + 2)], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads((out / f"checkpoint-{killed_at + 2}" / "trainer_state.json").read_text())
    assert state["global_step"] == killed_at + 2 and (out / "config.json").is_file()
