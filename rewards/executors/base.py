"""The executor protocol of the batch stages, the local executor, and the one active executor.

Why an ambient executor: every batch stage (data build, distillation, eval, self-check, verify --batch)
already calls `verify_batch(pairs, config, progress, on_result)` at the points where it journals; an
executor only changes *where* those verifications run, so the stages keep their signatures and swap one
import. The stage's CLI activates the executor its options name with `using(...)` around the stage.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from rewards.contract.config import VerifyConfig
from rewards.contract.types import VerifyResult
from rewards.executors.options import ExecutorArguments
from stagekit.devices import workers_per_rank

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]
OnResult = Callable[[int, VerifyResult], None]


class Executor(Protocol):
    """Verifies (reference, completion) pairs; results in input order; never raises for a candidate."""

    name: str

    def verify_batch(self, pairs: Sequence[tuple[str, str]], config: VerifyConfig,
                     progress: Progress | None = None, on_result: OnResult | None = None) -> list[VerifyResult]: ...

    def default_workers(self) -> int: ...

    def map_tasks(self, fn: Callable[[T], R], items: Sequence[T], use_gpu: bool = False) -> list[R]:
        """`fn` over `items`, results in order: trusted work of a stage (not candidates), e.g. Inductor
        extraction from our own references; on a cluster one task per item, with a GPU each if asked."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """Today's path: the shared warm engine of this machine (`rewards.engine.client.verify_batch`)."""

    name = "local"

    def verify_batch(self, pairs: Sequence[tuple[str, str]], config: VerifyConfig,
                     progress: Progress | None = None, on_result: OnResult | None = None) -> list[VerifyResult]:
        from rewards.engine.client import verify_batch

        return verify_batch(pairs, config, progress, on_result)

    def default_workers(self) -> int:
        return workers_per_rank()

    def map_tasks(self, fn: Callable[[T], R], items: Sequence[T], use_gpu: bool = False) -> list[R]:
        return [fn(x) for x in items]

    def close(self) -> None:
        """Nothing to release: the shared engines close at exit."""


_LOCAL = LocalExecutor()
_active: Executor = _LOCAL
_active_lock = threading.Lock()


def current() -> Executor:
    """The executor the running stage activated (the local one outside `using`)."""
    return _active


def make_executor(args: ExecutorArguments | None) -> Executor:
    """The executor `args` names; `ray` imports Ray only here (a clear error line when it is missing)."""
    if args is None or args.executor == "local":
        return _LOCAL
    from rewards.executors.ray_executor import RayExecutor

    return RayExecutor(address=args.ray_address, actors=args.ray_actors, generation_replicas=args.generation_replicas)


@contextlib.contextmanager
def using(args: ExecutorArguments | Executor | None) -> Iterator[Executor]:
    """Make `args`' executor the active one for the duration of a stage; close it afterwards."""
    global _active
    ex = make_executor(args) if args is None or isinstance(args, ExecutorArguments) else args
    with _active_lock:
        previous, _active = _active, ex
    try:
        yield ex
    finally:
        with _active_lock:
            _active = previous
        if ex is not _LOCAL:
            ex.close()


def verify_batch(pairs: Sequence[tuple[str, str]], config: VerifyConfig | None = None,
                 progress: Progress | None = None, on_result: OnResult | None = None) -> list[VerifyResult]:
    """`rewards.verify_batch` through the active executor (what the batch stages call)."""
    return current().verify_batch(pairs, config or VerifyConfig(), progress, on_result)
