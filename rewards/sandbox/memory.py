"""How much memory a task's processes may hold, and whether the host has room to start one more.

The zygote admits work by these numbers; kept apart so the rule is read (and tested) on its own."""

from __future__ import annotations

import os

from rewards.contract.config import VerifyConfig


def task_memory_ceiling(cfg: VerifyConfig) -> int:
    """The most a task-sized cap may grow to (MiB): `task_memory_mb`, else a quarter of physical memory,
    never below the candidate cap `memory_mb`."""
    if cfg.task_memory_mb:
        return max(cfg.task_memory_mb, cfg.memory_mb)
    try:
        phys = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20
    except (ValueError, OSError):
        phys = 0
    return max(cfg.memory_mb, phys // 4)


def candidate_memory_mb(memory_mb: int, ceiling_mb: int, task_mb: int) -> int:
    """A candidate's memory cap: `memory_mb` of its own, plus room for four copies of what its task hands it
    and asks back at once (the pipe frame, the decoded tensors, their device copy, its outputs), up to the
    ceiling. A small task keeps `memory_mb`; a KernelBench-sized one is not killed for holding its inputs."""
    return min(ceiling_mb, memory_mb + 4 * max(0, task_mb))


def available_memory_mb() -> int | None:
    """MemAvailable of /proc/meminfo in MiB, None where there is none (no throttling then)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) >> 10
    except (OSError, ValueError, IndexError):
        return None
    return None
