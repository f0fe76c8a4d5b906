"""`tritonforge sft --config NAME|PATH [--field value ...]` (any SFTConfig / ModelConfig field; NAME: a packaged recipe)."""

from __future__ import annotations

import sys

from sft.stage_cli import TrlStage

STAGE = TrlStage(
    name="sft",
    help="Supervised fine-tuning on the corpus (TRL SFTTrainer).",
    example="tritonforge sft --config tiny --max_steps 10 --output_dir out/runs/sft-tiny",
    config_module="sft.config",
    run="sft.train:run_sft",
)
register = STAGE.register
parse = STAGE.parse

if __name__ == "__main__":  # python -m sft.cli --config ...
    sys.exit(STAGE.run_as_script())
