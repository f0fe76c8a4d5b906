"""The verifier's options: one declaration every stage inherits, one validation named by option, one
conversion, and one meaning of "one worker per core" under several ranks."""

from __future__ import annotations

from dataclasses import fields

import pytest

from data_pipeline.config import DataConfig
from eval.config import EvalArguments, SelfcheckArguments
from grpo.config import GRPOScriptArguments, reward_config
from rewards.cli import VerifyCommandArguments
from rewards.contract.arguments import VerifyArguments
from stagekit.devices import workers_per_rank
from stagekit.errors import ConfigError

STAGES = (DataConfig, GRPOScriptArguments, EvalArguments, SelfcheckArguments, VerifyCommandArguments)


def test_every_stage_takes_the_same_options() -> None:
    ours = {f.name: f.metadata["help"] for f in fields(VerifyArguments)}
    for cls in STAGES:
        assert issubclass(cls, VerifyArguments), cls
        theirs = {f.name: f.metadata["help"] for f in fields(cls) if f.name.startswith("verify_")}
        assert theirs == ours, cls  # no stage declares a verify_* option of its own


@pytest.mark.parametrize("option,value,message", [
    ("verify_timeout_s", 0, "--verify_timeout_s must be > 0"),
    ("verify_trials", 0, "--verify_trials must be >= 1"),
    ("verify_device", "tpu", "--verify_device must be auto, cpu or cuda"),
    ("verify_workers", -1, "--verify_workers must be >= 0"),
])
def test_one_validation_named_by_option(option: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        VerifyArguments(**{option: value})


def test_verify_timeout_reaches_the_engine_typed() -> None:
    """`grpo --verify_timeout_s 7` is the candidate's limit in the reward factory's VerifyConfig."""
    script = GRPOScriptArguments(verify_timeout_s=7.0, verify_device="cpu")
    cfg = reward_config(script, type("Cfg", (), {"reward_weights": None})())
    assert cfg.verify.timeout_s == 7.0 and cfg.verify.resolved_reference_timeout_s() == 14.0


def test_zero_workers_is_this_ranks_share_of_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert workers_per_rank() == 4
    assert VerifyArguments(verify_workers=0).verify_config().workers == 4
    assert VerifyArguments(verify_workers=3).verify_config().workers == 3


def test_eval_kernels_follow_the_generation_device_unless_told() -> None:
    args = EvalArguments(suite="s", out="o", device="cpu")
    assert args.verify_config().device == "cpu"
    args = EvalArguments(suite="s", out="o", device="cpu", verify_device="cuda")
    assert args.verify_config().device == "cuda"
    assert SelfcheckArguments(suite="s", out="o").verify_config().trials == 1  # the stage's own default
