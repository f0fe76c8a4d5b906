"""SFT settings: TRL's SFTConfig with tritonforge defaults, plus the script's own arguments.

Recipes (stagekit/recipes/sft/*.yaml, `--config NAME` or a path) are flat YAML mappings over the three dataclasses below (this module's
`SFTScriptArguments`, `SFTTrainConfig` and TRL's `ModelConfig`); `TrlParser` merges them with command-line
overrides, so `tritonforge sft --config tiny --max_steps 5` works as expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import ModelConfig, SFTConfig

from sft.common import HardwarePrecision


@dataclass
class SFTScriptArguments:
    """Where the data and the base model come from."""

    corpus: str = field(
        default="out/corpus",
        metadata={"help": "Corpus folder written by `tritonforge data build` (or a hub dataset name)."},
    )
    split: str = field(default="sft", metadata={"help": "Split with the `messages` column."})
    eval_split: str | None = field(default=None, metadata={"help": "Optional split to evaluate loss on."})
    refine_split: str | None = field(
        default=None,
        metadata={
            "help": "Also train on this split's refinement conversations (`data build` with refinement: N writes "
            "`refine`): wrong answer + judge feedback as the prompt, the fix as the only trained completion."
        },
    )
    max_samples: int | None = field(
        default=None, metadata={"help": "Use at most this many rows (smoke runs)."}
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
    merge_lora: bool = field(
        default=True,
        metadata={
            "help": "With LoRA, also save the merged model under output_dir/merged (for GRPO, eval, vLLM)."
        },
    )

    def __post_init__(self) -> None:
        if self.max_samples is not None and self.max_samples < 1:
            raise ValueError("max_samples must be >= 1")


@dataclass
class SFTTrainConfig(HardwarePrecision, SFTConfig):
    """TRL's SFTConfig; differences: precision follows the hardware, assistant-only loss on by default."""

    output_dir: str | None = field(
        default="out/runs/sft", metadata={"help": "Checkpoints and the final model."}
    )
    assistant_only_loss: bool = field(
        default=True,
        metadata={
            "help": "Loss on assistant tokens only (the prompt, i.e. the reference source, is masked)."
        },
    )


DATACLASSES = (SFTScriptArguments, SFTTrainConfig, ModelConfig)
