"""Model-written tokens of a GRPO run: counted at the one place every completion is generated, and a budget.

Single- and multi-turn GRPO are compared at the same generation cost (the issue's "same number of generated
tokens"), so the count has to mean the same thing in both: tokens the policy sampled, not prompt or
feedback tokens. Both modes generate through the trainer's `_generate_single_turn` (TRL calls it for a
single-turn step; `grpo.rollout.MultiTurnRollout` calls it once per turn), so the counter wraps that method
on the trainer instance and counts what it returns. It is TRL's private method, the same one the rollout
already relies on; `tests/grpo/test_grpo_budget.py` runs a real GRPOTrainer so a TRL change that bypasses
it fails a test instead of silently counting zero.

The count is logged every step as `generated_tokens` (cumulative, summed over ranks), written beside each
checkpoint (`generation_budget.json`) and read back on resume, so a killed run keeps its budget. With
`max_generated_tokens` > 0 the run stops after the step where the count reaches the budget (a step is never
cut in half: the last step may overshoot by at most one step's generation).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

logger = logging.getLogger(__name__)

BUDGET_FILE = "generation_budget.json"


def _token_count(completion_ids: Any) -> int:
    """Tokens in a batch of completions (lists of ids, or tensors)."""
    return sum(len(ids) for ids in completion_ids)


class GenerationBudget(TrainerCallback):
    """Counts model-written tokens on this rank, logs the run's total, stops the run at `budget` (0 = never)."""

    def __init__(self, budget: int = 0) -> None:
        if budget < 0:
            raise ValueError(f"max_generated_tokens must be >= 0, got {budget}")
        self.budget = budget
        self.local = 0  # this rank's tokens since the run started (resumed count included)
        self.total = 0  # all ranks' tokens, as of the last finished step
        self._trainer: Any = None

    def attach(self, trainer: Any) -> GenerationBudget:
        """Wrap `trainer._generate_single_turn` so every generated completion is counted, and register."""
        inner = trainer._generate_single_turn

        def counted(*args: Any, **kwargs: Any) -> Any:
            out = inner(*args, **kwargs)
            self.local += _token_count(out[0])  # (completion_ids, logprobs)
            return out

        trainer._generate_single_turn = counted
        self._trainer = trainer
        trainer.add_callback(self)
        return self

    def _world_total(self) -> int:
        """Sum of every rank's count (each rank calls this at the same step, so the collective is safe)."""
        acc = getattr(self._trainer, "accelerator", None)
        if acc is None or acc.num_processes == 1:
            return self.local
        import torch

        t = torch.tensor([self.local], device=acc.device, dtype=torch.long)
        return int(acc.reduce(t, reduction="sum").item())

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step > 0:  # resumed: the checkpoint's count, this rank's share of it
            saved = Path(args.output_dir) / f"checkpoint-{state.global_step}" / BUDGET_FILE
            if saved.is_file():
                row = json.loads(saved.read_text())
                self.local = int(row["per_rank"].get(str(args.process_index), 0))
                self.total = int(row["total"])
                logger.info("generation budget: %d model-written tokens before the resumed step %d",
                            self.total, state.global_step)
            else:
                logger.warning("resumed at step %d without %s: the generated-token count restarts at 0",
                               state.global_step, BUDGET_FILE)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.total = self._world_total()
        metrics = getattr(self._trainer, "_metrics", None)
        if metrics is not None:
            metrics["train"]["generated_tokens"].append(float(self.total))
        if self.budget and self.total >= self.budget:
            logger.info("generation budget reached: %d >= %d model-written tokens at step %d; stopping",
                        self.total, self.budget, state.global_step)
            control.should_training_stop = True
            control.should_save = True

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        acc = getattr(self._trainer, "accelerator", None)
        counts = [self.local]
        if acc is not None and acc.num_processes > 1:
            import torch

            counts = [int(x) for x in acc.gather(torch.tensor([self.local], device=acc.device)).tolist()]
        if args.process_index == 0 and ckpt.is_dir():
            row = {"total": sum(counts), "per_rank": {str(i): c for i, c in enumerate(counts)},
                   "budget": self.budget, "step": state.global_step}
            tmp = ckpt / (BUDGET_FILE + ".tmp")
            tmp.write_text(json.dumps(row))
            tmp.replace(ckpt / BUDGET_FILE)
