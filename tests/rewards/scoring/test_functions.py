"""Reward functions: TRL signature, values for correct / wrong / cheating completions, never raising,
one verification per completion per batch, the speed term decided once, picklable callables."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from rewards import VerifyConfig
from rewards.contract.types import Status, VerifyResult
from rewards.scoring import functions as rf
from rewards.scoring import verdicts as rv

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
REF = (HERE / "tasks" / "softmax.py").read_text()
OK = "Reasoning first.\n```python\n" + (HERE / "candidates" / "softmax_ok.py").read_text() + "```"
WRONG = "```python\n" + (HERE / "candidates" / "softmax_wrong.py").read_text() + "```"
CHEAT = """```python
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def unused_kernel(x_ptr):
    pass


class ModelNew(nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
```"""
CPU = VerifyConfig(device="cpu", workers=2, trials=2, timeout_s=60)


@pytest.fixture(scope="module")
def cpu_rewards():
    from rewards.engine.client import shutdown_engines

    rs = rf.build_rewards(rf.RewardConfig(names=("rule", "exec", "autotriton", "speed"), verify=CPU))
    yield {f.__name__: f for f in rs.funcs}, rs
    shutdown_engines()


def test_values_for_correct_wrong_cheating_and_no_code(cpu_rewards):
    funcs, rs = cpu_rewards
    comps = [OK, WRONG, CHEAT, "no code at all"]
    kw = {"reference": [REF] * 4, "task_id": ["t"] * 4}
    assert funcs["rule_reward"](prompts=["p"] * 4, completions=comps, **kw) == [1.0, 1.0, 0.0, 0.0]
    assert funcs["exec_reward"](prompts=["p"] * 4, completions=comps, **kw) == [1.0, 0.0, 0.0, 0.0]
    assert funcs["autotriton_reward"](prompts=["p"] * 4, completions=comps, **kw) == [1.0, 0.0, 0.0, 0.0]
    assert funcs["speed_reward"](prompts=["p"] * 4, completions=comps, **kw) == [0.0, 0.0, 0.0, 0.0]  # CPU: no timing
    assert rs.verifier.last is not None
    assert [v.status.value for v in rs.verifier.last.verdicts] == ["ok", "mismatch", "rule_violation", "no_code"]
    assert rs.stats.batches == 1 and rs.stats.verifications == 4  # four rewards, one verification each


def test_conversational_completions(cpu_rewards):
    funcs, _ = cpu_rewards
    comps = [[{"role": "assistant", "content": OK}]]
    assert funcs["exec_reward"](prompts=[[{"role": "user", "content": "x"}]], completions=comps, reference=[REF]) == [1.0]


def test_reward_never_raises_and_returns_none_on_machinery_failure(cpu_rewards):
    funcs, rs = cpu_rewards
    before = rs.stats.reward_errors
    # no reference column: a machinery/config problem, not the candidate's fault
    assert funcs["exec_reward"](prompts=["p"], completions=[OK]) == [None]
    assert rs.stats.reward_errors == before + 1


def constant_reward(prompts, completions, **kwargs):
    """A user reward named by dotted path."""
    return [0.5] * len(completions)


def test_registry_names_and_errors():
    rs = rf.build_rewards(rf.RewardConfig(
        names=("autotriton", "rule_reward", "tests.rewards.scoring.test_functions:constant_reward"), verify=CPU))
    assert [f.__name__ for f in rs.funcs] == ["autotriton_reward", "rule_reward", "constant_reward"]
    assert rs.funcs[2](prompts=["p"], completions=["x"]) == [0.5]
    with pytest.raises(ValueError, match="valid: autotriton, exec, rule, speed"):
        rf.RewardConfig(names=("nope",))
    with pytest.raises(ValueError, match="cannot import"):
        rf.build_rewards(rf.RewardConfig(names=("no.such.module:reward",), verify=CPU))
    with pytest.raises(ValueError, match="named twice"):
        rf.RewardConfig(names=("exec", "exec_reward"))


def test_speed_term_is_clipped():
    def v(s):
        return VerifyResult(status=Status.OK, correct=True, speedup=s)

    assert rf._speed(v(1.0)) == 0.0 and rf._speed(v(0.5)) == 0.0
    assert rf._speed(v(2.0)) == pytest.approx(0.5) and rf._speed(v(100.0)) == 1.0
    assert rf._speed(VerifyResult(status=Status.OK, correct=True, speedup=9.0, implausible_speedup=True)) == 0.0


# ------------------------------------------------------------------ without the sandbox: a counting engine
class CountingEngine:
    """Stands in for `get_engine`: records every batch it is asked to verify; optionally fails."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[list[tuple[str, str]]] = []
        self.config: VerifyConfig | None = None

    def __call__(self, config: VerifyConfig) -> CountingEngine:
        self.config = config
        return self

    def verify_many(self, pairs):
        self.calls.append(list(pairs))
        if self.fail:
            raise RuntimeError("sandbox zygote failed to start")
        return [VerifyResult(status=Status.OK, correct=True, speedup=4.0) for _ in pairs]


def _fake_set(engine: CountingEngine, names=("rule", "exec", "autotriton", "speed")) -> rf.RewardSet:
    return rf.build_rewards(rf.RewardConfig(names=names, verify=CPU), engine=engine)


def test_one_verification_and_one_parse_per_completion_per_batch(monkeypatch):
    parsed: list[object] = []
    real_text = rv.completion_text
    monkeypatch.setattr(rv, "completion_text", lambda c: parsed.append(c) or real_text(c))
    engine = CountingEngine()
    rs = _fake_set(engine)
    comps = ["a", "b", "a"]  # a duplicate completion of the same task is verified once
    kw = {"reference": ["R"] * 3}
    scores = [f(prompts=["p"] * 3, completions=comps, **kw) for f in rs.funcs]
    assert scores == [[1.0] * 3, [1.0] * 3, [1.0] * 3, [1.0] * 3]
    assert engine.calls == [[("R", "a"), ("R", "b")]]
    assert len(parsed) == 3  # each completion's text extracted once for all four rewards
    assert rs.stats.batches == 1 and rs.stats.verifications == 2
    next_batch = ["a", "b", "a"]  # a new step: new completion objects, verified afresh
    rs.funcs[0](prompts=["p"] * 3, completions=next_batch, **kw)
    assert len(engine.calls) == 2 and rs.stats.batches == 2


def test_engine_failure_scores_none_once_with_reason():
    engine = CountingEngine(fail=True)
    rs = _fake_set(engine)
    comps = ["a", "b"]
    scores = [f(prompts=["p"] * 2, completions=comps, reference="R") for f in rs.funcs]
    assert scores == [[None, None]] * 4  # TRL leaves None out of the advantage
    assert len(engine.calls) == 1  # the failing engine is not asked again for the same batch
    assert rs.stats.infra_errors == 2 and rs.stats.reward_errors == 0
    assert rs.verifier.last is not None
    assert all(v.status is Status.INFRA_ERROR and "zygote failed to start" in v.log for v in rs.verifier.last.verdicts)


def test_reward_callables_pickle_with_their_settings():
    engine = CountingEngine()
    rs = _fake_set(engine, names=("exec", "speed"))
    funcs = pickle.loads(pickle.dumps(rs.funcs))
    assert [f.__name__ for f in funcs] == ["exec_reward", "speed_reward"]
    assert funcs[0].func.verifier is funcs[1].func.verifier  # still one shared verifier
    assert funcs[0].func.verifier.config == rs.verifier.config  # device, trials, timeout, workers travel along
    assert [f(prompts=["p"], completions=["x"], reference="R") for f in funcs] == [[1.0], [1.0]]


def test_speed_term_decided_once():
    base = rf.RewardConfig(names=("autotriton",), speed_weight=0.25)
    assert rf.plan_rewards(base, "cpu") == rf.RewardPlan(("autotriton",), None, False)  # CPU: off
    assert rf.plan_rewards(base, "cuda") == rf.RewardPlan(("autotriton", "speed"), [1.0, 0.25], True)  # CUDA: on
    explicit_off = rf.RewardConfig(names=("autotriton",), speed=False)
    assert rf.plan_rewards(explicit_off, "cuda").names == ("autotriton",)  # an explicit setting wins
    explicit_on = rf.RewardConfig(names=("autotriton",), speed=True, speed_weight=0.25)
    assert rf.plan_rewards(explicit_on, "cpu").names == ("autotriton", "speed")
    weighted = rf.RewardConfig(names=("autotriton",), speed_weight=0.25, weights=(2.0,))
    assert rf.plan_rewards(weighted, "cuda").weights == [2.0, 0.25]  # the recipe weighted its own names
    named = rf.RewardConfig(names=("rule", "speed_reward"), speed=False)
    assert rf.plan_rewards(named, "cpu") == rf.RewardPlan(("rule", "speed"), [1.0, 0.5], True)
    with pytest.raises(ValueError, match="reward_weights"):
        rf.plan_rewards(rf.RewardConfig(names=("rule", "exec"), speed=False, weights=(1.0, 2.0, 3.0)), "cpu")


@pytest.mark.parametrize("cuda", [False, True])
def test_factory_decides_speed_from_the_resolved_device(monkeypatch, cuda):
    import rewards.contract.config

    monkeypatch.setattr(rewards.contract.config, "cuda_available", lambda: cuda)
    rs = rf.build_rewards(rf.RewardConfig(names=("autotriton",), verify=VerifyConfig(device="auto")),
                          engine=CountingEngine())
    names = [f.__name__ for f in rs.funcs]
    assert names == (["autotriton_reward", "speed_reward"] if cuda else ["autotriton_reward"])
    assert rs.verifier.config.device == ("cuda" if cuda else "cpu")
    assert rs.verifier.config.time_gpu is cuda  # the engine times candidates only for a scored speed term
