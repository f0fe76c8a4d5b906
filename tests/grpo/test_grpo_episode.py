"""The episode's return: discounted by the turn it ends at, penalised when a turn breaks what worked."""

from __future__ import annotations

import pytest

from grpo.episode import Episode, Turn, episode_return
from rewards.contract.types import Status, VerifyResult


def test_right_in_turn_one_beats_fixed_in_turn_two() -> None:
    first = episode_return([1.0], discount=0.4, regression_penalty=0.5)
    second = episode_return([0.0, 1.0], discount=0.4, regression_penalty=0.5)
    third = episode_return([0.0, 0.0, 1.0], discount=0.4, regression_penalty=0.5)
    assert first == 1.0 and second == pytest.approx(0.4) and third == pytest.approx(0.16)
    assert first > second > third > episode_return([0.0, 0.0, 0.0], 0.4, 0.5) == 0.0
    assert episode_return([0.0, 1.0], discount=1.0, regression_penalty=0.5) == 1.0  # no discount: a fix is a fix


def test_a_turn_that_breaks_what_worked_is_penalised() -> None:
    # the rule gate passed in turn 1 (score 0.5 under weights rule+exec / 2), turn 2 broke it
    broke = episode_return([0.5, 0.0], discount=0.5, regression_penalty=0.5)
    assert broke == pytest.approx(-0.25)
    kept = episode_return([0.5, 0.5], discount=0.5, regression_penalty=0.5)
    assert kept == pytest.approx(0.25) and kept > broke
    assert episode_return([1.0, 0.0, 1.0], 1.0, 2.0) == pytest.approx(-1.0)  # recovering does not erase the drop


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="discount"):
        episode_return([1.0], discount=0.0, regression_penalty=0.0)
    with pytest.raises(ValueError, match="at least one turn"):
        episode_return([], discount=0.5, regression_penalty=0.0)


def test_unjudged_turn_makes_the_episode_unscorable() -> None:
    e = Episode(messages=[], prompt_ids=[1, 2])
    e.turns.append(Turn("a", VerifyResult(Status.MISMATCH), 0.0))
    assert e.result(0.5, 0.5) == 0.0
    e.turns.append(Turn("b", VerifyResult(Status.INFRA_ERROR), None))
    assert e.result(0.5, 0.5) is None


def test_token_stream_masks_feedback() -> None:
    e = Episode(messages=[], prompt_ids=[7])
    e.add_model_tokens([1, 2, 3], None)
    e.add_feedback_tokens([9, 9])
    e.add_model_tokens([4], [-0.5])
    assert e.completion_ids == [1, 2, 3, 9, 9, 4] and e.env_mask == [1, 1, 1, 0, 0, 1]
    assert e.logprobs == [0.0, 0.0, 0.0, 0.0, 0.0, -0.5] and e.model_tokens == 4
    assert e.context_ids == [7, 1, 2, 3, 9, 9, 4] and e.last_model_ids == [4]
