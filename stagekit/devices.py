"""Facts about this machine every stage asks the same way: is there a GPU, how many cores are this rank's.

One home for both, so "one worker per core" means the same thing in the data build, GRPO and eval."""

from __future__ import annotations

import os


def cuda_available() -> bool:
    """True when an NVIDIA GPU is visible. Does not initialise CUDA (the zygote must fork cleanly)."""
    try:
        import torch

        return bool(torch.cuda.is_available()) if torch.cuda.is_initialized() else torch.cuda.device_count() > 0
    except Exception:
        return False


def local_world_size() -> int:
    """Training processes on this node: LOCAL_WORLD_SIZE under accelerate/torchrun, else 1."""
    try:
        return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    except ValueError:
        return 1


def workers_per_rank() -> int:
    """This process's share of the node's cores: all of them, divided among the ranks of one node when
    launched by accelerate/torchrun, at least one."""
    return max(1, (os.cpu_count() or 2) // local_world_size())
