"""Two training ranks on this CPU (accelerate, gloo): the multi-rank path the cluster launches use.

Each rank takes its share of the cores; a SIGKILL of the launch after a checkpoint and the same command
again finish the run from that checkpoint, every step logged once, the final model written once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_pipeline.threads import cpu_count
from sft.common import complete_checkpoints
from sft.ranks import rank_threads

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "stagekit" / "recipes" / "sft" / "tiny.yaml"
ACCELERATE = ROOT / "scripts" / "accelerate" / "cpu_2proc.yaml"


def test_each_rank_takes_its_share_of_the_cores(monkeypatch) -> None:
    monkeypatch.delenv("TRITONFORGE_THREADS", raising=False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert rank_threads("auto") == max(1, cpu_count() // 2)
    assert rank_threads(3) == 3  # an explicit count is kept
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    assert rank_threads("auto") == "auto"
    from rewards.contract.config import VerifyConfig

    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert VerifyConfig().workers == max(1, (os.cpu_count() or 2) // 2)


def _launch(out: Path, model: Path, corpus: Path, steps: int) -> list[str]:
    return [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ACCELERATE),
        "-m", "sft.cli", "--config", str(RECIPE), "--model_name_or_path", str(model), "--corpus", str(corpus),
        "--output_dir", str(out), "--max_length", "1024", "--max_steps", str(steps), "--save_steps", "2",
        "--logging_steps", "1", "--per_device_train_batch_size", "1", "--report_to", "none",
    ]  # fmt: skip


@pytest.mark.slow
def test_two_rank_sft_killed_and_relaunched_resumes(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    out = tmp_path / "run"
    cmd = _launch(out, tiny_model_dir, tiny_corpus_dir, 6)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.time() + 400
        while time.time() < deadline and not complete_checkpoints(str(out)):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else "exited"
            time.sleep(0.2)
        assert complete_checkpoints(str(out)), "no complete checkpoint within the deadline"
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "model.safetensors").exists()
    kept = int(Path(complete_checkpoints(str(out))[0]).name.split("-")[1])  # what a relaunch resumes from

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    logged = (done.stdout + done.stderr).count("'loss'")  # the trainer prints one dict per logged step
    assert logged == 6 - kept, f"the relaunch trained {logged} steps, expected {6 - kept} after checkpoint-{kept}"
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    steps = [h["step"] for h in state["log_history"] if "loss" in h]
    assert steps == sorted(set(steps)) and steps[-1] == 6  # every step logged once, none twice
    assert sorted(p.name for p in out.glob("*.safetensors")) == ["model.safetensors"]  # written once, by rank 0

    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(out)
    assert sum(p.numel() for p in model.parameters()) > 0
