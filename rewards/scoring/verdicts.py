"""One verification per completion per GRPO batch, shared by every reward function and the audit.

TRL calls each reward function in turn with the same batch (the same `completions` list object, the
same `reference` column). The rule, correctness and speed rewards all read the same verdict, so the first of
them to see a batch verifies it (duplicates once, in parallel through the engine's batch API) and the
others, and the completion audit, read the same `VerdictBatch`: each completion's text is extracted once
and each distinct (reference, completion) goes to the sandbox once.

Only the latest batch is kept. A later step samples new completions, and a fresh draw of inputs for a
completion that recurs is the stricter test, so nothing is carried across steps.

A failure of the engine itself (it could not start, it raised) is a failure of the machinery: every
completion of the batch gets an `infra_error` verdict with the reason in its log, which the reward
functions score None (TRL leaves it out of the advantage) and the audit records. The batch is kept, so the
other reward functions of the step do not call a failing engine again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from rewards.contract.config import VerifyConfig
from rewards.contract.extract import completion_text
from rewards.contract.types import Status, VerifyResult, failure
from rewards.engine.client import get_engine

log = logging.getLogger(__name__)


class VerdictEngine(Protocol):
    """What the verifier needs from `rewards.engine.client.Engine` (tests substitute a counting fake)."""

    def verify_many(self, pairs: Sequence[tuple[str, str]]) -> list[VerifyResult]: ...


EngineSource = Callable[[VerifyConfig], VerdictEngine]


@dataclass
class RewardStats:
    """Counters of one reward set, logged at the end of training (machinery problems must not go unseen)."""

    batches: int = 0  # distinct batches verified
    verifications: int = 0  # distinct (reference, completion) pairs sent to the engine
    infra_errors: int = 0  # verifications that failed in the machinery (scored None)
    reward_errors: int = 0  # reward calls that raised (their batch scored None)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class VerdictBatch:
    """The verdicts of one batch, in completion order, with the texts they were computed from."""

    source: Sequence[Any]  # the completions list TRL passes to every reward function of a step
    items: tuple[Any, ...]  # its elements when verified (a list refilled in place is a new batch)
    references: tuple[str, ...]
    texts: tuple[str, ...]
    verdicts: tuple[VerifyResult, ...]

    def matches(self, completions: Sequence[Any], references: Sequence[str]) -> bool:
        """True for the same batch: the very list object (held here, so it cannot be a recycled one),
        still holding the same completion objects, for the same references."""
        return (
            completions is self.source
            and len(completions) == len(self.items)
            and all(a is b for a, b in zip(completions, self.items, strict=True))
            and all(a is b or a == b for a, b in zip(references, self.references, strict=True))
        )


def references_of(n: int, kwargs: dict[str, Any]) -> list[str]:
    """The `reference` column for n completions (one string is broadcast); a missing column raises."""
    ref = kwargs.get("reference")
    if ref is None:
        raise ValueError("reward functions need the dataset's `reference` column")
    if isinstance(ref, str):
        return [ref] * n
    if len(ref) != n:
        raise ValueError(f"{len(ref)} references for {n} completions")
    return list(ref)


class BatchVerifier:
    """Owns the verification settings of one reward set and the verdicts of its current batch.

    Picklable: the lock and the cached batch are process-local and are dropped on pickling (a copy in
    another process verifies its own batches).
    """

    def __init__(self, config: VerifyConfig, engine: EngineSource = get_engine, stats: RewardStats | None = None) -> None:
        self.config = config
        self.engine = engine
        self.stats = stats if stats is not None else RewardStats()
        self._lock = threading.Lock()
        self._last: VerdictBatch | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lock"] = None
        state["_last"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def last(self) -> VerdictBatch | None:
        """The most recent batch (for completion logging and tests)."""
        return self._last

    def batch(self, completions: Sequence[Any], references: Sequence[str]) -> VerdictBatch:
        """This batch's verdicts: verified on the first call, the same object on every later call."""
        if len(references) != len(completions):
            raise ValueError(f"{len(references)} references for {len(completions)} completions")
        with self._lock:
            last = self._last
            if last is not None and last.matches(completions, references):
                return last
            texts = tuple(completion_text(c) for c in completions)
            verdicts = self._verify(tuple(references), texts)
            self._last = VerdictBatch(completions, tuple(completions), tuple(references), texts, verdicts)
            return self._last

    def _verify(self, references: tuple[str, ...], texts: tuple[str, ...]) -> tuple[VerifyResult, ...]:
        keys = list(zip(references, texts, strict=True))
        unique = list(dict.fromkeys(keys))
        self.stats.batches += 1
        self.stats.verifications += len(unique)
        results: list[VerifyResult] = []
        if unique:
            try:
                results = list(self.engine(self.config).verify_many(unique))
                if len(results) != len(unique):
                    raise RuntimeError(f"engine returned {len(results)} verdicts for {len(unique)} candidates")
            except Exception as e:  # the engine's failure is the machinery's, never the candidate's
                reason = f"verifier engine failed: {type(e).__name__}: {e}"[:2000]
                log.error("%s; %d completions scored None", reason, len(unique))
                results = [failure(Status.INFRA_ERROR, reason)] * len(unique)
        n_infra = sum(r.status is Status.INFRA_ERROR for r in results)
        if n_infra:
            self.stats.infra_errors += n_infra
            log.warning("%d of %d verifications failed in the sandbox machinery (scored None)", n_infra, len(results))
        by_key = dict(zip(unique, results, strict=True))
        return tuple(by_key[k] for k in keys)
