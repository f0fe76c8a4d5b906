"""The same corpus on every executor: a build on local Ray actors (one killed mid-build) equals the local one.

Rows are compared split by split, sorted, on every column but the two that depend on the verifier's secret
input draw (`verify_max_abs_err` and the `err=` part of `verify_summary`): inputs come from a CSPRNG on
purpose, so two local builds differ there as well.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from data_pipeline.build import build
from data_pipeline.config import load_config
from data_pipeline.corpus import load_split
from rewards.executors import using

OVERRIDES = ["--synth_train", "14", "--synth_heldout", "4", "--synth_indist", "2", "--verify_trials", "1",
             "--verify_workers", "1", "--batch_size", "6", "--keep_work", "true"]
SPLITS = ("sft", "rl", "heldout", "indist")


def comparable(row: dict[str, Any]) -> str:
    """A row without its input-draw-dependent columns, as one sortable string."""
    row = {k: v for k, v in row.items() if k != "verify_max_abs_err"}
    if isinstance(row.get("verify_summary"), str):
        row["verify_summary"] = re.sub(r" err=\S+", "", row["verify_summary"])
    return json.dumps(row, sort_keys=True, default=str)


def corpus_rows(out: Path) -> dict[str, list[str]]:
    rows = {}
    for split in SPLITS:  # `indist` is written as a corpus of its own, OUT/indist (its rows are task rows)
        root, name = (out / "indist", "heldout") if split == "indist" else (out, split)
        rows[split] = sorted(comparable(r) for r in load_split(root, name)) if (root.exists()) else []
    return rows


def _kill_one_actor_midway(executor, pids: list[int], after: int) -> None:
    deadline = time.monotonic() + 300
    while executor.finished < after and time.monotonic() < deadline:
        time.sleep(0.05)
    slot = next(iter(executor.inflight), None)
    while slot is None and time.monotonic() < deadline:
        time.sleep(0.02)
        slot = next(iter(executor.inflight), None)
    if slot is not None:
        pid = executor.ray.get(executor.actors[slot].pid.remote())
        os.kill(pid, signal.SIGKILL)
        pids.append(pid)


@pytest.fixture(scope="module")
def local_build(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("local") / "corpus"
    report = build(load_config("tiny", OVERRIDES), out, log=lambda m: None)
    return out, report


def test_ray_build_with_an_actor_killed_equals_the_local_build(local_build, ray_local, tmp_path: Path) -> None:
    from rewards.executors.ray_executor import RayExecutor

    local_out, local_report = local_build
    out = tmp_path / "corpus"
    executor = RayExecutor(actors=2)
    pids: list[int] = []
    killer = threading.Thread(target=_kill_one_actor_midway, args=(executor, pids, 3))
    killer.start()
    with using(executor):
        report = build(load_config("tiny", OVERRIDES), out, log=lambda m: None)
    killer.join()
    assert len(pids) == 1 and executor.stats["actor_deaths"] == 1 and executor.stats["retried"] >= 1
    assert executor.stats["crashed"] == 0  # one death blames nobody
    counts = report["counts"]
    assert counts == local_report["counts"]
    assert counts["not_verified_infra"] == 0 and counts["verified_ok"] > 0
    # every candidate journaled exactly once, after the retry as before it
    journal = [json.loads(line) for line in (out.with_name(out.name + ".work") / "verified.jsonl").read_text().splitlines()]
    keys = [j["key"] for j in journal]
    assert len(keys) == len(set(keys)) == counts["candidates"]
    assert corpus_rows(out) == corpus_rows(local_out)
    assert all(corpus_rows(out)[s] for s in ("sft", "rl", "heldout"))

