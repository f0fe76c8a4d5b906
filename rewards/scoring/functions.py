"""Reward functions for TRL's GRPOTrainer, built by one factory from a `RewardConfig`.

Why a factory: a reward function must know how to verify (device, trials, timeout, workers), and that
knowledge lives in the function, not in module state, so two reward sets with different settings can
coexist and a function pickles with its settings. `build_rewards` decides the reward list and weights
once (`plan_rewards`), builds one `BatchVerifier` shared by the set (one verification per completion
per batch, see `rewards.scoring.verdicts`) and wraps every function once in `SafeReward`, the one layer that
keeps a reward from ever raising.

Every function takes `(prompts, completions, **dataset_columns)` and reads the task's reference source
from the `reference` column. The candidate's own failure scores 0.0; a failure of the machinery
(`infra_error`, an engine that failed, a reward function that raised) scores None, which TRL leaves out
of the advantage; both are counted in the set's `stats`.

>>> from rewards.contract.config import VerifyConfig
>>> rs = build_rewards(RewardConfig(names=("autotriton",), speed=True, verify=VerifyConfig(device="cpu")))
>>> [f.__name__ for f in rs.funcs], rs.weights
(['autotriton_reward', 'speed_reward'], [1.0, 0.5])
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rewards.contract.config import VerifyConfig
from rewards.contract.types import Status, VerifyResult
from rewards.engine.client import get_engine
from rewards.scoring.verdicts import BatchVerifier, EngineSource, RewardStats, references_of

log = logging.getLogger(__name__)

RewardFunc = Callable[..., list[float | None]]
Score = Callable[[VerifyResult], float]

SPEED_LOG2_CAP = 2.0  # speed_reward reaches 1.0 at a 4x speedup


# ------------------------------------------------------------------------------------------ scores
def _rule(v: VerifyResult) -> float:
    """1.0 when the rule gate passes: code present and parsed, no fatal static finding, a kernel launched."""
    if v.status in (Status.NO_CODE, Status.SYNTAX_ERROR, Status.RULE_VIOLATION):
        return 0.0
    return 1.0 if v.rule_ok else 0.0


def _exec(v: VerifyResult) -> float:
    return 1.0 if v.correct else 0.0


def _speed(v: VerifyResult) -> float:
    """Clipped log-speedup in [0, 1]: 0 at or below eager speed, 1 at >= 4x; 0 if flagged implausible."""
    if not v.correct or not v.rule_ok or v.speedup is None or v.implausible_speedup or v.speedup <= 0:
        return 0.0
    return min(max(math.log2(v.speedup), 0.0), SPEED_LOG2_CAP) / SPEED_LOG2_CAP


def _autotriton(v: VerifyResult) -> float:
    return _rule(v) * _exec(v)


SCORES: dict[str, tuple[Score, str]] = {
    "rule": (_rule, "Rule gate (1/0): a Triton kernel defined and launched, no torch compute fallback."),
    "exec": (_exec, "1 if the candidate matches the reference on fresh random inputs in every trial."),
    "speed": (_speed, "Clipped log2 speedup over eager PyTorch in [0, 1] (GPU only; 0 on CPU)."),
    "autotriton": (_autotriton, "AutoTriton's combination: rule gate x execution correctness."),
}


# ------------------------------------------------------------------------------------------ callables
class VerdictReward:
    """A reward read off the batch's shared verdict. May raise (no `reference` column); `SafeReward` catches.

    A class, not a closure, so it pickles; `__name__` is what TRL logs the reward by.
    """

    def __init__(self, key: str, verifier: BatchVerifier) -> None:
        self.key = key
        self.score, self.__doc__ = SCORES[key]
        self.__name__ = f"{key}_reward"
        self.verifier = verifier

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any) -> list[float | None]:
        batch = self.verifier.batch(completions, references_of(len(completions), kwargs))
        return [None if v.status is Status.INFRA_ERROR else float(self.score(v)) for v in batch.verdicts]


class RewardSink(Protocol):
    """Receives every reward call's scores (the GRPO completion audit is one)."""

    def bind(self, names: Sequence[str], verifier: BatchVerifier) -> None:
        """The set's reward names, in call order, and the verifier holding the batch's verdicts."""

    def record(self, name: str, scores: list[float | None], completions: Sequence[Any], kwargs: dict[str, Any],
               error: str | None) -> None:
        """One reward function's scores for a batch; `error` is why it scored None, if it failed."""


class SafeReward:
    """The one never-raise layer: whatever the wrapped reward does, TRL gets one score (or None) per completion.

    An exception, or a wrong number of scores, scores the whole batch None (left out of the advantage),
    is logged and counted, and its reason goes to the sink. A plain class, so it pickles.
    """

    def __init__(self, func: RewardFunc, stats: RewardStats, sink: RewardSink | None = None) -> None:
        self.func = func
        self.stats = stats
        self.sink = sink
        self.__name__: str = getattr(func, "__name__", type(func).__name__)
        self.__doc__ = getattr(func, "__doc__", None)

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any) -> list[float | None]:
        n = len(completions)
        error: str | None = None
        try:
            scores = list(self.func(prompts=prompts, completions=completions, **kwargs))
            if len(scores) != n:
                raise ValueError(f"returned {len(scores)} rewards for {n} completions")
        except Exception as e:  # never let a reward take training down
            error = f"{type(e).__name__}: {e}"[:2000]
            self.stats.reward_errors += 1
            log.error("reward %s failed (%s); batch scored None", self.__name__, error)
            scores = [None] * n
        if self.sink is not None:
            self.sink.record(self.__name__, scores, completions, kwargs, error)
        return scores


# ------------------------------------------------------------------------------------------ config + plan
def _key(name: str) -> str:
    """`rule_reward` -> `rule` for the built-in rewards; anything else (a dotted path) unchanged."""
    key = name.removesuffix("_reward")
    return key if key in SCORES else name


@dataclass(frozen=True)
class RewardConfig:
    """Which rewards to build and how their candidates are verified."""

    names: tuple[str, ...] = ("autotriton",)  # built-in names (rule, exec, speed, autotriton) or dotted paths
    speed: bool | None = None  # add the speed term; None: on when candidates run on CUDA
    speed_weight: float = 0.5  # weight of the speed term when weights are derived or it is appended
    weights: tuple[float, ...] | None = None  # one per name (the appended speed term gets speed_weight)
    verify: VerifyConfig = field(default_factory=VerifyConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        if not self.names:
            raise ValueError("reward_funcs must name at least one reward function")
        for name in self.names:
            if _key(name) not in SCORES and "." not in name and ":" not in name:
                raise ValueError(f"unknown reward function {name!r}; valid: {', '.join(sorted(SCORES))} or a dotted path")
        keys = [_key(n) for n in self.names]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a reward function is named twice in {list(self.names)}")


@dataclass(frozen=True)
class RewardPlan:
    """The decided reward list: what TRL gets, with which weights, and whether the speed term is scored."""

    names: tuple[str, ...]  # built-in keys or dotted paths, in call order
    weights: list[float] | None  # None: TRL's default (all 1.0), used for a single function
    speed: bool  # the speed term is in `names`, so the engine times candidates on CUDA


def plan_rewards(config: RewardConfig, device: str) -> RewardPlan:
    """The one place the speed term is decided: explicit `config.speed` wins, else on iff `device` is cuda.

    Weights: the recipe's own (`config.weights`, one per named function; an appended speed term gets
    `speed_weight`), else 1.0 each and `speed_weight` for the speed term.
    """
    keys = tuple(_key(n) for n in config.names)
    want_speed = config.speed if config.speed is not None else device == "cuda"
    appended = bool(want_speed) and "speed" not in keys
    names = (*keys, "speed") if appended else keys
    if config.weights is None:
        weights = None if len(names) == 1 else [config.speed_weight if n == "speed" else 1.0 for n in names]
    else:
        weights = list(config.weights)
        if appended and len(weights) == len(keys):
            weights.append(config.speed_weight)  # the recipe weighted its own names; the speed term is ours
        if len(weights) != len(names):
            raise ValueError(f"{len(weights)} reward_weights for {len(names)} reward_funcs {list(names)}")
    return RewardPlan(names, weights, "speed" in names)


# ------------------------------------------------------------------------------------------ factory
@dataclass
class RewardSet:
    """What `build_rewards` returns: TRL's `reward_funcs` and `reward_weights`, plus what they share."""

    funcs: list[SafeReward]
    weights: list[float] | None
    plan: RewardPlan
    verifier: BatchVerifier
    stats: RewardStats


def _import(name: str) -> RewardFunc:
    mod_name, _, attr = name.replace(":", ".").rpartition(".")
    try:
        func = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ValueError(f"cannot import reward function {name!r}: {e}") from None
    if not callable(func):
        raise ValueError(f"reward function {name!r} is not callable")
    return func


def build_rewards(config: RewardConfig, sink: RewardSink | None = None, engine: EngineSource = get_engine) -> RewardSet:
    """Build the reward callables of one trainer from `config`.

    The device is resolved here, once: asking for cuda on a machine without one stops now instead of
    scoring every batch None. The engine times candidates only when the speed term is scored.
    """
    device = config.verify.resolved_device()
    plan = plan_rewards(config, device)
    stats = RewardStats()
    verifier = BatchVerifier(dataclasses.replace(config.verify, device=device, time_gpu=plan.speed), engine, stats)
    raw: list[RewardFunc] = [VerdictReward(n, verifier) if n in SCORES else _import(n) for n in plan.names]
    funcs = [SafeReward(f, stats, sink) for f in raw]
    if sink is not None:
        sink.bind([f.__name__ for f in funcs], verifier)
    log.info("rewards %s (weights %s), candidates verified on %s", [f.__name__ for f in funcs], plan.weights, device)
    return RewardSet(funcs, plan.weights, plan, verifier, stats)
