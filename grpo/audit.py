"""The completion audit of a GRPO run: every scored completion, its verdict and each reward, on file.

Reward hacking shows up as completions that score well for the wrong reason (a kernel defined but not
used, a torch fallback slipping past a rule). So every scored completion is written, with its verdict
(status, fatal rule findings, max error, speedup), each reward and the reason of any reward that failed,
to a JSONL file in output_dir, and the same verdict columns are added to TRL's own completion table
(`log_completions`) via `log_extra`.

`RewardAudit` is the sink of a reward set (`rewards.scoring.functions.build_rewards(..., sink=audit)`): the
reward functions' one never-raise layer reports each call here, and the verdicts are read from the set's
shared verifier, so auditing verifies nothing a second time.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from rewards.contract.extract import completion_text
from rewards.scoring.verdicts import BatchVerifier, VerdictBatch, references_of

logger = logging.getLogger(__name__)


class RewardAudit:
    """Collects the scores of one batch from every reward function; the last one's call writes the rows.

    Picklable: the lock and the half-collected batch are process-local.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.names: list[str] = []
        self.verifier: BatchVerifier | None = None
        self.scores: dict[str, list[float | None]] = {}
        self.errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_lock=None, scores={}, errors={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def bind(self, names: Sequence[str], verifier: BatchVerifier) -> None:
        """The reward names in TRL's call order (the last one writes) and where the verdicts are."""
        self.names = list(names)
        self.verifier = verifier

    def record(self, name: str, scores: list[float | None], completions: Sequence[Any], kwargs: dict[str, Any],
               error: str | None) -> None:
        self.scores[name] = scores
        if error is not None:
            self.errors[name] = error
        if self.names and name != self.names[-1]:
            return  # the last reward function of the step writes the rows, with every function's score
        try:
            self._write(completions, kwargs)
        except Exception as e:  # auditing must never stop training
            logger.warning("completion audit failed: %s: %s", type(e).__name__, e)
        self.scores, self.errors = {}, {}

    def _batch(self, completions: Sequence[Any], kwargs: dict[str, Any]) -> VerdictBatch | None:
        """This batch's verdicts from the shared verifier (already verified by the verdict rewards)."""
        if self.verifier is None or kwargs.get("reference") is None:
            return None
        return self.verifier.batch(completions, references_of(len(completions), kwargs))

    def _write(self, completions: Sequence[Any], kwargs: dict[str, Any]) -> None:
        batch = self._batch(completions, kwargs)
        verdicts = batch.verdicts if batch is not None else None
        if verdicts is not None and callable(kwargs.get("log_extra")):
            kwargs["log_extra"]("status", [v.status.value for v in verdicts])
            kwargs["log_extra"](
                "rule_findings", [",".join(f.rule for f in v.rule_findings if f.fatal) for v in verdicts]
            )
            kwargs["log_extra"]("speedup", [v.speedup for v in verdicts])
        if not self.path:
            return
        texts = batch.texts if batch is not None else tuple(completion_text(c) for c in completions)
        state = kwargs.get("trainer_state")
        step = getattr(state, "global_step", None)
        task_ids = kwargs.get("task_id") or [None] * len(completions)
        lines = []
        for i, text in enumerate(texts):
            row: dict[str, Any] = {"step": step, "task_id": task_ids[i], "completion": text}
            row.update({f"reward_{n}": s[i] for n, s in self.scores.items()})
            row.update({f"reward_error_{n}": e for n, e in self.errors.items()})
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


def audit_path(output_dir: str, filename: str) -> str:
    """One file per process: ranks of a multi-GPU run score different completions."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        stem, ext = os.path.splitext(filename)
        filename = f"{stem}.rank{os.environ.get('RANK', '0')}{ext}"
    return os.path.join(output_dir, filename)
