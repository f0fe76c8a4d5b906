"""The rewards the GRPO trainer receives: right values for correct / wrong / cheating / hung / crashing code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grpo.audit import RewardAudit
from grpo.config import GRPOScriptArguments, GRPOTrainConfig, reward_config
from rewards import VerifyConfig, assistant_message
from rewards.contract.types import VerifyResult
from rewards.scoring.functions import RewardConfig, build_rewards, plan_rewards

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


CPU = VerifyConfig(device="cpu", timeout_s=8, trials=1, workers=2)


@pytest.fixture(scope="module")
def sandbox():
    from rewards.engine.client import shutdown_engines

    yield
    shutdown_engines()


def _msg(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def test_rewards_reach_trainer_with_right_values(sandbox, triton_examples, tmp_path) -> None:
    """What GRPOTrainer._calculate_rewards calls: funcs(prompts=, completions=, reference=, task_id=, ...)."""
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
    rs = build_rewards(RewardConfig(names=("autotriton", "rule", "exec"), speed=False, verify=CPU),
                       sink=RewardAudit(str(audit)))
    funcs = rs.funcs
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
    # three rewards and the audit read one verification per completion
    assert rs.stats.batches == 1 and rs.stats.verifications == n


def broken(prompts, completions, **kw):
    """A user reward whose own machinery fails."""
    raise RuntimeError("sandbox pool died")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_raising_reward_scores_none_and_is_counted(tmp_path) -> None:
    audit = tmp_path / "audit.jsonl"
    rs = build_rewards(RewardConfig(names=("tests.grpo.test_grpo_rewards.broken",), verify=CPU),
                       sink=RewardAudit(str(audit)))
    g = rs.funcs[0]
    assert g.__name__ == "broken"
    assert g(prompts=[1, 2], completions=["a", "b"]) == [None, None]
    assert rs.stats.reward_errors == 1
    rows = _rows(audit)  # the reason is audited next to the None score
    assert [r["reward_broken"] for r in rows] == [None, None]
    assert all("RuntimeError: sandbox pool died" in r["reward_error_broken"] for r in rows)


class FailingEngine:
    """An engine source whose engine raises (a zygote that cannot start)."""

    def __call__(self, config: VerifyConfig) -> FailingEngine:
        return self

    def verify_many(self, pairs: list[tuple[str, str]]) -> list[VerifyResult]:
        raise RuntimeError("sandbox zygote failed to start")


def test_engine_failure_is_a_none_reward_with_an_audited_reason(tmp_path) -> None:
    audit = tmp_path / "audit.jsonl"
    rs = build_rewards(RewardConfig(names=("autotriton", "rule"), speed=False, verify=CPU),
                       sink=RewardAudit(str(audit)), engine=FailingEngine())
    comps = ["a", "b"]
    extra: dict[str, list] = {}
    kw = {"reference": ["R", "R"], "log_extra": lambda col, vals: extra.setdefault(col, []).extend(vals)}
    assert [f(prompts=[[]] * 2, completions=comps, **kw) for f in rs.funcs] == [[None, None], [None, None]]
    rows = _rows(audit)
    assert [r["status"] for r in rows] == ["infra_error"] * 2 and extra["status"] == ["infra_error"] * 2
    assert all("zygote failed to start" in r["log"] for r in rows)
    assert rs.stats.infra_errors == 2 and rs.stats.reward_errors == 0


def test_reward_funcs_pickle_with_their_audit(tmp_path) -> None:
    import pickle

    rs = build_rewards(RewardConfig(names=("exec",), speed=False, verify=CPU), sink=RewardAudit(str(tmp_path / "a")))
    funcs = pickle.loads(pickle.dumps(rs.funcs))
    assert [f.__name__ for f in funcs] == ["exec_reward"]
    assert isinstance(funcs[0].sink, RewardAudit) and funcs[0].sink.path == str(tmp_path / "a")
    assert funcs[0].sink.verifier is funcs[0].func.verifier


def test_speed_term_and_weights() -> None:
    s = GRPOScriptArguments(reward_funcs=["autotriton"], speed_reward=True, speed_weight=0.25)
    assert s.reward_funcs == ["autotriton"]  # the arguments are not rewritten: the factory decides, once
    cfg = GRPOTrainConfig(output_dir="x", num_generations=2, per_device_train_batch_size=2)
    plan = plan_rewards(reward_config(s, cfg), "cpu")
    assert plan.names == ("autotriton", "speed") and plan.weights == [1.0, 0.25]
    cfg.reward_weights = [2.0]
    assert plan_rewards(reward_config(s, cfg), "cpu").weights == [2.0, 0.25]
    auto = GRPOScriptArguments(reward_funcs=["autotriton"], speed_weight=0.25)
    cfg.reward_weights = None
    assert plan_rewards(reward_config(auto, cfg), "cpu").names == ("autotriton",)
    assert plan_rewards(reward_config(auto, cfg), "cuda").names == ("autotriton", "speed")
    off = GRPOScriptArguments(reward_funcs=["rule", "exec"], speed_reward=False)
    assert plan_rewards(reward_config(off, cfg), "cuda").names == ("rule", "exec")
    cfg.reward_weights = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="reward_weights"):
        plan_rewards(reward_config(off, cfg), "cuda")
    workers = GRPOScriptArguments(verify_device="cpu", verify_timeout_s=7, verify_trials=2, verify_workers=3)
    assert reward_config(workers, cfg).verify == VerifyConfig(device="cpu", timeout_s=7, trials=2, workers=3)


def test_unknown_reward_name_lists_valid_ones() -> None:
    cfg = GRPOTrainConfig(output_dir="x", num_generations=2, per_device_train_batch_size=2)
    with pytest.raises(ValueError, match="autotriton"):
        reward_config(GRPOScriptArguments(reward_funcs=["nope"]), cfg)


def test_recipes_parse() -> None:
    from grpo.cli import parse

    root = Path(__file__).resolve().parents[2] / "stagekit" / "recipes" / "grpo"
    for name in ("tiny", "1gpu", "cluster", "small_multiturn", "1gpu_multiturn"):
        script, cfg, model_cfg = parse(["--config", str(root / f"{name}.yaml")])
        assert script.reward_funcs[0] == "autotriton" and cfg.num_generations >= 2
    script, cfg, _ = parse(["--config", str(root / "tiny.yaml"), "--max_steps", "1"])
    assert cfg.max_steps == 1 and not cfg.use_vllm and script.speed_reward is False


def test_multiturn_recipes_and_bad_turn_settings() -> None:
    from grpo.cli import parse

    script, _, _ = parse(["--config", "small_multiturn"])
    assert script.turns == 2 and 0 < script.turn_discount < 1
    assert parse(["--config", "tiny"])[0].turns == 1  # tiny keeps single-turn GRPO and its budget
    assert parse(["--config", "tiny", "--turns", "2"])[0].turns == 2
    for bad in (["--turns", "0"], ["--turn_discount", "1.5"], ["--regression_penalty", "-1"]):
        with pytest.raises(ValueError):
            parse(["--config", "tiny", *bad])
