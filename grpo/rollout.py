"""Multi-turn GRPO on TRL's GRPOTrainer: a `rollout_func` that plays refinement episodes.

Why `rollout_func` and not `environment_factory`: TRL's environments reach the model through tool calls
(the model must emit a tool-call in its chat template's format, which a 135M SFT model never learned, and
the environment only answers inside that protocol). Our feedback is not a tool the model calls: the judge
answers every attempt, as a user turn, whatever the model wrote. `rollout_func` lets us drive exactly that
loop (generate, verify in the sandbox, append the feedback turn, generate again) while TRL keeps everything
else: group advantages per prompt (each episode is one completion of its prompt's group), the loss, the
optimizer, vLLM weight syncs, logging and checkpoints. The feedback tokens come back as `env_mask` = 0, which
TRL multiplies into the loss mask, so only model-written tokens get gradient.

Generation goes through the trainer's own single-turn generator (`_generate_single_turn`: HF `generate` on
CPU, vLLM colocated or as a server when the recipe says so), one completion per episode per turn.
Every turn is scored by the recipe's reward functions (the same `RewardSet` single-turn GRPO uses, so the
audit file holds every turn); the episode's return (`grpo.episode`) is the one reward TRL sees.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from grpo.episode import Episode, Turn
from rewards.contract.feedback import feedback_message
from rewards.contract.types import VerifyResult
from rewards.scoring.functions import RewardSet

logger = logging.getLogger(__name__)

# Generates one continuation per context: (token ids per context, sampling logprobs per context or None).
Generate = Callable[[list[list[int]]], tuple[list[list[int]], list[list[float]] | None]]

_SENTINEL = "\ue000tritonforge-turn-end\ue000"


def prompt_key(prompt: Any) -> str:
    """A dataset prompt (chat messages or text) as a dictionary key."""
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def reference_index(dataset: Any) -> dict[str, tuple[str, Any]]:
    """prompt -> (reference source, task_id) over a training split: TRL hands `rollout_func` the prompts only."""
    ids = dataset["task_id"] if "task_id" in dataset.column_names else [None] * len(dataset)
    return {prompt_key(p): (r, t) for p, r, t in zip(dataset["prompt"], dataset["reference"], ids, strict=True)}


class FeedbackTokens:
    """Tokens that close the model's turn and open the next one around the feedback, per the chat template.

    Rendered with a sentinel in place of the answer, so the model's own tokens are never re-tokenized (the
    loss must see exactly what was sampled). If the model ended its turn with its end token, that token is
    the model's (trained); the rest of the template's closing is the environment's (masked).
    """

    def __init__(self, tokenizer: Any, chat_template_kwargs: dict[str, Any] | None = None) -> None:
        self.tokenizer = tokenizer
        self.kwargs = chat_template_kwargs or {}

    def ids(self, messages: list[dict[str, str]], feedback: str, model_ids: Sequence[int], eos_ids: Sequence[int]) -> list[int]:
        convo = [*messages, {"role": "assistant", "content": _SENTINEL}, {"role": "user", "content": feedback}]
        text = self.tokenizer.apply_chat_template(convo, tokenize=False, add_generation_prompt=True, **self.kwargs)
        tail = text[text.index(_SENTINEL) + len(_SENTINEL):]
        if model_ids and model_ids[-1] in eos_ids:
            end = self.tokenizer.decode([model_ids[-1]])
            if end and tail.startswith(end):
                tail = tail[len(end):]
        return list(self.tokenizer(tail, add_special_tokens=False)["input_ids"])


class TurnScorer:
    """Scores one turn of a batch of episodes with the recipe's reward functions, and returns the verdicts.

    The reward functions share the set's verifier, so each answer is verified once; the verdicts are read
    back from it (the feedback is built from them). A score is None when the judge failed on that answer.
    """

    def __init__(self, rewards: RewardSet) -> None:
        self.rewards = rewards
        n = len(rewards.funcs)
        self.weights = list(rewards.weights) if rewards.weights is not None else [1.0] * n

    def __call__(self, texts: list[str], references: list[str], **columns: Any) -> list[tuple[float | None, VerifyResult]]:
        completions = [[{"role": "assistant", "content": t}] for t in texts]
        per_func = [f(prompts=None, completions=completions, reference=references, **columns) for f in self.rewards.funcs]
        verdicts = self.rewards.verifier.batch(completions, references).verdicts
        out: list[tuple[float | None, VerifyResult]] = []
        for i, verdict in enumerate(verdicts):
            scores = [s[i] for s in per_func]
            total = None if any(s is None for s in scores) else sum(w * float(s) for w, s in zip(self.weights, scores, strict=True) if s is not None)
            out.append((total, verdict))
        return out


class MultiTurnRollout:
    """TRL's `rollout_func`: plays one refinement episode per prompt of the batch, all turns batched."""

    def __init__(
        self,
        turns: int,
        discount: float,
        regression_penalty: float,
        scorer: Callable[..., list[tuple[float | None, VerifyResult]]],
        references: dict[str, tuple[str, Any]],
        generate: Generate | None = None,
        stop_at_pass: bool = True,
    ) -> None:
        if turns < 1:
            raise ValueError(f"turns must be >= 1, got {turns}")
        self.turns = turns
        self.discount = discount
        self.regression_penalty = regression_penalty
        self.scorer = scorer
        self.references = references  # prompt_key -> (reference source, task_id)
        self.generate = generate
        self.stop_at_pass = stop_at_pass  # False: a passing kernel gets its speedup as feedback and one more try
        self.last_episodes: list[Episode] = []

    def _reference(self, prompt: Any) -> tuple[str, Any]:
        try:
            return self.references[prompt_key(prompt)]
        except KeyError:
            raise ValueError("a prompt of the batch is not in the training split (no reference to verify against)") from None

    def play(self, prompts: list[Any], prompt_ids: list[list[int]], tokenizer: Any, eos_ids: Sequence[int],
             generate: Generate, chat_template_kwargs: dict[str, Any] | None = None, **columns: Any) -> list[Episode]:
        """The episodes of one batch: turn by turn, only the unfinished ones generate again."""
        refs = [self._reference(p) for p in prompts]
        splice = FeedbackTokens(tokenizer, chat_template_kwargs)
        episodes = [Episode(messages=[dict(m) for m in p] if isinstance(p, list) else [{"role": "user", "content": str(p)}],
                            prompt_ids=list(ids)) for p, ids in zip(prompts, prompt_ids, strict=True)]
        for turn in range(self.turns):
            live = [i for i, e in enumerate(episodes) if not e.done]
            if not live:
                break
            if turn > 0:  # the feedback on the previous turn, as a user turn the model reads but is not trained on
                for i in live:
                    e = episodes[i]
                    fb = feedback_message(e.turns[-1].verdict)
                    e.add_feedback_tokens(splice.ids(e.messages, fb, e.last_model_ids, eos_ids))
                    e.messages.append({"role": "user", "content": fb})
            ids, logprobs = generate([episodes[i].context_ids for i in live])
            texts = [tokenizer.decode(x, skip_special_tokens=True) for x in ids]
            scored = self.scorer(texts, [refs[i][0] for i in live], task_id=[refs[i][1] for i in live], **columns)
            for k, i in enumerate(live):
                e = episodes[i]
                e.add_model_tokens(list(ids[k]), None if logprobs is None else list(logprobs[k]))
                e.messages.append({"role": "assistant", "content": texts[k]})
                score, verdict = scored[k]
                e.turns.append(Turn(texts[k], verdict, score))
                # stop at the first verified kernel (unless asked to go on for speed); a turn the judge could not
                # score ends the episode too
                e.done = (verdict.correct and self.stop_at_pass) or score is None
            logger.info("turn %d: %d episode(s) played, %d verified", turn + 1, len(live),
                        sum(1 for i in live if episodes[i].passed))
        self.last_episodes = episodes
        return episodes

    def outputs(self, episodes: list[Episode], prompt_ids: list[list[int]], with_logprobs: bool) -> dict[str, Any]:
        """The dict TRL expects back; every key besides the three required ones reaches the reward functions."""
        return {
            "prompt_ids": prompt_ids,
            "completion_ids": [e.completion_ids for e in episodes],
            "logprobs": [e.logprobs for e in episodes] if with_logprobs else None,
            "env_mask": [e.env_mask for e in episodes],
            "episode_return": [e.result(self.discount, self.regression_penalty) for e in episodes],
            "turns_played": [len(e.turns) for e in episodes],
            "episode_passed": [e.passed for e in episodes],
        }

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        prompt_ids = trainer._tokenize_prompts(prompts)[0]
        generate = self.generate or (lambda ctx: trainer._generate_single_turn(ctx, None, {}, 1))
        episodes = self.play(prompts, prompt_ids, trainer.processing_class, trainer.eos_token_ids, generate,
                             getattr(trainer, "chat_template_kwargs", None), trainer_state=trainer.state)
        _log_metrics(trainer, episodes)
        return self.outputs(episodes, prompt_ids, with_logprobs=bool(getattr(trainer, "use_vllm", False)))


def _log_metrics(trainer: Any, episodes: list[Episode]) -> None:
    """Per step: turns played, pass at turn 1 and at the end (the token count is `grpo.budget`'s, both modes)."""
    metrics = getattr(trainer, "_metrics", None)
    if not episodes or metrics is None:
        return
    mode = "train" if getattr(trainer.model, "training", True) else "eval"
    n = len(episodes)
    m = metrics[mode]
    m["episode/turns_mean"].append(sum(len(e.turns) for e in episodes) / n)
    m["episode/pass_turn1"].append(sum(e.turns[0].verdict.correct for e in episodes) / n)
    m["episode/pass_final"].append(sum(e.passed for e in episodes) / n)


class EpisodeReturnReward:
    """The one reward TRL sees in multi-turn GRPO: the return the rollout computed for each episode."""

    __name__ = "episode_return"

    def __call__(self, prompts: Any = None, completions: Sequence[Any] = (), episode_return: Sequence[float | None] | None = None,
                 **kwargs: Any) -> list[float | None]:
        if episode_return is None or len(episode_return) != len(completions):
            raise ValueError("episode_return is missing: multi-turn rewards come from grpo.rollout.MultiTurnRollout")
        return list(episode_return)
