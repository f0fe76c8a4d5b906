"""Several training processes on one node (accelerate/torchrun ranks): each takes its share of the cores.

Why: every rank measuring "the best thread count" on its own picks all the cores, so two ranks on two
cores run four busy threads and each op waits for a descheduled one (data_pipeline/threads.py measured
this at up to 10x). Under LOCAL_WORLD_SIZE > 1, "auto" becomes cores // ranks for torch's threads; the
verifier's workers are split the same way (`stagekit.devices.workers_per_rank`) (each rank verifies its own completions).
"""

from __future__ import annotations

import os

from data_pipeline.threads import ENV, cpu_count
from stagekit.devices import local_world_size


def rank_threads(requested: int | str | None) -> int | str | None:
    """The thread request for this rank: `auto` under several ranks is this rank's share of the cores."""
    ranks = local_world_size()
    if ranks > 1 and requested == "auto" and not os.environ.get(ENV, "").strip():
        return max(1, cpu_count() // ranks)
    return requested
