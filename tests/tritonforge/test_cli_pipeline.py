"""The console command fronts every stage; the pipeline plan chains them through one run folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stagekit.options import resolve_recipe
from tritonforge.cli import build_parser
from tritonforge.pipeline import PRESETS, run_pipeline, stages


def test_every_stage_is_a_subcommand():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"verify", "bench", "data", "sft", "grpo", "eval", "generate", "release", "pipeline"} <= set(sub.choices)


def test_tiny_plan_chains_outputs_to_inputs(tmp_path):
    plan = dict(stages(PRESETS["tiny"], tmp_path))
    evals = [f"eval-{m}-{s}" for m in ("base", "sft", "grpo") for s in ("indist", "heldout")]
    assert list(plan) == ["data", "sft", "grpo", *evals, "compare", "release"]
    data = str(tmp_path / "data")
    assert plan["data"][-1] == data
    assert data in plan["sft"] and data in plan["grpo"]
    assert str(tmp_path / "sft") in plan["grpo"]  # GRPO starts from the SFT model
    assert f"heldout:{data}" in plan["eval-grpo-heldout"]  # unseen op combinations
    assert f"heldout:{data}/indist" in plan["eval-sft-indist"]  # unseen instances of seen combinations
    for p in PRESETS.values():  # every recipe a preset names is packaged
        for stage, name in (("data", p.data), ("sft", p.sft), ("grpo", p.grpo)):
            assert resolve_recipe(stage, name).is_file(), (stage, name)
    ev = plan["eval-sft-indist"]  # options in their one spelling
    assert "--max_new_tokens" in ev and "--max-new-tokens" not in ev


def test_small_preset_samples_for_pass_at_4(tmp_path):
    plan = dict(stages(PRESETS["small"], tmp_path))
    sft = plan["eval-sft-indist"]
    assert sft[sft.index("--samples") + 1] == "4" and float(sft[sft.index("--temperature") + 1]) > 0
    base = plan["eval-base-indist"]
    assert base[base.index("--samples") + 1] == "1" and float(base[base.index("--temperature") + 1]) == 0


def test_results_table_from_eval_journals(tmp_path):
    """The end-of-pipeline table reads each eval's samples.jsonl: pass@1, pass@k and call accuracy."""
    import json

    from tritonforge.pipeline import eval_dir, write_results

    p = PRESETS["small"]
    for model, correct in (("base", [0, 0, 0, 0]), ("sft", [1, 0, 0, 0]), ("grpo", [1, 1, 0, 0])):
        for split in p.eval.splits:
            d = eval_dir(tmp_path, model, split)
            d.mkdir(parents=True)
            rows = [{"task_id": "t1", "sample": i, "correct": bool(c), "status": "ok" if c else "mismatch"}
                    for i, c in enumerate(correct)]
            rows += [{"task_id": "t2", "sample": i, "correct": False, "status": "syntax_error"} for i in range(4)]
            (d / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    md = write_results(p, tmp_path, {"data": 60.0, "sft": 600.0})
    lines = {ln.split("|")[1].strip(): ln for ln in md.splitlines() if ln.startswith("| ")}
    # sft: task 1 has 1/4 correct, task 2 none -> pass@1 12.5%, pass@4 50%; call accuracy 50%
    assert "12.5% (2 tasks)" in lines["sft"] and "| 50.0% |" in lines["sft"]
    assert "25.0% (2 tasks)" in lines["grpo"] and "0.0% (2 tasks)" in lines["base"]
    assert "Wall time: 11.0 min" in md
    assert (tmp_path / "eval" / "results.md").read_text() == md


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


def test_multiturn_preset_trains_and_evaluates_with_turns(tmp_path):
    """small_multiturn: refinement data for SFT, single- and multi-turn GRPO from that SFT model at one token
    budget, every eval with --turns 2, and the table shows turn 1 and 2 of each model."""
    import json

    from tritonforge.pipeline import eval_dir, write_results

    p = PRESETS["small_multiturn"]
    plan = dict(stages(p, tmp_path))
    assert plan["data"][plan["data"].index("--refinement") + 1] == str(p.refinement)
    assert plan["sft"][plan["sft"].index("--refine_split") + 1] == "refine"
    single, multi = plan["grpo"], plan["grpo-small_multiturn"]
    assert single[single.index("--config") + 1] == "small" and multi[multi.index("--config") + 1] == "small_multiturn"
    for run in (single, multi):  # same SFT model, same generation budget
        assert run[run.index("--model_name_or_path") + 1] == str(tmp_path / "sft")
        assert run[run.index("--max_generated_tokens") + 1] == str(p.grpo_token_budget) != "0"
    ev = plan["eval-grpo-small_multiturn-indist"]
    assert ev[ev.index("--turns") + 1] == "2" and ev[ev.index("--model") + 1] == str(tmp_path / "grpo-small_multiturn")
    assert "eval-base-indist" not in plan
    small = dict(stages(PRESETS["small"], tmp_path))
    assert "--turns" not in small["eval-grpo-indist"] and "--refinement" not in small["data"]
    assert "--max_generated_tokens" not in small["grpo"]
    for model in p.models:
        for split in p.eval.splits:
            d = eval_dir(tmp_path, model, split)
            d.mkdir(parents=True)
            first = [{"task_id": "t1", "sample": i, "correct": i == 0, "status": "ok" if i == 0 else "mismatch"}
                     for i in range(4)]
            (d / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first))
            fixed = [{"task_id": "t1", "sample": 1, "turn": 2, "correct": model != "sft", "status": "ok"}]
            (d / "turns.jsonl").write_text("".join(json.dumps(r) + "\n" for r in fixed))
    md = write_results(p, tmp_path, {})
    assert "indist pass@1 turn 1 | indist pass@1 turn 2" in md
    lines = {ln.split("|")[1].strip(): ln for ln in md.splitlines() if ln.startswith("| ")}
    assert "| 25.0% (1 tasks) | 50.0% |" in lines["grpo"] and "| 25.0% (1 tasks) | 25.0% |" in lines["sft"]
    assert "| 25.0% (1 tasks) | 50.0% |" in lines["grpo-small_multiturn"] and "base" not in lines
