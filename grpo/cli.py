"""`tritonforge grpo --config NAME|PATH [--field value ...]` (any GRPOConfig / ModelConfig field; NAME: a packaged recipe)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from stagekit.trl_stage import TrlStage


def _load() -> tuple[tuple[type, ...], Callable[..., str]]:
    from grpo.config import DATACLASSES
    from grpo.train import run_grpo

    return DATACLASSES, run_grpo


STAGE = TrlStage(
    name="grpo",
    help="GRPO with rule + execution rewards (TRL GRPOTrainer).",
    example="tritonforge grpo --config tiny --max_steps 10 --output_dir out/runs/grpo-tiny",
    load=_load,
)
register = STAGE.register
parse = STAGE.parse

if __name__ == "__main__":  # python -m grpo.cli --config ...
    sys.exit(STAGE.run_as_script())
