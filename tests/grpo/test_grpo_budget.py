"""The generation budget on a real (tiny) GRPO run: counted tokens, the stop, and the count across a resume."""

from __future__ import annotations

import json

import pytest

from tests.grpo.test_grpo_train import _args


def _counted(out, step: int) -> int:
    return json.loads((out / f"checkpoint-{step}" / "generation_budget.json").read_text())["total"]


def test_budget_stops_the_run_and_survives_a_resume(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    from grpo.train import run_grpo

    out = tmp_path / "budget"
    run_grpo(*_args(tiny_model_dir, tiny_corpus_dir, out, "--max_steps", "1"))
    first = _counted(out, 1)
    # one step: 2 completions of at most 16 sampled tokens each, at least one token each
    assert 2 <= first <= 2 * 16
    signal = [json.loads(x) for x in (out / "signal.jsonl").read_text().splitlines()]
    assert signal[-1]["generated_tokens"] == first

    # Resumed with a budget one token above step 1's count: step 2 crosses it only if the count carried over
    # (step 2 alone generates at most 32 tokens, so a count restarted at 0 would run on to step 3 when first
    # is 32; with the carried count the run stops at step 2 whatever step 2 generated).
    run_grpo(*_args(tiny_model_dir, tiny_corpus_dir, out, "--max_steps", "4", "--max_generated_tokens", str(first + 1)))
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and not (out / "checkpoint-3").exists()
    assert _counted(out, 2) > first


def test_negative_budget_is_rejected() -> None:
    from grpo.cli import parse

    with pytest.raises(ValueError, match="max_generated_tokens"):
        parse(["--config", "tiny", "--max_generated_tokens", "-1"])
