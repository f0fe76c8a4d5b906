"""GRPO settings: TRL's GRPOConfig with tritonforge defaults, plus reward and verification arguments.

Recipes (stagekit/recipes/grpo/*.yaml, `--config NAME` or a path) are flat YAML over `GRPOScriptArguments`, `GRPOTrainConfig` and TRL's
`ModelConfig`, merged with command-line overrides by TRL's parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import GRPOConfig, ModelConfig

from rewards.contract.arguments import VerifyArguments
from rewards.scoring.functions import RewardConfig
from sft.common import HardwarePrecision


@dataclass
class GRPOScriptArguments(VerifyArguments):
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
            "help": "Reward names from rewards.scoring.functions (rule, exec, speed, autotriton) or dotted paths."
        },
    )
    speed_reward: bool | None = field(
        default=None,
        metadata={
            "help": "Add the clipped speedup term. Unset: on when candidates run on CUDA (no timing on CPU); "
            "decided with the reward list by rewards.scoring.functions.plan_rewards."
        },
    )
    speed_weight: float = field(default=0.5, metadata={"help": "Weight of the speed term when it is added."})
    turns: int = field(
        default=1,
        metadata={
            "help": "Turns per episode (multi-turn refinement): turn t+1 sees the judge's feedback on turn t and "
            "the episode stops at the first verified kernel. 1: single-turn GRPO."
        },
    )
    turn_discount: float = field(
        default=0.4,
        metadata={"help": "Return of an episode ending at turn k: turn_discount^(k-1) x its last turn's score."},
    )
    stop_at_pass: bool = field(
        default=True,
        metadata={"help": "End an episode at its first verified kernel. false (GPU, speed term on): a passing "
                  "kernel gets its measured speedup as feedback and the next turn may make it faster, or break it."},
    )
    regression_penalty: float = field(
        default=0.5,
        metadata={"help": "Subtracted per unit of score a turn loses against the turn before it (broke what worked)."},
    )
    max_generated_tokens: int = field(
        default=0,
        metadata={"help": "Stop after the step where the run's model-written tokens (all turns, all ranks; not "
                  "prompt or feedback tokens) reach this many: compares single- and multi-turn GRPO at equal "
                  "generation cost. 0 = no budget (max_steps decides). Logged every step as generated_tokens."},
    )
    audit_file: str = field(
        default="completions_audit.jsonl",
        metadata={
            "help": "JSONL (in output_dir) with every completion, its verdict and rewards, for auditing."
        },
    )

    def __post_init__(self) -> None:
        if not self.reward_funcs:
            raise ValueError("reward_funcs must name at least one reward function")
        super().__post_init__()
        if self.turns < 1:
            raise ValueError(f"turns must be >= 1, got {self.turns}")
        if not 0.0 < self.turn_discount <= 1.0:
            raise ValueError(f"turn_discount must be in (0, 1], got {self.turn_discount}")
        if self.regression_penalty < 0:
            raise ValueError(f"regression_penalty must be >= 0, got {self.regression_penalty}")
        if self.max_generated_tokens < 0:
            raise ValueError(f"max_generated_tokens must be >= 0, got {self.max_generated_tokens}")


@dataclass
class GRPOTrainConfig(HardwarePrecision, GRPOConfig):
    """TRL's GRPOConfig; differences: precision follows the hardware, completions are logged by default."""

    output_dir: str | None = field(
        default="out/runs/grpo", metadata={"help": "Checkpoints, logs and the final model."}
    )
    log_completions: bool = field(
        default=True,
        metadata={
            "help": "Write every step's completions with rewards (and verdict columns) under output_dir."
        },
    )


DATACLASSES = (GRPOScriptArguments, GRPOTrainConfig, ModelConfig)


def reward_config(script: GRPOScriptArguments, cfg: GRPOTrainConfig) -> RewardConfig:
    """The reward factory's input from the recipe: names, speed choice, weights and verification settings.

    Nothing is decided here: whether the speed term is added, and the final weights, depend on the
    device the candidates run on, which `rewards.scoring.functions.build_rewards` resolves once.
    """
    return RewardConfig(
        names=tuple(script.reward_funcs),
        speed=script.speed_reward,
        speed_weight=script.speed_weight,
        weights=tuple(cfg.reward_weights) if cfg.reward_weights is not None else None,
        verify=script.verify_config(),
    )
