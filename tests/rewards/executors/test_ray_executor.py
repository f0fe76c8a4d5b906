"""The Ray executor against the local engine: the same verdicts, streamed once each; and its fault path."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from rewards.bench import make_cases
from rewards.contract.config import VerifyConfig
from rewards.contract.types import Status
from rewards.executors import LocalExecutor

CFG = VerifyConfig(device="cpu", workers=1, trials=1, timeout_s=60)

REFERENCE = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x + 1


def get_inputs():
    return [torch.randn(64)]


def get_init_inputs():
    return []
'''

# Correct, but slow enough (a pure-Python loop) to still be in flight when the test kills its actor.
SLOW = '''import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        s = 0
        for i in range(30_000_000):
            s += i
        return x + 1
'''


@pytest.fixture(scope="module")
def ray_executor(ray_local):
    from rewards.executors.ray_executor import RayExecutor

    ex = RayExecutor(actors=2)
    yield ex
    ex.close()


def test_same_verdicts_as_local_streamed_once_each(ray_executor, tmp_path: Path) -> None:
    pairs = [(t.read_text(), c.read_text()) for t, c, _ in make_cases(10, tmp_path)]
    local = LocalExecutor().verify_batch(pairs, CFG)
    seen: list[int] = []
    done: list[tuple[int, int]] = []
    remote = ray_executor.verify_batch(pairs, CFG, progress=lambda d, n: done.append((d, n)),
                                       on_result=lambda i, r: seen.append(i))
    assert [r.status for r in remote] == [r.status for r in local], [r.log[-600:] for r in remote if r.is_infra_error]
    assert {r.status for r in local} >= {Status.OK, Status.MISMATCH, Status.COMPILE_ERROR}
    assert sorted(seen) == list(range(10))  # every verdict streamed, none twice
    assert done[-1] == (10, 10)
    assert len(ray_executor.actors) == 2 and ray_executor.stats["actor_deaths"] == 0


def _kill_when_in_flight(executor, index: int, times: int, pids: list[int]) -> None:
    """SIGKILL the actor that holds `index`, `times` times (each time a fresh actor has taken it over)."""
    deadline = time.monotonic() + 240
    while len(pids) < times and time.monotonic() < deadline:
        slot = next((s for s, b in list(executor.inflight.items()) if index in b), None)
        if slot is None:
            time.sleep(0.05)
            continue
        time.sleep(1.0)  # let the engine start the candidate
        pid = executor.ray.get(executor.actors[slot].pid.remote())
        if pid in pids:
            time.sleep(0.05)
            continue
        os.kill(pid, signal.SIGKILL)
        pids.append(pid)


def test_a_candidate_in_flight_at_two_actor_deaths_is_crashed(ray_executor) -> None:
    relaxed = VerifyConfig(device="cpu", workers=1, trials=1, timeout_s=60, strict_rules=False)
    fast = "```python\n" + SLOW.replace("range(30_000_000)", "range(10)") + "```"
    pairs = [(REFERENCE, SLOW), (REFERENCE.replace("x + 1", "x + 2"), fast.replace("x + 1", "x + 2"))]
    before = ray_executor.stats.copy()
    pids: list[int] = []
    killer = threading.Thread(target=_kill_when_in_flight, args=(ray_executor, 0, 2, pids))
    killer.start()
    results = ray_executor.verify_batch(pairs, relaxed)
    killer.join()
    assert len(pids) == 2
    assert results[0].status is Status.CRASHED and "two deaths" in results[0].log
    assert results[1].status is Status.OK  # its neighbour is not blamed
    assert ray_executor.stats["actor_deaths"] - before["actor_deaths"] == 2
    assert ray_executor.stats["crashed"] - before["crashed"] == 1
    # the replacement actors serve the next batch
    (again,) = ray_executor.verify_batch(pairs[1:], relaxed)
    assert again.status is Status.OK



def _square_in_a_worker(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_map_tasks_runs_each_item_as_a_ray_task_in_order(ray_executor) -> None:
    """Trusted stage work (Inductor extraction) on the cluster: Ray workers, results in input order, the
    local executor's answers; GPU work on a cluster without GPUs is one clear error."""
    from stagekit.errors import ConfigError

    items = list(range(7))
    got = ray_executor.map_tasks(_square_in_a_worker, items)
    assert [v for v, _ in got] == [v for v, _ in LocalExecutor().map_tasks(_square_in_a_worker, items)]
    assert all(pid != os.getpid() for _, pid in got)
    assert ray_executor.actors == []  # the verifiers gave their CPUs back first
    with pytest.raises(ConfigError, match="needs GPUs"):
        ray_executor.map_tasks(_square_in_a_worker, items, use_gpu=True)
