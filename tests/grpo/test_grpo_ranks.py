"""Two GRPO ranks on this CPU (accelerate, gloo): each rank generates and verifies its own completions
with its share of the cores; SIGKILL after a checkpoint and the same command resumes from it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sft.common import complete_checkpoints

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "stagekit" / "recipes" / "grpo" / "tiny.yaml"
ACCELERATE = ROOT / "scripts" / "accelerate" / "cpu_2proc.yaml"
STEPS = 3


@pytest.mark.slow
def test_two_rank_grpo_killed_and_relaunched_resumes(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ACCELERATE),
        "-m", "grpo.cli", "--config", str(RECIPE), "--model_name_or_path", str(tiny_model_dir),
        "--corpus", str(tiny_corpus_dir), "--output_dir", str(out), "--num_generations", "2",
        "--per_device_train_batch_size", "2", "--max_completion_length", "16", "--verify_timeout_s", "10",
        "--verify_trials", "1", "--save_steps", "1", "--logging_steps", "1", "--max_steps", str(STEPS),
        "--report_to", "none",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.time() + 500
        while time.time() < deadline and not complete_checkpoints(str(out)):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else "exited"
            time.sleep(0.2)
        assert complete_checkpoints(str(out)), "no complete checkpoint within the deadline"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    kept = int(Path(complete_checkpoints(str(out))[0]).name.split("-")[1])  # what a relaunch resumes from
    assert kept < STEPS

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    logged = (done.stdout + done.stderr).count("'loss'")
    assert logged == STEPS - kept, f"the relaunch trained {logged} steps, expected {STEPS - kept}"
    state = json.loads((out / f"checkpoint-{STEPS}" / "trainer_state.json").read_text())
    assert state["global_step"] == STEPS
    assert sorted(p.name for p in out.glob("*.safetensors")) == ["model.safetensors"]
