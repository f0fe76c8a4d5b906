"""Reward functions with TRL's signature, and a registry to build them from recipe names.

Every function takes `(prompts, completions, **dataset_columns)` and reads the task's reference source
from the `reference` column. All of them share one verdict per (reference, completion): the first
function called in a GRPO step verifies the whole group in parallel through the engine's batch API and
the others read the cached verdicts.

A reward function never raises. The candidate's own failure scores 0.0; a failure of the machinery
(`infra_error`) scores None, which TRL leaves out of the advantage; both are counted.

>>> from rewards.functions import get_reward_funcs
>>> [f.__name__ for f in get_reward_funcs(["autotriton", "speed"])]
['autotriton_reward', 'speed_reward']
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from rewards.config import VerifyConfig
from rewards.engine import get_engine
from rewards.extract import completion_text
from rewards.types import Status, VerifyResult

log = logging.getLogger(__name__)

RewardFunc = Callable[..., list[float | None]]

_state: dict[str, Any] = {"config": None, "last": [], "infra_errors": 0, "reward_errors": 0}
_cache: OrderedDict[tuple[str, str], VerifyResult] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 8192
SPEED_LOG2_CAP = 2.0  # speed_reward reaches 1.0 at a 4x speedup


def configure_rewards(config: VerifyConfig | None) -> None:
    """Set the engine settings the reward functions use (device, trials, timeout, workers)."""
    _state["config"] = config
    with _cache_lock:
        _cache.clear()


def reward_stats() -> dict[str, int]:
    """Counters for logging: machinery failures and exceptions caught inside reward functions."""
    return {"infra_errors": _state["infra_errors"], "reward_errors": _state["reward_errors"]}


def last_verdicts() -> list[VerifyResult]:
    """Verdicts of the most recent reward call, in completion order (for completion logging)."""
    return list(_state["last"])


def verdicts_for(completions: Sequence[Any], references: Sequence[str]) -> list[VerifyResult]:
    """Verify each completion against its reference, reusing verdicts already computed this step."""
    texts = [completion_text(c) for c in completions]
    keys = list(zip(references, texts, strict=True))
    with _cache_lock:
        todo = [k for k in dict.fromkeys(keys) if k not in _cache]
    if todo:
        results = get_engine(_state["config"]).verify_many(todo)
        with _cache_lock:
            for k, r in zip(todo, results, strict=True):
                if r.status is not Status.INFRA_ERROR:  # a machinery failure may succeed on retry
                    _cache[k] = r
                    while len(_cache) > CACHE_SIZE:
                        _cache.popitem(last=False)
        fresh = dict(zip(todo, results, strict=True))
        n_infra = sum(r.status is Status.INFRA_ERROR for r in results)
        if n_infra:
            _state["infra_errors"] += n_infra
            log.warning("%d of %d verifications failed in the sandbox machinery (scored None)", n_infra, len(results))
    else:
        fresh = {}
    with _cache_lock:
        out = [_cache.get(k) or fresh[k] for k in keys]
    _state["last"] = out
    return out


def _references(n: int, kwargs: dict[str, Any]) -> list[str]:
    ref = kwargs.get("reference")
    if ref is None:
        raise ValueError("reward functions need the dataset's `reference` column")
    if isinstance(ref, str):
        return [ref] * n
    if len(ref) != n:
        raise ValueError(f"{len(ref)} references for {n} completions")
    return list(ref)


def _safe(score: Callable[[VerifyResult], float]) -> Callable[..., list[float | None]]:
    """Wrap a per-verdict score into a TRL reward function that never raises."""

    def reward(prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any) -> list[float | None]:
        n = len(completions)
        try:
            verdicts = verdicts_for(completions, _references(n, kwargs))
            return [None if v.status is Status.INFRA_ERROR else float(score(v)) for v in verdicts]
        except Exception as e:  # never let a reward take training down
            _state["reward_errors"] += 1
            log.error("reward function failed (%s: %s); scoring the batch as None", type(e).__name__, e)
            return [None] * n

    return reward


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


def _named(score: Callable[[VerifyResult], float], name: str, doc: str) -> RewardFunc:
    """A reward function with a stable `__name__` (TRL logs rewards by it) and a module-level home (pickles)."""
    fn = _safe(score)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


rule_reward = _named(_rule, "rule_reward", "Rule gate (1/0): a Triton kernel defined and launched, no torch compute fallback.")
exec_reward = _named(_exec, "exec_reward", "1 if the candidate matches the reference on fresh random inputs in every trial.")
speed_reward = _named(_speed, "speed_reward", "Clipped log2 speedup over eager PyTorch in [0, 1] (GPU only; 0 on CPU).")
autotriton_reward = _named(_autotriton, "autotriton_reward", "AutoTriton's combination: rule gate x execution correctness.")

REWARDS: dict[str, RewardFunc] = {
    "rule": rule_reward,
    "exec": exec_reward,
    "speed": speed_reward,
    "autotriton": autotriton_reward,
}


def get_reward_funcs(names: Sequence[str]) -> list[RewardFunc]:
    """Resolve names (`rule`, `rule_reward`, ...) or dotted paths (`pkg.mod:func` / `pkg.mod.func`)."""
    out = []
    for name in names:
        key = name[: -len("_reward")] if name.endswith("_reward") else name
        if key in REWARDS:
            out.append(REWARDS[key])
            continue
        if "." in name or ":" in name:
            mod_name, _, attr = name.replace(":", ".").rpartition(".")
            try:
                out.append(getattr(importlib.import_module(mod_name), attr))
                continue
            except (ImportError, AttributeError) as e:
                raise ValueError(f"cannot import reward function {name!r}: {e}") from None
        raise ValueError(f"unknown reward function {name!r}; valid: {', '.join(sorted(REWARDS))} or a dotted path")
    return out
