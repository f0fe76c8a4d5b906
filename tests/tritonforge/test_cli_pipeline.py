"""The console command fronts every stage; the pipeline plan chains them through one run folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tritonforge.cli import build_parser
from tritonforge.pipeline import PRESETS, RECIPES, run_pipeline, stages


def test_every_stage_is_a_subcommand():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"verify", "bench", "data", "sft", "grpo", "eval", "generate", "release", "pipeline"} <= set(sub.choices)


def test_tiny_plan_chains_outputs_to_inputs(tmp_path):
    plan = dict(stages(PRESETS["tiny"], tmp_path))
    assert list(plan) == ["data", "sft", "grpo", "eval-base", "eval-sft", "eval-grpo", "compare", "release"]
    data = str(tmp_path / "data")
    assert plan["data"][-1] == data
    assert data in plan["sft"] and data in plan["grpo"]
    assert str(tmp_path / "sft") in plan["grpo"]  # GRPO starts from the SFT model
    assert f"heldout:{data}" in plan["eval-grpo"]
    for p in PRESETS.values():  # every recipe a preset names exists
        for rel in (p.data, p.sft, p.grpo):
            assert (RECIPES / rel).is_file(), rel


def test_unknown_preset_is_one_error_line():
    p = subprocess.run([sys.executable, "-m", "tritonforge.cli", "pipeline", "--preset", "huge", "--out", "x"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.strip().startswith("error:") and len(p.stderr.strip().splitlines()) == 1


def test_finished_stages_are_skipped_on_rerun(tmp_path, capsys):
    state = Path(tmp_path) / ".state"
    state.mkdir()
    for name, _ in stages(PRESETS["tiny"], tmp_path):
        (state / f"{name}.done").write_text("1\n")
    assert run_pipeline("tiny", tmp_path) == 0
    assert "skipping" in capsys.readouterr().err
