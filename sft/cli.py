"""`tritonforge sft --config NAME|PATH [--field value ...]` (any SFTConfig / ModelConfig field; NAME: a packaged recipe)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from stagekit.trl_stage import TrlStage


def _load() -> tuple[tuple[type, ...], Callable[..., str]]:
    from sft.config import DATACLASSES
    from sft.train import run_sft

    return DATACLASSES, run_sft


STAGE = TrlStage(
    name="sft",
    help="Supervised fine-tuning on the corpus (TRL SFTTrainer).",
    example="tritonforge sft --config tiny --max_steps 10 --output_dir out/runs/sft-tiny",
    load=_load,
)
register = STAGE.register
parse = STAGE.parse

if __name__ == "__main__":  # python -m sft.cli --config ...
    sys.exit(STAGE.run_as_script())
