"""The GRPO learning-signal log: share of groups with unequal rewards per step, warning at 0, curves."""

from __future__ import annotations

import json
from pathlib import Path

from grpo.signal import (
    PLOT_FILE,
    SIGNAL_FILE,
    SignalCallback,
    plot_curves,
    read_signal,
    signal_share,
    summarize,
)

RECIPE = Path(__file__).resolve().parents[2] / "stagekit" / "recipes" / "grpo" / "tiny.yaml"


class _State:
    is_world_process_zero = True

    def __init__(self, step: int) -> None:
        self.global_step = step


def test_share_is_one_minus_trl_zero_std_fraction(tmp_path, capsys) -> None:
    assert signal_share({"frac_reward_zero_std": 0.25}) == 0.75
    assert signal_share({"loss": 1.0}) is None  # not a GRPO train log (e.g. the final summary)
    cb = SignalCallback(str(tmp_path), num_generations=4)
    for step, frac, reward in ((1, 1.0, 0.0), (2, 0.5, 0.25), (2, 0.0, 0.5)):  # step 2 re-logged after a resume
        logs = {"frac_reward_zero_std": frac, "reward": reward, "reward_std": 0.1, "loss": 0.01,
                "rewards/autotriton_reward/mean": reward}
        cb.on_log(None, _State(step), None, logs=logs)
        assert logs["signal_share"] == 1.0 - frac  # added to TRL's own log record too
    err = capsys.readouterr().err
    assert "step 1: share of groups with unequal rewards 0.00" in err
    rows = read_signal(tmp_path / SIGNAL_FILE)
    assert [(r["step"], r["signal_share"]) for r in rows] == [(1, 0.0), (2, 1.0)]  # last row per step wins
    assert "1 step(s) had none" in summarize(rows)
    assert "NO LEARNING SIGNAL" in summarize(rows[:1])
    assert plot_curves(rows, tmp_path / "c.png").stat().st_size > 1000


def test_zero_signal_run_says_so_and_mixed_rewards_give_signal(tiny_model_dir, tiny_corpus_dir, tmp_path,
                                                               capsys) -> None:
    """A real tiny GRPO run: random weights -> every reward 0 -> share 0 and the verdict says nothing was
    learned; with a reward that differs inside each group the share is 1."""
    from grpo.cli import parse
    from grpo.train import run_grpo

    def args(out: Path, *extra: str) -> tuple:
        return parse(["--config", str(RECIPE), "--model_name_or_path", str(tiny_model_dir), "--corpus",
                      str(tiny_corpus_dir), "--output_dir", str(out), "--num_generations", "2",
                      "--per_device_train_batch_size", "2", "--max_completion_length", "8", "--verify_trials", "1",
                      "--save_steps", "10", "--max_steps", "2", "--threads", "1", *extra])

    run_grpo(*args(tmp_path / "zero"))
    rows = read_signal(tmp_path / "zero" / SIGNAL_FILE)
    assert [r["step"] for r in rows] == [1, 2] and all(r["signal_share"] == 0.0 for r in rows)
    assert (tmp_path / "zero" / PLOT_FILE).is_file()
    assert "NO LEARNING SIGNAL" in capsys.readouterr().err

    run_grpo(*args(tmp_path / "mixed", "--reward_funcs", "tests.grpo.test_grpo_signal.alternating_reward"))
    rows = [json.loads(x) for x in (tmp_path / "mixed" / SIGNAL_FILE).read_text().splitlines()]
    assert all(r["signal_share"] == 1.0 for r in rows)


def alternating_reward(prompts, completions, **kwargs):
    """0, 1, 0, 1, ...: every group of 2 has unequal rewards."""
    return [float(i % 2) for i in range(len(completions))]
