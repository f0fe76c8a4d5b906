"""Reward functions: TRL signature, values for correct / wrong / cheating completions, never raising."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from rewards import VerifyConfig
from rewards import functions as rf

HERE = Path(__file__).parent
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


@pytest.fixture(autouse=True, scope="module")
def _cpu_rewards():
    rf.configure_rewards(VerifyConfig(device="cpu", workers=2, trials=2, timeout_s=60))
    yield
    rf.configure_rewards(None)


def test_values_for_correct_wrong_cheating_and_no_code():
    comps = [OK, WRONG, CHEAT, "no code at all"]
    kw = {"reference": [REF] * 4, "task_id": ["t"] * 4}
    assert rf.rule_reward(prompts=["p"] * 4, completions=comps, **kw) == [1.0, 1.0, 0.0, 0.0]
    assert rf.exec_reward(prompts=["p"] * 4, completions=comps, **kw) == [1.0, 0.0, 0.0, 0.0]
    assert rf.autotriton_reward(prompts=["p"] * 4, completions=comps, **kw) == [1.0, 0.0, 0.0, 0.0]
    assert rf.speed_reward(prompts=["p"] * 4, completions=comps, **kw) == [0.0, 0.0, 0.0, 0.0]  # CPU: no timing
    verdicts = rf.last_verdicts()
    assert [v.status.value for v in verdicts] == ["ok", "mismatch", "rule_violation", "no_code"]


def test_conversational_completions():
    comps = [[{"role": "assistant", "content": OK}]]
    assert rf.exec_reward(prompts=[[{"role": "user", "content": "x"}]], completions=comps, reference=[REF]) == [1.0]


def test_reward_never_raises_and_returns_none_on_machinery_failure():
    # no reference column: a machinery/config problem, not the candidate's fault
    assert rf.exec_reward(prompts=["p"], completions=[OK]) == [None]
    assert rf.reward_stats()["reward_errors"] >= 1


def test_registry_names_and_errors():
    fns = rf.get_reward_funcs(["autotriton", "rule_reward", "rewards.functions:speed_reward"])
    assert [f.__name__ for f in fns] == ["autotriton_reward", "rule_reward", "speed_reward"]
    with pytest.raises(ValueError, match="valid: autotriton, exec, rule, speed"):
        rf.get_reward_funcs(["nope"])
    assert pickle.loads(pickle.dumps(rf.exec_reward)) is rf.exec_reward


def test_speed_term_is_clipped():
    from rewards.types import Status, VerifyResult

    def v(s):
        return VerifyResult(status=Status.OK, correct=True, speedup=s)

    assert rf._speed(v(1.0)) == 0.0 and rf._speed(v(0.5)) == 0.0
    assert rf._speed(v(2.0)) == pytest.approx(0.5) and rf._speed(v(100.0)) == 1.0
    assert rf._speed(VerifyResult(status=Status.OK, correct=True, speedup=9.0, implausible_speedup=True)) == 0.0
