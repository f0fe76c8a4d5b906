"""Pieces SFT and GRPO share: precision by hardware, tokenizer setup, auto-resume, merged LoRA weights.

Kept here (not in each trainer module) so that both stages make the same choices: a recipe that runs
SFT on a laptop and GRPO on a cluster must not differ in how it finds checkpoints or picks dtypes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from stagekit.devices import cuda_available

logger = logging.getLogger(__name__)


@dataclass
class HardwarePrecision:
    """Mixed into both trainer configs (before TRL's class): `bf16` unset follows the hardware, bf16 mixed
    precision on a GPU and plain fp32 on CPU (bf16 autocast on CPU is slower and lossier)."""

    bf16: bool | None = field(default=None, metadata={
        "help": "bf16 mixed precision. Unset: on when CUDA is present, off (fp32) on CPU."})

    def __post_init__(self) -> None:
        if self.bf16 is None:
            self.bf16 = not getattr(self, "fp16", False) and cuda_available()
        super().__post_init__()  # type: ignore[misc]  (TRL's config, next in the MRO)


def load_tokenizer(model_path: str, padding_side: str | None = None) -> Any:
    """The model's tokenizer, with a pad token and a chat template carrying `{% generation %}` markers."""
    from transformers import AutoTokenizer

    from data_pipeline.models import ensure_training_chat_template

    tok = AutoTokenizer.from_pretrained(model_path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    ensure_training_chat_template(tok)
    if padding_side:
        tok.padding_side = padding_side
    return tok


def complete_checkpoints(output_dir: str) -> list[str]:
    """`checkpoint-N` dirs whose save finished, newest first.

    transformers writes a checkpoint in place and `trainer_state.json` last, so a run killed mid-save
    leaves a newest checkpoint without a readable state file; resuming from it would crash every retry.
    """
    import json
    import re

    if not os.path.isdir(output_dir):
        return []
    found = []
    for name in os.listdir(output_dir):
        m = re.fullmatch(r"checkpoint-(\d+)", name)
        path = os.path.join(output_dir, name)
        if not m or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, "trainer_state.json")) as fh:
                json.load(fh)
        except (OSError, ValueError):
            logger.warning("skipping incomplete checkpoint %s (killed while saving?)", path)
            continue
        found.append((int(m.group(1)), path))
    return [p for _, p in sorted(found, reverse=True)]


def resume_checkpoint(output_dir: str, requested: str | bool | None, auto: bool) -> str | bool | None:
    """What to pass to `trainer.train(resume_from_checkpoint=...)`.

    An explicit path/True wins; otherwise, with `auto`, the newest complete `checkpoint-*` in output_dir,
    so that re-running the same command after a kill (preemption, OOM, Ctrl-C) continues where it stopped.
    """
    if requested:
        return requested
    if not auto:
        return None
    done = complete_checkpoints(output_dir)
    if done:
        logger.warning("resuming from %s", done[0])
    return done[0] if done else None


def save_merged(trainer: Any, tokenizer: Any, out_dir: str) -> str | None:
    """For a LoRA run, also write base+adapter merged, so GRPO/eval/vLLM can load one plain checkpoint."""
    return save_merged_model(trainer.accelerator.unwrap_model(trainer.model), tokenizer, out_dir)


def save_merged_model(model: Any, tokenizer: Any, out_dir: str) -> str | None:
    """Merge a PEFT model's adapter into a copy of its base and save it with the tokenizer at `out_dir`.

    Written to a sibling temp folder and renamed into place: `resolve_weights` trusts a complete `merged/`
    over the adapter next to it, so a save killed halfway must never look complete. None if not a PEFT model.
    """
    if not hasattr(model, "merge_and_unload"):
        return None
    import copy
    import shutil
    import tempfile

    merged = copy.deepcopy(model).merge_and_unload()
    parent = os.path.dirname(os.path.abspath(out_dir))
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.", dir=parent)
    try:
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(out_dir, ignore_errors=True)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def final_model_dir(path: str) -> str:
    """The checkpoint to hand to the next stage: `data_pipeline.models.resolve_weights`' answer for `path`."""
    from data_pipeline.models import resolve_weights

    return resolve_weights(path).path


def model_init_kwargs(model_cfg: Any, given: dict[str, Any] | None) -> dict[str, Any]:
    """What the trainer passes to from_pretrained: ModelConfig's dtype/attention, then the recipe's own."""
    kw: dict[str, Any] = {"dtype": model_cfg.dtype, "attn_implementation": model_cfg.attn_implementation}
    kw.update(given or {})
    return {k: v for k, v in kw.items() if v is not None}


def thread_callback(requested: int | str | None) -> Any:
    """A TrainerCallback that re-measures torch's best CPU thread count every two minutes of training."""
    from transformers import TrainerCallback

    from data_pipeline.threads import ThreadRetuner

    class RetuneThreads(TrainerCallback):
        def __init__(self) -> None:
            self.tuner = ThreadRetuner(requested)

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if not cuda_available():
                self.tuner.maybe_retune()

    return RetuneThreads()


def train_and_save(trainer: Any, output_dir: str, resume_from: str | None, auto_resume: bool) -> None:
    """Both stages: resume from the last complete checkpoint if there is one, train, save model + tokenizer."""
    trainer.train(resume_from_checkpoint=resume_checkpoint(output_dir, resume_from, auto_resume))
    trainer.save_model(output_dir)  # LoRA: the adapter; full: the whole model
    if trainer.accelerator.is_main_process:
        trainer.processing_class.save_pretrained(output_dir)
