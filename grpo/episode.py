"""One refinement episode of multi-turn GRPO: its turns, its tokens with their loss mask, and its return.

An episode answers one prompt in up to T turns. Turn t+1 is generated from the whole conversation so far
(the prompt, every earlier answer, the judge's feedback on each) and the episode stops at the first answer
the judge verifies. TRL sees the episode as ONE completion: the model's tokens of every turn with the
feedback turns spliced in between, and a mask (`env_mask`, 1 = the model wrote it) that keeps the
feedback tokens out of the policy loss while they still condition the later turns.

The return (what GRPO normalises per prompt group) is

    G = gamma^(k-1) * s_k  -  penalty * sum_{t=2..k} max(0, s_{t-1} - s_t)

with s_t the turn's score (the recipe's reward functions, weighted as in single-turn GRPO), k the last turn
played and gamma the turn discount: the episode is worth what its final answer is worth, discounted by how
many turns it took, so a kernel right in turn 1 beats the same kernel fixed in turn 2; a turn that scores
below the turn before it (it broke what worked: a kernel that passed the rule gate, or, when episodes go on
after a pass, a kernel that passed) costs `penalty` times the drop. With T = 1 this is the single-turn reward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rewards.contract.types import VerifyResult


def episode_return(scores: list[float], discount: float, regression_penalty: float) -> float:
    """The discounted return of one episode from its turns' scores (see the module docstring)."""
    if not scores:
        raise ValueError("an episode has at least one turn")
    if not 0.0 < discount <= 1.0:
        raise ValueError(f"turn discount must be in (0, 1], got {discount}")
    k = len(scores)
    drops = sum(max(0.0, a - b) for a, b in zip(scores, scores[1:], strict=False))
    return discount ** (k - 1) * scores[-1] - regression_penalty * drops


@dataclass
class Turn:
    """One answer of an episode: its text, its verdict and its score (None: the judge failed)."""

    text: str
    verdict: VerifyResult
    score: float | None


@dataclass
class Episode:
    """One rollout: the conversation's messages, the token stream TRL trains on, and the turns played."""

    messages: list[dict[str, str]]  # prompt messages, then assistant / feedback turns as played
    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)  # 1: model-written token (trained), 0: feedback token
    logprobs: list[float] = field(default_factory=list)  # sampling logprobs (vLLM), 0.0 for feedback tokens
    turns: list[Turn] = field(default_factory=list)
    last_model_ids: list[int] = field(default_factory=list)  # the latest turn's tokens (does it end with EOS?)
    done: bool = False

    def add_model_tokens(self, ids: list[int], logprobs: list[float] | None) -> None:
        self.completion_ids.extend(ids)
        self.env_mask.extend([1] * len(ids))
        self.logprobs.extend(logprobs if logprobs is not None else [0.0] * len(ids))
        self.last_model_ids = list(ids)

    def add_feedback_tokens(self, ids: list[int]) -> None:
        self.completion_ids.extend(ids)
        self.env_mask.extend([0] * len(ids))
        self.logprobs.extend([0.0] * len(ids))

    @property
    def context_ids(self) -> list[int]:
        """What the next turn is generated from: the prompt and everything played so far."""
        return self.prompt_ids + self.completion_ids

    @property
    def passed(self) -> bool:
        return bool(self.turns) and self.turns[-1].verdict.correct

    @property
    def model_tokens(self) -> int:
        return sum(self.env_mask)

    def result(self, discount: float, regression_penalty: float) -> float | None:
        """The episode's return; None when a turn could not be judged (TRL leaves it out of the advantage)."""
        scores = [t.score for t in self.turns]
        if any(s is None for s in scores):
            return None
        return episode_return([float(s) for s in scores if s is not None], discount, regression_penalty)
