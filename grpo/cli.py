"""`tritonforge grpo --config NAME|PATH [--field value ...]` (any GRPOConfig / ModelConfig field; NAME: a packaged recipe)."""

from __future__ import annotations

import sys

from sft.stage_cli import TrlStage

STAGE = TrlStage(
    name="grpo",
    help="GRPO with rule + execution rewards (TRL GRPOTrainer).",
    example="tritonforge grpo --config tiny --max_steps 10 --output_dir out/runs/grpo-tiny",
    config_module="grpo.config",
    run="grpo.train:run_grpo",
)
register = STAGE.register
parse = STAGE.parse

if __name__ == "__main__":  # python -m grpo.cli --config ...
    sys.exit(STAGE.run_as_script())
