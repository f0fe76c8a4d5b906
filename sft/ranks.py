"""Several training processes on one node (accelerate/torchrun ranks): each takes its share of the cores.

Why: every rank measuring "the best thread count" on its own picks all the cores, so two ranks on two
cores run four busy threads and each op waits for a descheduled one (data_pipeline/threads.py measured
this at up to 10x). Under LOCAL_WORLD_SIZE > 1, "auto" becomes cores // ranks for torch's threads; the
verifier's workers are split the same way by `rewards.config` (each rank verifies its own completions).
"""

from __future__ import annotations

import os

from data_pipeline.threads import ENV, cpu_count


def local_world_size() -> int:
    """Training processes on this node (1 outside accelerate/torchrun)."""
    try:
        return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    except ValueError:
        return 1


def rank_threads(requested: int | str | None) -> int | str | None:
    """The thread request for this rank: `auto` under several ranks is this rank's share of the cores."""
    ranks = local_world_size()
    if ranks > 1 and requested == "auto" and not os.environ.get(ENV, "").strip():
        return max(1, cpu_count() // ranks)
    return requested
