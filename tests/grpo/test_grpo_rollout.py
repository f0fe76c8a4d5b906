"""Multi-turn rollouts: episodes stop at the first pass, feedback is spliced in masked, and gets no gradient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from grpo.rollout import EpisodeReturnReward, MultiTurnRollout, prompt_key
from rewards import prompt_messages
from rewards.contract.types import Status, VerifyResult

RECIPE = Path(__file__).resolve().parents[2] / "stagekit" / "recipes" / "grpo" / "tiny.yaml"


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


class ScriptedModel:
    """Answers from a script: episode i's answer at turn t is script[i][t]; records the contexts it was given."""

    def __init__(self, tokenizer, script: list[list[str]]) -> None:
        self.tok, self.script, self.calls = tokenizer, script, []
        self.turn = 0

    def __call__(self, contexts: list[list[int]]):
        self.calls.append([list(c) for c in contexts])
        live = [i for i, s in enumerate(self.script) if len(s) > self.turn]
        assert len(live) == len(contexts), "only unfinished episodes generate"
        out = [self.tok(self.script[i][self.turn], add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
               for i in live]
        self.turn += 1
        return out, None


def scorer(texts, references, **columns):
    """PASS verifies, anything else is a mismatch; scores 1/0 like the autotriton reward."""
    return [(1.0, VerifyResult(Status.OK, correct=True)) if "PASS" in t else
            (0.0, VerifyResult(Status.MISMATCH, max_abs_err=0.25)) for t in texts]


def _play(tokenizer, script, turns=3, stop_at_pass=True):
    prompt = prompt_messages("class Model: ...", "write a kernel")
    rollout = MultiTurnRollout(turns, 0.4, 0.5, scorer, {prompt_key(prompt): ("ref", "t0")}, stop_at_pass=stop_at_pass)
    model = ScriptedModel(tokenizer, script)
    prompts = [prompt] * len(script)
    ids = [tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True) for _ in prompts]
    ids = [list(x["input_ids"]) if isinstance(x, dict) or hasattr(x, "keys") else list(x) for x in ids]
    episodes = rollout.play(prompts, ids, tokenizer, [tokenizer.eos_token_id], model)
    return rollout, model, episodes, ids


def test_episode_stops_at_first_pass(tokenizer) -> None:
    script = [["PASS one"], ["wrong one", "PASS two"], ["wrong", "still wrong", "wrong again"]]
    rollout, model, episodes, ids = _play(tokenizer, script)
    assert [len(c) for c in model.calls] == [3, 2, 1]  # the passed episodes stopped generating
    assert [len(e.turns) for e in episodes] == [1, 2, 3]
    assert [e.passed for e in episodes] == [True, True, False]
    out = rollout.outputs(episodes, ids, with_logprobs=False)
    assert out["episode_return"] == pytest.approx([1.0, 0.4, 0.0])
    assert out["turns_played"] == [1, 2, 3] and out["logprobs"] is None
    assert EpisodeReturnReward()(completions=[0, 1, 2], episode_return=out["episode_return"]) == out["episode_return"]


def test_feedback_is_in_the_context_and_masked(tokenizer) -> None:
    _, model, episodes, ids = _play(tokenizer, [["wrong one", "PASS two"]])
    e = episodes[0]
    # turn 2 was generated from prompt + answer 1 + feedback on it
    context = tokenizer.decode(model.calls[1][0])
    assert "wrong one" in context and "Verification failed: status `mismatch`" in context and "0.25" in context
    masked = [t for t, m in zip(e.completion_ids, e.env_mask, strict=True) if m == 0]
    trained = [t for t, m in zip(e.completion_ids, e.env_mask, strict=True) if m == 1]
    assert "Verification failed" in tokenizer.decode(masked) and "Verification failed" not in tokenizer.decode(trained)
    assert tokenizer.decode(trained, skip_special_tokens=True) == "wrong onePASS two"
    assert trained.count(tokenizer.eos_token_id) == 2  # each turn's own end token is the model's, so trained
    # the spliced stream is what the chat template renders for the whole conversation
    rendered = tokenizer.apply_chat_template(e.messages, tokenize=False)
    assert tokenizer.decode(ids[0] + e.completion_ids) in rendered


def test_breaking_a_passing_kernel_is_penalised_when_episodes_go_on(tokenizer) -> None:
    """stop_at_pass false (speed refinement on a GPU): the pass is fed back, and a later turn that breaks it costs."""
    rollout, model, episodes, ids = _play(tokenizer, [["PASS", "wrong now"], ["PASS", "PASS again"]], turns=2,
                                          stop_at_pass=False)
    assert "Verification passed" in tokenizer.decode(model.calls[1][0])
    out = rollout.outputs(episodes, ids, with_logprobs=False)
    assert out["episode_return"] == pytest.approx([0.4 * 0.0 - 0.5 * 1.0, 0.4])
    assert out["episode_return"][0] < 0 < out["episode_return"][1]


def test_unknown_prompt_is_one_clear_error(tokenizer) -> None:
    rollout = MultiTurnRollout(2, 0.4, 0.5, scorer, {})
    with pytest.raises(ValueError, match="not in the training split"):
        rollout.play([[{"role": "user", "content": "x"}]], [[1]], tokenizer, [tokenizer.eos_token_id],
                     ScriptedModel(tokenizer, [["a"]]))


def _args(model_dir: Path, corpus: Path, out: Path, *extra: str) -> tuple:
    from grpo.cli import parse

    return parse([
        "--config", str(RECIPE), "--model_name_or_path", str(model_dir), "--corpus", str(corpus),
        "--output_dir", str(out), "--num_generations", "2", "--per_device_train_batch_size", "2",
        "--max_completion_length", "12", "--verify_timeout_s", "20", "--verify_trials", "1",
        "--save_steps", "1", "--learning_rate", "1e-3", "--max_steps", "1", *extra,
    ])  # fmt: skip


def _feedback_grads(trainer, keep_mask: bool):
    """One training step with varied episode returns; the loss's gradient w.r.t. each completion token's logp."""
    rollout = trainer.rollout_func
    calls = {"n": 0}

    def varied(texts, references, **columns):  # mixed returns, so advantages (and gradients) are non-zero
        calls["n"] += 1
        return [(float((i + calls["n"]) % 2), VerifyResult(Status.MISMATCH, max_abs_err=1.0)) for i in range(len(texts))]

    rollout.scorer = varied
    if not keep_mask:
        real_outputs = rollout.outputs
        rollout.outputs = lambda *a, **k: {k2: v for k2, v in real_outputs(*a, **k).items() if k2 != "env_mask"}
    seen: dict = {}
    real_logps = trainer._get_per_token_logps_and_entropies

    def capture(*a, **k):
        out = real_logps(*a, **k)  # (per-token logps, entropies, ...)
        if out[0].requires_grad:
            out[0].retain_grad()
            seen["logps"] = out[0]
        return out

    trainer._get_per_token_logps_and_entropies = capture
    real_prepare = trainer._prepare_inputs

    def keep_inputs(*a, **k):
        seen["inputs"] = real_prepare(*a, **k)
        return seen["inputs"]

    trainer._prepare_inputs = keep_inputs
    trainer.train()
    grad = seen["logps"].grad
    inputs = seen["inputs"]
    live = inputs["completion_mask"].bool()
    ep = rollout.last_episodes
    env = torch.zeros_like(live)
    for i, e in enumerate(ep):
        env[i, : len(e.env_mask)] = torch.tensor(e.env_mask, dtype=torch.bool)
    feedback = live & ~env
    model = live & env
    assert feedback.any() and model.any(), "every episode played 2 turns, so there are feedback tokens"
    return grad[feedback].abs().max().item(), grad[model].abs().max().item()


def test_feedback_tokens_get_no_gradient(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    from grpo.train import build_trainer

    trainer = build_trainer(*_args(tiny_model_dir, tiny_corpus_dir, tmp_path / "m", "--turns", "2"))
    fb, model = _feedback_grads(trainer, keep_mask=True)
    assert model > 0.0 and fb == 0.0
    # and the check can fail: without the mask, the same step puts gradient on the feedback tokens
    trainer = build_trainer(*_args(tiny_model_dir, tiny_corpus_dir, tmp_path / "n", "--turns", "2"))
    fb, model = _feedback_grads(trainer, keep_mask=False)
    assert fb > 0.0


def test_multi_turn_grpo_runs_end_to_end(tiny_model_dir, tiny_corpus_dir, tmp_path) -> None:
    """`tritonforge grpo --config tiny --turns 2` on CPU: every turn verified in the sandbox and audited."""
    from grpo.train import run_grpo

    out = tmp_path / "mt"
    run_grpo(*_args(tiny_model_dir, tiny_corpus_dir, out, "--turns", "2"))
    assert (out / "checkpoint-1").is_dir() and (out / "config.json").is_file()
    rows = [json.loads(x) for x in (out / "completions_audit.jsonl").read_text().splitlines()]
    # random weights never verify: both episodes play both turns, each turn audited with its verdict
    assert len(rows) == 4 and all(r["status"] != "ok" for r in rows)
    signal = [json.loads(x) for x in (out / "signal.jsonl").read_text().splitlines()]
    assert signal and "signal_share" in signal[0]
    # the generation budget counts model-written tokens of both turns (<= 2 episodes x 2 turns x 12), never the
    # ~100-token feedback turns spliced between them
    counted = json.loads((out / "checkpoint-1" / "generation_budget.json").read_text())["total"]
    assert len(rows) <= counted <= 2 * 2 * 12 and signal[-1]["generated_tokens"] == counted
