"""Supervised fine-tuning on the verified corpus with TRL's SFTTrainer.

The corpus' `sft` split holds full conversations (system, user with the PyTorch reference, assistant with
reasoning + one verified Triton block). The loss covers the assistant turn only: the model should learn
to write kernels, not to reproduce the reference it is given. Everything else (LoRA or full, packing,
precision, checkpoints) is TRL/transformers machinery configured from the recipe.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from trl import ModelConfig, SFTTrainer, get_peft_config

from data_pipeline.corpus import load_split
from data_pipeline.models import resolve_weights
from data_pipeline.threads import pick_threads
from sft.common import (
    final_model_dir,
    load_tokenizer,
    model_init_kwargs,
    save_merged,
    thread_callback,
    train_and_save,
)
from sft.config import SFTScriptArguments, SFTTrainConfig
from sft.ranks import rank_threads

__all__ = ["build_trainer", "final_model_dir", "run_sft"]

logger = logging.getLogger(__name__)


def with_refinement(train: Any, refine: Any, seed: int) -> Any:
    """Single-turn conversations and refinement conversations as one prompt/completion dataset.

    A refinement row's prompt holds a wrong answer (and the judge's feedback on it); as an assistant turn of a
    `messages` row it would be trained on. As prompt/completion rows, TRL's loss covers the completion (the
    fix) only, so the single-turn rows are converted too (their last assistant turn is the completion: the
    same tokens trained as before) and the two are shuffled together.
    """
    import datasets

    missing = {"prompt", "completion"} - set(refine.column_names)
    if missing:
        raise ValueError(f"refinement split lacks column(s) {sorted(missing)} (has {refine.column_names})")
    rows = [{"prompt": m[:-1], "completion": m[-1:]} for m in train["messages"]]
    rows += [{"prompt": p, "completion": c} for p, c in zip(refine["prompt"], refine["completion"], strict=True)]
    return datasets.Dataset.from_list(rows).shuffle(seed=seed)


def build_trainer(script: SFTScriptArguments, cfg: SFTTrainConfig, model_cfg: ModelConfig) -> SFTTrainer:
    """Everything but `train()`: tests use it to inspect batches without training."""
    threads = rank_threads(script.threads)  # several ranks per node: each its share of the cores
    pick_threads(threads)
    # A LoRA run folder as the starting point means its merged weights (see resolve_weights).
    model_path = resolve_weights(model_cfg.model_name_or_path).checkpoint_path("SFT (TRL loads the model from a path)")
    tokenizer = load_tokenizer(model_path)
    train = load_split(script.corpus, script.split, script.max_samples, seed=cfg.seed)
    if "messages" not in train.column_names:
        raise ValueError(
            f"{script.corpus}[{script.split}] has no `messages` column (columns: {train.column_names})"
        )
    train = train.select_columns(["messages"])
    if script.refine_split:
        train = with_refinement(train, load_split(script.corpus, script.refine_split, seed=cfg.seed), cfg.seed)
    evaluation = None
    if script.eval_split:
        evaluation = load_split(script.corpus, script.eval_split).select_columns(["messages"])

    cfg.model_init_kwargs = model_init_kwargs(model_cfg, cfg.model_init_kwargs)
    return SFTTrainer(
        model=model_path,
        args=cfg,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_cfg),
        callbacks=[thread_callback(threads)],
    )


def run_sft(script: SFTScriptArguments, cfg: SFTTrainConfig, model_cfg: ModelConfig) -> str:
    """Train, resume if a checkpoint exists, save the final model + tokenizer; returns output_dir."""
    trainer = build_trainer(script, cfg, model_cfg)
    train_and_save(trainer, cfg.output_dir, cfg.resume_from_checkpoint, script.auto_resume)
    if trainer.accelerator.is_main_process and model_cfg.use_peft and script.merge_lora:
        try:
            save_merged(trainer, trainer.processing_class, os.path.join(cfg.output_dir, "merged"))
        except Exception as e:  # sharded (ZeRO-3/FSDP) weights cannot be merged in place
            logger.warning("could not save merged LoRA model (%s); merge the adapter offline", e)
    if hasattr(trainer, "end"):
        trainer.end()
    return cfg.output_dir
