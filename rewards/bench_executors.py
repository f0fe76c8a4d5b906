"""`tritonforge bench verify --executor ray`: the Ray executor's overhead against the local engine.

Both executors verify the same N generated candidates (`rewards.bench.make_cases`: correct, wrong,
compile-error and runtime-error kernels) with the same per-engine parallelism W, in the same process, so
the machine's load is shared by both. Each is warmed first (zygote started, actors placed), then the two
are timed alternately `rounds` times, so a change of load during the run hits both; the best round of each
is compared. The last line is `ray_overhead_pct: X` (positive: Ray is slower).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from rewards.bench import make_cases
from rewards.contract.config import VerifyConfig
from rewards.executors.base import Executor, LocalExecutor
from rewards.executors.options import ExecutorArguments


def _timed(executor: Executor, pairs: list[tuple[str, str]], config: VerifyConfig) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    results = executor.verify_batch(pairs, config)
    return time.perf_counter() - t0, [r.status.value for r in results]


def bench_executors(n: int, workers: int, trials: int, device: str, args: ExecutorArguments,
                    rounds: int = 2) -> int:
    """Print verifications/s of the local engine and of `args`' executor on the same cases; 0 when the
    two agree on every verdict, 1 when they do not."""
    from rewards.executors.base import make_executor

    dev = VerifyConfig(device=device).resolved_device()
    config = VerifyConfig(device=dev, workers=workers, trials=trials, timeout_s=120)
    with tempfile.TemporaryDirectory(prefix="tf-bench-") as d:
        pairs = [(t.read_text(), c.read_text()) for t, c, _ in make_cases(n, Path(d))]
    local, remote = LocalExecutor(), make_executor(args)
    try:
        print(f"bench verify: n={n} workers={workers} trials={trials} device={dev} cpus={os.cpu_count()} "
              f"executor={remote.name} ray_address={args.ray_address or 'local instance'}", flush=True)
        t_warm = time.perf_counter()
        for ex in (local, remote):
            ex.verify_batch(pairs[:2], config)
        print(f"warm-up (zygote start, actors placed): {time.perf_counter() - t_warm:.1f}s", flush=True)
        best = {"local": float("inf"), remote.name: float("inf")}
        verdicts: dict[str, list[str]] = {}
        for r in range(rounds):
            for ex in (local, remote):
                t, verdicts[ex.name] = _timed(ex, pairs, config)
                best[ex.name] = min(best[ex.name], t)
                print(f"round {r + 1} {ex.name:<6} {n / t:8.2f} verifications/s  ({t:.1f}s)", flush=True)
    finally:
        remote.close()
    same = verdicts["local"] == verdicts[remote.name]
    print(f"local:  {n / best['local']:8.2f} verifications/s (best of {rounds})")
    print(f"{remote.name}: {n / best[remote.name]:8.2f} verifications/s (best of {rounds})")
    print(f"same verdicts: {same}")
    print(f"ray_overhead_pct: {100.0 * (best[remote.name] - best['local']) / best['local']:+.1f}")
    return 0 if same else 1
