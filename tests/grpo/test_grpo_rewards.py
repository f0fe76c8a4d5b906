"""The rewards the GRPO trainer receives: right values for correct / wrong / cheating / hung / crashing code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grpo.audit import GuardedReward, guarded_reward_funcs
from grpo.config import GRPOScriptArguments, GRPOTrainConfig, reward_weights_for
from rewards import assistant_message

HANG = """import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(out_ptr + offs, tl.maximum(x, 0.0), mask=offs < n)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        out = torch.empty_like(x)
        while True:
            relu_kernel[(1,)](x, out, x.numel(), BLOCK=1024)
        return out
"""

CRASH = HANG.replace("while True:\n            relu_kernel", "if True:\n            relu_kernel").replace(
    "return out\n", "return out[10**9]\n"
)


@pytest.fixture(scope="module")
def configured():
    from rewards.config import VerifyConfig
    from rewards.engine import shutdown_engines
    from rewards.functions import configure_rewards

    configure_rewards(VerifyConfig(device="cpu", timeout_s=8, trials=1, workers=2))
    yield
    configure_rewards(None)
    shutdown_engines()


def _msg(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def test_rewards_reach_trainer_with_right_values(configured, triton_examples, tmp_path) -> None:
    """What GRPOTrainer._calculate_rewards calls: funcs(prompts=, completions=, reference=, task_id=, ...)."""
    from rewards.functions import get_reward_funcs

    ex = triton_examples
    completions = [
        _msg("Plan: tile it.\n\n" + assistant_message(ex["relu_sol"])),  # correct
        _msg(assistant_message(ex["relu_wrong"])),  # runs, wrong numbers
        _msg(assistant_message(ex["relu_cheat"])),  # torch fallback, kernel never launched
        _msg("I would write a kernel but here is none."),  # no code
        _msg(assistant_message(HANG)),  # never returns -> timeout
        _msg(assistant_message(CRASH)),  # raises at run time
    ]
    n = len(completions)
    audit = tmp_path / "audit.jsonl"
    funcs = guarded_reward_funcs(get_reward_funcs(["autotriton", "rule", "exec"]), str(audit))
    extra: dict[str, list] = {}
    kwargs = {
        "reference": [ex["relu_ref"]] * n,
        "task_id": ["relu"] * n,
        "log_extra": lambda col, vals: extra.setdefault(col, []).extend(vals),
        "trainer_state": type("S", (), {"global_step": 3})(),
    }
    scores = {f.__name__: f(prompts=[[]] * n, completions=completions, **kwargs) for f in funcs}
    assert scores["autotriton_reward"] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert scores["rule_reward"][:4] == [1.0, 1.0, 0.0, 0.0]
    assert scores["exec_reward"] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]

    rows = [json.loads(line) for line in audit.read_text().splitlines()]
    assert len(rows) == n and all(r["step"] == 3 and r["task_id"] == "relu" for r in rows)
    statuses = [r["status"] for r in rows]
    assert statuses[:4] == ["ok", "mismatch", "rule_violation", "no_code"]
    assert statuses[4] == "timeout" and statuses[5] in {"runtime_error", "crashed"}
    assert (
        "kernel_not_launched" in rows[2]["rule_findings"]
        or "torch_compute_fallback" in rows[2]["rule_findings"]
    )
    assert rows[0]["reward_autotriton_reward"] == 1.0 and rows[0]["reward_exec_reward"] == 1.0
    assert extra["status"] == statuses and len(extra["rule_findings"]) == n and len(extra["speedup"]) == n


def test_raising_reward_scores_none_and_is_counted() -> None:
    def broken(prompts, completions, **kw):
        raise RuntimeError("sandbox pool died")

    g = guarded_reward_funcs([broken], None)[0]
    assert g.__name__ == "broken"
    assert g(prompts=[1, 2], completions=["a", "b"]) == [None, None]
    assert g.audit is not None and g.audit.errors == 1


def test_guarded_reward_pickles() -> None:
    import pickle

    from rewards.functions import exec_reward

    g = pickle.loads(pickle.dumps(GuardedReward(exec_reward)))
    assert g.__name__ == "exec_reward"


def test_speed_term_and_weights() -> None:
    s = GRPOScriptArguments(reward_funcs=["autotriton"], speed_reward=True, speed_weight=0.25)
    assert s.reward_funcs == ["autotriton", "speed"]
    cfg = GRPOTrainConfig(output_dir="x", num_generations=2, per_device_train_batch_size=2)
    assert reward_weights_for(s, cfg) == [1.0, 0.25]
    cfg.reward_weights = [2.0]
    assert reward_weights_for(s, cfg) == [2.0, 0.25]
    off = GRPOScriptArguments(reward_funcs=["rule", "exec"], speed_reward=False)
    assert off.reward_funcs == ["rule", "exec"]
    cfg.reward_weights = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="reward_weights"):
        reward_weights_for(off, cfg)


def test_unknown_reward_name_lists_valid_ones() -> None:
    from rewards.functions import get_reward_funcs

    with pytest.raises(ValueError, match="autotriton"):
        get_reward_funcs(["nope"])


def test_recipes_parse() -> None:
    from grpo.cli import parse

    root = Path(__file__).resolve().parents[2] / "tritonforge" / "recipes" / "grpo"
    for name in ("tiny", "1gpu", "cluster"):
        script, cfg, model_cfg = parse(["--config", str(root / f"{name}.yaml")])
        assert script.reward_funcs[0] == "autotriton" and cfg.num_generations >= 2
    script, cfg, _ = parse(["--config", str(root / "tiny.yaml"), "--max_steps", "1"])
    assert cfg.max_steps == 1 and not cfg.use_vllm and script.speed_reward is False
