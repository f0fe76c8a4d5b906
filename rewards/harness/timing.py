"""GPU timing: one method, named in every result (`timing_method`).

CUDA events around each call, a 256 MiB buffer zeroed before each timed call to flush L2, warm-up runs
first, median of the timed runs. Runs hold a per-GPU file lock so two candidates never share the GPU
while timed. On CPU nothing is timed (the Triton interpreter's speed says nothing about a GPU).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import statistics
import time
from collections.abc import Callable, Iterator

import torch

METHOD = "cuda_event_median_l2flush"
L2_FLUSH_BYTES = 256 * 1024 * 1024


@contextlib.contextmanager
def gpu_lock(lock_dir: str | None, device_index: int, wait_s: float = 120.0) -> Iterator[bool]:
    """Serialise timing per GPU across sandbox processes. Yields False if the lock could not be taken."""
    if not lock_dir:
        yield True
        return
    path = os.path.join(lock_dir, f"gpu{device_index}.lock")
    try:
        # Read-only is enough for flock, so a lock file created by the root reference process (mode 0644)
        # still opens in a candidate running as nobody. The dir is world-writable: never follow a link.
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError:
        yield False
        return
    deadline = time.monotonic() + wait_s
    taken = False
    try:
        while not taken and time.monotonic() < deadline:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                taken = True
            except BlockingIOError:
                time.sleep(0.005)
        yield taken
    finally:
        if taken:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def time_cuda(fn: Callable[[], object], warmup: int, reps: int, lock_dir: str | None = None,
              prepare: Callable[[], object] | None = None) -> tuple[float | None, str]:
    """Median milliseconds of `fn()` on the current CUDA device, and the method name. `prepare` runs before
    every call, outside the timed region (the candidate's timing uses it to rotate fresh inputs)."""
    dev = torch.cuda.current_device()
    flush = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    with gpu_lock(lock_dir, dev) as ok:
        if not ok:
            return None, METHOD + ":lock_timeout"
        for _ in range(max(1, warmup)):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(max(1, reps)):
            if prepare is not None:
                prepare()
            flush.zero_()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
    del flush
    return float(statistics.median(times)), METHOD
