"""Is GRPO learning anything? The share of prompt groups with a learning signal, every step, and curves.

GRPO's advantage is a completion's reward minus its group's mean. A group whose completions all scored
the same (all 0: every kernel failed; all 1: the task is too easy) contributes an advantage of exactly 0
to every token, so it moves nothing. `signal_share` = share of groups whose rewards are NOT all equal
(1 - TRL's `frac_reward_zero_std`). A run where it stays 0 burns compute and learns nothing, so every
logged step prints it, a step at 0 warns, and the run ends with a verdict line.

Everything logged (reward, reward std, signal share, loss) is appended to `output_dir/signal.jsonl`
(resumable: rows are keyed by step) and drawn as `output_dir/reward_curves.png` at the end of training,
so the pipeline can put the plot next to the eval report.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

logger = logging.getLogger(__name__)

SIGNAL_FILE = "signal.jsonl"
PLOT_FILE = "reward_curves.png"


def signal_share(logs: dict[str, Any]) -> float | None:
    """Share of prompt groups whose rewards differ, from one TRL log record (None if not a train log)."""
    frac = logs.get("frac_reward_zero_std")
    if not isinstance(frac, (int, float)) or math.isnan(frac):
        return None
    return max(0.0, min(1.0, 1.0 - float(frac)))


def read_signal(path: str | Path) -> list[dict[str, Any]]:
    """Rows of signal.jsonl, last row per step wins (a resumed run re-logs the steps after its checkpoint)."""
    p = Path(path)
    if not p.is_file():
        return []
    by_step: dict[int, dict[str, Any]] = {}
    for line in p.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # torn line after a kill
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            by_step[row["step"]] = row
    return [by_step[s] for s in sorted(by_step)]


def summarize(rows: list[dict[str, Any]]) -> str:
    """One verdict line for the end of a run."""
    shares = [r["signal_share"] for r in rows if r.get("signal_share") is not None]
    if not shares:
        return "GRPO signal: no step was logged"
    zero = sum(1 for s in shares if s == 0.0)
    mean = sum(shares) / len(shares)
    line = (f"GRPO signal: mean share of groups with unequal rewards {mean:.2f} over {len(shares)} logged steps; "
            f"{zero} step(s) had none")
    if mean == 0.0:
        line += (" -- NO LEARNING SIGNAL: every group's rewards were equal, so every advantage was 0 and the "
                 "policy did not move. Start from a better SFT model, raise temperature or num_generations.")
    return line


def plot_curves(rows: list[dict[str, Any]], path: str | Path, title: str = "GRPO") -> Path | None:
    """Reward mean (with std band), signal share and loss per step, as one PNG; None if nothing to draw."""
    rows = [r for r in rows if r.get("reward") is not None]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    reward = [r["reward"] for r in rows]
    std = [r.get("reward_std") or 0.0 for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot(steps, reward, marker="o", label="reward mean")
    axes[0].fill_between(steps, [m - s for m, s in zip(reward, std, strict=True)],
                         [m + s for m, s in zip(reward, std, strict=True)], alpha=0.2, label="± std")
    for key in sorted({k for r in rows for k in r if k.startswith("rewards/") and k.endswith("/mean")}):
        axes[0].plot(steps, [r.get(key) for r in rows], linestyle="--", label=key.split("/")[1])
    axes[0].set_title("reward")
    axes[0].legend(fontsize=7)
    axes[1].plot(steps, [r.get("signal_share") for r in rows], marker="o", color="tab:green")
    axes[1].set_ylim(-0.05, 1.05)
    axes[1].set_title("share of groups with unequal rewards")
    axes[2].plot(steps, [r.get("loss") for r in rows], marker="o", color="tab:red")
    axes[2].set_title("loss")
    for ax in axes:
        ax.set_xlabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


class SignalCallback(TrainerCallback):
    """Adds `signal_share` to every train log, warns at 0, journals the curves, plots them at the end."""

    KEEP = ("reward", "reward_std", "frac_reward_zero_std", "loss", "learning_rate", "completions/mean_length", "generated_tokens",
            "completions/clipped_ratio")

    def __init__(self, output_dir: str, num_generations: int) -> None:
        self.path = Path(output_dir) / SIGNAL_FILE
        self.plot_path = Path(output_dir) / PLOT_FILE
        self.num_generations = num_generations

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
        if not logs or not state.is_world_process_zero:
            return
        share = signal_share(logs)
        if share is None:
            return
        logs["signal_share"] = share
        row = {"step": int(state.global_step), "signal_share": share}
        row.update({k: logs[k] for k in logs if k in self.KEEP or k.startswith("rewards/")})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(json.dumps(row, default=float) + "\n")
        reward = logs.get("reward")
        msg = (f"[grpo] step {state.global_step}: share of groups with unequal rewards {share:.2f} "
               f"(group size {self.num_generations}), reward mean {reward if reward is None else f'{reward:.3f}'}")
        print(msg, file=sys.stderr, flush=True)
        if share == 0.0:
            logger.warning("step %s: every group's rewards were equal -> all advantages 0, this step learned "
                           "nothing", state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if not state.is_world_process_zero:
            return
        rows = read_signal(self.path)
        print(summarize(rows), file=sys.stderr, flush=True)
        try:
            out = plot_curves(rows, self.plot_path, title=f"GRPO: {Path(args.output_dir).name}")
        except Exception as e:  # a plotting problem must never fail a finished training run
            logger.warning("reward curve plot failed: %s: %s", type(e).__name__, e)
            return
        if out is not None:
            print(f"[grpo] reward curves: {out}", file=sys.stderr, flush=True)
