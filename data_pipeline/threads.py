"""CPU thread count for torch, chosen by measurement instead of left to torch's default.

On a machine whose cores are shared with other jobs, torch's default (one thread per core) can be ten
times slower than one thread: each op waits for its slowest thread, and a busy core makes every op wait.
Measured on the 2-core development VM under load: a 512x512 matmul ran at 1.3-3.5 GFLOP/s with 2 threads
and 74-87 with 1, and a GRPO step took 120-194 s with 2 threads against 12-16 s with 1. On an idle
machine 2 threads win. So nothing is assumed: `pick_threads()` times a small matmul at each candidate
count (about half a second) and keeps the fastest; `TRITONFORGE_THREADS=N` overrides it.
"""

from __future__ import annotations

import logging
import os
import time

logger = logging.getLogger(__name__)

ENV = "TRITONFORGE_THREADS"


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def matmul_gflops(threads: int, n: int = 384, reps: int = 6) -> float:
    """GFLOP/s of an n x n fp32 matmul with `threads` torch threads (best of a few repetitions)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b  # warm-up: thread pool start, allocator
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
        return 2 * n**3 / best / 1e9
    finally:
        torch.set_num_threads(old)


def measure_threads(candidates: list[int] | None = None) -> dict[int, float]:
    """GFLOP/s per candidate thread count (1 .. cores by default)."""
    cands = candidates or sorted({1, *range(2, cpu_count() + 1)})
    return {t: matmul_gflops(t) for t in cands}


def pick_threads(requested: int | str | None = "auto", log: bool = True) -> int:
    """Set torch's intra-op thread count and return it.

    `requested`: a positive int is used as is; None or "default" leaves torch's own choice; "auto" (the
    default) uses $TRITONFORGE_THREADS when set, else the fastest count measured right now.
    """
    import torch

    if requested in (None, "default"):
        return torch.get_num_threads()
    if requested == "auto":
        env = os.environ.get(ENV, "").strip()
        if env:
            requested = env
    if requested != "auto":
        try:
            n = int(requested)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"threads must be a positive integer, 'auto' or 'default', not {requested!r}") from None
        if n < 1:
            raise ValueError(f"threads must be >= 1, not {n}")
        torch.set_num_threads(n)
        return n
    if torch.cuda.is_available() or cpu_count() == 1:
        n = 1 if cpu_count() == 1 else torch.get_num_threads()  # GPU work: CPU threads barely matter
        torch.set_num_threads(n)
        return n
    speeds = measure_threads()
    n = max(speeds, key=lambda t: speeds[t])
    torch.set_num_threads(n)
    if log:
        shown = ", ".join(f"{t}: {g:.1f}" for t, g in speeds.items())
        logger.warning("torch threads: measured matmul GFLOP/s {%s} -> using %d (override: %s=N)", shown, n, ENV)
    return n


class ThreadRetuner:
    """Re-measure the best thread count every `every_s` seconds of a long job (training, generation).

    The load of a shared machine changes within minutes: a count measured at the start can turn 10x
    slower when another job takes the second core (seen: 6 s/step became 87 s/step). Re-measuring costs
    about half a second, so doing it every couple of minutes is cheap insurance. Only for "auto".
    """

    def __init__(self, requested: int | str | None, every_s: float = 120.0) -> None:
        self.active = requested == "auto" and not os.environ.get(ENV, "").strip()
        self.every_s = every_s
        self.last = time.monotonic()

    def maybe_retune(self) -> None:
        if not self.active or time.monotonic() - self.last < self.every_s:
            return
        import torch

        before = torch.get_num_threads()
        after = pick_threads("auto", log=False)
        self.last = time.monotonic()
        if after != before:
            logger.warning("torch threads: re-measured, now %d (was %d)", after, before)
