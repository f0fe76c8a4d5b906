"""Reward-function wrappers for GRPO: never raise, and leave an audit trail of every completion.

Reward hacking shows up as completions that score well for the wrong reason (a kernel defined but not
used, a torch fallback slipping past a rule). So every scored completion is written, with its verdict
(status, fatal rule findings, max error, speedup) and each reward, to a JSONL file in output_dir, and the
same verdict columns are added to TRL's own completion table (`log_completions`) via `log_extra`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from rewards.extract import completion_text

logger = logging.getLogger(__name__)

RewardFunc = Callable[..., list[float | None]]


class RewardAudit:
    """Shared by the wrapped reward functions of one trainer; writes one JSONL line per completion."""

    def __init__(self, path: str | None, names: Sequence[str]) -> None:
        self.path = path
        self.names = list(names)
        self.scores: dict[str, list[float | None]] = {}
        self.errors = 0
        self._lock = threading.Lock()

    def record(
        self, name: str, scores: list[float | None], completions: Sequence[Any], kwargs: dict[str, Any]
    ) -> None:
        self.scores[name] = scores
        if name != self.names[-1]:
            return  # the last reward function of the step writes the row, with every function's score
        try:
            self._write(completions, kwargs)
        except Exception as e:  # auditing must never stop training
            logger.warning("completion audit failed: %s: %s", type(e).__name__, e)
        self.scores = {}

    def _write(self, completions: Sequence[Any], kwargs: dict[str, Any]) -> None:
        verdicts = _verdicts(completions, kwargs)
        if verdicts is not None and callable(kwargs.get("log_extra")):
            kwargs["log_extra"]("status", [v.status.value for v in verdicts])
            kwargs["log_extra"](
                "rule_findings", [",".join(f.rule for f in v.rule_findings if f.fatal) for v in verdicts]
            )
            kwargs["log_extra"]("speedup", [v.speedup for v in verdicts])
        if not self.path:
            return
        state = kwargs.get("trainer_state")
        step = getattr(state, "global_step", None)
        task_ids = kwargs.get("task_id") or [None] * len(completions)
        lines = []
        for i, c in enumerate(completions):
            row: dict[str, Any] = {"step": step, "task_id": task_ids[i], "completion": completion_text(c)}
            row.update({f"reward_{n}": s[i] for n, s in self.scores.items()})
            if verdicts is not None:
                v = verdicts[i]
                row.update(
                    status=v.status.value,
                    correct=v.correct,
                    rule_findings=[f.rule for f in v.rule_findings if f.fatal],
                    max_abs_err=v.max_abs_err,
                    speedup=v.speedup,
                    implausible_speedup=v.implausible_speedup,
                    kernel_launches=v.kernel_launches,
                    log=v.log[-500:],
                )
            lines.append(json.dumps(row, default=str))
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with self._lock, open(self.path, "a") as fh:
            fh.write("\n".join(lines) + "\n")


def _verdicts(completions: Sequence[Any], kwargs: dict[str, Any]) -> list[Any] | None:
    """This batch's verdicts (cached by rewards.functions, so no second verification)."""
    refs = kwargs.get("reference")
    if refs is None:
        return None
    from rewards.functions import verdicts_for

    refs = [refs] * len(completions) if isinstance(refs, str) else list(refs)
    return verdicts_for(completions, refs)


class GuardedReward:
    """A reward function that never raises (exceptions score None: left out of the advantage) and audits.

    A plain class (not a closure) so it pickles; `__name__` is the wrapped function's, which TRL logs by.
    """

    def __init__(self, func: RewardFunc, audit: RewardAudit | None = None) -> None:
        self.func = func
        self.audit = audit
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self.__doc__ = getattr(func, "__doc__", None)

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        n = len(completions)
        try:
            scores = list(self.func(prompts=prompts, completions=completions, **kwargs))
            if len(scores) != n:
                raise ValueError(f"returned {len(scores)} rewards for {n} completions")
        except Exception as e:
            logger.error("reward %s failed (%s: %s); batch scored None", self.__name__, type(e).__name__, e)
            if self.audit is not None:
                self.audit.errors += 1
            scores = [None] * n
        if self.audit is not None:
            self.audit.record(self.__name__, scores, completions, kwargs)
        return scores


def audit_path(output_dir: str, filename: str) -> str:
    """One file per process: ranks of a multi-GPU run score different completions."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        stem, ext = os.path.splitext(filename)
        filename = f"{stem}.rank{os.environ.get('RANK', '0')}{ext}"
    return os.path.join(output_dir, filename)


def guarded_reward_funcs(funcs: Sequence[RewardFunc], audit_file: str | None) -> list[GuardedReward]:
    audit = RewardAudit(audit_file, [getattr(f, "__name__", type(f).__name__) for f in funcs])
    return [GuardedReward(f, audit) for f in funcs]
