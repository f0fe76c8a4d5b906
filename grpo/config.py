"""GRPO settings: TRL's GRPOConfig with tritonforge defaults, plus reward and verification arguments.

Recipes (tritonforge/recipes/grpo/*.yaml, `--config NAME` or a path) are flat YAML over `GRPOScriptArguments`, `GRPOTrainConfig` and TRL's
`ModelConfig`, merged with command-line overrides by TRL's parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import GRPOConfig, ModelConfig

from sft.common import auto_bf16, cuda_available


@dataclass
class GRPOScriptArguments:
    """Data, rewards and the sandbox that scores every sampled kernel."""

    corpus: str = field(
        default="out/corpus",
        metadata={"help": "Corpus folder written by `tritonforge data build` (or a hub dataset name)."},
    )
    split: str = field(
        default="rl", metadata={"help": "Split with `prompt` (chat messages) and `reference`."}
    )
    max_samples: int | None = field(
        default=None, metadata={"help": "Use at most this many prompts (smoke runs)."}
    )
    auto_resume: bool = field(
        default=True,
        metadata={
            "help": "Resume from the last checkpoint-* in output_dir when one exists (rerun after a kill)."
        },
    )
    threads: str = field(
        default="auto",
        metadata={
            "help": "torch CPU threads: N, 'auto' (measure 1..cores with a matmul, keep the fastest; "
            "$TRITONFORGE_THREADS overrides) or 'default' (torch's own). A shared CPU can be 10x slower "
            "with every core than with one."
        },
    )
    reward_funcs: list[str] = field(
        default_factory=lambda: ["autotriton"],
        metadata={
            "help": "Reward names from rewards.functions (rule, exec, speed, autotriton) or dotted paths."
        },
    )
    speed_reward: bool | None = field(
        default=None,
        metadata={"help": "Add the clipped speedup term. Unset: on when CUDA is present (no timing on CPU)."},
    )
    speed_weight: float = field(default=0.5, metadata={"help": "Weight of the speed term when it is added."})
    verify_device: str = field(
        default="auto", metadata={"help": "Where candidates run: auto, cpu (Triton interpreter) or cuda."}
    )
    verify_timeout_s: float = field(
        default=60.0, metadata={"help": "Wall-clock limit per candidate (seconds)."}
    )
    verify_workers: int | None = field(
        default=None, metadata={"help": "Candidates verified in parallel; unset: one per CPU core."}
    )
    verify_trials: int = field(default=3, metadata={"help": "Random input sets a candidate must pass."})
    audit_file: str = field(
        default="completions_audit.jsonl",
        metadata={
            "help": "JSONL (in output_dir) with every completion, its verdict and rewards, for auditing."
        },
    )

    def __post_init__(self) -> None:
        if not self.reward_funcs:
            raise ValueError("reward_funcs must name at least one reward function")
        if self.verify_timeout_s <= 0:
            raise ValueError("verify_timeout_s must be > 0")
        if self.speed_reward is None:
            self.speed_reward = cuda_available()
        names = {n.removesuffix("_reward") for n in self.reward_funcs}
        if self.speed_reward and "speed" not in names:
            self.reward_funcs = [*self.reward_funcs, "speed"]


@dataclass
class GRPOTrainConfig(GRPOConfig):
    """TRL's GRPOConfig; differences: precision follows the hardware, completions are logged by default."""

    output_dir: str | None = field(
        default="out/runs/grpo", metadata={"help": "Checkpoints, logs and the final model."}
    )
    bf16: bool | None = field(
        default=None,
        metadata={"help": "bf16 mixed precision. Unset: on when CUDA is present, off (fp32) on CPU."},
    )
    log_completions: bool = field(
        default=True,
        metadata={
            "help": "Write every step's completions with rewards (and verdict columns) under output_dir."
        },
    )

    def __post_init__(self) -> None:
        self.bf16 = auto_bf16(self.bf16, bool(self.fp16))
        super().__post_init__()


DATACLASSES = (GRPOScriptArguments, GRPOTrainConfig, ModelConfig)


def reward_weights_for(script: GRPOScriptArguments, cfg: GRPOTrainConfig) -> list[float] | None:
    """Weights aligned with `script.reward_funcs` (the speed term may have been appended automatically)."""
    weights = cfg.reward_weights
    if weights is None:
        if len(script.reward_funcs) == 1:
            return None
        return [
            script.speed_weight if n.removesuffix("_reward") == "speed" else 1.0 for n in script.reward_funcs
        ]
    weights = list(weights)
    if len(weights) == len(script.reward_funcs) - 1 and script.reward_funcs[-1] == "speed":
        weights.append(
            script.speed_weight
        )  # the recipe weighted its own names; the speed term was auto-added
    if len(weights) != len(script.reward_funcs):
        raise ValueError(
            f"{len(weights)} reward_weights for {len(script.reward_funcs)} reward_funcs {script.reward_funcs}"
        )
    return weights
