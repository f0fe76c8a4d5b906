"""`tritonforge grpo --config RECIPE.yaml [--field value ...]` (any GRPOConfig / ModelConfig field)."""

from __future__ import annotations

import sys

from sft.stage_cli import TrlStage

STAGE = TrlStage(
    name="grpo",
    help="GRPO with rule + execution rewards (TRL GRPOTrainer).",
    example="tritonforge grpo --config recipes/grpo/tiny.yaml --max_steps 10 --output_dir out/runs/grpo-tiny",
    config_module="grpo.config",
    run="grpo.train:run_grpo",
    user_errors=("grpo.train:VLLMMissingError", "rewards.config:DeviceUnavailable"),
)
register = STAGE.register
parse = STAGE.parse

if __name__ == "__main__":  # python -m grpo.cli --config ...
    sys.exit(STAGE.run_as_script())
