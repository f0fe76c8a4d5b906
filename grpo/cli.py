"""`tritonforge grpo --config NAME|PATH [--field value ...]` (any GRPOConfig / ModelConfig field; NAME: a packaged recipe)."""

from __future__ import annotations

import sys

from stagekit.trl_stage import TrlStage


def _dataclasses() -> tuple[type, ...]:
    from grpo.config import DATACLASSES

    return tuple(DATACLASSES)


def _run(*args: object) -> str:
    from grpo.train import run_grpo

    return run_grpo(*args)


STAGE = TrlStage(
    name="grpo",
    help="GRPO with rule + execution rewards (TRL GRPOTrainer).",
    example="tritonforge grpo --config tiny --max_steps 10 --output_dir out/runs/grpo-tiny",
    dataclasses=_dataclasses,
    run=_run,
)
register = STAGE.register
parse = STAGE.parse

if __name__ == "__main__":  # python -m grpo.cli --config ...
    sys.exit(STAGE.run_as_script())
